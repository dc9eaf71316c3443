/**
 * OTLP/HTTP logs end to end: the real OpenTelemetry JS exporters (JSON, protobuf, protobuf+gzip)
 * against Vigil's `/v1/logs`, read back through the Loki API; and the protobuf endpoint's replies.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider, BatchLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Router } from '../../server/api/http.js';
import { registerLokiApi } from '../../server/api/loki.js';
import { LogqlEngine } from '../logql/engine.js';
import { LocalLogQueryService } from '../query/service.js';
import { LogStore } from '../store/store.js';
import { nopLogger } from '../../core/util/log.js';
import { ByteReader } from '../../core/util/bytes.js';
import { registerLogIngest } from '../../server/api/log_ingest.js';

interface Vigil {
  base: string;
  store: LogStore;
  /** Content-Type and Content-Encoding of each OTLP request received. */
  seen: { type: string; encoding: string }[];
}

const servers: http.Server[] = [];
const stores: LogStore[] = [];
after(() => {
  for (const s of servers) s.close();
  for (const s of stores) s.stop();
});

async function startVigil(): Promise<Vigil> {
  const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-otlp-')) });
  store.start();
  const router = new Router(nopLogger);
  registerLogIngest(router, store);
  registerLokiApi(router, new LocalLogQueryService(store, new LogqlEngine(store)));
  const seen: Vigil['seen'] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/v1/logs'))
      seen.push({ type: String(req.headers['content-type'] ?? ''), encoding: String(req.headers['content-encoding'] ?? '') });
    router.listener(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  stores.push(store);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, store, seen };
}

type Stream = { stream: Record<string, string>; values: [string, string, Record<string, string>?][] };

async function query(v: Vigil, q: string): Promise<Stream[]> {
  const res = await fetch(
    `${v.base}/loki/api/v1/query_range?direction=forward&limit=1000&start=0&end=${String(BigInt(Date.now() + 3_600_000) * 1_000_000n)}&query=${encodeURIComponent(q)}`,
  );
  const body = (await res.json()) as { data: { result: Stream[] } };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.data.result;
}

/** The lines a query returns, in time order, with their structured metadata. */
async function lines(v: Vigil, q: string): Promise<{ t: string; line: string; meta: Record<string, string> | undefined }[]> {
  const out = (await query(v, q)).flatMap((s) => s.values.map(([t, line, meta]) => ({ t, line, meta })));
  return out.sort((a, b) => (BigInt(a.t) < BigInt(b.t) ? -1 : 1));
}

