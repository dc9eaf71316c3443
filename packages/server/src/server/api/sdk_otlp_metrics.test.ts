// The SDK's metrics pushed over OTLP against the same metrics scraped: one service instrumented with
// @vigil/sdk is scraped by a `vigil start` child process (job "scraped") and exports the same
// registry to that process's /v1/metrics (job "shop", from service.name). Every scraped series must
// arrive under the same name and labels, and the SDK's instruments (golden-signal HTTP histograms,
// function tracking, business counters, the pool instrument, a callback gauge) with the same values,
// with cumulative and with delta temporality. With `latencyHistograms: 'exponential'` the latency
// histograms arrive as native histograms instead, agreeing with the scraped ones on count and sum.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { createVigil, captureLogs, type OtlpMetricsOptions, type Vigil } from '@vigil/sdk';
import { freePort, getJson, spawnVigil, tempDir, waitFor, type VigilProcess } from '../../testkit/helpers.js';

interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string; buckets: Array<[number, string, string, string]> }];
}

async function instant(url: string, q: string): Promise<Sample[]> {
  const { status, body } = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(status, 200, JSON.stringify(body));
  return (body.data as { result: Sample[] }).result;
}

/**
 * A job's series as `name{labels without job and instance}` → value (histogram samples as `count/sum`).
 * `le` is written as a number: a scrape stores it as OpenMetrics spells floats (`1.0`, `1.048576e+06`),
 * OTLP translation as Go's shortest decimal (`1`, `1048576`), as in Prometheus 3; the bounds are equal.
 */
async function seriesOf(url: string, job: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of await instant(url, `{job="${job}"}`)) {
    const { __name__: name, job: _job, instance: _instance, ...rest } = s.metric;
    void _job;
    void _instance;
    const labels = Object.entries(rest)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}="${k === 'le' && v !== '+Inf' ? String(Number(v)) : v}"`)
      .join(',');
    out.set(`${name}{${labels}}`, s.value ? s.value[1] : `${s.histogram![1].count}/${s.histogram![1].sum}`);
  }
  return out;
}

/** The series a scrape or an OTLP receiver adds by itself, not the service's. */
const SYNTHETIC = /^(up|scrape_[a-z_]+|target_info)\{/;
/** The SDK's instruments, which stay still once the traffic stops (process and Node metrics do not). */
const SDK_INSTRUMENTS = /^(http_server_|function_duration_|errors_total|business_|database_connection_|queue_depth)/;

interface Shop {
  v: VigilProcess;
  sdk: Vigil;
  requests: number;
  traffic(n: number): Promise<void>;
}

async function startShop(t: TestContext, otlp: OtlpMetricsOptions): Promise<Shop> {
  const { dir, cleanup } = tempDir('vigil-sdk-otlp-');
  const stops: Array<() => Promise<void> | void> = [cleanup];
  t.after(async () => {
    for (const s of stops.reverse()) await s();
  });
  const metricsPort = await freePort();
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    cfg,
    `self_scrape: false
