/**
 * The common OTLP protobuf Span read straight from its bytes into the span model, with no OTLP
 * object, KeyValue or AnyValue made on the way and no field path text: at ingest rates the
 * intermediate OTLP tree and the checks over it cost about a third of the server's CPU.
 *
 * Only the plain case is taken: ids of the right length and not zero, scalar attribute values
 * (string, bool, int64 below 2^49, double) within the limits, no events or links, a start time
 * and an end not before it, and no field outside the ones a span's mapping reads. Anything else
 * (including every malformed input) returns undefined and the caller decodes the span the general
 * way (otlp_proto.ts then otlp.ts), which words refusals and errors: so this path needs no error
 * text of its own, and whatever it returns is exactly what the general path would have made.
 */
import { internUtf8 } from '../../core/otlp/protobuf.js';
import type { Attributes, AttributeValue, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from '../storage/types.js';
import { attributesOf } from '../storage/attr_shapes.js';
import type { TraceLimits } from './limits.js';

const KINDS: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const CODES: readonly StatusCode[] = ['unset', 'ok', 'error'];

// What most spans have, shared rather than made per span: every object a span holds lives as long
// as the head does, so it is copied by the scavenges in between. Nothing changes a stored span.
const NO_EVENTS = Object.freeze([]) as unknown as SpanEvent[];
const NO_LINKS = Object.freeze([]) as unknown as SpanLink[];
const UNSET = Object.freeze({ code: 'unset', message: '' }) as Span['status'];

/** The last trace id read, as bytes and as its hex string: a request carries a trace's spans together, so most ids repeat it. */
const lastTraceBytes = new Uint8Array(16);
let lastTraceId = '';

function traceIdAt(buf: Buffer, at: number): string {
  let same = lastTraceId !== '';
  for (let i = 0; i < 16 && same; i++) same = buf[at + i] === lastTraceBytes[i];
  if (same) return lastTraceId;
  for (let i = 0; i < 16; i++) lastTraceBytes[i] = buf[at + i]!;
  return (lastTraceId = buf.toString('hex', at, at + 16));
}

// Span field tags (field number × 8 + wire type).
const T_TRACE_ID = 0x0a;
const T_SPAN_ID = 0x12;
const T_TRACE_STATE = 0x1a;
const T_PARENT = 0x22;
const T_NAME = 0x2a;
const T_KIND = 0x30;
const T_START = 0x39;
const T_END = 0x41;
const T_ATTRIBUTE = 0x4a;
const T_DROPPED_ATTRIBUTES = 0x50;
const T_DROPPED_EVENTS = 0x60;
const T_DROPPED_LINKS = 0x70;
const T_STATUS = 0x7a;
const T_FLAGS = 16 * 8 + 5;

/** A fixed64 read as one BigInt (through a little-endian 8-byte view) instead of words shifted and or-ed together. */
const word = new BigUint64Array(1);
const wordBytes = new Uint8Array(word.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function u64At(buf: Buffer, at: number): bigint {
  if (!littleEndian) return buf.readBigUInt64LE(at);
  for (let i = 0; i < 8; i++) wordBytes[i] = buf[at + i]!;
  return word[0]!;
}

/** The read position, shared by the helpers below (a cursor object per span would be garbage). */
let pos = 0;

/** A varint of at most `maxBytes` bytes (7 keeps it below 2^49, exact) at `pos`, or -1 when it is longer or cut short. */
function varint(buf: Buffer, end: number, maxBytes: number): number {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < maxBytes && pos < end; i++) {
    const b = buf[pos++]!;
    x += (b & 0x7f) * mul;
    if (b < 0x80) return x;
    mul *= 128;
  }
  return -1;
}

/** The end of the length-delimited value at `pos` (the cursor moves to its start), or -1 when it runs past `end`. */
function lengthEnd(buf: Buffer, end: number): number {
  const len = varint(buf, end, 5);
  return len < 0 || pos + len > end ? -1 : pos + len;
}

/** True when the `n` bytes at `at` are all zero (an invalid id). */
function allZero(buf: Buffer, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[at + i] !== 0) return false;
  return true;
}

/** A string attribute key or value within max_attribute_bytes (the general path's check, cheap first). */
function fits(s: string, maxBytes: number): boolean {
  return s.length * 3 <= maxBytes || Buffer.byteLength(s) <= maxBytes;
}

/** The scalar value of an AnyValue at [pos, to), or undefined when it is anything else. */
function scalarValue(buf: Buffer, to: number, maxBytes: number): AttributeValue | undefined {
  let v: AttributeValue | undefined;
  // A oneof: the last member on the wire wins.
  while (pos < to) {
    const tag = buf[pos++]!;
    if (tag === 0x0a) {
      const e = lengthEnd(buf, to);
      if (e < 0) return undefined;
      const s = internUtf8(buf, pos, e);
      if (s === undefined || !fits(s, maxBytes)) return undefined;
      v = s;
      pos = e;
    } else if (tag === 0x10 || tag === 0x18) {
      const x = varint(buf, to, 7);
      if (x < 0) return undefined;
      v = tag === 0x10 ? x !== 0 : x;
    } else if (tag === 0x21) {
      if (pos + 8 > to) return undefined;
      v = buf.readDoubleLE(pos);
      pos += 8;
    } else return undefined;
  }
  return v;
}

