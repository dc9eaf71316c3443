/**
 * OTLP/HTTP traces (`/v1/traces`): both encodings decode into an ExportTraceServiceRequest
 * (./otlp_types.ts) and {@link mapOtlpTraces} alone turns it into spans of the shared model. A body
 * that breaks the format (a field of the wrong type, a truncated protobuf) is a 400 naming the field
 * (and, for protobuf, the byte offset): nothing of it is written. A well-formed span that breaks a
 * rule (a bad or zero id, a missing timestamp, too many or too large attributes) is refused alone
 * and counted for partial_success, as the OTLP specification has it; the rest are kept.
 */
import { MAX_ANYVALUE_DEPTH, type AnyValue, type InstrumentationScope, type KeyValue } from '../../core/otlp/common.js';
import { OtlpJsonReader } from '../../core/otlp/json.js';
import type { Attributes, AttributeValue, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from '../storage/types.js';
import { TraceIngestError, type TraceLimits } from './limits.js';
import { visitExportTraceServiceRequest } from './otlp_proto.js';
import { plainSpanOf } from './otlp_span_bytes.js';
import type { ExportTraceServiceRequest, OtlpSpan } from './otlp_types.js';

/** The spans to store and those refused, with one message per kind of refusal. */
export interface DecodedTraces {
  readonly spans: Span[];
  readonly rejected: number;
  readonly reasons: string[];
}

const KINDS: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const KIND_NAMES: Record<string, SpanKind> = Object.fromEntries(KINDS.map((k) => [`SPAN_KIND_${k.toUpperCase()}`, k]));
const CODES: readonly StatusCode[] = ['unset', 'ok', 'error'];
const CODE_NAMES: Record<string, StatusCode> = Object.fromEntries(CODES.map((c) => [`STATUS_CODE_${c.toUpperCase()}`, c]));
const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const SPAN_ID = /^[0-9a-fA-F]{16}$/;
const ZERO = /^0+$/;
const SHORT_INT = /^-?\d{1,15}$/;

const json = new OtlpJsonReader((detail) => new TraceIngestError(400, `invalid OTLP traces request: ${detail}`));
const bad = (path: string, want: string, got: unknown): Error => json.bad(path, want, got);

/** A span-level refusal: the span is left out and counted; refusals group by `message`, `example` shows the first value. */
class Refusal extends Error {
  constructor(
    message: string,
    readonly example = '',
  ) {
    super(message);
  }
}

function list<T>(v: T[] | undefined | null, path: string): T[] {
  return json.list(v, path);
}

function obj<T extends object>(v: T | undefined | null, path: string): T | undefined {
  return json.obj(v, path);
}

const str = (v: unknown, path: string): string => json.str(v, path);
const nanos = (v: unknown, path: string): bigint => json.nanos(v, path);
const enumOf = <T>(v: unknown, path: string, values: readonly T[], names: Record<string, T>): T => json.enumOf(v, path, values, names);

/** Per-request conversion state: the limits, and the bytes a span's attributes may use. */
class Converter {
  constructor(readonly limits: TraceLimits) {}

  private checkText(s: string, what: string): void {
    // Cheap first: a string of n UTF-16 units has at most 3n UTF-8 bytes.
    if (s.length * 3 > this.limits.maxAttributeValueBytes && Buffer.byteLength(s) > this.limits.maxAttributeValueBytes)
      throw new Refusal(`${what} is longer than max_attribute_bytes (${this.limits.maxAttributeValueBytes})`);
  }

  value(v: AnyValue | undefined, path: string, depth: number): AttributeValue {
    const o = obj(v, path);
    if (!o) return '';
    if (depth >= MAX_ANYVALUE_DEPTH) throw new TraceIngestError(400, `invalid OTLP traces request: ${path} nests deeper than ${MAX_ANYVALUE_DEPTH} levels`);
    if (o.stringValue !== undefined) {
      const s = str(o.stringValue, `${path}.stringValue`);
      this.checkText(s, 'an attribute value');
      return s;
    }
    if (o.boolValue !== undefined) {
      if (typeof o.boolValue !== 'boolean') throw bad(`${path}.boolValue`, 'a boolean', o.boolValue);
      return o.boolValue;
    }
    if (o.intValue !== undefined) return intValue(o.intValue, `${path}.intValue`);
    if (o.doubleValue !== undefined) return doubleValue(o.doubleValue, `${path}.doubleValue`);
    if (o.bytesValue !== undefined) {
      const s = str(o.bytesValue, `${path}.bytesValue`);
      this.checkText(s, 'an attribute value');
      return s;
    }
    if (o.arrayValue !== undefined) {
      const a = obj(o.arrayValue, `${path}.arrayValue`);
      return list(a?.values, `${path}.arrayValue.values`).map((x, i) => this.value(x, `${path}.arrayValue.values[${i}]`, depth + 1));
    }
    if (o.kvlistValue !== undefined) {
      const a = obj(o.kvlistValue, `${path}.kvlistValue`);
      return this.attributes(a?.values, `${path}.kvlistValue.values`, depth + 1);
    }
    return '';
  }

  /** Attributes as a record (a repeated key: the last wins); too many is a span refusal. */
  attributes(kvs: KeyValue[] | undefined, path: string, depth = 0): Attributes {
    const items = list(kvs, path);
    if (items.length > this.limits.maxAttributesPerSpan)
      throw new Refusal(`more than max_attributes_per_span (${this.limits.maxAttributesPerSpan}) attributes in one place`);
    const out: Attributes = {};
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      // The common case first, with no path text made: a string key and a scalar value of the right type.
      if (item !== null && typeof item === 'object' && typeof item.key === 'string' && item.key !== '__proto__') {
        const v = item.value;
        if (v !== null && typeof v === 'object') {
          const k = item.key;
          if (typeof v.stringValue === 'string') {
            this.checkText(k, 'an attribute key');
            this.checkText(v.stringValue, 'an attribute value');
            out[k] = v.stringValue;
            continue;
          }
          if (v.stringValue === undefined && typeof v.boolValue === 'boolean') {
            this.checkText(k, 'an attribute key');
            out[k] = v.boolValue;
            continue;
          }
          if (v.stringValue === undefined && v.boolValue === undefined && v.intValue !== undefined) {
            const n = v.intValue;
            // Up to 15 digits is always a safe integer; anything else takes the general path.
            const fast = typeof n === 'number' ? (Number.isInteger(n) ? n : undefined) : SHORT_INT.test(n) ? Number(n) : undefined;
            if (fast !== undefined) {
              this.checkText(k, 'an attribute key');
              out[k] = fast;
              continue;
            }
          }
        }
      }
      const kv = obj(item, `${path}[${i}]`) ?? { key: '' };
      const key = str(kv.key, `${path}[${i}].key`);
      this.checkText(key, 'an attribute key');
      const v = this.value(kv.value, `${path}[${i}].value`, depth);
      // "__proto__" is stored as data, never as the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    }
    return out;
  }
}

function intValue(v: unknown, path: string): number | string {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) {
    const n = BigInt(v);
    if (n >= -(1n << 63n) && n < 1n << 63n) return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  }
  throw bad(path, 'an int64 (a decimal string)', v);
}