scrape_configs:
  - job_name: scraped
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:${metricsPort}']
`,
  );
  const v = await spawnVigil(path.join(dir, 'data'), await freePort(), ['--config', cfg]);
  stops.push(() => void v.proc.kill('SIGKILL'));

  const sdk = createVigil({
    service: 'shop',
    version: '1.2.3',
    logDestination: captureLogs(),
    // Exports only when the test flushes, so both sides see the same moment.
    otlpMetrics: { endpoint: `${v.url}/v1/metrics`, exportIntervalMs: 3_600_000, ...otlp },
  });
  stops.push(() => sdk.shutdown());
  await sdk.serveMetrics({ port: metricsPort });
  let depth = 3;
  sdk.gauge({ name: 'queue_depth', help: 'Jobs waiting.', collect: () => depth });
  sdk.business.define('order_placed', { help: 'Orders placed.', labelNames: ['plan'] });
  const app: Server = createServer(
    sdk.httpMiddleware(
      (req, res) => {
        const id = Number(req.url!.split('/').pop());
        sdk.track('load_order', () => sdk.pool.acquireTimer('main')());
        if (id % 5 === 0) {
          sdk.recordError('orders', new TypeError('bad order'));
          res.writeHead(500).end('failed');
          return;
        }
        sdk.business.event('order_placed', { value: id, labels: { plan: id % 2 ? 'pro' : 'free' } });
        setTimeout(() => res.end(JSON.stringify({ id })), id % 3 === 0 ? 40 : 2);
      },
      { routes: ['/orders/:id'] },
    ),
  );
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  stops.push(() => new Promise<void>((r) => app.close(() => r())));
  const appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
  const shop: Shop = {
    v,
    sdk,
    requests: 0,
    async traffic(n) {
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${appUrl}/orders/${shop.requests + i + 1}`, i % 4 ? {} : { method: 'POST', body: 'x'.repeat(i * 100 + 10) });
        await res.text();
      }
      shop.requests += n;
      depth += n;
    },
  };
  return shop;
}

/** Exports now, and waits for a scrape that saw every request so far. */
async function settle(shop: Shop): Promise<void> {
  await shop.sdk.otlpMetrics!.flush();
  assert.equal(shop.sdk.otlpMetrics!.failures(), 0, 'no export failed');
  await waitFor('a scrape after the traffic', async () => {
    const [s] = await instant(shop.v.url, 'sum(http_server_request_duration_seconds_count{job="scraped"})');
    return s && Number(s.value![1]) === shop.requests ? true : undefined;
  });
}

