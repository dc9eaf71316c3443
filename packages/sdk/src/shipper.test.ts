import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { createVigil } from './vigil.js';
import { LokiShipper, levelOf } from './shipper.js';
import { captureLogs, listen, seriesValue } from './testing.js';

interface Push {
  readonly headers: IncomingMessage['headers'];
  readonly streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
}

/** A fake Loki: records pushes, answers `failFirst` of them with `failStatus`. */
async function fakeLoki(failFirst = 0, failStatus = 500) {
  const pushes: Push[] = [];
  let attempts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      if (req.url !== '/loki/api/v1/push' || req.method !== 'POST') return void res.writeHead(404).end();
      if (attempts <= failFirst) return void res.writeHead(failStatus).end('try later');
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      pushes.push({ headers: req.headers, ...(JSON.parse(body.toString('utf8')) as Omit<Push, 'headers'>) });
      res.writeHead(204).end();
    });
  });
  const l = await listen(server);
  return { ...l, pushes, attempts: () => attempts };
}

const lines = (pushes: readonly Push[]) => pushes.flatMap((p) => p.streams.flatMap((s) => s.values.map((v) => JSON.parse(v[1]) as Record<string, unknown>)));

test('logs are shipped as gzip JSON with few stream labels; request ids stay in the line', async () => {
  const loki = await fakeLoki();
  const local = captureLogs();
  const vigil = createVigil({
    service: 'ship',
    environment: 'dev',
    defaultMetrics: false,
    logDestination: local,
    loki: { url: loki.url, flushIntervalMs: 50, headers: { 'x-scope-orgid': 'tenant-1' } },
  });
  try {
    vigil.logger.info({ request_id: 'r-1' }, 'hello');
    vigil.logger.error(new Error('bad thing'), 'it failed');
    vigil.logger.debug('not at this level');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(loki.pushes.length, 1);
    const p = loki.pushes[0] as Push;
    assert.equal(p.headers['content-encoding'], 'gzip');
    assert.equal(p.headers['content-type'], 'application/json');
    assert.equal(p.headers['x-scope-orgid'], 'tenant-1');
    assert.deepEqual(
      p.streams.map((s) => s.stream),
      [
        { service: 'ship', environment: 'dev', level: 'info' },
        { service: 'ship', environment: 'dev', level: 'error' },
      ],
    );
    for (const s of p.streams) for (const [ts] of s.values) assert.match(ts, /^\d{19}$/);
    const shipped = lines(loki.pushes);
    assert.deepEqual(
      shipped.map((l) => l['msg']),
      ['hello', 'it failed'],
    );
    assert.equal(shipped[0]?.['request_id'], 'r-1');
    const err = shipped[1]?.['err'] as Record<string, unknown>;
    assert.equal(err['message'], 'bad thing');
    assert.match(String(err['stack']), /Error: bad thing\n\s+at /);
    assert.equal(local.lines.length, 2, 'lines also go to the local destination');
    assert.equal(seriesValue((await vigil.metrics()).body, 'vigil_log_lines_shipped_total{service="ship",environment="dev"}'), 2);
  } finally {
    await vigil.shutdown();
    await loki.close();
  }
});

test('a failed push is retried with backoff and nothing is lost', async () => {
  const loki = await fakeLoki(2, 503);
  const registry = new Registry();
  const shipper = new LokiShipper({ url: `${loki.url}/loki/api/v1/push`, flushIntervalMs: 10, minBackoffMs: 20 }, { service: 's' }, registry);
  try {
    for (let i = 0; i < 5; i++) shipper.write(`{"level":30,"msg":"line ${i}"}\n`);
    const t0 = Date.now();
    await shipper.flush();
    assert.equal(loki.attempts(), 3);
    assert.ok(Date.now() - t0 >= 40, 'backed off between attempts');
    assert.deepEqual(
      lines(loki.pushes).map((l) => l['msg']),
      ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'],
    );
    const text = await registry.metrics();
    assert.equal(seriesValue(text, 'vigil_log_push_retries_total'), 2);
    assert.equal(seriesValue(text, 'vigil_log_lines_shipped_total'), 5);
  } finally {
    await shipper.close();
    await loki.close();
  }
});

test('the buffer is bounded: overflow and exhausted retries are dropped and counted, never blocking', async () => {
  const loki = await fakeLoki(1000, 500);
  const registry = new Registry();
  const shipper = new LokiShipper(
    { url: loki.url, batchSize: 10, maxBufferedLines: 20, maxRetries: 1, minBackoffMs: 5, flushIntervalMs: 10 },
    { service: 's' },
    registry,
  );
  try {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) shipper.write(`{"level":40,"msg":"w${i}"}`);
    assert.ok(performance.now() - t0 < 50, 'write never waits for the network');
    await shipper.flush();
    const text = await registry.metrics();
    assert.equal(seriesValue(text, 'vigil_log_lines_dropped_total{reason="buffer_full"}'), 80);
    assert.equal(seriesValue(text, 'vigil_log_lines_dropped_total{reason="retries_exhausted"}'), 20);
    assert.equal(seriesValue(text, 'vigil_log_buffered_lines'), 0);
  } finally {
    await shipper.close(100);
    await loki.close();
  }
});

test('a 4xx push is not retried; shutdown flushes what is buffered and is idempotent', async () => {
  const bad = await fakeLoki(1, 400);
  const registry = new Registry();
  const s1 = new LokiShipper({ url: bad.url, flushIntervalMs: 5 }, { service: 's' }, registry);
  s1.write('{"level":30,"msg":"x"}');
  await s1.flush();
  assert.equal(bad.attempts(), 1);
  assert.equal(seriesValue(await registry.metrics(), 'vigil_log_lines_dropped_total{reason="rejected"}'), 1);
  await s1.close();
  await bad.close();

  const loki = await fakeLoki();
  const vigil = createVigil({ service: 'bye', defaultMetrics: false, logDestination: captureLogs(), loki: { url: loki.url, flushIntervalMs: 60_000 } });
  vigil.logger.warn('last words');
  assert.equal(loki.pushes.length, 0, 'not shipped before the interval');
  await Promise.all([vigil.shutdown(), vigil.shutdown()]);
  await vigil.shutdown();
  assert.deepEqual(
    lines(loki.pushes).map((l) => l['msg']),
    ['last words'],
  );
  await loki.close();
});

test('levelOf reads numeric and labelled pino levels', () => {
  assert.equal(levelOf('{"level":50,"msg":"x"}'), 'error');
  assert.equal(levelOf('{"level":"warn","msg":"x"}'), 'warn');
  assert.equal(levelOf('{"msg":"x"}'), 'info');
});
