// The SDK's exemplars as real scrapers collect them: a service instrumented with @vigil/sdk sends its
// traces to a `vigil start` process that scrapes its /metrics, and Debian's Prometheus 2.42 (exemplar
// storage on) scrapes it too. Both ask for OpenMetrics, and both answer /api/v1/query_exemplars with
// the service's trace ids on its latency buckets; in Vigil each one opens a stored trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as path from 'node:path';
import { createVigil, captureLogs } from '@vigil/sdk';
import { freePort, getJson, peerBinary, spawnVigil, tempDir, waitFor } from '../../testkit/helpers.js';

interface ApiSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

const QUERY = 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{route="/checkout"}[1m])))';

/** Every exemplar of the answer, with the bucket it sits on. */
function flatten(data: ApiSeries[]): Array<{ le: string; traceId: string; spanId: string; value: number; ts: number }> {
  return data.flatMap((s) =>
    s.exemplars.map((e) => ({
      le: s.seriesLabels['le']!,
      traceId: e.labels['trace_id']!,
      spanId: e.labels['span_id']!,
      value: Number(e.value),
      ts: e.timestamp,
    })),
  );
}

test('an SDK service scraped by vigil start and by Prometheus 2.42: its latency buckets carry its trace ids', { timeout: 150_000 }, async (t) => {
  const { dir, cleanup } = tempDir('vigil-sdk-ex-');
  const stops: Array<() => Promise<void> | void> = [cleanup];
  t.after(async () => {
    for (const s of stops.reverse()) await s();
  });
  const appPort = await freePort();
  const vigilPort = await freePort();
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    cfg,
    `self_scrape: false
scrape_configs:
  - job_name: shop
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:${appPort}']
`,
  );
  const v = await spawnVigil(path.join(dir, 'data'), vigilPort, ['--config', cfg]);
  stops.push(() => {
    v.proc.kill('SIGKILL');
  });

  // The service: /checkout takes 30 ms, or 300 ms for every third request; the scrapers' Accept headers are kept.
  const sdk = createVigil({
    service: 'shop',
    defaultMetrics: false,
    logDestination: captureLogs(),
    traces: { endpoint: `${v.url}/v1/traces`, exportIntervalMs: 200 },
  });
  const accepts = new Map<string, string>();
  const metrics = sdk.metricsHandler();
  let n = 0;
  const srv = createServer(
    sdk.httpMiddleware(
      (req, res) => {
        if (req.url === '/metrics') {
          accepts.set(String(req.headers['user-agent']).split('/')[0]!, String(req.headers['accept']));
          return metrics(req, res);
        }
        setTimeout(() => res.end('ok'), ++n % 3 === 0 || req.headers['x-slow'] ? 300 : 30);
      },
      { routes: ['/checkout', '/metrics'] },
    ),
  );
  await new Promise<void>((r) => srv.listen(appPort, '127.0.0.1', r));
  stops.push(async () => {
    await new Promise((r) => srv.close(r));
    srv.closeAllConnections();
    await sdk.shutdown(1000);
  });
  let traffic = true;
  const served: Promise<void> = (async () => {
    while (traffic) {
      await fetch(`http://127.0.0.1:${appPort}/checkout`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const stopTraffic = async (): Promise<void> => {
    traffic = false;
    await served;
  };
  stops.push(stopTraffic);

  // Prometheus 2.x keeps exemplars only with its exemplar storage turned on.
  const promPort = await freePort();
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:${appPort}']\n`,
  );
  const prom: ChildProcess = spawn(
    peerBinary('prometheus', 'prometheus'),
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'prom')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--enable-feature=exemplar-storage',
    ],
    { stdio: 'ignore' },
  );
  stops.push(() => {
    prom.kill('SIGKILL');
  });

  const exemplarsAt = (base: string, what: string) =>
    waitFor(
      what,
      async () => {
        const r = await getJson(
          `${base}/api/v1/query_exemplars?query=${encodeURIComponent(QUERY)}&start=${Date.now() / 1000 - 300}&end=${Date.now() / 1000}`,
        ).catch(() => undefined);
        const all = r?.body.status === 'success' ? flatten(r.body.data as ApiSeries[]) : [];
        // Both the fast bucket (0.05) and the slow one (0.5), each scraped more than once.
        return all.filter((e) => e.le === '0.05').length >= 2 && all.filter((e) => e.le === '0.5').length >= 2 ? all : undefined;
      },
      90_000,
      1000,
    );

  await t.test('vigil start asks for OpenMetrics, stores the exemplars, and each opens a stored trace', async () => {
    const ours = await exemplarsAt(v.url, `exemplars in Vigil (${v.stderr().slice(-300)})`);
    assert.match(accepts.get('Vigil') ?? '', /^application\/openmetrics-text/, `Vigil's Accept: ${accepts.get('Vigil')}`);
    for (const e of ours) {
      assert.match(e.traceId, /^[0-9a-f]{32}$/);
      assert.match(e.spanId, /^[0-9a-f]{16}$/);
      // An exemplar sits in the bucket its value counts in: (previous bound, le].
      if (e.le === '0.05') assert.ok(e.value > 0.025 && e.value <= 0.05, `${e.value} in le=0.05`);
      if (e.le === '0.5') assert.ok(e.value > 0.25 && e.value <= 0.5, `${e.value} in le=0.5`);
      assert.ok(Math.abs(e.ts - Date.now() / 1000) < 300, `timestamp in seconds: ${e.ts}`);
    }
    // The newest slow exemplar's trace is in Vigil, its server span the exemplar's span.
    const slow = ours.filter((e) => e.le === '0.5').sort((a, b) => b.ts - a.ts)[0]!;
    const tr = await waitFor(
      'the exemplar trace in Vigil',
      async () => {
        const r = await getJson(`${v.url}/api/v2/traces/${slow.traceId}`);
        return r.status === 200 ? r.body : undefined;
      },
      20_000,
      250,
    );
    const spans = (
      tr as unknown as { trace: { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string; name: string }> }> }> } }
    ).trace.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    const span = spans.find((s) => Buffer.from(s.spanId, 'base64').toString('hex') === slow.spanId || s.spanId === slow.spanId);
    assert.equal(span?.name, 'GET /checkout', `the exemplar's span among ${JSON.stringify(spans.map((s) => [s.name, s.spanId]))}`);
  });

  await t.test('Prometheus 2.42 with exemplar-storage sees the same kind of exemplars', async () => {
    const theirs = await exemplarsAt(`http://127.0.0.1:${promPort}`, 'exemplars in Prometheus');
    assert.match(accepts.get('Prometheus') ?? '', /application\/openmetrics-text/, `Prometheus' Accept: ${accepts.get('Prometheus')}`);
    for (const e of theirs) {
      assert.match(e.traceId, /^[0-9a-f]{32}$/);
      assert.match(e.spanId, /^[0-9a-f]{16}$/);
    }
    // With the traffic stopped, one slow checkout in a trace of our choosing (its traceparent says
    // sampled) stays its bucket's exemplar: both scrapers store exactly that trace id and its span.
    await stopTraffic();
    const traceId = '5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5';
    await fetch(`http://127.0.0.1:${appPort}/checkout`, { headers: { traceparent: `00-${traceId}-1a2b3c4d5e6f7081-01`, 'x-slow': '1' } }).then((r) => r.text());
    const has = (base: string) => async () => {
      const r = await getJson(`${base}/api/v1/query_exemplars?query=${encodeURIComponent(QUERY)}&start=${Date.now() / 1000 - 300}&end=${Date.now() / 1000}`);
      return flatten(r.body.data as ApiSeries[]).find((e) => e.traceId === traceId);
    };
    const inVigil = await waitFor('the chosen trace in Vigil', has(v.url), 20_000, 500);
    const inProm = await waitFor('the chosen trace in Prometheus', has(`http://127.0.0.1:${promPort}`), 20_000, 500);
    for (const e of [inVigil, inProm]) {
      assert.equal(e.le, '0.5');
      assert.ok(e.value > 0.25 && e.value <= 0.5);
    }
    assert.deepEqual(inVigil, inProm, 'the same exemplar: span, value and timestamp');
  });
});
