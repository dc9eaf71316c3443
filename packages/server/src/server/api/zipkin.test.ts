/**
 * Zipkin v2 JSON ingest at POST /api/v2/spans: the OpenTelemetry Zipkin exporter sends to a started
 * Vigil and the trace is read back through the Tempo and Jaeger APIs; a hand-written body checks the
 * mapping (64-bit ids, error tag, annotations, remote endpoint) and bad bodies are 400s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode, context, trace as otelTrace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { startServer } from '../../testkit/helpers.js';
import type { JaegerTrace } from './jaeger_model.js';

describe('Zipkin v2 ingest', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer();
  });
  after(async () => srv.stop());

  const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> =>
    fetch(`${srv.url}/api/v2/spans`, { method: 'POST', headers, body });

  test('the OpenTelemetry Zipkin exporter delivers a trace Tempo and Jaeger read back', async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'zipkin-shop' }),
      spanProcessors: [new SimpleSpanProcessor(new ZipkinExporter({ url: `${srv.url}/api/v2/spans` }))],
    });
    const tracer = provider.getTracer('zipkin-test');
    const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.method': 'POST' } });
    const child = tracer.startSpan('db.pool.acquire', { kind: SpanKind.CLIENT }, otelTrace.setSpan(context.active(), root));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'pool exhausted' });
    child.end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();
    const id = root.spanContext().traceId;
    const jaeger = (await (await fetch(`${srv.url}/jaeger/api/traces/${id}`)).json()) as { data: JaegerTrace[] };
    const spans = jaeger.data[0]!.spans;
    assert.deepEqual(spans.map((s) => s.operationName).sort(), ['POST /checkout', 'db.pool.acquire']);
    const db = spans.find((s) => s.operationName === 'db.pool.acquire')!;
    assert.deepEqual(db.references, [{ refType: 'CHILD_OF', traceID: id, spanID: root.spanContext().spanId }]);
    assert.equal(jaeger.data[0]!.processes[db.processID]!.serviceName, 'zipkin-shop');
    const found = (await (
      await fetch(`${srv.url}/api/search?q=${encodeURIComponent('{ resource.service.name = "zipkin-shop" && status = error && kind = client }')}`)
    ).json()) as {
      traces: { traceID: string }[];
    };
    assert.deepEqual(
      found.traces.map((t) => t.traceID),
      [id],
    );
  });

  test('a hand-written body: 64-bit ids, the error tag, annotations, the remote endpoint, gzip', async () => {
    const ts = Date.now() * 1000;
    const body = JSON.stringify([
      {
        traceId: 'a1b2c3d4e5f60718',
        id: '0102030405060708',
        name: 'get /cart',
        kind: 'CLIENT',
        timestamp: ts,
        duration: 2500,
        localEndpoint: { serviceName: 'web' },
        remoteEndpoint: { serviceName: 'cart', ipv4: '10.0.0.7', port: 8080 },
        annotations: [{ timestamp: ts + 100, value: 'retry' }],
        tags: { error: 'connection reset', 'http.path': '/cart' },
      },
    ]);
    const res = await post(gzipSync(body), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(res.status, 202);
    assert.equal(await res.text(), '');
    const got = (await (await fetch(`${srv.url}/jaeger/api/traces/a1b2c3d4e5f60718`)).json()) as { data: JaegerTrace[] };
    const s = got.data[0]!.spans[0]!;
    assert.equal(s.traceID, '0000000000000000a1b2c3d4e5f60718');
    assert.equal(s.duration, 2500);
    assert.equal(s.startTime, ts);
    const tags = Object.fromEntries(s.tags.map((t) => [t.key, t.value]));
    assert.equal(tags['peer.service'], 'cart');
    assert.equal(tags['net.peer.ip'], '10.0.0.7');
    assert.equal(tags['net.peer.port'], 8080);
    assert.equal(tags['http.path'], '/cart');
    assert.equal(tags['error'], true);
    assert.equal(tags['otel.status_description'], 'connection reset');
    assert.equal(tags['span.kind'], 'client');
    assert.deepEqual(s.logs, [{ timestamp: ts + 100, fields: [{ key: 'event', type: 'string', value: 'retry' }] }]);
  });

  test('bad bodies are 400s naming the span and field; nothing of them is written', async () => {
    const ts = Date.now() * 1000;
    const good = { traceId: 'b1b2c3d4e5f60718', id: '0102030405060709', timestamp: ts, localEndpoint: { serviceName: 'x' } };
    for (const [body, re] of [
      ['{"not":"an array"}', /want a JSON array/],
      ['[', /invalid Zipkin JSON/],
      [JSON.stringify([good, { ...good, traceId: 'xyz' }]), /\[1\]\.traceId/],
      [JSON.stringify([good, { ...good, timestamp: 'now' }]), /\[1\]\.timestamp/],
      [JSON.stringify([{ ...good, kind: 'SIDEWAYS' }]), /\[0\]\.kind/],
      [JSON.stringify([{ ...good, tags: { n: 1 } }]), /\[0\]\.tags\.n/],
    ] as const) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      assert.match(await res.text(), re);
    }
    assert.equal((await fetch(`${srv.url}/api/traces/b1b2c3d4e5f60718`)).status, 404);
    assert.equal((await post('[]', { 'content-type': 'text/plain' })).status, 415);
  });
});
