/**
 * A hand-written protobuf reader for OTLP, over {@link ByteReader}'s varint and fixed-width
 * primitives: typed field reads that check the wire type, and the decoders of the messages every
 * signal shares (KeyValue, AnyValue, Resource, InstrumentationScope) into the OTLP/JSON shape of
 * ./common.ts. Malformed input becomes the error the caller's `fail` makes (a 400 in the ingest
 * layers), naming the message, the field and the byte offset.
 *
 * Field numbers (opentelemetry-proto common/v1, resource/v1):
 *   Resource                  1 attributes, 2 dropped_attributes_count
 *   InstrumentationScope      1 name, 2 version, 3 attributes, 4 dropped_attributes_count
 *   KeyValue                  1 key, 2 value
 *   AnyValue (oneof)          1 string, 2 bool, 3 int64, 4 double, 5 array, 6 kvlist, 7 bytes
 *   ArrayValue, KeyValueList  1 values
 *   google.rpc.Status         1 code, 2 message
 */
import { ByteReader, ByteWriter } from '../util/bytes.js';
import { MAX_ANYVALUE_DEPTH, type AnyValue, type InstrumentationScope, type KeyValue, type Resource } from './common.js';

const WIRE = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'invalid', 'invalid'] as const;
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Makes the error for malformed input from its detail. */
export type Fail = (detail: string) => Error;

/** Where the decoder is, for the message of a truncated input. */
interface Where {
  msg: string;
  field: string;
  at: number;
}

/** The fields of one message, its reader bounded to it; typed reads check the wire type. */
export class ProtoFields {
  field = 0;
  wt = 0;

  private constructor(
    private readonly r: ByteReader,
    private readonly msg: string,
    private readonly where: Where,
    readonly fail: Fail,
  ) {}

  /**
   * Decodes the top-level message `msg` of `buf` with `fn`. A length or varint that runs past the end
   * of its message (a truncated body) becomes `fail` naming the message, field and byte offset.
   */
  static decode<T>(buf: Buffer, msg: string, fail: Fail, fn: (f: ProtoFields) => T): T {
    const where: Where = { msg, field: 'a field tag', at: 0 };
    try {
      return fn(new ProtoFields(new ByteReader(buf), msg, where, fail));
    } catch (err) {
      if (err instanceof RangeError) throw fail(`cannot read ${where.msg} ${where.field} at byte ${where.at} of ${buf.length}: ${err.message}`);
      throw err;
    }
  }

  /** The byte offset of the reader (for messages naming where a bad value sits). */
  get pos(): number {
    return this.r.pos;
  }

  /** Reads the next tag; false at the end of the message. */
  next(): boolean {
    const r = this.r;
    this.where.msg = this.msg;
    this.where.field = 'a field tag';
    this.where.at = r.pos;
    if (r.done) return false;
    const at = r.pos;
    const tag = r.uvarint();
    this.field = Math.floor(tag / 8);
    this.wt = tag % 8;
    if (this.field === 0) throw this.fail(`${this.msg} has a field numbered 0 at byte ${at}`);
    if (this.wt === 3 || this.wt === 4)
      throw this.fail(`${this.msg} field ${this.field} at byte ${at} uses a protobuf group (wire type ${this.wt}), which OTLP never does`);
    if (this.wt > 5) throw this.fail(`${this.msg} field ${this.field} at byte ${at} has invalid wire type ${this.wt}`);
    return true;
  }

  private want(name: string, wt: number): void {
    this.where.field = `${name} (field ${this.field})`;
    this.where.at = this.r.pos;
    if (this.wt !== wt)
      throw this.fail(`${this.msg}.${name} (field ${this.field}) has wire type ${this.wt} (${WIRE[this.wt]}), want ${wt} (${WIRE[wt]}), at byte ${this.r.pos}`);
  }

  /** Skips a field this decoder does not use. */
  skip(): void {
    const r = this.r;
    this.where.field = `field ${this.field}`;
    this.where.at = r.pos;
    if (this.wt === VARINT) r.uvarint();
    else if (this.wt === I64) r.bytes(8);
    else if (this.wt === LEN) r.bytes(r.uvarint());
    else r.bytes(4);
  }

  /** An embedded message. */
  message(name: string, type: string): ProtoFields {
    this.want(name, LEN);
    const r = this.r;
    const len = r.uvarint();
    const start = r.pos;
    r.bytes(len);
    return new ProtoFields(new ByteReader(r.buf, start, start + len), type, this.where, this.fail);
  }

  bytes(name: string): Buffer {
    this.want(name, LEN);
    return this.r.bytes(this.r.uvarint());
  }

  string(name: string): string {
    const at = this.r.pos;
    const b = this.bytes(name);
    try {
      return utf8.decode(b);
    } catch {
      throw this.fail(`${this.msg}.${name} (field ${this.field}) is not valid UTF-8, at byte ${at}`);
    }
  }