/** The label sets of the streams a selector matches. */
async function series(v: Vigil, selector: string): Promise<Record<string, string>[]> {
  const res = await fetch(`${v.base}/loki/api/v1/series?start=0&match[]=${encodeURIComponent(selector)}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: Record<string, string>[] }).data;
}

const SEC = Math.floor(Date.now() / 1000) - 60;
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

/** Emits the same records through `exporter`, flushes and shuts down. */
async function emitThrough(exporter: LogRecordExporter): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'otel-eq',
      'service.namespace': 'shop',
      'deployment.environment': 'test',
      'host.name': 'h1',
      'process.pid': 4242,
    }),
    processors: [new BatchLogRecordProcessor(exporter)],
  });
  const ctx = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  const checkout = provider.getLogger('checkout', '1.0.0');
  checkout.emit({
    timestamp: [SEC, 123_456_789],
    observedTimestamp: [SEC + 1, 0],
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: 'payment failed',
    attributes: { user: 'u1', 'http.status_code': 500, ratio: 0.25, retry: false, tags: ['a', 'b'], ctx: { k: 'v', n: 1 } },
    context: ctx,
  });
  checkout.emit({
    timestamp: [SEC, 223_456_789],
    observedTimestamp: [SEC + 1, 0],
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: { msg: 'structured', count: 3 },
    attributes: { 'order.id': 'o-42' },
  });
  provider.getLogger('other-scope').emit({ timestamp: [SEC, 323_456_789], observedTimestamp: [SEC + 1, 0], body: 'no severity, no trace' });
  await provider.forceFlush();
  await provider.shutdown();
}

test('the protobuf exporter (plain and gzip) delivers exactly what the JSON exporter does', async () => {
  const [viaJson, viaProto, viaGzip] = await Promise.all([startVigil(), startVigil(), startVigil()]);
  await emitThrough(new JsonLogExporter({ url: viaJson.base + '/v1/logs' }));
  await emitThrough(new ProtoLogExporter({ url: viaProto.base + '/v1/logs' }));
  await emitThrough(
    new ProtoLogExporter({ url: viaGzip.base + '/v1/logs', compression: 'gzip' } as unknown as ConstructorParameters<typeof ProtoLogExporter>[0]),
  );
  assert.deepEqual(viaJson.seen, [{ type: 'application/json', encoding: '' }]);
  assert.deepEqual(viaProto.seen, [{ type: 'application/x-protobuf', encoding: '' }]);
  assert.deepEqual(viaGzip.seen, [{ type: 'application/x-protobuf', encoding: 'gzip' }]);

  const fromJson = await lines(viaJson, '{service_name="otel-eq"}');
  const fromProto = await lines(viaProto, '{service_name="otel-eq"}');
  assert.deepEqual(fromProto, fromJson);
  assert.deepEqual(await lines(viaGzip, '{service_name="otel-eq"}'), fromJson);
  for (const v of [viaJson, viaProto, viaGzip])
    assert.deepEqual(await series(v, '{service_name="otel-eq"}'), [{ deployment_environment: 'test', service_name: 'otel-eq', service_namespace: 'shop' }]);

  // And what arrived is what was sent, not merely the same on both sides.
  assert.deepEqual(
    fromProto.map((l) => [l.t, l.line]),
    [
      [`${SEC}123456789`, 'payment failed'],
      [`${SEC}223456789`, '{"msg":"structured","count":3}'],
      [`${SEC}323456789`, 'no severity, no trace'],
    ],
  );
  const resource = { host_name: 'h1', process_pid: '4242' };
  assert.deepEqual(fromProto[0]!.meta, {
    ...resource,
    user: 'u1',
    http_status_code: '500',
    ratio: '0.25',
    retry: 'false',
    tags: '["a","b"]',
    ctx: '{"k":"v","n":1}',
    severity_text: 'ERROR',
    severity_number: '17',
    trace_id: TRACE_ID,
    span_id: SPAN_ID,
    scope_name: 'checkout',
  });
  assert.deepEqual(fromProto[1]!.meta, { ...resource, order_id: 'o-42', severity_text: 'INFO', severity_number: '9', scope_name: 'checkout' });
  assert.deepEqual(fromProto[2]!.meta, { ...resource, scope_name: 'other-scope' });
  // LogQL over the metadata the protobuf path stored.
  assert.deepEqual(
    (await lines(viaProto, `{service_name="otel-eq"} | trace_id="${TRACE_ID}" | user="u1"`)).map((l) => l.line),
    ['payment failed'],
  );
});

// ---- The endpoint's replies, with hand-made bodies ----

const ld = (field: number, ...parts: (Buffer | string)[]): Buffer => {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  if (body.length > 127) throw new Error('test helper: keep messages short');
  return Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
};
const fixed64 = (field: number, t: bigint): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = (field << 3) | 1;
  b.writeBigUInt64LE(t, 1);
  return b;
};
/** A request with one record per line, for service `svc`, at times `ts`. */
const request = (svc: string, lines: [bigint, string][]): Buffer =>
  ld(1, ld(1, ld(1, ld(1, 'service.name'), ld(2, ld(1, svc)))), ld(2, ...lines.map(([t, line]) => ld(2, fixed64(1, t), ld(5, ld(1, line))))));

/** Decodes the google.rpc.Status or ExportLogsPartialSuccess fields {1: varint, 2: string}. */
function fields12(buf: Buffer): { one?: number; two?: string } {
  const r = new ByteReader(buf);
  const out: { one?: number; two?: string } = {};
  while (!r.done) {
    const tag = r.uvarint();
    if (tag === 0x08) out.one = r.uvarint();
    else if (tag === 0x12) out.two = r.str();
    else throw new Error(`unexpected tag ${tag}`);
  }
  return out;
}

async function post(v: Vigil, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(v.base + '/v1/logs', { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const PROTO = { 'content-type': 'application/x-protobuf' };

test('protobuf success: 200 with an empty ExportLogsServiceResponse; gzip bodies too', async () => {
  const v = await startVigil();
  const t = nowNs();
  let res = await post(v, request('p-ok', [[t, 'plain']]), PROTO);
  assert.deepEqual([res.status, res.type, res.body.length], [200, 'application/x-protobuf', 0]);
  res = await post(v, gzipSync(request('p-ok', [[t + 1n, 'gzipped']])), { ...PROTO, 'content-encoding': 'gzip' });
  assert.deepEqual([res.status, res.type, res.body.length], [200, 'application/x-protobuf', 0]);
  res = await post(v, Buffer.alloc(0), { 'content-type': 'application/x-protobuf; charset=binary' });
  assert.equal(res.status, 200, 'an empty request is a success');
  assert.deepEqual(
    (await lines(v, '{service_name="p-ok"}')).map((l) => [l.t, l.line]),
    [
      [String(t), 'plain'],
      [String(t + 1n), 'gzipped'],
    ],
  );
});

test('malformed protobuf: 400 with a google.rpc.Status saying why, and nothing written', async () => {
  const v = await startVigil();
  const good = request('p-bad', [
    [nowNs(), 'first'],
    [nowNs(), 'second'],
  ]);
  const bodies: [Buffer, Record<string, string>, RegExp][] = [
    [
      good.subarray(0, good.length - 3),
      PROTO,
      /^malformed OTLP protobuf ExportLogsServiceRequest: cannot read ExportLogsServiceRequest resource_logs \(field 1\) at byte 1 of \d+: unexpected end of record/,
    ],
    [Buffer.from('definitely not protobuf'), PROTO, /^malformed OTLP protobuf ExportLogsServiceRequest: /],
    [Buffer.from([0x0a, 0x7f, 0x0a]), PROTO, /resource_logs \(field 1\) at byte 1 of 3/],
    [gzipSync(good).subarray(0, 20), { ...PROTO, 'content-encoding': 'gzip' }, /^cannot decompress the gzip body/],
  ];
  for (const [body, headers, re] of bodies) {
    const res = await post(v, body, headers);
    assert.equal(res.status, 400, re.source);
    assert.equal(res.type, 'application/x-protobuf');
    const status = fields12(res.body);
    assert.equal(status.one, 3, 'INVALID_ARGUMENT');
    assert.match(status.two ?? '', re);
  }
  assert.deepEqual(await query(v, '{service_name="p-bad"}'), []);
  assert.equal(v.store.stats().entries, 0);
});

test('wrong Content-Type: 415, nothing read; JSON failures answer in JSON', async () => {
  const v = await startVigil();
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/grpc']) {
    const res = await post(v, request('p-415', [[nowNs(), 'x']]), { 'content-type': type });
    assert.equal(res.status, 415, type);
    assert.match(res.body.toString(), /unsupported Content-Type .* for OTLP logs: want application\/x-protobuf or application\/json/);
  }
  const res = await post(v, '{"resourceLogs":', { 'content-type': 'application/json' });
  assert.equal(res.status, 400);
  assert.equal(res.type, 'application/json');
  const status = JSON.parse(res.body.toString()) as { code: number; message: string };
  assert.equal(status.code, 3);
  assert.match(status.message, /invalid OTLP JSON/);
  assert.equal(v.store.stats().entries, 0);
});

test('records the store refuses: 200 with partial_success counting them, the rest kept', async () => {
  const v = await startVigil();
  const t = nowNs();
  assert.equal((await post(v, request('p-part', [[t, 'newest']]), PROTO)).status, 200);
  const twoHours = 7_200_000_000_000n;
  let res = await post(
    v,
    request('p-part', [
      [t - twoHours, 'too old'],
      [t + 1n, 'fine'],
    ]),
    PROTO,
  );
  assert.deepEqual([res.status, res.type], [200, 'application/x-protobuf']);
  const r = new ByteReader(res.body);
  assert.equal(r.uvarint(), 0x0a, 'field 1: partial_success');
  const partial = fields12(r.bytes(r.uvarint()));
  assert.equal(partial.one, 1, 'rejected_log_records');
  assert.match(partial.two ?? '', /entry too far behind/);
  // The same through JSON.
  const json = JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'p-part' } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: String(t - twoHours), body: { stringValue: 'too old' } }] }],
      },
    ],
  });
  res = await post(v, json, { 'content-type': 'application/json' });
  assert.equal(res.status, 200);
  const body = JSON.parse(res.body.toString()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
  assert.equal(body.partialSuccess.rejectedLogRecords, '1');
  assert.match(body.partialSuccess.errorMessage, /entry too far behind/);
  assert.deepEqual(
    (await lines(v, '{service_name="p-part"}')).map((l) => l.line),
    ['newest', 'fine'],
  );
});
