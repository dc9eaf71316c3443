// Vigil and a real Prometheus 2.42 scrape the same targets with the same scrape_configs section:
// the series they store must have the same names and labels, and the metadata the same types.
// Targets: Debian's node exporter, and a service instrumented with prom-client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { parse } from 'yaml';
import { parseScrapeConfigs } from './config.js';
import { freePort, getJson, peerBinary, startServer, tempDir, waitFor } from '../../testkit/helpers.js';

const children: ChildProcess[] = [];
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c();
});

let exporterPort = 0;
let appPort = 0;
before(async () => {
  exporterPort = await freePort();
  children.push(
    spawn(peerBinary('prometheus-node-exporter', 'prometheus-node-exporter'), [`--web.listen-address=127.0.0.1:${exporterPort}`], { stdio: 'ignore' }),
  );
  // A service instrumented with prom-client, as the SDK and most Node services are.
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({ name: 'shop_http_requests_total', help: 'Requests.', labelNames: ['route', 'code'], registers: [registry] });
  const latency = new client.Histogram({ name: 'shop_http_request_duration_seconds', help: 'Latency.', labelNames: ['route'], registers: [registry] });
  const pool = new client.Gauge({ name: 'shop_db_pool_connections', help: 'Pool connections.', labelNames: ['state'], registers: [registry] });
  const summary = new client.Summary({ name: 'shop_payment_amount', help: 'Payment amounts.', percentiles: [0.5, 0.9], registers: [registry] });
  requests.inc({ route: '/cart', code: '200' }, 3);
  requests.inc({ route: '/checkout', code: '500' });
  latency.observe({ route: '/cart' }, 0.12);
  pool.set({ state: 'active' }, 7);
  summary.observe(19.99);
  const app = http.createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  cleanups.push(() => new Promise<void>((r) => app.close(() => r())));
});

test('the same scrape_configs give the same series in Vigil and in Prometheus 2.42', { timeout: 90_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-compat-');
  cleanups.push(cleanup);
  const scrapeSection = `scrape_configs:
  - job_name: node
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:${exporterPort}']
        labels: { env: test }
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'node_(cpu|memory|filesystem|network|load|boot|time|uname).*'
        action: keep
  - job_name: shop
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:${appPort}']
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):.*'
        target_label: host
`;
  const promPort = await freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n${scrapeSection}`);
  children.push(
    spawn(
      peerBinary('prometheus', 'prometheus'),
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      { stdio: 'ignore' },
    ),
  );
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.scrapeConfigs = parseScrapeConfigs((parse(scrapeSection) as { scrape_configs: unknown }).scrape_configs, c.global, dir);
  });
  cleanups.push(() => vigil.stop());
  const prom = `http://127.0.0.1:${promPort}`;

  const seriesOf = async (base: string, job: string): Promise<string[]> => {
    const end = Math.floor(Date.now() / 1000);
    const r = await getJson(`${base}/api/v1/series?match[]=${encodeURIComponent(`{job="${job}"}`)}&start=${end - 3}&end=${end}`);
    // Values change between scrapes; names and labels must not. Prometheus 3 (which Vigil follows)
    // writes bucket bounds and quantiles as floats (le="1.0"); 2.42 kept the text as scraped (le="1").
    return (r.body.data as Array<Record<string, string>>)
      .map((s) =>
        JSON.stringify(
          Object.entries(s)
            .map(([k, v]) => [k, k === 'le' || k === 'quantile' ? String(Number(v)) : v])
            .sort(),
        ),
      )
      .sort();
  };
  for (const job of ['node', 'shop']) {
    const both = await waitFor(
      `both servers to hold the ${job} series`,
      async () => {
        const [a, b] = await Promise.all([seriesOf(vigil.url, job), seriesOf(prom, job)]);
        return a.length > 20 && a.length === b.length && a.every((x, i) => x === b[i]) ? a : undefined;
      },
      45_000,
      1000,
    ).catch(async (err: Error) => {
      const [a, b] = await Promise.all([seriesOf(vigil.url, job), seriesOf(prom, job)]);
      const onlyVigil = a.filter((x) => !b.includes(x)).slice(0, 5);
      const onlyProm = b.filter((x) => !a.includes(x)).slice(0, 5);
      throw new Error(`${err.message}\nonly in Vigil: ${onlyVigil.join('\n')}\nonly in Prometheus: ${onlyProm.join('\n')}`);
    });
    assert.ok(both.length > 20);
  }
  // Types from # TYPE lines agree too.
  const md = async (base: string): Promise<Record<string, Array<{ type: string }>>> =>
    (await getJson(`${base}/api/v1/metadata`)).body.data as Record<string, Array<{ type: string }>>;
  const [ours, theirs] = await Promise.all([md(vigil.url), md(prom)]);
  for (const name of [
    'shop_http_requests_total',
    'shop_http_request_duration_seconds',
    'shop_db_pool_connections',
    'shop_payment_amount',
    'node_cpu_seconds_total',
  ]) {
    assert.ok(theirs[name]?.[0], `Prometheus has metadata for ${name}`);
    assert.equal(ours[name]?.[0]?.type, theirs[name]![0]!.type, `type of ${name}`);
  }
});
