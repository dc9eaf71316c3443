/**
 * OTLP over gRPC: the real OpenTelemetry gRPC exporters (traces and logs, plain and gzip) send to a
 * started Vigil and the data is read back through the Tempo and Loki APIs; a raw grpc-js client
 * checks the refusals the OTLP specification prescribes (INVALID_ARGUMENT, RESOURCE_EXHAUSTED with
 * RetryInfo, the size limit, partial_success).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, context, trace as otelTrace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { nopLogger } from '../../core/util/log.js';
import { StorageError } from '../../core/errors.js';
import { MemoryLogStore } from '../../logs/storage/memory.js';
import { MemoryTraceStore } from '../../traces/storage/memory.js';
import { encodeTracesData } from '../../traces/ingest/otlp_encode.js';
import type { Span } from '../../traces/storage/types.js';
import { exited, freePort, spawnVigil, startServer, tempDir } from '../../testkit/helpers.js';
import { OtlpGrpcServer, statusWithRetryInfo } from './otlp_grpc.js';
import { createTraceIngestor } from './trace_ingest.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const LOGS_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** Sends one raw message to `path`; resolves to the reply or the gRPC error. */
function rawCall(address: string, path: string, body: Buffer): Promise<{ reply?: Buffer; err?: grpc.ServiceError }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      (err, reply) => {
        client.close();
        resolve(err ? { err } : { reply: reply! });
      },
    );
  });
}

function span(i: number, attrs: Span['attributes'] = {}): Span {
  const t = BigInt(Date.now()) * 1_000_000n;
  return {
    traceId: 'abcdef00000000000000000000000001',
    spanId: `00000000000000${String(i).padStart(2, '0')}`,
    parentSpanId: '',
    name: `op${i}`,
    kind: 'server',
    startTimeUnixNano: t,
    endTimeUnixNano: t + 1_000_000n,
    status: { code: 'unset', message: '' },
    attributes: attrs,
    resource: { 'service.name': 'raw' },
    scope: { name: '', version: '' },
    events: [],
    links: [],
  };
}

test('the OpenTelemetry gRPC exporters deliver traces and logs to a started Vigil', async () => {
  const srv = await startServer((c) => {
    c.otlp.grpcListenAddress = '127.0.0.1:0';
  });
  cleanups.push(srv.stop);
  const url = `http://${srv.server.grpcAddress()!}`;

  const ids: string[] = [];
  for (const compression of [CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP]) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': `grpc-${compression}` }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url, compression }))],
    });
    const tracer = provider.getTracer('grpc-test');
    const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.response.status_code': 500 } });
    const child = tracer.startSpan('db.pool.acquire', { kind: SpanKind.CLIENT }, otelTrace.setSpan(context.active(), root));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'pool exhausted' });
    child.end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();
    ids.push(root.spanContext().traceId);
  }
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`${srv.url}/api/v2/traces/${id}`);
    assert.equal(res.status, 200, `trace ${i}`);
    const body = (await res.json()) as { trace: { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] } };
    const names = body.trace.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name))).sort();
    assert.deepEqual(names, ['POST /checkout', 'db.pool.acquire']);
  }
  const found = (await (await fetch(`${srv.url}/api/search?q=${encodeURIComponent('{ resource.service.name = "grpc-gzip" && status = error }')}`)).json()) as {
    traces: { traceID: string }[];
  };
  assert.deepEqual(
    found.traces.map((t) => t.traceID),
    [ids[1]],
  );

  const logs = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'grpc-logs' }),
    processors: [new BatchLogRecordProcessor(new OTLPLogExporter({ url, compression: CompressionAlgorithm.GZIP }))],
  });
  logs.getLogger('grpc-test').emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'payment failed over grpc' });
  await logs.forceFlush();
  await logs.shutdown();
  const q = await fetch(
    `${srv.url}/loki/api/v1/query_range?start=0&end=${String(BigInt(Date.now() + 3_600_000) * 1_000_000n)}&query=${encodeURIComponent('{service_name="grpc-logs"}')}`,
  );
  const lines = ((await q.json()) as { data: { result: { values: [string, string][] }[] } }).data.result.flatMap((s) => s.values.map((v) => v[1]));
  assert.deepEqual(lines, ['payment failed over grpc']);
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(metrics, /^vigil_otlp_grpc_requests_total\{signal="traces"\} 2$/m);
  assert.match(metrics, /^vigil_otlp_grpc_requests_total\{signal="logs"\} 1$/m);
  assert.match(metrics, /^vigil_otlp_grpc_log_records_received_total 1$/m);
});

