// A vigil.yml with http_sd_configs and dns_sd_configs (and `discovery.dns_servers` pointing at a real
// dnsmasq): the discovered targets show on /api/v1/targets with their meta labels and are scraped,
// and their jobs on /api/v1/scrape_pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { getJson, startServer, waitFor } from '../../testkit/helpers.js';
import { startDnsmasq } from '../../testkit/dnsmasq.js';
import { parseConfig } from '../config/config.js';
import type { ActiveTargetJson } from './targets.js';

async function listen(handler: http.RequestListener): Promise<{ srv: http.Server; port: number }> {
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, port: (srv.address() as AddressInfo).port };
}

test('targets from http_sd_configs and dns_sd_configs appear on /api/v1/targets with their meta labels and get scraped', async () => {
  const exporter = await listen((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`demo_requests_total{path="${req.url}"} 7\n`);
  });
  const p = exporter.port;
  let sdTargets = [{ targets: [`127.0.0.1:${p}`], labels: { team: 'checkout' } }];
  let sdBroken = false;
  const sd = await listen((_req, res) => {
    if (sdBroken) return void res.writeHead(500).end('down for maintenance');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(sdTargets));
  });
  const dnsmasq = await startDnsmasq({
    srv: { '_metrics._tcp.vigil.test': [`localhost:${p}`] },
    hosts: ['127.0.0.1 web.vigil.test'],
    localDomain: 'vigil.test',
  });
  const sdUrl = `http://127.0.0.1:${sd.port}/sd`;
  const yml = `
discovery:
  dns_servers: ['${dnsmasq.server}']
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: from-http
    http_sd_configs:
      - url: ${sdUrl}
        refresh_interval: 200ms
  - job_name: from-srv
    dns_sd_configs:
      - names: [_metrics._tcp.vigil.test]
  - job_name: from-a
    metrics_path: /a
    dns_sd_configs:
      - names: [web.vigil.test]
        type: A
        port: ${p}
`;
  const parsed = parseConfig(yml, path.join(process.cwd(), 'vigil.yml'));
  assert.deepEqual(parsed.discovery.dnsServers, [dnsmasq.server]);
  const { url, stop } = await startServer((c) => {
    c.scrapeConfigs = parsed.scrapeConfigs;
    c.global = parsed.global;
    c.discovery = parsed.discovery;
    c.selfScrape = false;
  });
  try {
    const active = (): Promise<ActiveTargetJson[]> =>
      getJson(`${url}/api/v1/targets?state=active`).then((r) => (r.body.data as { activeTargets: ActiveTargetJson[] }).activeTargets);
    const all = await waitFor(
      'three discovered targets to be scraped',
      async () => {
        const ts = await active();
        return ts.length === 3 && ts.every((t) => t.health === 'up') ? ts : undefined;
      },
      20_000,
      200,
    );
    const byPool = Object.fromEntries(all.map((t) => [t.scrapePool, t]));
    assert.equal(byPool['from-http']!.discoveredLabels['__meta_url'], sdUrl);
    assert.equal(byPool['from-http']!.labels['team'], 'checkout');
    assert.deepEqual(Object.fromEntries(Object.entries(byPool['from-srv']!.discoveredLabels).filter(([k]) => k.startsWith('__meta_'))), {
      __meta_dns_name: '_metrics._tcp.vigil.test',
      __meta_dns_srv_record_port: String(p),
      __meta_dns_srv_record_target: 'localhost.',
    });
    assert.equal(byPool['from-srv']!.scrapeUrl, `http://localhost:${p}/metrics`);
    assert.equal(byPool['from-a']!.discoveredLabels['__meta_dns_name'], 'web.vigil.test');
    assert.equal(byPool['from-a']!.scrapeUrl, `http://127.0.0.1:${p}/a`);

    // Prometheus' list of pools, exactly as it answers it.
    const pools = await fetch(`${url}/api/v1/scrape_pools`);
    assert.equal(pools.status, 200);
    assert.deepEqual(await pools.json(), { status: 'success', data: { scrapePools: ['from-a', 'from-http', 'from-srv'] } });

    // The scraped samples are queryable, one series per job.
    const q = await getJson(`${url}/api/v1/query?query=${encodeURIComponent('count by (job) (demo_requests_total)')}`);
    const jobs = (q.body.data as { result: Array<{ metric: { job: string } }> }).result.map((r) => r.metric.job).sort();
    assert.deepEqual(jobs, ['from-a', 'from-http', 'from-srv']);

    // The HTTP SD endpoint fails: the failures are counted on /metrics and the target stays.
    sdBroken = true;
    const failures = (): Promise<number> =>
      fetch(`${url}/metrics`)
        .then((r) => r.text())
        .then((t) => Number(/^vigil_sd_http_failures_total (\S+)$/m.exec(t)?.[1] ?? NaN));
    await waitFor('http_sd failures on /metrics', async () => ((await failures()) >= 2 ? true : undefined), 10_000, 100);
    assert.ok(
      (await active()).some((t) => t.scrapePool === 'from-http'),
      'the last good target stays while the endpoint fails',
    );
    sdBroken = false;

    // The HTTP SD endpoint drops its target: the job's target goes away.
    sdTargets = [];
    await waitFor('the http_sd target to go', async () => ((await active()).some((t) => t.scrapePool === 'from-http') ? undefined : true), 10_000, 100);
  } finally {
    await stop();
    await dnsmasq.stop();
    exporter.srv.close();
    sd.srv.close();
  }
});