async function compare(t: TestContext, temporality: 'cumulative' | 'delta'): Promise<void> {
  const shop = await startShop(t, { temporality });
  await shop.traffic(12);
  // Delta points must add up: export once in the middle of the traffic.
  await shop.sdk.otlpMetrics!.flush();
  await shop.traffic(13);
  await settle(shop);
  const scraped = await seriesOf(shop.v.url, 'scraped');
  const pushed = await seriesOf(shop.v.url, 'shop');
  const own = (m: Map<string, string>): string[] => [...m.keys()].filter((k) => !SYNTHETIC.test(k)).sort();
  // Process and Node metrics may gain a label set (a new kind of GC) between the two; the SDK's may not.
  // The GC histogram has no series before the process's first collection, which may come between
  // the last export and the scrape.
  const names = (keys: string[]): string[] =>
    [...new Set(keys.map((k) => k.slice(0, k.indexOf('{'))))].filter((n) => !n.startsWith('nodejs_gc_duration_seconds')).sort();
  assert.deepEqual(names(own(pushed)), names(own(scraped)), 'the same metric names');
  const sdkKeys = (m: Map<string, string>): string[] => own(m).filter((k) => SDK_INSTRUMENTS.test(k));
  assert.deepEqual(sdkKeys(pushed), sdkKeys(scraped), 'the same series of the SDK instruments');
  assert.ok(sdkKeys(scraped).length > 60, `the SDK's instruments are all there: ${sdkKeys(scraped).length} series`);
  for (const k of sdkKeys(scraped)) {
    const [p, sc] = [pushed.get(k), scraped.get(k)];
    // Delta sums are added up export by export, the scraped sum observation by observation: the
    // same numbers in another order, which may round apart in the last bit. Counts stay exact.
    if (temporality === 'delta' && /_sum\{/.test(k))
      assert.ok(Math.abs(Number(p) - Number(sc)) <= 1e-12 * Math.abs(Number(sc)), `${k}: scraped ${sc}, pushed ${p}`);
    else assert.equal(p, sc, `${k}: scraped ${sc}, pushed ${p}`);
  }
  for (const k of [
    'http_server_request_duration_seconds_count{method="GET",route="/orders/:id",service="shop",status_code="200"}',
    'function_duration_seconds_bucket{function="load_order",le="+Inf",outcome="success",service="shop"}',
    'database_connection_acquire_duration_seconds_count{pool="main",service="shop"}',
    'business_order_placed_total{plan="pro",service="shop"}',
    'queue_depth{service="shop"}',
  ])
    assert.ok(scraped.has(k), `${k} in ${sdkKeys(scraped).join('\n')}`);
  assert.equal(scraped.get('database_connection_acquire_duration_seconds_count{pool="main",service="shop"}'), '25');
  // The resource's other attributes are on target_info, as for any OTLP sender.
  const [info] = await instant(shop.v.url, 'target_info{job="shop"}');
  assert.equal(info?.metric['service_version'], '1.2.3');
}

test('an SDK service exporting cumulative OTLP metrics stores the series a scrape of it stores, value for value', { timeout: 120_000 }, (t) =>
  compare(t, 'cumulative'),
);

test('with delta temporality the exports add up to the scraped totals', { timeout: 120_000 }, (t) => compare(t, 'delta'));

/** Whether the server stores an OTLP exponential histogram point (rather than refusing it in partial_success). */
async function takesExponential(): Promise<boolean> {
  const { dir, cleanup } = tempDir('vigil-exp-probe-');
  const v = await spawnVigil(path.join(dir, 'data'), await freePort());
  try {
    const nowNs = `${Date.now()}000000`;
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'probe' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'probe_seconds',
                  unit: 's',
                  exponentialHistogram: {
                    aggregationTemporality: 2,
                    dataPoints: [{ timeUnixNano: nowNs, count: '1', sum: 1, scale: 0, zeroCount: '0', positive: { offset: 0, bucketCounts: ['1'] } }],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${v.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json()) as { partialSuccess?: { rejectedDataPoints?: string } };
    return res.status === 200 && Number(answer.partialSuccess?.rejectedDataPoints ?? 0) === 0;
  } finally {
    v.proc.kill('SIGKILL');
    cleanup();
  }
}

const exponentialSkip = (await takesExponential())
  ? false
  : 'the server refuses OTLP exponential histograms in partial_success (native-histogram ingest is not merged yet); runs once it stores them';

test(
  "latencyHistograms: 'exponential' sends the latency histograms as native histograms that agree with the scraped ones",
  { timeout: 120_000, skip: exponentialSkip },
  async (t) => {
    const shop = await startShop(t, { latencyHistograms: 'exponential' });
    await shop.traffic(25);
    await settle(shop);
    const scraped = await seriesOf(shop.v.url, 'scraped');
    const pushed = await seriesOf(shop.v.url, 'shop');
    for (const name of ['http_server_request_duration_seconds', 'function_duration_seconds', 'database_connection_acquire_duration_seconds']) {
      const native = [...pushed].filter(([k]) => k.startsWith(`${name}{`));
      assert.ok(native.length > 0, `${name} arrives as a native histogram`);
      assert.ok(![...pushed.keys()].some((k) => k.startsWith(`${name}_bucket{`)), `${name} has no classic buckets`);
      for (const [k, countSum] of native) {
        const labels = k.slice(name.length);
        const [count, sum] = countSum.split('/').map(Number) as [number, number];
        assert.equal(count, Number(scraped.get(`${name}_count${labels}`)), `${k} count`);
        assert.ok(Math.abs(sum - Number(scraped.get(`${name}_sum${labels}`))) < 1e-9, `${k} sum`);
      }
    }
    // Size histograms keep their buckets.
    assert.ok([...pushed.keys()].some((k) => k.startsWith('http_server_response_body_size_bytes_bucket{')));
    // Native buckets are finer than the classic ones: the median of the 2 ms requests is below 10 ms.
    const [p50] = await instant(shop.v.url, 'histogram_quantile(0.5, sum(http_server_request_duration_seconds{job="shop",status_code="200"}))');
    assert.ok(p50 && Number(p50.value![1]) > 0.001 && Number(p50.value![1]) < 0.01, JSON.stringify(p50));
  },
);
