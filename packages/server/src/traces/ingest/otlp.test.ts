import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace as otelTrace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { DEFAULT_TRACE_LIMITS, TraceIngestError, type TraceLimits } from './limits.js';
import { decodeOtlpTracesJson, decodeOtlpTracesProto, mapOtlpTraces } from './otlp.js';
import { encodeTracesData, toOtlpJson } from './otlp_encode.js';
import type { ExportTraceServiceRequest } from './otlp_types.js';
import { demoTrace, rng } from '../../testkit/tracegen.js';
import { decodeExportTraceServiceRequest, encodeExportTraceServiceResponse } from './otlp_proto.js';
import type { Span } from '../storage/types.js';

/** Spans made by the real OpenTelemetry SDK: a server span with a client child, events, a link and an error. */
function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop', 'service.version': '1.4.0', 'host.cpus': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('checkout-lib', '0.9.1');
  const root = tracer.startSpan('POST /checkout', {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'POST', 'http.status_code': 500, ratio: 0.75, retried: true },
  });
  const ctx = otelTrace.setSpan(context.active(), root);
  const child = tracer.startSpan(
    'db.pool.acquire',
    { kind: SpanKind.CLIENT, attributes: { tags: ['a', 'b'], sizes: [1, 2, 3] }, links: [{ context: root.spanContext(), attributes: { why: 'retry' } }] },
    ctx,
  );
  child.addEvent('exception', { 'exception.type': 'TimeoutError', 'exception.message': 'waited 20s' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'pool exhausted' });
  child.end();
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();
  return exporter.getFinishedSpans();
}

const byName = (spans: readonly Span[], name: string): Span => spans.find((s) => s.name === name)!;

test('decodes what the OpenTelemetry SDK serializes, identically from protobuf and JSON', () => {
  const spans = sdkSpans();
  const proto = decodeOtlpTracesProto(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!), DEFAULT_TRACE_LIMITS);
  const json = decodeOtlpTracesJson(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString(), DEFAULT_TRACE_LIMITS);
  assert.equal(proto.rejected, 0);
  assert.deepEqual(proto, json);
  const root = byName(proto.spans, 'POST /checkout');
  const child = byName(proto.spans, 'db.pool.acquire');
  const sdkRoot = spans.find((s) => s.name === 'POST /checkout')!;
  assert.equal(root.traceId, sdkRoot.spanContext().traceId);
  assert.equal(root.spanId, sdkRoot.spanContext().spanId);
  assert.equal(root.parentSpanId, '');
  assert.equal(child.parentSpanId, root.spanId);
  assert.equal(child.traceId, root.traceId);
  assert.equal(root.kind, 'server');
  assert.equal(child.kind, 'client');
  assert.deepEqual(root.status, { code: 'ok', message: '' });
  assert.deepEqual(child.status, { code: 'error', message: 'pool exhausted' });
  assert.deepEqual(root.attributes, { 'http.method': 'POST', 'http.status_code': 500, ratio: 0.75, retried: true });
  assert.deepEqual(child.attributes, { tags: ['a', 'b'], sizes: [1, 2, 3] });
  assert.equal(root.resource['service.name'], 'shop');
  assert.equal(root.resource['host.cpus'], 2);
  assert.equal(root.resource, child.resource, 'spans of one resource share the object');
  assert.deepEqual(root.scope, { name: 'checkout-lib', version: '0.9.1' });
  assert.equal(child.events.length, 1);
  assert.equal(child.events[0]!.name, 'exception');
  assert.deepEqual(child.events[0]!.attributes, { 'exception.type': 'TimeoutError', 'exception.message': 'waited 20s' });
  assert.deepEqual(child.links, [{ traceId: root.traceId, spanId: root.spanId, attributes: { why: 'retry' } }]);
  const [s, ns] = sdkRoot.startTime;
  assert.equal(root.startTimeUnixNano, BigInt(s) * 1_000_000_000n + BigInt(ns));
  assert.ok(root.endTimeUnixNano >= root.startTimeUnixNano);
});