  /** A varint as an unsigned 64-bit integer, exactly. */
  private u64(): bigint {
    const r = this.r;
    const at = r.pos;
    const n = r.uvarint();
    if (n <= Number.MAX_SAFE_INTEGER) return BigInt(n);
    r.pos = at;
    let x = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = r.u8();
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, x);
    }
    throw this.fail(`${this.msg}: varint longer than 10 bytes`);
  }

  /** int64, as exact decimal text. */
  int64(name: string): string {
    this.want(name, VARINT);
    const r = this.r;
    const at = r.pos;
    const n = r.uvarint();
    if (n <= Number.MAX_SAFE_INTEGER) return String(n);
    r.pos = at;
    return BigInt.asIntN(64, this.u64()).toString();
  }

  /** int32 and enums (a negative one is sign-extended to 10 bytes). */
  int32(name: string): number {
    this.want(name, VARINT);
    const r = this.r;
    const at = r.pos;
    const n = r.uvarint();
    if (n <= 0x7fffffff) return n;
    r.pos = at;
    return Number(BigInt.asIntN(32, this.u64()));
  }

  uint32(name: string): number {
    this.want(name, VARINT);
    const r = this.r;
    const at = r.pos;
    const n = r.uvarint();
    if (n <= 0xffffffff) return n;
    r.pos = at;
    return Number(BigInt.asUintN(32, this.u64()));
  }

  bool(name: string): boolean {
    this.want(name, VARINT);
    return this.u64() !== 0n;
  }

  /** fixed64, as exact decimal text. */
  fixed64(name: string): string {
    this.want(name, I64);
    const lo = this.r.u32();
    const hi = this.r.u32();
    return hi < 0x200000 ? String(hi * 2 ** 32 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  fixed32(name: string): number {
    this.want(name, I32);
    return this.r.u32();
  }

  double(name: string): number {
    this.want(name, I64);
    return this.r.f64();
  }
}

/** A Resource message. */
export function decodeResource(g: ProtoFields, into: Resource = {}): Resource {
  while (g.next()) {
    if (g.field === 1) (into.attributes ??= []).push(decodeKeyValue(g.message('attributes', 'KeyValue'), 0));
    else if (g.field === 2) into.droppedAttributesCount = g.uint32('dropped_attributes_count');
    else g.skip();
  }
  return into;
}

/** An InstrumentationScope message. */
export function decodeScope(g: ProtoFields, into: InstrumentationScope = {}): InstrumentationScope {
  while (g.next()) {
    if (g.field === 1) into.name = g.string('name');
    else if (g.field === 2) into.version = g.string('version');
    else if (g.field === 3) (into.attributes ??= []).push(decodeKeyValue(g.message('attributes', 'KeyValue'), 0));
    else if (g.field === 4) into.droppedAttributesCount = g.uint32('dropped_attributes_count');
    else g.skip();
  }
  return into;
}

/** A KeyValue message at AnyValue nesting `depth`. */
export function decodeKeyValue(f: ProtoFields, depth: number): KeyValue {
  let key = '';
  let value: AnyValue | undefined;
  while (f.next()) {
    if (f.field === 1) key = f.string('key');
    else if (f.field === 2) value = decodeAnyValue(f.message('value', 'AnyValue'), depth);
    else f.skip();
  }
  return value ? { key, value } : { key };
}

/** An AnyValue message; nesting past {@link MAX_ANYVALUE_DEPTH} is malformed. */
export function decodeAnyValue(f: ProtoFields, depth: number): AnyValue {
  if (depth >= MAX_ANYVALUE_DEPTH) throw f.fail(`AnyValue arrays and kvlists nest deeper than ${MAX_ANYVALUE_DEPTH} levels`);
  // A oneof: the last member on the wire wins.
  let v: AnyValue = {};
  while (f.next()) {
    switch (f.field) {
      case 1:
        v = { stringValue: f.string('string_value') };
        break;
      case 2:
        v = { boolValue: f.bool('bool_value') };
        break;
      case 3:
        v = { intValue: f.int64('int_value') };
        break;
      case 4:
        v = { doubleValue: f.double('double_value') };
        break;
      case 5: {
        const g = f.message('array_value', 'ArrayValue');
        const values: AnyValue[] = [];
        while (g.next()) {
          if (g.field === 1) values.push(decodeAnyValue(g.message('values', 'AnyValue'), depth + 1));
          else g.skip();
        }
        v = { arrayValue: { values } };
        break;
      }
      case 6: {
        const g = f.message('kvlist_value', 'KeyValueList');
        const values: KeyValue[] = [];
        while (g.next()) {
          if (g.field === 1) values.push(decodeKeyValue(g.message('values', 'KeyValue'), depth + 1));
          else g.skip();
        }
        v = { kvlistValue: { values } };
        break;
      }
      case 7:
        v = { bytesValue: f.bytes('bytes_value').toString('base64') };
        break;
      default:
        f.skip();
    }
  }
  return v;
}

/** A google.rpc.Status, the body of an OTLP/HTTP failure in protobuf. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const w = new ByteWriter(16 + message.length * 3);
  if (code !== 0) {
    w.u8(0x08);
    w.uvarint(code);
  }
  if (message) {
    w.u8(0x12);
    w.str(message);
  }
  return Buffer.from(w.view());
}

/**
 * An Export*ServiceResponse with partial_success (field 1: {1 rejected count (int64), 2 error_message}),
 * the same layout for every signal; empty for a full success.
 */
export function encodePartialSuccess(partial?: { rejected: number; errorMessage: string }): Buffer {
  if (!partial || (partial.rejected === 0 && !partial.errorMessage)) return Buffer.alloc(0);
  const inner = new ByteWriter(64 + partial.errorMessage.length * 3);
  if (partial.rejected > 0) {
    inner.u8(0x08);
    inner.uvarint(partial.rejected);
  }
  if (partial.errorMessage) {
    inner.u8(0x12);
    inner.str(partial.errorMessage);
  }
  const w = new ByteWriter(inner.length + 11);
  w.u8(0x0a);
  w.uvarint(inner.length);
  w.bytes(inner.view());
  return Buffer.from(w.view());
}