test('refusals: INVALID_ARGUMENT, RESOURCE_EXHAUSTED with RetryInfo, the size limit, partial_success', async () => {
  const store = new MemoryTraceStore();
  const traces = createTraceIngestor(store, { limits: { rateSpansPerSec: 1, burstSpans: 3, maxAttributesPerSpan: 2 } });
  const server = new OtlpGrpcServer({ address: '127.0.0.1:0', traces, logs: new MemoryLogStore(), maxMessageBytes: 64 * 1024, logger: nopLogger });
  const address = await server.start();
  cleanups.push(() => server.stop());

  const bad = await rawCall(address, TRACE_PATH, Buffer.from([0x0a, 0xff, 0xff, 0xff]));
  assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(bad.err!.details, /^malformed OTLP protobuf .* at byte 1 of 4/);
  const badLogs = await rawCall(address, LOGS_PATH, Buffer.from([0x0a, 0x05, 0x01]));
  assert.equal(badLogs.err?.code, grpc.status.INVALID_ARGUMENT);

  // One span over the attribute limit is refused, the other kept: OK with partial_success (field 1: {1: rejected}).
  const partial = await rawCall(address, TRACE_PATH, encodeTracesData([span(1), span(2, { a: 1, b: 2, c: 3 })]));
  assert.ok(partial.reply, partial.err?.message);
  assert.equal(partial.reply[0], 0x0a);
  let at = 1;
  while (partial.reply[at]! & 0x80) at++; // the partial_success message's length
  assert.deepEqual([...partial.reply.subarray(at + 1, at + 3)], [0x08, 1]); // rejected_spans = 1
  assert.match(partial.reply.subarray(at + 3).toString('latin1'), /attribute/);
  assert.equal(store.trace('abcdef00000000000000000000000001').length, 1);

  // The burst is 3 spans and the kept one spent 1: three more is over the rate.
  const limited = await rawCall(address, TRACE_PATH, encodeTracesData([span(3), span(4), span(5)]));
  assert.equal(limited.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  const details = limited.err!.metadata.get('grpc-status-details-bin')[0];
  assert.ok(Buffer.isBuffer(details));
  assert.ok(details.includes(Buffer.from('type.googleapis.com/google.rpc.RetryInfo')));
  assert.deepEqual(details, statusWithRetryInfo(grpc.status.RESOURCE_EXHAUSTED, limited.err!.details, 1));
  assert.equal(traces.stats.refused['rate_limited'], 1);

  const huge = await rawCall(address, TRACE_PATH, Buffer.alloc(100 * 1024, 0));
  assert.equal(huge.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(huge.err!.metadata.get('grpc-status-details-bin').length, 0);
});

test('vigil start --otlp.grpc-listen-address opens the listener', async () => {
  const { dir, cleanup } = tempDir();
  const grpcPort = await freePort();
  const v = await spawnVigil(dir, await freePort(), ['--otlp.grpc-listen-address', `127.0.0.1:${grpcPort}`]);
  cleanups.push(async () => {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
    cleanup();
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'spawned' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${grpcPort}` }))],
  });
  const s = provider.getTracer('t').startSpan('GET /');
  s.end();
  await provider.forceFlush();
  await provider.shutdown();
  assert.equal((await fetch(`${v.url}/api/traces/${s.spanContext().traceId}`)).status, 200);
});

test('a store that cannot write: UNAVAILABLE (retried); a full disk: RESOURCE_EXHAUSTED without RetryInfo', async () => {
  let failure: StorageError | undefined;
  const store = new MemoryTraceStore();
  const appendable = {
    append: (spans: Parameters<MemoryTraceStore['append']>[0]) => {
      if (failure) throw failure;
      return store.append(spans);
    },
    writeProblem: () => undefined,
  };
  const server = new OtlpGrpcServer({ address: '127.0.0.1:0', traces: createTraceIngestor(appendable), logs: new MemoryLogStore(), logger: nopLogger });
  const address = await server.start();
  cleanups.push(() => server.stop());
  failure = new StorageError('closed', 'trace WAL append: EIO');
  const closed = await rawCall(address, TRACE_PATH, encodeTracesData([span(1)]));
  assert.equal(closed.err?.code, grpc.status.UNAVAILABLE);
  assert.match(closed.err!.details, /EIO/);
  failure = new StorageError('disk_full', 'no space left on device');
  const full = await rawCall(address, TRACE_PATH, encodeTracesData([span(1)]));
  assert.equal(full.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(full.err!.metadata.get('grpc-status-details-bin').length, 0);
  failure = undefined;
  const ok = await rawCall(address, TRACE_PATH, encodeTracesData([span(1)]));
  assert.deepEqual(ok.reply, Buffer.alloc(0));
  assert.equal(server.stats.refused['UNAVAILABLE'], 1);
});