const doubleValue = (v: unknown, path: string): number => json.double(v, path);

function checkId(id: string, re: RegExp, what: string): string {
  if (!re.test(id) || ZERO.test(id))
    throw new Refusal(`${what} is not ${re === TRACE_ID ? 16 : 8} bytes of hex, or is all zeros`, JSON.stringify(id.slice(0, 40)));
  return id.toLowerCase();
}

function mapSpan(c: Converter, s: OtlpSpan, path: string, resource: Attributes, scope: Span['scope']): Span {
  const traceId = checkId(str(s.traceId, `${path}.traceId`), TRACE_ID, 'traceId');
  const spanId = checkId(str(s.spanId, `${path}.spanId`), SPAN_ID, 'spanId');
  const parentRaw = str(s.parentSpanId, `${path}.parentSpanId`);
  const parentSpanId = parentRaw === '' ? '' : checkId(parentRaw, SPAN_ID, 'parentSpanId');
  const start = nanos(s.startTimeUnixNano, `${path}.startTimeUnixNano`);
  const end = nanos(s.endTimeUnixNano, `${path}.endTimeUnixNano`);
  const status = obj(s.status, `${path}.status`);
  const events = list(s.events, `${path}.events`);
  const links = list(s.links, `${path}.links`);
  // Decode everything first, so a malformed field is a 400 even in a span refused for its ids.
  const span: Span = {
    traceId,
    spanId,
    parentSpanId,
    name: str(s.name, `${path}.name`),
    kind: enumOf(s.kind, `${path}.kind`, KINDS, KIND_NAMES),
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    status: { code: enumOf(status?.code, `${path}.status.code`, CODES, CODE_NAMES), message: str(status?.message, `${path}.status.message`) },
    attributes: c.attributes(s.attributes, `${path}.attributes`),
    resource,
    scope,
    events: events.map((e, i): SpanEvent => {
      const p = `${path}.events[${i}]`;
      const o = obj(e, p) ?? {};
      return {
        timeUnixNano: nanos(o.timeUnixNano, `${p}.timeUnixNano`),
        name: str(o.name, `${p}.name`),
        attributes: c.attributes(o.attributes, `${p}.attributes`),
      };
    }),
    links: links.map((l, i): SpanLink => {
      const p = `${path}.links[${i}]`;
      const o = obj(l, p) ?? {};
      return {
        traceId: checkId(str(o.traceId, `${p}.traceId`), TRACE_ID, 'link traceId'),
        spanId: checkId(str(o.spanId, `${p}.spanId`), SPAN_ID, 'link spanId'),
        attributes: c.attributes(o.attributes, `${p}.attributes`),
      };
    }),
  };
  if (events.length > c.limits.maxEventsPerSpan || links.length > c.limits.maxEventsPerSpan)
    throw new Refusal(`more than max_events_per_span (${c.limits.maxEventsPerSpan}) events or links`);
  if (start === 0n) throw new Refusal('startTimeUnixNano is missing');
  if (end < start) throw new Refusal('endTimeUnixNano is before startTimeUnixNano');
  return span;
}