const TID = '0af7651916cd43dd8448eb211c80319c';
const SID = 'b7ad6b7169203331';

function jsonSpan(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { traceId: TID, spanId: SID, name: 'op', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000', ...over };
}
function jsonBody(spans: unknown[], resourceAttrs: unknown[] = [{ key: 'service.name', value: { stringValue: 'shop' } }]): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: resourceAttrs }, scopeSpans: [{ scope: { name: 's' }, spans }] }] });
}

test('JSON: enums by name, int64 beyond 2^53 kept exactly as text, upper-case hex ids lowered', () => {
  const r = decodeOtlpTracesJson(
    jsonBody([
      jsonSpan({
        traceId: TID.toUpperCase(),
        kind: 'SPAN_KIND_CONSUMER',
        status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
        attributes: [
          { key: 'big', value: { intValue: '9223372036854775807' } },
          { key: 'small', value: { intValue: '-42' } },
          { key: 'nan', value: { doubleValue: 'NaN' } },
          { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { boolValue: false } }] } } },
          { key: '__proto__', value: { stringValue: 'plain data' } },
        ],
      }),
    ]),
    DEFAULT_TRACE_LIMITS,
  );
  const s = r.spans[0]!;
  assert.equal(s.traceId, TID);
  assert.equal(s.kind, 'consumer');
  assert.deepEqual(s.status, { code: 'error', message: 'boom' });
  assert.equal(s.attributes['big'], '9223372036854775807');
  assert.equal(s.attributes['small'], -42);
  assert.ok(Number.isNaN(s.attributes['nan']));
  assert.deepEqual(s.attributes['kv'], { x: false });
  assert.equal(Object.getOwnPropertyDescriptor(s.attributes, '__proto__')?.value, 'plain data');
  assert.equal(Object.getPrototypeOf(s.attributes), Object.prototype);
});

test('JSON: a field of the wrong type is a 400 naming its path; bad JSON names the position', () => {
  const cases: [string, RegExp][] = [
    [jsonBody([jsonSpan({ startTimeUnixNano: 'soon' })]), /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.startTimeUnixNano must be nanoseconds/],
    [jsonBody([jsonSpan({ name: 7 })]), /spans\[0\]\.name must be a string, got 7/],
    [jsonBody([jsonSpan({ kind: 'SERVER' })]), /spans\[0\]\.kind must be an enum/],
    [jsonBody([jsonSpan({ attributes: [{ key: 'a', value: { intValue: '1.5' } }] })]), /attributes\[0\]\.value\.intValue must be an int64/],
    [JSON.stringify({ resourceSpans: {} }), /resourceSpans must be an array/],
    ['{"resourceSpans": [', /invalid OTLP JSON: .*position|invalid OTLP JSON: Unexpected end/],
    ['[]', /want an ExportTraceServiceRequest object|must be an object/],
  ];
  for (const [body, re] of cases) {
    assert.throws(
      () => decodeOtlpTracesJson(body, DEFAULT_TRACE_LIMITS),
      (e: unknown) => e instanceof TraceIngestError && e.status === 400 && re.test(e.message),
      body.slice(0, 120),
    );
  }
});

