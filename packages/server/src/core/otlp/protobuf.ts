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

/** A fixed64 of nanoseconds (as its low and high words) in whole milliseconds, exactly (floor), without a BigInt. */
export function nanosToMillis(lo: number, hi: number): number {
  // hi * 2^32 = hi * 4294 * 1e6 + hi * 967296: every part stays below 2^53.
  const rest = hi * 967296 + lo;
  let q = Math.floor(rest / 1e6);
  if (q * 1e6 > rest) q--;
  else if ((q + 1) * 1e6 <= rest) q++;
  return hi * 4294 + q;
}

/** Makes the error for malformed input from its detail. */
export type Fail = (detail: string) => Error;

/** Where the decoder is, for the message of a truncated input (kept as parts: the text is made only on error). */
interface Where {
  msg: string;
  /** The field's name, '' while reading a tag, or undefined for a skipped field. */
  name: string | undefined;
  num: number;
  at: number;
}

function whereText(w: Where): string {
  return w.name === '' ? 'a field tag' : w.name === undefined ? `field ${w.num}` : `${w.name} (field ${w.num})`;
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
    const where: Where = { msg, name: '', num: 0, at: 0 };
    try {
      return fn(new ProtoFields(new ByteReader(buf), msg, where, fail));
    } catch (err) {
      if (err instanceof RangeError) throw fail(`cannot read ${where.msg} ${whereText(where)} at byte ${where.at} of ${buf.length}: ${err.message}`);
      throw err;
    }
  }

  /** The fields from here to the end of the message, read again by another reader (this one does not move). */
  rest(): ProtoFields {
    return new ProtoFields(new ByteReader(this.r.buf, this.r.pos, this.r.end), this.msg, this.where, this.fail);
  }

  /** The byte offset of the reader (for messages naming where a bad value sits). */
  get pos(): number {
    return this.r.pos;
  }

  /** Reads the next tag; false at the end of the message. */
  next(): boolean {
    const r = this.r;
    this.where.msg = this.msg;
    this.where.name = '';
    this.where.at = r.pos;
    if (r.done) return false;
    const at = r.pos;
    const tag = r.uvarint();
    this.field = Math.floor(tag / 8);
    this.wt = tag % 8;
    if (this.field === 0) throw this.fail(`${this.msg} has a field numbered 0 at byte ${at}`);
    if (this.wt === 3 || this.wt === 4)
      throw this.fail(`${this.msg} field ${this.field} at byte ${at} uses a protobuf group (wire type ${this.wt}), which no format read here uses`);
    if (this.wt > 5) throw this.fail(`${this.msg} field ${this.field} at byte ${at} has invalid wire type ${this.wt}`);
    return true;
  }

  private want(name: string, wt: number): void {
    this.where.name = name;
    this.where.num = this.field;
    this.where.at = this.r.pos;
    if (this.wt !== wt)
      throw this.fail(`${this.msg}.${name} (field ${this.field}) has wire type ${this.wt} (${WIRE[this.wt]}), want ${wt} (${WIRE[wt]}), at byte ${this.r.pos}`);
  }

  /** Skips a field this decoder does not use. */
  skip(): void {
    const r = this.r;
    this.where.name = undefined;
    this.where.num = this.field;
    this.where.at = r.pos;
    if (this.wt === VARINT) r.uvarint();
    else if (this.wt === I64) r.bytes(8);
    else if (this.wt === LEN) r.bytes(r.uvarint());
    else r.bytes(4);
  }

  /** The bounds of a length-delimited value, stepped over (no Buffer view made: decoding is per field, so that counts). */
  private span(): number {
    const r = this.r;
    const len = r.uvarint();
    const start = r.pos;
    if (start + len > r.end) throw new RangeError('unexpected end of record');
    r.pos = start + len;
    return start;
  }

  /** An embedded KeyValue at AnyValue nesting 0: the fast path when it applies, else the general decoder. */
  keyValue(name: string): KeyValue {
    this.want(name, LEN);
    const start = this.span();
    return (
      fastKeyValue(this.r.buf, start, this.r.pos) ??
      decodeKeyValue(new ProtoFields(new ByteReader(this.r.buf, start, this.r.pos), 'KeyValue', this.where, this.fail), 0)
    );
  }

  /**
   * An embedded KeyValue as a key and a text: a string value straight from the bytes (the common
   * case, no AnyValue object made), anything else through {@link keyValue} and `text`.
   */
  keyText(name: string, text: (v: AnyValue | undefined) => string): { key: string; value: string } {
    this.want(name, LEN);
    const start = this.span();
    const buf = this.r.buf;
    const end = this.r.pos;
    const s = fastStringKeyValue(buf, start, end);
    if (s !== undefined) return s;
    const kv = fastKeyValue(buf, start, end) ?? decodeKeyValue(new ProtoFields(new ByteReader(buf, start, end), 'KeyValue', this.where, this.fail), 0);
    return { key: kv.key, value: text(kv.value) };
  }

  /** Steps over a length-delimited field (wire type and bounds checked); returns where its bytes start, the reader is at their end. */
  spanOf(name: string): number {
    this.want(name, LEN);
    return this.span();
  }

  /** A message at `buf[start, end)` of the same buffer (one {@link spanOf} stepped over). */
  sub(start: number, end: number, type: string): ProtoFields {
    return new ProtoFields(new ByteReader(this.r.buf, start, end), type, this.where, this.fail);
  }

  /** Steps over a length-delimited field, checking its wire type and bounds, making nothing. */
  skipBytes(name: string): void {
    this.want(name, LEN);
    this.span();
  }

  /** The buffer being decoded (for callers that keep byte ranges of it, like a cache keyed by raw bytes). */
  get buffer(): Buffer {
    return this.r.buf;
  }

  /** An embedded message. */
  message(name: string, type: string): ProtoFields {
    this.want(name, LEN);
    const start = this.span();
    return new ProtoFields(new ByteReader(this.r.buf, start, this.r.pos), type, this.where, this.fail);
  }

  bytes(name: string): Buffer {
    this.want(name, LEN);
    return this.r.bytes(this.r.uvarint());
  }

  /** bytes as lowercase hex (trace and span ids). */
  hex(name: string): string {
    this.want(name, LEN);
    const start = this.span();
    return this.r.buf.toString('hex', start, this.r.pos);
  }

  string(name: string): string {
    const at = this.r.pos;
    this.want(name, LEN);
    const start = this.span();
    // Much faster than a fatal TextDecoder; only a string holding U+FFFD (a replaced invalid
    // sequence, or a real one) needs the strict check.
    const s = internUtf8(this.r.buf, start, this.r.pos);
    if (s !== undefined) return s;
    try {
      return utf8.decode(this.r.buf.subarray(start, this.r.pos));
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

  /** fixed64 nanoseconds since the epoch as whole milliseconds, exactly (floor), without a BigInt. */
  fixed64Millis(name: string): number {
    this.want(name, I64);
    const lo = this.r.u32();
    return nanosToMillis(lo, this.r.u32());
  }

  /** fixed64 as a number (exact below 2^53: counts). */
  fixed64Number(name: string): number {
    this.want(name, I64);
    const lo = this.r.u32();
    return this.r.u32() * 2 ** 32 + lo;
  }

  /** sfixed64 as a number (exact within ±2^53). */
  sfixed64Number(name: string): number {
    this.want(name, I64);
    const lo = this.r.u32();
    const hi = this.r.u32();
    return (hi | 0) * 2 ** 32 + lo;
  }

  /** A repeated fixed64 (packed, or one element unpacked) appended to `out` as numbers. */
  packedFixed64(name: string, out: number[]): void {
    if (this.wt === I64) {
      out.push(this.fixed64Number(name));
      return;
    }
    this.want(name, LEN);
    const len = this.r.uvarint();
    if (len % 8 !== 0) throw this.fail(`${this.msg}.${name} (field ${this.field}) is a packed fixed64 of ${len} bytes, not a multiple of 8`);
    const end = this.r.pos + len;
    if (end > this.r.end) throw new RangeError('unexpected end of record');
    while (this.r.pos < end) {
      const lo = this.r.u32();
      out.push(this.r.u32() * 2 ** 32 + lo);
    }
  }

  /** A repeated double (packed, or one element unpacked) appended to `out`. */
  packedDouble(name: string, out: number[]): void {
    if (this.wt === I64) {
      out.push(this.double(name));
      return;
    }
    this.want(name, LEN);
    const len = this.r.uvarint();
    if (len % 8 !== 0) throw this.fail(`${this.msg}.${name} (field ${this.field}) is a packed double of ${len} bytes, not a multiple of 8`);
    const end = this.r.pos + len;
    if (end > this.r.end) throw new RangeError('unexpected end of record');
    while (this.r.pos < end) out.push(this.r.f64());
  }

  /** A repeated uint32 (packed, or one element unpacked) appended to `out`. */
  packedUint32(name: string, out: number[]): void {
    if (this.wt === VARINT) {
      out.push(this.uint32(name));
      return;
    }
    this.want(name, LEN);
    const len = this.r.uvarint();
    const end = this.r.pos + len;
    if (end > this.r.end) throw new RangeError('unexpected end of record');
    while (this.r.pos < end) {
      const n = this.r.uvarint();
      if (n > 0xffffffff) throw this.fail(`${this.msg}.${name} (field ${this.field}) holds ${n}, past uint32`);
      out.push(n);
    }
    if (this.r.pos !== end) throw this.fail(`${this.msg}.${name} (field ${this.field}): a varint runs past its packed field`);
  }

  /** A repeated uint64 varint (packed, or one element unpacked) appended to `out` as numbers (exact below 2^53: counts). */
  packedUint64(name: string, out: number[]): void {
    if (this.wt === VARINT) {
      this.want(name, VARINT);
      out.push(Number(this.u64()));
      return;
    }
    this.want(name, LEN);
    const len = this.r.uvarint();
    const end = this.r.pos + len;
    if (end > this.r.end) throw new RangeError('unexpected end of record');
    while (this.r.pos < end) out.push(this.r.buf[this.r.pos]! < 0x80 ? this.r.u8() : Number(this.u64()));
    if (this.r.pos !== end) throw this.fail(`${this.msg}.${name} (field ${this.field}): a varint runs past its packed field`);
  }

  /** sint32 (zigzag). */
  sint32(name: string): number {
    this.want(name, VARINT);
    const z = this.u64();
    if (z > 0xffffffffn) throw this.fail(`${this.msg}.${name} (field ${this.field}) holds ${z}, past sint32`);
    const n = Number(z);
    return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
  }

  /** An int64 varint as a number (exact within ±2^53: timestamps in milliseconds). */
  int64Number(name: string): number {
    this.want(name, VARINT);
    const r = this.r;
    const at = r.pos;
    const n = r.uvarint();
    if (n <= Number.MAX_SAFE_INTEGER) return n;
    r.pos = at;
    return Number(BigInt.asIntN(64, this.u64()));
  }

  /** sint32 and sint64 (zigzag varints) as a number (exact within ±2^53). */
  sint(name: string): number {
    this.want(name, VARINT);
    return this.r.svarint();
  }

  /** A repeated sint64 (packed, or one element unpacked) appended to `out`. */
  packedSint(name: string, out: number[]): void {
    if (this.wt === VARINT) {
      out.push(this.sint(name));
      return;
    }
    this.want(name, LEN);
    const len = this.r.uvarint();
    const end = this.r.pos + len;
    if (end > this.r.end) throw new RangeError('unexpected end of record');
    while (this.r.pos < end) out.push(this.r.svarint());
    if (this.r.pos !== end) throw this.fail(`${this.msg}.${name} (field ${this.field}): a varint runs past its packed field`);
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

/**
 * Short strings decoded through a small cache keyed by their bytes: attribute keys, span names and
 * most attribute values repeat across the spans of a request, and a cached string costs neither a
 * native decode nor garbage. Only strings up to 48 bytes are cached; a slot holds the last string
 * that hashed to it. Returns undefined for invalid UTF-8 (callers fall back to the strict path).
 */
const INTERN_SLOTS = 4096;
const INTERN_MAX = 48;
const internBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(INTERN_SLOTS);
const internStrings: string[] = new Array<string>(INTERN_SLOTS);

/**
 * The cache slot of `buf[start, end)`: from the length and three 4-byte words (the first, the middle
 * and the last), not every byte, since the hit is checked byte by byte anyway; strings that differ
 * only elsewhere share a slot and take turns, which costs misses, never a wrong string.
 */
function internSlot(buf: Buffer, start: number, end: number, len: number): number {
  let h: number;
  if (len < 4) {
    h = len;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  } else {
    const m = start + (len >> 1) - 2;
    const w0 = buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24);
    const w1 = buf[m]! | (buf[m + 1]! << 8) | (buf[m + 2]! << 16) | (buf[m + 3]! << 24);
    const w2 = buf[end - 4]! | (buf[end - 3]! << 8) | (buf[end - 2]! << 16) | (buf[end - 1]! << 24);
    h = Math.imul(w0 ^ len, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca77) ^ Math.imul(w2, 0xc2b2ae3d);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) & (INTERN_SLOTS - 1);
}

export function internUtf8(buf: Buffer, start: number, end: number): string | undefined {
  const len = end - start;
  if (len > INTERN_MAX || len <= 0) {
    const s = buf.toString('utf8', start, end);
    return s.includes('\ufffd') ? undefined : s;
  }
  const slot = internSlot(buf, start, end, len);
  const cached = internBytes[slot];
  if (cached && cached.length === len) {
    let same = true;
    for (let i = 0; i < len; i++)
      if (cached[i] !== buf[start + i]) {
        same = false;
        break;
      }
    if (same) return internStrings[slot];
  }
  const s = buf.toString('utf8', start, end);
  if (s.includes('\ufffd')) return undefined;
  internBytes[slot] = Uint8Array.prototype.slice.call(buf, start, end);
  internStrings[slot] = s;
  return s;
}

/**
 * The common KeyValue (a key and a string, bool, int64 or double value) read straight from the
 * bytes, with no reader object per message: attributes are most of an OTLP body. Anything else
 * (arrays, kvlists, bytes, unknown fields, invalid UTF-8, a varint past 2^53, a bad length) returns
 * undefined, and the caller decodes that KeyValue the general way, which also words any error.
 */
export function fastKeyValue(buf: Buffer, start: number, end: number): KeyValue | undefined {
  let p = start;
  let key = '';
  let value: AnyValue | undefined;
  while (p < end) {
    const tag = buf[p++]!;
    if (tag !== 0x0a && tag !== 0x12) return undefined;
    let len = buf[p++]!;
    if (len >= 0x80) {
      if (p >= end) return undefined;
      len = (len & 0x7f) | (buf[p++]! << 7);
      if (len >= 1 << 14) return undefined;
    }
    const to = p + len;
    if (p > end || to > end) return undefined;
    if (tag === 0x0a) {
      const k = internUtf8(buf, p, to);
      if (k === undefined) return undefined;
      key = k;
    } else {
      value = fastAnyValue(buf, p, to);
      if (!value) return undefined;
    }
    p = to;
  }
  return value ? { key, value } : { key };
}

/** A KeyValue `{1: key, 2: {1: string}}` with short lengths, as exactly that; undefined for anything else. */
function fastStringKeyValue(buf: Buffer, start: number, end: number): { key: string; value: string } | undefined {
  let p = start;
  if (buf[p++] !== 0x0a) return undefined;
  const klen = buf[p++]!;
  if (klen >= 0x80 || p + klen > end) return undefined;
  const key = internUtf8(buf, p, p + klen);
  p += klen;
  if (key === undefined || buf[p++] !== 0x12) return undefined;
  const alen = buf[p++]!;
  if (alen >= 0x80 || p + alen !== end || buf[p++] !== 0x0a) return undefined;
  const vlen = buf[p++]!;
  if (vlen >= 0x80 || p + vlen !== end) return undefined;
  const value = internUtf8(buf, p, end);
  return value === undefined ? undefined : { key, value };
}

function fastAnyValue(buf: Buffer, start: number, end: number): AnyValue | undefined {
  let p = start;
  let v: AnyValue = {};
  while (p < end) {
    const tag = buf[p++]!;
    if (tag === 0x0a) {
      let len = buf[p++]!;
      if (len >= 0x80) {
        if (p >= end) return undefined;
        len = (len & 0x7f) | (buf[p++]! << 7);
        if (len >= 1 << 14) return undefined;
      }
      const to = p + len;
      if (p > end || to > end) return undefined;
      const s = internUtf8(buf, p, to);
      if (s === undefined) return undefined;
      v = { stringValue: s };
      p = to;
    } else if (tag === 0x10 || tag === 0x18) {
      // A varint up to 7 bytes (< 2^49): exact as a number.
      let x = 0;
      let mul = 1;
      let i = 0;
      for (; i < 7 && p < end; i++) {
        const b = buf[p++]!;
        x += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) break;
      }
      if (i === 7 || (p >= end && buf[p - 1]! >= 0x80)) return undefined;
      v = tag === 0x10 ? { boolValue: x !== 0 } : { intValue: String(x) };
    } else if (tag === 0x21) {
      if (p + 8 > end) return undefined;
      v = { doubleValue: buf.readDoubleLE(p) };
      p += 8;
    } else return undefined;
  }
  return v;
}

/** A Resource message. */
export function decodeResource(g: ProtoFields, into: Resource = {}): Resource {
  while (g.next()) {
    if (g.field === 1) (into.attributes ??= []).push(g.keyValue('attributes'));
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
    else if (g.field === 3) (into.attributes ??= []).push(g.keyValue('attributes'));
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
