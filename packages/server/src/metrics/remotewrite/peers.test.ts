// Compatibility with real senders: Debian's Prometheus and vmagent remote_write to Vigil.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, getJson, peerBinary, startServer, tempDir, waitFor } from '../../testkit/helpers.js';

let vigil: Awaited<ReturnType<typeof startServer>>;
const children: ChildProcess[] = [];
const cleanups: Array<() => void> = [];

before(async () => {
  vigil = await startServer();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of cleanups) c();
  await vigil.stop();
});

function launch(bin: string, args: string[]): ChildProcess {
  const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  p.on('exit', (code) => {
    if (code && code !== 0) console.error(`${path.basename(bin)} exited ${code}:\n${log}`);
  });
  children.push(p);
  return p;
}

async function vigilSeries(match: string): Promise<Array<Record<string, string>>> {
  const r = await getJson(`${vigil.url}/api/v1/series?match[]=${encodeURIComponent(match)}`);
  return r.body.data as Array<Record<string, string>>;
}

test('Prometheus 2.x remote_write lands in Vigil, series for series', { timeout: 90_000 }, async () => {
  const bin = peerBinary('prometheus', 'prometheus');
  const { dir, cleanup } = tempDir('vigil-prom-');
  cleanups.push(cleanup);
  const port = await freePort();
  const config = `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${port}']
remote_write:
  - url: ${vigil.url}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
    metadata_config:
      send_interval: 2s
`;
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  launch(bin, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`]);
  const ours = await waitFor(
    'Prometheus samples in Vigil',
    async () => {
      const s = await vigilSeries('{job="prometheus",__name__=~"prometheus_build_info|up"}');
      return s.length >= 2 ? s : undefined;
    },
    60_000,
    500,
  );
  assert.ok(ours.some((s) => s['__name__'] === 'up' && s['instance'] === `127.0.0.1:${port}`));
  // Every series Prometheus stored from its scrapes up to a few seconds ago reached Vigil too.
  const want = await waitFor(
    'Prometheus to store its own series',
    async () => {
      const end = Math.floor(Date.now() / 1000) - 3;
      const theirs = await getJson(`http://127.0.0.1:${port}/api/v1/series?match[]=${encodeURIComponent('{job="prometheus"}')}&start=${end - 60}&end=${end}`);
      const list = (theirs.body.data as Array<Record<string, string>>).map((s) => JSON.stringify(s));
      return list.length > 100 ? list : undefined;
    },
    30_000,
    1000,
  );
  await waitFor(
    'all of Prometheus series in Vigil',
    async () => {
      const have = new Set((await vigilSeries('{job="prometheus"}')).map((s) => JSON.stringify(s)));
      const missing = want.filter((w) => !have.has(w));
      return missing.length === 0 ? true : undefined;
    },
    30_000,
    1000,
  );
  const md = await getJson(`${vigil.url}/api/v1/metadata?metric=prometheus_build_info`);
  await waitFor(
    'metadata from Prometheus',
    async () => {
      const r = await getJson(`${vigil.url}/api/v1/metadata?metric=up`);
      return Object.keys(r.body.data as object).length > 0 || Object.keys(md.body.data as object).length > 0 ? true : undefined;
    },
    20_000,
    500,
  );
});

test('vmagent remote_write lands in Vigil', { timeout: 90_000 }, async () => {
  const bin = peerBinary('vmagent', 'victoria-metrics');
  const { dir, cleanup } = tempDir('vigil-vmagent-');
  cleanups.push(cleanup);
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'scrape.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vmagent\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
  );
  launch(bin, [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-promscrape.config=${path.join(dir, 'scrape.yml')}`,
    `-remoteWrite.url=${vigil.url}/api/v1/write`,
    `-remoteWrite.tmpDataPath=${path.join(dir, 'queue')}`,
    '-remoteWrite.flushInterval=500ms',
  ]);
  const got = await waitFor(
    'vmagent samples in Vigil',
    async () => {
      const s = await vigilSeries('{job="vmagent"}');
      return s.length > 50 ? s : undefined;
    },
    60_000,
    500,
  );
  assert.ok(got.some((s) => s['__name__'] === 'up'));
  assert.ok(got.some((s) => s['__name__']?.startsWith('vm_')));
});
