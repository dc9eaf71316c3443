import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import { createVigil } from '@vigil/sdk';
import { logs as otelLogs } from '@opentelemetry/api-logs';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Router } from './http.js';
import { registerLokiApi } from './loki.js';
import { LogqlEngine } from '../../logs/logql/engine.js';
import { LocalLogQueryService } from '../../logs/query/service.js';
import { LogStore } from '../../logs/store/store.js';
import { registerLogIngest } from './log_ingest.js';
import { encodeLokiProto } from '../../logs/ingest/loki_push.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { nopLogger } from '../../core/util/log.js';

const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lokiapi-')) });
store.start();
const router = new Router(nopLogger);
registerLogIngest(router, store, { limits: { maxLineBytes: 1000, rateBytesPerSec: 1_000_000, burstBytes: 2_000_000 } });
const { upgrade } = registerLokiApi(router, new LocalLogQueryService(store, new LogqlEngine(store)));
const server = http.createServer(router.listener);
server.on('upgrade', (req, sock, head) => {
  if (!upgrade(req, sock, head)) sock.destroy();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.close();
  store.stop();
});

const nowNs = (): string => String(BigInt(Date.now()) * 1_000_000n);
async function get(p: string): Promise<{
  status: number;
  body: { data: { result: { stream?: Record<string, string>; values: unknown[][]; metric?: Record<string, string> }[]; resultType: string } };
}> {
  const res = await fetch(base + p);
  return { status: res.status, body: (await res.json()) as never };
}
async function lines(query: string): Promise<string[]> {
  const r = await get(`/loki/api/v1/query_range?direction=forward&limit=1000&query=${encodeURIComponent(query)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data.result.flatMap((s) => s.values.map((v) => v[1] as string));
}
async function until(fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

test('Loki push JSON (gzip, structured metadata) and protobuf+snappy; queries and metadata', async () => {
  const body = JSON.stringify({ streams: [{ stream: { app: 'json', env: 'prod' }, values: [[nowNs(), 'hello json', { trace_id: 'abc' }]] }] });
  let res = await fetch(base + '/loki/api/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(body),
  });
  assert.equal(res.status, 204);
  const proto = encodeLokiProto([
    { labels: '{app="proto"}', entries: [{ t: BigInt(Date.now()) * 1_000_000n, line: 'hello proto', meta: [{ name: 'k', value: 'v' }] }] },
  ]);
  res = await fetch(base + '/loki/api/v1/push', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: snappyEncode(proto) });
  assert.equal(res.status, 204, await res.text());
  assert.deepEqual(await lines('{app="json"}'), ['hello json']);
  assert.deepEqual(await lines('{app="proto"} | k="v"'), ['hello proto']);
  const r = await get('/loki/api/v1/query_range?query=' + encodeURIComponent('sum by (app) (count_over_time({app=~"json|proto"}[5m]))') + '&step=60');
  assert.equal(r.body.data.resultType, 'matrix');
  assert.equal(r.body.data.result.length, 2);
  const labels = (await (await fetch(base + '/loki/api/v1/labels')).json()) as { data: string[] };
  assert.ok(labels.data.includes('env'));
  const vals = (await (await fetch(base + '/loki/api/v1/label/app/values')).json()) as { data: string[] };
  assert.ok(vals.data.includes('proto'));
  const bad = await get('/loki/api/v1/query_range?query=' + encodeURIComponent('{app="x"} |='));
  assert.equal(bad.status, 400);
});

test('limits: line size 400, label count 400, rate 429 with Retry-After', async () => {
  const push = (stream: Record<string, string>, line: string): Promise<Response> =>
    fetch(base + '/loki/api/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream, values: [[nowNs(), line]] }] }),
    });
  let res = await push({ app: 'lim' }, 'x'.repeat(2000));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /max entry size/);
  const many: Record<string, string> = {};
  for (let i = 0; i < 20; i++) many[`l${i}`] = 'v';
  res = await push(many, 'x');
  assert.equal(res.status, 400);
  let limited: Response | undefined;
  for (let i = 0; i < 10 && !limited; i++) {
    const big = {
      streams: [
        { stream: { app: 'rate' }, values: Array.from({ length: 600 }, (_, j) => [String(BigInt(Date.now()) * 1_000_000n + BigInt(j)), 'y'.repeat(900)]) },
      ],
    };
    const r = await fetch(base + '/loki/api/v1/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(big) });
    if (r.status === 429) limited = r;
    else await r.arrayBuffer();
  }
  assert.ok(limited, 'expected a 429');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
});

test('pino + pino-loki transport pushes to Vigil', async () => {
  const dest = pinoLoki({ host: base, labels: { app: 'pino' }, batching: false, silenceErrors: false });
  const log = pino({ level: 'info' }, dest);
  log.info({ request_id: 'r-pino-1' }, 'from pino');
  await until(async () => (await lines('{app="pino"}')).length > 0);
  assert.match((await lines('{app="pino"} | json | request_id="r-pino-1"'))[0]!, /from pino/);
});

test('@vigil/sdk shipper pushes to Vigil', async () => {
  const v = createVigil({ service: 'sdk-shop', loki: { url: base, flushIntervalMs: 50 } });
  v.logger.info({ order_id: 'o-42' }, 'order placed');
  await v.shutdown();
  await until(async () => (await lines('{service="sdk-shop"}')).length > 0);
  assert.match((await lines('{service="sdk-shop"} |= "o-42"'))[0]!, /order placed/);
});

test('OpenTelemetry OTLP log exporter pushes to Vigil', async () => {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otel-svc' }),
    processors: [new BatchLogRecordProcessor(new OTLPLogExporter({ url: base + '/v1/logs' }))],
  });
  otelLogs.setGlobalLoggerProvider(provider);
  provider.getLogger('test').emit({ body: 'otel says hi', severityText: 'WARN', attributes: { user: 'u1' } });
  await provider.forceFlush();
  await provider.shutdown();
  assert.deepEqual(await lines('{service_name="otel-svc"} | severity_text="WARN" | user="u1"'), ['otel says hi']);
});

test('JSON lines endpoint and correlation across streams', async () => {
  const t = Date.now();
  const body = [
    { ts: t, service: 'checkout', level: 'info', msg: 'start', request_id: 'req-zz9' },
    { ts: t + 1, service: 'payments', level: 'error', msg: 'pool exhausted', request_id: 'req-zz9' },
    { ts: t + 2, service: 'payments', level: 'info', msg: 'other', request_id: 'req-aa1' },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n');
  const res = await fetch(base + '/api/v1/logs/jsonl', { method: 'POST', body });
  assert.equal(res.status, 204, await res.text());
  const c = (await (await fetch(base + '/loki/api/v1/correlate?id=req-zz9')).json()) as { data: { lines: { stream: Record<string, string>; line: string }[] } };
  assert.deepEqual(
    c.data.lines.map((l) => l.stream['service']),
    ['checkout', 'payments'],
  );
  const f = (await (await fetch(base + '/loki/api/v1/facets?field=level&query=' + encodeURIComponent('{service=~"checkout|payments"}'))).json()) as {
    data: { facets: { field: string; values: { value: string; count: number }[] }[] };
  };
  assert.equal(f.data.facets[0]!.values.find((v) => v.value === 'error')?.count, 1);
});

test('live tail over a raw WebSocket', async () => {
  const port = (server.address() as AddressInfo).port;
  const sock = net.connect(port, '127.0.0.1');
  const key = randomBytes(16).toString('base64');
  sock.write(
    `GET /loki/api/v1/tail?query=${encodeURIComponent('{app="tail"} |= "wanted"')} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  const messages: string[] = [];
  let handshake = false;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!handshake) {
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      assert.match(buf.subarray(0, i).toString(), /^HTTP\/1.1 101/);
      handshake = true;
      buf = buf.subarray(i + 4);
    }
    while (buf.length >= 2) {
      let len = buf[1]! & 127;
      let off = 2;
      if (len === 126) [len, off] = [buf.readUInt16BE(2), 4];
      if (buf.length < off + len) return;
      if ((buf[0]! & 15) === 1) messages.push(buf.subarray(off, off + len).toString());
      buf = buf.subarray(off + len);
    }
  });
  await until(async () => handshake);
  await fetch(base + '/loki/api/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      streams: [
        {
          stream: { app: 'tail' },
          values: [
            [nowNs(), 'not this'],
            [nowNs(), 'wanted line'],
          ],
        },
      ],
    }),
  });
  await until(async () => messages.some((m) => m.includes('wanted line')));
  assert.ok(!messages.some((m) => m.includes('not this')));
  sock.write(Buffer.from([0x88, 0x80, 1, 2, 3, 4]));
  sock.destroy();
});
