// http_sd_configs and dns_sd_configs against real servers: a local HTTP server whose answer changes
// over time, and Debian's dnsmasq with SRV and A records from a config the test writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../testkit/helpers.js';
import { startDnsmasq } from '../../testkit/dnsmasq.js';
import { parseGlobalConfig, parseScrapeConfigs, type ScrapeConfig, type TargetGroup } from './config.js';
import { DnsDiscoverer, HttpDiscoverer } from './sd_refresh.js';

function job(raw: Record<string, unknown>, dnsServers: string[] = []): ScrapeConfig {
  return parseScrapeConfigs([{ job_name: 'sd', ...raw }], parseGlobalConfig(undefined), process.cwd(), { dnsServers })[0]!;
}

function targets(groups: readonly TargetGroup[] | undefined): Array<Record<string, string>> {
  return (groups ?? []).flatMap((g) => g.targets.map((t) => ({ ...g.labels, ...t })));
}

function quietLogger(errors: string[] = []): { debug(): void; info(): void; warn(): void; error(m: string): void; child(): unknown } {
  const l = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m), child: () => l };
  return l;
}

test('http_sd follows an endpoint whose targets change, sends auth and the refresh header, and keeps the last good targets on errors', async () => {
  let answer: { status: number; type: string; body: string } = {
    status: 200,
    type: 'application/json',
    body: JSON.stringify([{ targets: ['a:9100', 'b:9100'], labels: { env: 'prod' } }]),
  };
  const seen: Array<{ auth: string | undefined; refresh: string | undefined }> = [];
  const srv = http.createServer((req, res) => {
    seen.push({ auth: req.headers.authorization, refresh: req.headers['x-prometheus-refresh-interval-seconds'] as string | undefined });
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/targets`;
  const cfg = job({ http_sd_configs: [{ url, refresh_interval: '150ms', basic_auth: { username: 'sd', password: 's3cret' } }] });
  const d = new HttpDiscoverer(cfg.httpSdConfigs[0]!, { logger: quietLogger() as never });
  const updates: Array<readonly TargetGroup[]> = [];
  try {
    d.start((g) => updates.push(g));
    await waitFor('first targets', async () => (updates.length > 0 ? true : undefined), 5000, 20);
    assert.deepEqual(targets(updates.at(-1)), [
      { env: 'prod', __meta_url: url, __address__: 'a:9100' },
      { env: 'prod', __meta_url: url, __address__: 'b:9100' },
    ]);
    assert.equal(seen[0]!.auth, `Basic ${Buffer.from('sd:s3cret').toString('base64')}`);
    assert.equal(seen[0]!.refresh, '0.15');

    // The endpoint changes its answer: the timer picks it up without anyone calling refresh().
    answer = { ...answer, body: JSON.stringify([{ targets: ['c:9100'] }]) };
    await waitFor('changed targets', async () => (targets(updates.at(-1))[0]?.['__address__'] === 'c:9100' ? true : undefined), 5000, 20);
    assert.deepEqual(targets(updates.at(-1)), [{ __meta_url: url, __address__: 'c:9100' }]);

    // Each kind of failure keeps the last good targets and counts as a failure.
    const before = updates.length;
    for (const bad of [
      { status: 500, type: 'application/json', body: '[]' },
      { status: 200, type: 'text/plain', body: '[]' },
      { status: 200, type: 'application/json', body: '[{"targets": [' },
      { status: 200, type: 'application/json', body: '[{"targets": ["x:1"], "labels": {"bad-name": "v"}}]' },
    ]) {
      answer = bad;
      const failures = d.failures;
      await waitFor('a failed refresh', async () => (d.failures > failures ? true : undefined), 5000, 20);
    }
    assert.equal(updates.length, before, 'no update was sent while the endpoint failed');

    // A charset is allowed, and an empty list empties the job.
    answer = { status: 200, type: 'application/json; charset=utf-8', body: '[]' };
    await waitFor('empty targets', async () => (updates.length > before ? true : undefined), 5000, 20);
    assert.deepEqual(targets(updates.at(-1)), []);
  } finally {
    d.stop();
    srv.close();
  }
});

test('http_sd and dns_sd configs are validated as Prometheus validates them', () => {
  const bad = (raw: Record<string, unknown>, want: RegExp): void => assert.throws(() => job(raw), want);
  bad({ http_sd_configs: [{ refresh_interval: '1m' }] }, /http_sd_configs\[0\]\.url: URL is missing/);
  bad({ http_sd_configs: [{ url: 'ftp://x/targets' }] }, /URL scheme must be 'http' or 'https'/);
  bad({ http_sd_configs: [{ url: 'http://x/', refresh_interval: '0s' }] }, /refresh_interval must be greater than 0/);
  bad({ http_sd_configs: [{ url: 'http://x/', unknown: 1 }] }, /field unknown not found/);
  bad({ dns_sd_configs: [{ names: [] }] }, /dns_sd_configs\[0\]\.names: DNS-SD config must contain at least one/);
  bad({ dns_sd_configs: [{ names: ['a.test'], type: 'A' }] }, /dns_sd_configs\[0\]\.port: a port is required/);
  bad({ dns_sd_configs: [{ names: ['a.test'], type: 'TXT', port: 80 }] }, /invalid DNS-SD records type "TXT"/);
  const h = job({ http_sd_configs: [{ url: 'https://sd.example/targets', bearer_token: 't' }] }).httpSdConfigs[0]!;
  assert.equal(h.refreshIntervalMs, 60_000);
  assert.deepEqual(h.authorization, { type: 'Bearer', credentials: 't' });
  const dd = job({ dns_sd_configs: [{ names: ['_x._tcp.test'] }] }, ['127.0.0.1:5353']).dnsSdConfigs[0]!;
  assert.deepEqual(dd, { names: ['_x._tcp.test'], type: 'SRV', port: 0, refreshIntervalMs: 30_000, servers: ['127.0.0.1:5353'] });
  // The error for the discoveries Vigil lacks now names the ones it has.
  bad(
    { consul_sd_configs: [{}] },
    /not supported by Vigil: consul_sd_configs \(job "sd"\); use static_configs, file_sd_configs, http_sd_configs or dns_sd_configs/,
  );
});

test('dns_sd asks a real DNS server for SRV and A records, labels them as Prometheus does, follows changes and survives an outage', async () => {
  const dnsmasq = await startDnsmasq({
    srv: { '_metrics._tcp.vigil.test': ['node1.vigil.test:9100', 'node2.vigil.test:9200'] },
    hosts: ['127.0.0.1 web.vigil.test'],
    localDomain: 'vigil.test',
  });
  const errors: string[] = [];
  const srvCfg = job({ dns_sd_configs: [{ names: ['_metrics._tcp.vigil.test'], refresh_interval: '1h' }] }, [dnsmasq.server]).dnsSdConfigs[0]!;
  const aCfg = job({ dns_sd_configs: [{ names: ['web.vigil.test', 'gone.vigil.test'], type: 'A', port: 8080, refresh_interval: '1h' }] }, [dnsmasq.server])
    .dnsSdConfigs[0]!;
  const srvD = new DnsDiscoverer(srvCfg, { logger: quietLogger(errors) as never });
  const aD = new DnsDiscoverer(aCfg, { logger: quietLogger(errors) as never });
  let srvGroups: readonly TargetGroup[] | undefined;
  let aGroups: readonly TargetGroup[] | undefined;
  try {
    srvD.start((g) => (srvGroups = g));
    aD.start((g) => (aGroups = g));
    await srvD.refresh();
    await aD.refresh();
    assert.deepEqual(targets(srvGroups), [
      {
        __address__: 'node1.vigil.test:9100',
        __meta_dns_name: '_metrics._tcp.vigil.test',
        __meta_dns_srv_record_target: 'node1.vigil.test.',
        __meta_dns_srv_record_port: '9100',
      },
      {
        __address__: 'node2.vigil.test:9200',
        __meta_dns_name: '_metrics._tcp.vigil.test',
        __meta_dns_srv_record_target: 'node2.vigil.test.',
        __meta_dns_srv_record_port: '9200',
      },
    ]);
    // A name without records (NXDOMAIN) simply has no targets; it is not an error.
    assert.deepEqual(targets(aGroups), [{ __address__: '127.0.0.1:8080', __meta_dns_name: 'web.vigil.test' }]);
    assert.equal(aD.failures, 0, errors.join('\n'));

    // The records change: the next refresh follows them.
    await dnsmasq.setHosts(['127.0.0.1 web.vigil.test', '127.0.0.2 web.vigil.test'], { name: 'web.vigil.test', expect: ['127.0.0.1', '127.0.0.2'] });
    await aD.refresh();
    assert.deepEqual(
      targets(aGroups).map((t) => t['__address__']),
      ['127.0.0.1:8080', '127.0.0.2:8080'],
    );

    // The DNS server goes away: lookups fail and the last good targets stay.
    await dnsmasq.stop();
    await srvD.refresh();
    assert.equal(srvD.failures, 1);
    assert.equal(targets(srvGroups).length, 2);
    assert.match(errors.join('\n'), /keeping the last good targets/);
  } finally {
    srvD.stop();
    aD.stop();
    await dnsmasq.stop();
  }
});
