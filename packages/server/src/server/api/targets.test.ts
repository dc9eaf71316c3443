import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_GLOBAL, parseScrapeConfigs } from '../../metrics/scrape/config.js';
import { ScrapeManager } from '../../metrics/scrape/manager.js';
import { serve } from '../../testkit/scrape.js';
import { Head } from '../../metrics/tsdb/head.js';
import { nopLogger } from '../../core/util/log.js';
import { Router } from './http.js';
import { registerTargetsApi } from './targets.js';

let api: string;
let target: Awaited<ReturnType<typeof serve>>;
let down: string;
let manager: ScrapeManager;
let server: http.Server;

before(async () => {
  target = await serve((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/plain' }).end('# HELP up_total Ups.\n# TYPE up_total counter\nup_total 1\n# TYPE temp gauge\ntemp 2\n'),
  );
  down = '127.0.0.1:1';
  manager = new ScrapeManager(new Head(), { now: () => 1_700_000_000_000 });
  manager.applyConfig(
    parseScrapeConfigs(
      [
        {
          job_name: 'web',
          scrape_interval: '15s',
          static_configs: [{ targets: [target.host, down, 'drop.me:9'], labels: { env: 'prod' } }],
          relabel_configs: [{ source_labels: ['__address__'], regex: 'drop.*', action: 'drop' }],
        },
      ],
      DEFAULT_GLOBAL,
      '/',
    ),
  );
  await manager.scrapeNow();
  const router = new Router(nopLogger);
  registerTargetsApi(router, manager);
  server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await manager.stop();
  await target.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function get(path: string): Promise<{ status: number; body: { status: string; data: unknown; error?: string } }> {
  const res = await fetch(api + path);
  return { status: res.status, body: (await res.json()) as { status: string; data: unknown } };
}

test('/api/v1/targets has Prometheus JSON shape with health, errors and dropped targets', async () => {
  const r = await get('/api/v1/targets');
  assert.equal(r.status, 200);
  const data = r.body.data as { activeTargets: Array<Record<string, unknown>>; droppedTargets: unknown[]; droppedTargetCounts: Record<string, number> };
  assert.equal(data.activeTargets.length, 2);
  const up = data.activeTargets.find((t) => t['health'] === 'up')!;
  assert.deepEqual(Object.keys(up).sort(), [
    'discoveredLabels',
    'globalUrl',
    'health',
    'labels',
    'lastError',
    'lastScrape',
    'lastScrapeDuration',
    'scrapeInterval',
    'scrapePool',
    'scrapeTimeout',
    'scrapeUrl',
  ]);
  assert.deepEqual(up['labels'], { env: 'prod', instance: target.host, job: 'web' });
  assert.equal((up['discoveredLabels'] as Record<string, string>)['__address__'], target.host);
  assert.equal(up['scrapePool'], 'web');
  assert.equal(up['scrapeUrl'], `http://${target.host}/metrics`);
  assert.equal(up['lastError'], '');
  assert.equal(up['lastScrape'], '2023-11-14T22:13:20.000Z');
  assert.equal(typeof up['lastScrapeDuration'], 'number');
  assert.equal(up['scrapeInterval'], '15s');
  assert.equal(up['scrapeTimeout'], '10s');
  const dn = data.activeTargets.find((t) => t['health'] === 'down')!;
  assert.match(String(dn['lastError']), /connect/);
  assert.deepEqual(data.droppedTargets, [
    {
      discoveredLabels: {
        __address__: 'drop.me:9',
        __metrics_path__: '/metrics',
        __scheme__: 'http',
        __scrape_interval__: '15s',
        __scrape_timeout__: '10s',
        env: 'prod',
        job: 'web',
      },
    },
  ]);
  assert.deepEqual(data.droppedTargetCounts, { web: 1 });
});

test('state=active and state=dropped filter', async () => {
  const a = (await get('/api/v1/targets?state=active')).body.data as { activeTargets: unknown[]; droppedTargets: unknown[] };
  assert.equal(a.activeTargets.length, 2);
  assert.equal(a.droppedTargets.length, 0);
  const d = (await get('/api/v1/targets?state=dropped')).body.data as { activeTargets: unknown[]; droppedTargets: unknown[] };
  assert.equal(d.activeTargets.length, 0);
  assert.equal(d.droppedTargets.length, 1);
});

test('/api/v1/targets/metadata by target, metric and limit', async () => {
  const all = await get(`/api/v1/targets/metadata?match_target=${encodeURIComponent(`{instance="${target.host}"}`)}`);
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.data, [
    { target: { env: 'prod', instance: target.host, job: 'web' }, metric: 'temp', type: 'gauge', help: '', unit: '' },
    { target: { env: 'prod', instance: target.host, job: 'web' }, metric: 'up_total', type: 'counter', help: 'Ups.', unit: '' },
  ]);
  const one = await get('/api/v1/targets/metadata?metric=up_total');
  assert.deepEqual(one.body.data, [{ target: { env: 'prod', instance: target.host, job: 'web' }, type: 'counter', help: 'Ups.', unit: '' }]);
  const limited = await get('/api/v1/targets/metadata?limit=1');
  assert.equal((limited.body.data as unknown[]).length, 1);
  const none = await get('/api/v1/targets/metadata?metric=nope');
  assert.equal(none.status, 404);
  const bad = await get('/api/v1/targets/metadata?match_target=%7Bbad');
  assert.equal(bad.status, 400);
});
