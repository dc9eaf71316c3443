/**
 * OTLP trace ingest and the Tempo trace-by-id API over real HTTP: the OpenTelemetry JS exporters
 * (protobuf and JSON) send to a started Vigil, the traces are read back by id in JSON and protobuf,
 * and every refusal (malformed, partial, too large, wrong type, over the rate) answers as the OTLP
 * specification says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, context, trace as otelTrace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { startServer } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { StorageError } from '../../core/errors.js';
import { MemoryTraceStore } from '../../traces/storage/memory.js';
import { DEFAULT_TRACE_LIMITS } from '../../traces/ingest/limits.js';
import { decodeOtlpTracesProto } from '../../traces/ingest/otlp.js';
import { Router } from './http.js';
import { registerTraceIngest } from './trace_ingest.js';
import { WebPolicy } from './web_policy.js';

/** Sends one checkout trace (server span, client child with an error and an event) through `exporter`; returns its trace id. */
async function sendCheckout(exporter: SpanExporter, service: string): Promise<string> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('checkout', '1.0.0');
  const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.response.status_code': 500 } });
  const child = tracer.startSpan(
    'db.pool.acquire',
    { kind: SpanKind.CLIENT, attributes: { 'db.pool.wait_ms': 20000 } },
    otelTrace.setSpan(context.active(), root),
  );
  child.addEvent('timeout', { waited: '20s' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'pool exhausted' });
  child.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return root.spanContext().traceId;
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  events?: { name: string }[];
  attributes: { key: string; value: Record<string, unknown> }[];
}
interface JsonBatch {
  resource: { attributes: { key: string; value: { stringValue?: string } }[] };
  scopeSpans: { scope: { name: string; version?: string }; spans: JsonSpan[] }[];
}

function checkBatches(batches: JsonBatch[], traceId: string, service: string): void {
  assert.equal(batches.length, 1);
  const b = batches[0]!;
  assert.deepEqual(b.resource.attributes.find((a) => a.key === 'service.name')?.value, { stringValue: service });
  assert.deepEqual(b.scopeSpans[0]!.scope, { name: 'checkout', version: '1.0.0' });
  const spans = b.scopeSpans.flatMap((s) => s.spans);
  assert.equal(spans.length, 2);
  const root = spans.find((s) => s.name === 'POST /checkout')!;
  const child = spans.find((s) => s.name === 'db.pool.acquire')!;
  assert.equal(root.traceId, traceId);
  assert.equal(root.parentSpanId, undefined);
  assert.equal(child.parentSpanId, root.spanId);
  assert.equal(root.kind, 2);
  assert.equal(child.kind, 3);
  assert.deepEqual(child.status, { message: 'pool exhausted', code: 2 });
  assert.deepEqual(
    child.events?.map((e) => e.name),
    ['timeout'],
  );
  assert.deepEqual(root.attributes.find((a) => a.key === 'http.response.status_code')?.value, { intValue: '500' });
}

test('the OpenTelemetry JS exporters (protobuf and JSON) send to Vigil; Tempo trace by id reads the traces back', async () => {
  const srv = await startServer();
  try {
    const protoId = await sendCheckout(new ProtoExporter({ url: `${srv.url}/v1/traces` }), 'shop');
    const jsonId = await sendCheckout(new JsonExporter({ url: `${srv.url}/v1/traces` }), 'payment-gateway');
    for (const [id, service] of [
      [protoId, 'shop'],
      [jsonId, 'payment-gateway'],
    ] as const) {
      const v1 = await fetch(`${srv.url}/api/traces/${id}`);
      assert.equal(v1.status, 200);
      assert.match(v1.headers.get('content-type') ?? '', /application\/json/);
      checkBatches(((await v1.json()) as { batches: JsonBatch[] }).batches, id, service);
      const v2 = await fetch(`${srv.url}/api/v2/traces/${id.toUpperCase()}`);
      assert.equal(v2.status, 200);
      const body = (await v2.json()) as { trace: { resourceSpans: JsonBatch[] }; status: string };
      assert.equal(body.status, 'COMPLETE');
      checkBatches(body.trace.resourceSpans, id, service);
      // Protobuf: tempopb.Trace, the OTLP TracesData layout our own decoder reads.
      const pb = await fetch(`${srv.url}/api/traces/${id}`, { headers: { accept: 'application/protobuf' } });
      assert.equal(pb.status, 200);
      assert.equal(pb.headers.get('content-type'), 'application/protobuf');
      const spans = decodeOtlpTracesProto(Buffer.from(await pb.arrayBuffer()), DEFAULT_TRACE_LIMITS).spans;
      assert.deepEqual(spans.map((s) => s.name).sort(), ['POST /checkout', 'db.pool.acquire']);
      assert.ok(spans.every((s) => s.traceId === id && s.resource['service.name'] === service));
    }
    assert.equal((await fetch(`${srv.url}/api/traces/${'f'.repeat(32)}`)).status, 404);
    const bad = await fetch(`${srv.url}/api/traces/not-a-trace-id`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /invalid trace id "not-a-trace-id"/);
    assert.equal((await fetch(`${srv.url}/api/traces/${'a'.repeat(33)}`)).status, 400);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /^vigil_traces_spans_received_total 4$/m);
    assert.match(metrics, /^vigil_traces_head_spans 4$/m);
  } finally {
    await srv.stop();
  }
});

const TID = '5b8efff798038103d269b633813fc60c';
function jsonBody(spans: Record<string, unknown>[]): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeSpans: [{ spans }] }] });
}
const now = (): string => String(BigInt(Date.now()) * 1_000_000n);
const span = (spanId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  traceId: TID,
  spanId,
  name: 'GET /',
  kind: 2,
  startTimeUnixNano: now(),
  endTimeUnixNano: now(),
  ...extra,
});

