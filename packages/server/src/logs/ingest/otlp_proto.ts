/**
 * OTLP logs in the binary protobuf encoding, decoded by hand over {@link ByteReader}'s varint and
 * fixed-width primitives into the same {@link ExportLogsServiceRequest} the JSON path parses (int64
 * as decimal strings, bytes as base64, trace and span ids as lowercase hex; proto3 defaults left
 * out, oneof members kept), so one mapping serves both encodings. Also the two replies OTLP/HTTP
 * sends in protobuf: ExportLogsServiceResponse and google.rpc.Status.
 *
 * Field numbers (opentelemetry-proto, collector/logs/v1, logs/v1, common/v1, resource/v1):
 *   ExportLogsServiceRequest  1 resource_logs
 *   ResourceLogs              1 resource, 2 scope_logs, 3 schema_url
 *   Resource                  1 attributes, 2 dropped_attributes_count
 *   ScopeLogs                 1 scope, 2 log_records, 3 schema_url
 *   InstrumentationScope      1 name, 2 version, 3 attributes, 4 dropped_attributes_count
 *   LogRecord                 1 time_unix_nano (fixed64), 2 severity_number, 3 severity_text,
 *                             5 body, 6 attributes, 7 dropped_attributes_count, 8 flags (fixed32),
 *                             9 trace_id, 10 span_id, 11 observed_time_unix_nano (fixed64),
 *                             12 event_name
 *   KeyValue                  1 key, 2 value
 *   AnyValue (oneof)          1 string, 2 bool, 3 int64, 4 double, 5 array, 6 kvlist, 7 bytes
 *   ArrayValue, KeyValueList  1 values
 *   ExportLogsServiceResponse 1 partial_success {1 rejected_log_records, 2 error_message}
 *   google.rpc.Status         1 code, 2 message
 */
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { LimitError } from './limits.js';
import type { AnyValue, ExportLogsServiceRequest, InstrumentationScope, KeyValue, LogRecord, ResourceLogs, ScopeLogs } from './otlp.js';

/** How deep AnyValue arrays and kvlists may nest. */
export const MAX_ANYVALUE_DEPTH = 64;

const WIRE = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'invalid', 'invalid'] as const;
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(detail: string): LimitError {
  return new LimitError(400, `malformed OTLP protobuf ExportLogsServiceRequest: ${detail}`);
}

/** Where the decoder is, for the message of a truncated input. */
interface Where {
  msg: string;
  field: string;
  at: number;
}