test('refuses bad spans alone (ids, times, attribute limits), counted for partial_success, and keeps the rest', () => {
  const limits: TraceLimits = { ...DEFAULT_TRACE_LIMITS, maxAttributesPerSpan: 3, maxAttributeValueBytes: 12 };
  const r = decodeOtlpTracesJson(
    jsonBody([
      jsonSpan(),
      jsonSpan({ traceId: '00000000000000000000000000000000' }),
      jsonSpan({ traceId: 'abc' }),
      jsonSpan({ spanId: 'zzzzzzzzzzzzzzzz' }),
      jsonSpan({ parentSpanId: '1234' }),
      jsonSpan({ startTimeUnixNano: '0' }),
      jsonSpan({ endTimeUnixNano: '1' }),
      jsonSpan({ attributes: [1, 2, 3, 4].map((i) => ({ key: `k${i}`, value: { intValue: i } })) }),
      jsonSpan({ attributes: [{ key: 'long', value: { stringValue: 'x'.repeat(13) } }] }),
      jsonSpan({ spanId: 'b7ad6b7169203332', attributes: [{ key: 'fits', value: { stringValue: 'x'.repeat(12) } }] }),
    ]),
    limits,
  );
  assert.equal(r.spans.length, 2);
  assert.equal(r.rejected, 8);
  const text = r.reasons.join('\n');
  assert.match(text, /2 spans refused: traceId is not 16 bytes of hex, or is all zeros \(first: "0{32}" at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]\)/);
  assert.match(text, /1 span refused: spanId is not 8 bytes .*"zzzzzzzzzzzzzzzz"/);
  assert.match(text, /parentSpanId is not 8 bytes .*"1234"/);
  assert.match(text, /startTimeUnixNano is missing/);
  assert.match(text, /endTimeUnixNano is before startTimeUnixNano/);
  assert.match(text, /max_attributes_per_span \(3\)/);
  assert.match(text, /max_attribute_bytes \(12\)/);
  // A resource over the limits refuses every span under it.
  const r2 = decodeOtlpTracesJson(jsonBody([jsonSpan(), jsonSpan()], [{ key: 'service.name', value: { stringValue: 'y'.repeat(13) } }]), limits);
  assert.deepEqual([r2.spans.length, r2.rejected], [0, 2]);
});

test('protobuf: a truncated or mistyped body is a 400 naming the message, field and byte offset', () => {
  const good = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!);
  for (const cut of [1, 5, 20, good.length - 3]) {
    assert.throws(
      () => decodeOtlpTracesProto(good.subarray(0, cut), DEFAULT_TRACE_LIMITS),
      (e: unknown) => e instanceof TraceIngestError && e.status === 400 && /^malformed OTLP protobuf ExportTraceServiceRequest: .* at byte \d+/.test(e.message),
      `cut at ${cut}`,
    );
  }
  // Field 1 of a Span (trace_id) sent as a varint: wire type 0 where 2 is wanted.
  const span = Buffer.from([0x08, 0x01]);
  const scopeSpans = Buffer.concat([Buffer.from([0x12, span.length]), span]);
  const resourceSpans = Buffer.concat([Buffer.from([0x12, scopeSpans.length]), scopeSpans]);
  const body = Buffer.concat([Buffer.from([0x0a, resourceSpans.length]), resourceSpans]);
  assert.throws(
    () => decodeOtlpTracesProto(body, DEFAULT_TRACE_LIMITS),
    /Span\.trace_id \(field 1\) has wire type 0 \(varint\), want 2 \(length-delimited\), at byte 7/,
  );
  // A trace id of the wrong length is the span's fault, not the request's.
  const shortId = Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('abc')]);
  const ss2 = Buffer.concat([Buffer.from([0x12, shortId.length]), shortId]);
  const rs2 = Buffer.concat([Buffer.from([0x12, ss2.length]), ss2]);
  const r = decodeOtlpTracesProto(Buffer.concat([Buffer.from([0x0a, rs2.length]), rs2]), DEFAULT_TRACE_LIMITS);
  assert.deepEqual([r.spans.length, r.rejected], [0, 1]);
  assert.match(r.reasons[0]!, /traceId is not 16 bytes .*"616263"/);
});

test('ExportTraceServiceResponse: empty on success, partial_success with rejected_spans and the message', () => {
  assert.equal(encodeExportTraceServiceResponse().length, 0);
  assert.equal(encodeExportTraceServiceResponse({ rejectedSpans: 0, errorMessage: '' }).length, 0);
  const b = encodeExportTraceServiceResponse({ rejectedSpans: 3, errorMessage: 'no' });
  assert.deepEqual([...b], [0x0a, 6, 0x08, 3, 0x12, 2, 0x6e, 0x6f]);
});