/**
 * Maps spans one at a time into the shared model, checking the limits, as the decoder (either
 * encoding) hands over a resource, a scope and then each span under them; counts the refusals.
 */
class SpanMapper {
  private readonly c: Converter;
  private readonly spans: Span[] = [];
  private readonly refusals = new Map<string, { n: number; first: string; example: string }>();
  private rejected = 0;
  private resource: Attributes = {};
  /** Why the current resource was refused (it refuses all its spans), and where it is. */
  private resourceRefusal: Refusal | undefined;
  private resourcePath = '';
  private scope: Span['scope'] = { name: '', version: '' };

  constructor(limits: TraceLimits) {
    this.c = new Converter(limits);
  }

  private refuse(err: unknown, path: string, n: number): void {
    if (!(err instanceof Refusal)) throw err;
    this.rejected += n;
    const had = this.refusals.get(err.message);
    if (had) had.n += n;
    else this.refusals.set(err.message, { n, first: path, example: err.example });
  }

  /** A ResourceSpans begins at `rp` with these resource attributes. */
  beginResource(attributes: KeyValue[] | undefined, rp: string): void {
    this.resourceRefusal = undefined;
    try {
      this.resource = this.c.attributes(attributes, `${rp}.resource.attributes`);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.resourceRefusal = err;
      this.resourcePath = `${rp}.resource`;
    }
  }

  /** A ScopeSpans begins at `sp`. */
  beginScope(sc: InstrumentationScope | undefined, sp: string): void {
    this.scope = { name: str(sc?.name, `${sp}.scope.name`), version: str(sc?.version, `${sp}.scope.version`) };
  }