/** The fields of one message, `r` bounded to it; typed reads check the wire type. */
class Fields {
  field = 0;
  wt = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly msg: string,
    private readonly where: Where,
  ) {}

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
    if (this.field === 0) throw malformed(`${this.msg} has a field numbered 0 at byte ${at}`);
    if (this.wt === 3 || this.wt === 4)
      throw malformed(`${this.msg} field ${this.field} at byte ${at} uses a protobuf group (wire type ${this.wt}), which OTLP never does`);
    if (this.wt > 5) throw malformed(`${this.msg} field ${this.field} at byte ${at} has invalid wire type ${this.wt}`);
    return true;
  }

  private want(name: string, wt: number): void {
    this.where.field = `${name} (field ${this.field})`;
    this.where.at = this.r.pos;
    if (this.wt !== wt) throw malformed(`${this.msg}.${name} (field ${this.field}) has wire type ${this.wt} (${WIRE[this.wt]}), want ${wt} (${WIRE[wt]})`);
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
  message(name: string, type: string): Fields {
    this.want(name, LEN);
    const r = this.r;
    const len = r.uvarint();
    const start = r.pos;
    r.bytes(len);
    return new Fields(new ByteReader(r.buf, start, start + len), type, this.where);
  }

  bytes(name: string): Buffer {
    this.want(name, LEN);
    return this.r.bytes(this.r.uvarint());
  }

  string(name: string): string {
    const b = this.bytes(name);
    try {
      return utf8.decode(b);
    } catch {
      throw malformed(`${this.msg}.${name} (field ${this.field}) is not valid UTF-8`);
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
    throw malformed(`${this.msg}: varint longer than 10 bytes`);
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

/** Decodes a (decompressed) binary protobuf ExportLogsServiceRequest; malformed input is a 400 {@link LimitError}. */
export function decodeExportLogsServiceRequest(buf: Buffer): ExportLogsServiceRequest {
  const where: Where = { msg: 'ExportLogsServiceRequest', field: 'a field tag', at: 0 };
  const r = new ByteReader(buf);
  try {
    const f = new Fields(r, 'ExportLogsServiceRequest', where);
    const resourceLogs: ResourceLogs[] = [];
    while (f.next()) {
      if (f.field === 1) resourceLogs.push(decodeResourceLogs(f.message('resource_logs', 'ResourceLogs')));
      else f.skip();
    }
    return resourceLogs.length ? { resourceLogs } : {};
  } catch (err) {
    // ByteReader's RangeErrors: a length or varint that runs past the end of its message.
    if (err instanceof RangeError) throw malformed(`cannot read ${where.msg} ${where.field} at byte ${where.at} of ${buf.length}: ${err.message}`);
    throw err;
  }
}

function decodeResourceLogs(f: Fields): ResourceLogs {
  const out: ResourceLogs = {};
  const scopeLogs: ScopeLogs[] = [];
  while (f.next()) {
    if (f.field === 1) {
      const res = (out.resource ??= {});
      const g = f.message('resource', 'Resource');
      while (g.next()) {
        if (g.field === 1) (res.attributes ??= []).push(decodeKeyValue(g.message('attributes', 'KeyValue'), 0));
        else if (g.field === 2) res.droppedAttributesCount = g.uint32('dropped_attributes_count');
        else g.skip();
      }
    } else if (f.field === 2) scopeLogs.push(decodeScopeLogs(f.message('scope_logs', 'ScopeLogs')));
    else if (f.field === 3) out.schemaUrl = f.string('schema_url');
    else f.skip();
  }
  if (scopeLogs.length) out.scopeLogs = scopeLogs;
  return out;
}

function decodeScopeLogs(f: Fields): ScopeLogs {
  const out: ScopeLogs = {};
  const logRecords: LogRecord[] = [];
  while (f.next()) {
    if (f.field === 1) {
      const scope: InstrumentationScope = (out.scope ??= {});
      const g = f.message('scope', 'InstrumentationScope');
      while (g.next()) {
        if (g.field === 1) scope.name = g.string('name');
        else if (g.field === 2) scope.version = g.string('version');
        else if (g.field === 3) (scope.attributes ??= []).push(decodeKeyValue(g.message('attributes', 'KeyValue'), 0));
        else if (g.field === 4) scope.droppedAttributesCount = g.uint32('dropped_attributes_count');
        else g.skip();
      }
    } else if (f.field === 2) logRecords.push(decodeLogRecord(f.message('log_records', 'LogRecord')));
    else if (f.field === 3) out.schemaUrl = f.string('schema_url');
    else f.skip();
  }
  if (logRecords.length) out.logRecords = logRecords;
  return out;
}

function decodeLogRecord(f: Fields): LogRecord {
  const out: LogRecord = {};
  while (f.next()) {
    switch (f.field) {
      case 1:
        out.timeUnixNano = f.fixed64('time_unix_nano');
        break;
      case 2:
        out.severityNumber = f.int32('severity_number');
        break;
      case 3:
        out.severityText = f.string('severity_text');
        break;
      case 5:
        out.body = decodeAnyValue(f.message('body', 'AnyValue'), 0);
        break;
      case 6:
        (out.attributes ??= []).push(decodeKeyValue(f.message('attributes', 'KeyValue'), 0));
        break;
      case 7:
        out.droppedAttributesCount = f.uint32('dropped_attributes_count');
        break;
      case 8:
        out.flags = f.fixed32('flags');
        break;
      case 9:
        out.traceId = f.bytes('trace_id').toString('hex');
        break;
      case 10:
        out.spanId = f.bytes('span_id').toString('hex');
        break;
      case 11:
        out.observedTimeUnixNano = f.fixed64('observed_time_unix_nano');
        break;
      case 12:
        out.eventName = f.string('event_name');
        break;
      default:
        f.skip();
    }
  }
  // proto3 scalars at their defaults are as good as absent; leave them out as OTLP/JSON would.
  if (out.timeUnixNano === '0') delete out.timeUnixNano;
  if (out.observedTimeUnixNano === '0') delete out.observedTimeUnixNano;
  if (out.severityNumber === 0) delete out.severityNumber;
  if (out.severityText === '') delete out.severityText;
  if (out.traceId === '') delete out.traceId;
  if (out.spanId === '') delete out.spanId;
  if (out.flags === 0) delete out.flags;
  if (out.droppedAttributesCount === 0) delete out.droppedAttributesCount;
  if (out.eventName === '') delete out.eventName;
  return out;
}

function decodeKeyValue(f: Fields, depth: number): KeyValue {
  let key = '';
  let value: AnyValue | undefined;
  while (f.next()) {
    if (f.field === 1) key = f.string('key');
    else if (f.field === 2) value = decodeAnyValue(f.message('value', 'AnyValue'), depth);
    else f.skip();
  }
  return value ? { key, value } : { key };
}

function decodeAnyValue(f: Fields, depth: number): AnyValue {
  if (depth >= MAX_ANYVALUE_DEPTH) throw malformed(`AnyValue arrays and kvlists nest deeper than ${MAX_ANYVALUE_DEPTH} levels`);
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

/**
 * An ExportLogsServiceResponse: empty for a full success; with partial_success when some records
 * were refused (or, with 0 refused, to carry a warning).
 */
export function encodeExportLogsServiceResponse(partial?: { rejectedLogRecords: number; errorMessage: string }): Buffer {
  if (!partial || (partial.rejectedLogRecords === 0 && !partial.errorMessage)) return Buffer.alloc(0);
  const inner = new ByteWriter(64 + partial.errorMessage.length * 3);
  if (partial.rejectedLogRecords > 0) {
    inner.u8(0x08);
    inner.uvarint(partial.rejectedLogRecords);
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
