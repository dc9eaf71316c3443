/**
 * Spans back into OTLP: grouped by resource and scope into ResourceSpans → ScopeSpans → Span, as
 * OTLP/JSON (hex ids, lowerCamelCase, int64 as decimal strings, enums as integers) and as protobuf
 * (TracesData, field 1 resource_spans; the same bytes as Tempo's tempopb.Trace). For the Tempo
 * trace-by-id API. Integers come back as intValue, other numbers as doubleValue (the span model
 * keeps numbers, not their wire type).
 */
import type { AnyValue, KeyValue } from '../../core/otlp/common.js';
import type { Attributes, AttributeValue, Span, SpanKind, StatusCode } from '../storage/types.js';

const KINDS: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const CODES: readonly StatusCode[] = ['unset', 'ok', 'error'];

/** Spans grouped by resource (the shared object) and scope, in first-seen order. */
export function groupSpans(spans: readonly Span[]): { resource: Attributes; scopes: { scope: Span['scope']; spans: Span[] }[] }[] {
  const byResource = new Map<Attributes, Map<string, { scope: Span['scope']; spans: Span[] }>>();
  for (const s of spans) {
    let scopes = byResource.get(s.resource);
    if (!scopes) byResource.set(s.resource, (scopes = new Map()));
    const key = `${s.scope.name}\0${s.scope.version}`;
    let g = scopes.get(key);
    if (!g) scopes.set(key, (g = { scope: s.scope, spans: [] }));
    g.spans.push(s);
  }
  return [...byResource].map(([resource, scopes]) => ({ resource, scopes: [...scopes.values()] }));
}

function anyValue(v: AttributeValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return { intValue: String(v) };
    return { doubleValue: Number.isFinite(v) ? v : String(v) };
  }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: keyValues(v) } };
}

function keyValues(a: Attributes): KeyValue[] {
  return Object.keys(a).map((key) => ({ key, value: anyValue(a[key]!) }));
}

/** An OTLP/JSON span. */
function jsonSpan(s: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: KINDS.indexOf(s.kind),
    startTimeUnixNano: String(s.startTimeUnixNano),
    endTimeUnixNano: String(s.endTimeUnixNano),
    attributes: keyValues(s.attributes),
    status: { ...(s.status.message ? { message: s.status.message } : {}), ...(s.status.code !== 'unset' ? { code: CODES.indexOf(s.status.code) } : {}) },
  };
  if (s.events.length) out['events'] = s.events.map((e) => ({ timeUnixNano: String(e.timeUnixNano), name: e.name, attributes: keyValues(e.attributes) }));
  if (s.links.length) out['links'] = s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: keyValues(l.attributes) }));
  return out;
}

/** The ResourceSpans of `spans` in OTLP/JSON. */
export function toOtlpJson(spans: readonly Span[]): Record<string, unknown>[] {
  return groupSpans(spans).map((g) => ({
    resource: { attributes: keyValues(g.resource) },
    scopeSpans: g.scopes.map((sc) => ({
      scope: { name: sc.scope.name, ...(sc.scope.version ? { version: sc.scope.version } : {}) },
      spans: sc.spans.map(jsonSpan),
    })),
  }));
}

// ---- protobuf ------------------------------------------------------------------------------------

function varint(n: number | bigint): Buffer {
  let x = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Buffer.from(out);
}
const ld = (field: number, body: Buffer | string): Buffer => {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([varint(field * 8 + 2), varint(b.length), b]);
};
const vi = (field: number, n: number | bigint): Buffer => Buffer.concat([varint(field * 8), varint(n)]);
const fixed64 = (field: number, n: bigint): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = field * 8 + 1;
  b.writeBigUInt64LE(BigInt.asUintN(64, n), 1);
  return b;
};
const double = (field: number, x: number): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = field * 8 + 1;
  b.writeDoubleLE(x, 1);
  return b;
};

function pbValue(v: AttributeValue): Buffer {
  if (typeof v === 'string') return ld(1, v);
  if (typeof v === 'boolean') return vi(2, v ? 1 : 0);
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? vi(3, BigInt(v)) : double(4, v);
  if (Array.isArray(v)) return ld(5, Buffer.concat(v.map((x) => ld(1, pbValue(x)))));
  return ld(6, Buffer.concat(pbKeyValues(v).map((kv) => ld(1, kv))));
}

function pbKeyValues(a: Attributes): Buffer[] {
  return Object.keys(a).map((k) => Buffer.concat([ld(1, k), ld(2, pbValue(a[k]!))]));
}

function pbSpan(s: Span): Buffer {
  const parts = [ld(1, Buffer.from(s.traceId, 'hex')), ld(2, Buffer.from(s.spanId, 'hex'))];
  if (s.parentSpanId) parts.push(ld(4, Buffer.from(s.parentSpanId, 'hex')));
  parts.push(ld(5, s.name), vi(6, KINDS.indexOf(s.kind)), fixed64(7, s.startTimeUnixNano), fixed64(8, s.endTimeUnixNano));
  for (const kv of pbKeyValues(s.attributes)) parts.push(ld(9, kv));
  for (const e of s.events) parts.push(ld(11, Buffer.concat([fixed64(1, e.timeUnixNano), ld(2, e.name), ...pbKeyValues(e.attributes).map((kv) => ld(3, kv))])));
  for (const l of s.links)
    parts.push(
      ld(13, Buffer.concat([ld(1, Buffer.from(l.traceId, 'hex')), ld(2, Buffer.from(l.spanId, 'hex')), ...pbKeyValues(l.attributes).map((kv) => ld(4, kv))])),
    );
  const status: Buffer[] = [];
  if (s.status.message) status.push(ld(2, s.status.message));
  if (s.status.code !== 'unset') status.push(vi(3, CODES.indexOf(s.status.code)));
  parts.push(ld(15, Buffer.concat(status)));
  return Buffer.concat(parts);
}

/** TracesData (= tempopb.Trace): field 1, the ResourceSpans of `spans`. */
export function encodeTracesData(spans: readonly Span[]): Buffer {
  return Buffer.concat(
    groupSpans(spans).map((g) =>
      ld(
        1,
        Buffer.concat([
          ld(1, Buffer.concat(pbKeyValues(g.resource).map((kv) => ld(1, kv)))),
          ...g.scopes.map((sc) =>
            ld(
              2,
              Buffer.concat([
                ld(1, Buffer.concat([ld(1, sc.scope.name), ...(sc.scope.version ? [ld(2, sc.scope.version)] : [])])),
                ...sc.spans.map((s) => ld(2, pbSpan(s))),
              ]),
            ),
          ),
        ]),
      ),
    ),
  );
}