  /** The span at `p` (not yet checked to be an object). */
  span(s: unknown, p: string): void {
    if (this.resourceRefusal) {
      this.refuse(this.resourceRefusal, this.resourcePath, 1);
      return;
    }
    try {
      this.spans.push(mapSpan(this.c, obj(s as OtlpSpan, p) ?? {}, p, this.resource, this.scope));
    } catch (err) {
      this.refuse(err, p, 1);
    }
  }

  /** The span at `buf[start, end)` if it is the plain case (./otlp_span_bytes.ts); false to have it decoded the general way. */
  spanBytes(buf: Buffer, start: number, end: number): boolean {
    // A refused resource refuses its spans after they are decoded (a malformed one is still a 400).
    if (this.resourceRefusal) return false;
    const s = plainSpanOf(buf, start, end, this.c.limits, this.resource, this.scope);
    if (s === undefined) return false;
    this.spans.push(s);
    return true;
  }

  result(): DecodedTraces {
    const reasons = [...this.refusals].map(
      ([msg, r]) => `${r.n} span${r.n === 1 ? '' : 's'} refused: ${msg} (first: ${r.example ? `${r.example} at ` : ''}${r.first})`,
    );
    return { spans: this.spans, rejected: this.rejected, reasons };
  }
}

/** Turns a decoded ExportTraceServiceRequest into spans, checking the limits; writes nothing. */
export function mapOtlpTraces(req: ExportTraceServiceRequest, limits: TraceLimits): DecodedTraces {
  const root = obj(req, 'the body');
  if (!root) throw new TraceIngestError(400, 'invalid OTLP traces request: want an ExportTraceServiceRequest object');
  const m = new SpanMapper(limits);
  list(root.resourceSpans, 'resourceSpans').forEach((rsRaw, i) => {
    const rp = `resourceSpans[${i}]`;
    const rs = obj(rsRaw, rp) ?? {};
    const scopeSpans = list(rs.scopeSpans, `${rp}.scopeSpans`);
    m.beginResource(obj(rs.resource, `${rp}.resource`)?.attributes, rp);
    scopeSpans.forEach((ssRaw, j) => {
      const sp = `${rp}.scopeSpans[${j}]`;
      const ss = obj(ssRaw, sp) ?? {};
      m.beginScope(obj(ss.scope, `${sp}.scope`), sp);
      list(ss.spans, `${sp}.spans`).forEach((s, k) => m.span(s, `${sp}.spans[${k}]`));
    });
  });
  return m.result();
}

/** Parses an OTLP/JSON ExportTraceServiceRequest (no mapping); bad JSON is a 400 with its position. */
export function parseOtlpTracesJson(body: string): ExportTraceServiceRequest {
  try {
    return JSON.parse(body) as ExportTraceServiceRequest;
  } catch (err) {
    throw new TraceIngestError(400, `invalid OTLP JSON: ${(err as Error).message}`);
  }
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest into spans. */
export function decodeOtlpTracesJson(body: string, limits: TraceLimits): DecodedTraces {
  return mapOtlpTraces(parseOtlpTracesJson(body), limits);
}

/**
 * Decodes a binary protobuf ExportTraceServiceRequest (already decompressed) into spans, each span
 * mapped as soon as it is decoded (the same result as {@link mapOtlpTraces} over the decoded tree).
 */
export function decodeOtlpTracesProto(body: Buffer, limits: TraceLimits): DecodedTraces {
  const m = new SpanMapper(limits);
  let i = -1;
  let j = -1;
  let k = -1;
  visitExportTraceServiceRequest(body, {
    resource: (r) => {
      i++;
      j = -1;
      m.beginResource(r?.attributes, `resourceSpans[${i}]`);
    },
    scope: (sc) => {
      j++;
      k = -1;
      m.beginScope(sc, `resourceSpans[${i}].scopeSpans[${j}]`);
    },
    spanBytes: (buf, start, end) => {
      k++;
      return m.spanBytes(buf, start, end);
    },
    span: (s) => m.span(s, `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`),
  });
  return m.result();
}