test('spans encoded back to OTLP (JSON and protobuf, as the Tempo API answers) decode to the same spans', () => {
  const r = rng(42);
  const spans = [...demoTrace(r, 1_700_000_000_000_000_000n), ...demoTrace(r, 1_700_000_001_000_000_000n)];
  spans[0]!.attributes['nested'] = { list: [1, 'two', false, 2.5], deep: { x: 'y' } };
  spans[0]!.links = [{ traceId: spans[1]!.traceId, spanId: spans[1]!.spanId, attributes: { why: 'retry' } }];
  const fromJson = mapOtlpTraces({ resourceSpans: toOtlpJson(spans) } as ExportTraceServiceRequest, DEFAULT_TRACE_LIMITS);
  const fromProto = decodeOtlpTracesProto(encodeTracesData(spans), DEFAULT_TRACE_LIMITS);
  const key = (s: Span): string => s.spanId;
  const sorted = (l: Span[]): Span[] => [...l].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  assert.equal(fromJson.rejected, 0);
  assert.deepEqual(sorted(fromJson.spans), sorted(spans));
  assert.deepEqual(sorted(fromProto.spans), sorted(spans));
});

/** The fields of a protobuf message as whole byte ranges (tag, length, value), for reordering. */
function fieldsOf(buf: Buffer): { tag: number; bytes: Buffer; value: Buffer }[] {
  const out: { tag: number; bytes: Buffer; value: Buffer }[] = [];
  for (let p = 0; p < buf.length;) {
    const from = p;
    const tag = buf[p++]!;
    assert.equal(tag & 7, 2, 'only length-delimited fields here');
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[p++]!;
      len |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    out.push({ tag, bytes: buf.subarray(from, p + len), value: buf.subarray(p, p + len) });
    p += len;
  }
  return out;
}

function lenField(tag: number, value: Buffer): Buffer {
  const len: number[] = [];
  for (let n = value.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([tag, ...len]), value]);
}

test('protobuf spans are mapped as they are decoded: a resource or scope after its spans, and a refused resource, come out as from the whole tree', () => {
  const r = rng(5);
  const spans = [...demoTrace(r, 1_700_000_000_000_000_000n), ...demoTrace(r, 1_700_000_001_000_000_000n)];
  // Every ResourceSpans and ScopeSpans with its resource or scope moved after the spans (protobuf allows any field order).
  const reversed = Buffer.concat(
    fieldsOf(encodeTracesData(spans)).map((rs) =>
      lenField(
        rs.tag,
        Buffer.concat(
          fieldsOf(rs.value)
            .map((f) =>
              f.tag === 0x12
                ? lenField(
                    f.tag,
                    Buffer.concat(
                      fieldsOf(f.value)
                        .reverse()
                        .map((g) => g.bytes),
                    ),
                  )
                : f.bytes,
            )
            .reverse(),
        ),
      ),
    ),
  );
  assert.notDeepEqual(reversed, encodeTracesData(spans));
  const streamed = decodeOtlpTracesProto(reversed, DEFAULT_TRACE_LIMITS);
  assert.deepEqual(streamed, mapOtlpTraces(decodeExportTraceServiceRequest(reversed), DEFAULT_TRACE_LIMITS));
  const sorted = (l: Span[]): Span[] => [...l].sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
  assert.deepEqual(sorted(streamed.spans), sorted(spans));

  // A resource over the attribute limit refuses every span under it, counted once per span, in both.
  const few: TraceLimits = { ...DEFAULT_TRACE_LIMITS, maxAttributesPerSpan: 3 };
  const body = encodeTracesData(spans);
  const refused = decodeOtlpTracesProto(body, few);
  assert.deepEqual(refused, mapOtlpTraces(decodeExportTraceServiceRequest(body), few));
  assert.equal(refused.rejected, spans.length);
  assert.match(refused.reasons.join('\n'), /refused: more than max_attributes_per_span \(3\).*first: resourceSpans\[0\]\.resource\)/);
});