/** The current span's attribute keys and values, in order (made into a record at its end). */
const keys: string[] = [];
const values: AttributeValue[] = [];

/** Reads the KeyValue at [pos, to) into `keys[i]` and `values[i]`; false when it is not the plain kind. */
function readAttribute(buf: Buffer, to: number, i: number, maxBytes: number): boolean {
  let key: string | undefined;
  let value: AttributeValue | undefined;
  while (pos < to) {
    const tag = buf[pos++]!;
    const e = lengthEnd(buf, to);
    if (e < 0) return false;
    if (tag === 0x0a) {
      key = internUtf8(buf, pos, e);
      if (key === undefined || !fits(key, maxBytes)) return false;
    } else if (tag === 0x12) {
      value = scalarValue(buf, e, maxBytes);
      if (value === undefined) return false;
    } else return false;
    pos = e;
  }
  // A value-less KeyValue and the key "__proto__" take the general path.
  if (key === undefined || value === undefined || key === '__proto__') return false;
  keys[i] = key;
  values[i] = value;
  return true;
}

/**
 * The span encoded at `buf[start, end)`, under `resource` and `scope`, or undefined when it is not
 * the plain case (see the module comment) and must be decoded the general way.
 */
export function plainSpanOf(buf: Buffer, start: number, end: number, limits: TraceLimits, resource: Attributes, scope: Span['scope']): Span | undefined {
  const maxBytes = limits.maxAttributeValueBytes;
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startNs = 0n;
  let endNs = 0n;
  let code = 0;
  let message = '';
  let attrs = 0;
  pos = start;
  while (pos < end) {
    const tag = varint(buf, end, 2);
    switch (tag) {
      case T_TRACE_ID: {
        const e = lengthEnd(buf, end);
        if (e - pos !== 16 || allZero(buf, pos, 16)) return undefined;
        traceId = traceIdAt(buf, pos);
        pos = e;
        break;
      }
      case T_SPAN_ID:
      case T_PARENT: {
        const e = lengthEnd(buf, end);
        if (e < 0) return undefined;
        if (tag === T_PARENT && e === pos) {
          parentSpanId = '';
          break;
        }
        if (e - pos !== 8 || allZero(buf, pos, 8)) return undefined;
        const id = buf.toString('hex', pos, e);
        if (tag === T_SPAN_ID) spanId = id;
        else parentSpanId = id;
        pos = e;
        break;
      }
      case T_TRACE_STATE: {
        const e = lengthEnd(buf, end);
        // Not kept, but invalid UTF-8 there is a 400 the general path words.
        if (e < 0 || (e > pos && buf.toString('utf8', pos, e).includes('\ufffd'))) return undefined;
        pos = e;
        break;
      }
      case T_NAME: {
        const e = lengthEnd(buf, end);
        if (e < 0) return undefined;
        const s = internUtf8(buf, pos, e);
        if (s === undefined) return undefined;
        name = s;
        pos = e;
        break;
      }
      case T_KIND: {
        kind = varint(buf, end, 5);
        if (kind < 0 || kind > 0x7fffffff) return undefined;
        break;
      }
      case T_START:
      case T_END: {
        if (pos + 8 > end) return undefined;
        const t = u64At(buf, pos);
        pos += 8;
        if (tag === T_START) startNs = t;
        else endNs = t;
        break;
      }
      case T_ATTRIBUTE: {
        const e = lengthEnd(buf, end);
        if (e < 0 || attrs >= limits.maxAttributesPerSpan || !readAttribute(buf, e, attrs++, maxBytes)) return undefined;
        break;
      }
      case T_DROPPED_ATTRIBUTES:
      case T_DROPPED_EVENTS:
      case T_DROPPED_LINKS:
        if (varint(buf, end, 5) < 0) return undefined;
        break;
      case T_STATUS: {
        const e = lengthEnd(buf, end);
        if (e < 0) return undefined;
        // A later status replaces an earlier one whole.
        code = 0;
        message = '';
        while (pos < e) {
          const t = buf[pos++]!;
          if (t === 0x12) {
            const me = lengthEnd(buf, e);
            if (me < 0) return undefined;
            const s = internUtf8(buf, pos, me);
            if (s === undefined) return undefined;
            message = s;
            pos = me;
          } else if (t === 0x18) {
            code = varint(buf, e, 5);
            if (code < 0 || code > 0x7fffffff) return undefined;
          } else return undefined;
        }
        break;
      }
      case T_FLAGS:
        if (pos + 4 > end) return undefined;
        pos += 4;
        break;
      default:
        // Events, links, unknown fields, wrong wire types, a cut tag: the general path.
        return undefined;
    }
  }
  if (traceId === '' || spanId === '' || startNs === 0n || endNs < startNs) return undefined;
  return {
    traceId,
    spanId,
    parentSpanId,
    name,
    kind: KINDS[kind] ?? 'unspecified',
    startTimeUnixNano: startNs,
    endTimeUnixNano: endNs,
    status: code === 0 && message === '' ? UNSET : { code: CODES[code] ?? 'unset', message },
    attributes: attributesOf(keys, values, attrs),
    resource,
    scope,
    events: NO_EVENTS,
    links: NO_LINKS,
  };
}