test('POST /v1/traces: partial_success for refused spans, 400 naming the field or byte, 413, 415, gzip', async () => {
  const srv = await startServer();
  const post = (body: Buffer | string, headers: Record<string, string>): Promise<Response> => fetch(`${srv.url}/v1/traces`, { method: 'POST', body, headers });
  try {
    const json = { 'content-type': 'application/json' };
    const ok = await post(jsonBody([span('eee19b7ec3c1b173'), span('0000000000000000'), span('eee19b7ec3c1b174', { startTimeUnixNano: '0' })]), json);
    assert.equal(ok.status, 200);
    const partial = (await ok.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(partial.partialSuccess.rejectedSpans, '2');
    assert.match(partial.partialSuccess.errorMessage, /spanId is not 8 bytes of hex, or is all zeros/);
    assert.match(partial.partialSuccess.errorMessage, /startTimeUnixNano is missing/);
    const first = (await (await fetch(`${srv.url}/api/traces/${TID}`)).json()) as { batches: JsonBatch[] };
    assert.equal(first.batches[0]!.scopeSpans[0]!.spans.length, 1);

    const full = await post(gzipSync(jsonBody([span('eee19b7ec3c1b175')])), { ...json, 'content-encoding': 'gzip' });
    assert.equal(full.status, 200);
    assert.equal(await full.text(), '{}');

    const badJson = await post(jsonBody([span('eee19b7ec3c1b176', { endTimeUnixNano: 12.5 })]), json);
    assert.equal(badJson.status, 400);
    assert.match(
      ((await badJson.json()) as { message: string }).message,
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.endTimeUnixNano must be nanoseconds/,
    );

    const truncated = await post(Buffer.from([0x0a, 0x20, 0x12, 0x05]), { 'content-type': 'application/x-protobuf' });
    assert.equal(truncated.status, 400);
    assert.equal(truncated.headers.get('content-type'), 'application/x-protobuf');
    // google.rpc.Status: code 3 (INVALID_ARGUMENT), then the message.
    const status = Buffer.from(await truncated.arrayBuffer());
    assert.deepEqual([...status.subarray(0, 2)], [0x08, 3]);
    assert.match(status.toString('utf8'), /malformed OTLP protobuf ExportTraceServiceRequest: cannot read .* at byte \d+ of 4/);

    const bomb = await post(gzipSync(Buffer.alloc(17 << 20)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    assert.equal(bomb.status, 413);
    assert.equal((await post('x', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await fetch(`${srv.url}/api/traces/${TID}`)).status, 200);
    const again = (await (await fetch(`${srv.url}/api/traces/${TID}`)).json()) as { batches: JsonBatch[] };
    assert.equal(again.batches.flatMap((b) => b.scopeSpans.flatMap((s) => s.spans)).length, 2, 'nothing of the refused requests was written');
  } finally {
    await srv.stop();
  }
});

test('POST /v1/traces over the span rate: 429 with Retry-After; a store that cannot write: 503 with Retry-After', async () => {
  const router = new Router(nopLogger, new WebPolicy({ listen: '127.0.0.1:0' }));
  let clock = 1_000_000;
  const store = new MemoryTraceStore();
  let failing = false;
  const appendable = {
    append: (spans: Parameters<MemoryTraceStore['append']>[0]) => {
      if (failing) throw new StorageError('closed', 'trace WAL append: EIO; writes are refused until the write succeeds again');
      return store.append(spans);
    },
    writeProblem: () => undefined,
  };
  registerTraceIngest(router, appendable, { limits: { rateSpansPerSec: 2, burstSpans: 3 }, now: () => clock });
  const server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  const post = (n: number): Promise<Response> =>
    fetch(url, {
      method: 'POST',
      body: jsonBody(Array.from({ length: n }, (_, i) => span(`eee19b7ec3c1b1${String(70 + i)}`))),
      headers: { 'content-type': 'application/json' },
    });
  try {
    assert.equal((await post(3)).status, 200);
    const limited = await post(2);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.match(((await limited.json()) as { message: string }).message, /rate limit exceeded \(2 spans\/s, burst 3\)/);
    clock += 1000;
    assert.equal((await post(2)).status, 200);
    assert.equal((await post(4)).status, 400, 'larger than the burst: never fits');
    clock += 5000;
    failing = true;
    const down = await post(1);
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('retry-after'), '5');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('the limits: section bounds trace ingest: attributes per span, attribute bytes, spans per trace', async () => {
  const srv = await startServer((c) => {
    c.limits.max_attributes_per_span = 2;
    c.limits.max_attribute_bytes = 16;
    c.limits.max_spans_per_trace = 2;
  });
  try {
    const attrs = (n: number, len = 1): Record<string, unknown>[] =>
      Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'v'.repeat(len) } }));
    const res = await fetch(`${srv.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: jsonBody([
        span('eee19b7ec3c1b101', { attributes: attrs(2) }),
        span('eee19b7ec3c1b102', { attributes: attrs(3) }),
        span('eee19b7ec3c1b103', { attributes: attrs(1, 17) }),
        span('eee19b7ec3c1b104'),
        span('eee19b7ec3c1b105'),
      ]),
    });
    assert.equal(res.status, 200);
    const { partialSuccess } = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(partialSuccess.rejectedSpans, '3');
    assert.match(partialSuccess.errorMessage, /max_attributes_per_span \(2\)/);
    assert.match(partialSuccess.errorMessage, /max_attribute_bytes \(16\)/);
    assert.match(partialSuccess.errorMessage, /max_spans_per_trace \(2\)/);
  } finally {
    await srv.stop();
  }
});
