import { ManualClock } from '../../core/time/manual_clock.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetadataStore } from '../metadata.js';
import { SelfRegistry } from '../../core/selfmon/registry.js';
import { freePort, tempDir } from '../../testkit/helpers.js';
import { Head } from '../tsdb/head.js';
import { DEFAULT_GLOBAL, parseScrapeConfigs } from './config.js';
import { ScrapeManager } from './manager.js';
import { serve, stored } from '../../testkit/scrape.js';

const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

const T0 = 1_700_000_000_000;

async function metricsServer(body: () => string) {
  const s = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body()));
  closers.push(s.close);
  return s;
}

test('reload keeps unchanged targets, ends removed ones with staleness markers and starts new ones', async () => {
  const a = await metricsServer(() => 'm 1\n');
  const b = await metricsServer(() => 'm 2\n');
  const head = new Head();
  const clock = new ManualClock(T0);
  const metadata = new MetadataStore();
  const m = new ScrapeManager(head, { now: () => clock.now(), metadata });
  closers.push(() => m.stop());
  const cfgs = (targets: string[], extra: Record<string, unknown> = {}) =>
    parseScrapeConfigs([{ job_name: 'j', scrape_interval: '15s', static_configs: [{ targets }], ...extra }], DEFAULT_GLOBAL, '/');
  m.applyConfig(cfgs([a.host, b.host]));
  assert.equal(m.activeTargets().length, 2);
  await m.scrapeNow();
  const loopA = m.activeTargets().find((t) => t.target.url.includes(a.host))!.loop;

  clock.jump(15_000);
  m.applyConfig(cfgs([a.host]));
  await m.settled();
  assert.equal(m.activeTargets().length, 1);
  assert.equal(m.activeTargets()[0]!.loop, loopA, 'the unchanged target keeps its loop');
  const mb = stored(head, 'm').find((s) => s.labels['instance'] === b.host)!;
  assert.deepEqual(mb.samples, [
    [T0, 2],
    [T0 + 15_000, 'stale'],
  ]);

  // A changed config (new label) restarts the pool; the surviving target's data continues.
  m.applyConfig(cfgs([a.host], { sample_limit: 100 }));
  await m.settled();
  const loopA2 = m.activeTargets()[0]!.loop;
  assert.notEqual(loopA2, loopA);
  clock.jump(15_000);
  await m.scrapeNow();
  const ma = stored(head, 'm').find((s) => s.labels['instance'] === a.host)!;
  assert.deepEqual(
    ma.samples,
    [
      [T0, 1],
      [T0 + 30_000, 1],
    ],
    'no staleness marker from the handover',
  );

  // Removing the job ends its series too.
  clock.jump(1000);
  m.applyConfig([]);
  await m.settled();
  assert.deepEqual(
    stored(head, 'm')
      .find((s) => s.labels['instance'] === a.host)!
      .samples.at(-1),
    [T0 + 31_000, 'stale'],
  );
  assert.deepEqual(metadata.list().length, 0, 'no HELP/TYPE in these bodies');
});

test('file_sd targets appear and disappear through the manager; relabeling drops some', async () => {
  const a = await metricsServer(() => '# TYPE g gauge\ng 1\n');
  const { dir, cleanup } = tempDir();
  closers.push(cleanup);
  const file = path.join(dir, 'targets.json');
  fs.writeFileSync(file, JSON.stringify([{ targets: [a.host, 'skip.me:1'], labels: { team: 'x' } }]));
  const head = new Head();
  const m = new ScrapeManager(head, { now: () => T0 });
  closers.push(() => m.stop());
  m.applyConfig(
    parseScrapeConfigs(
      [{ job_name: 'fs', file_sd_configs: [{ files: ['*.json'] }], relabel_configs: [{ source_labels: ['__address__'], regex: 'skip.*', action: 'drop' }] }],
      DEFAULT_GLOBAL,
      dir,
    ),
  );
  assert.deepEqual(
    m.activeTargets().map((t) => t.target.url),
    [`http://${a.host}/metrics`],
  );
  assert.equal(m.droppedTargets().length, 1);
  await m.scrapeNow();
  assert.deepEqual(stored(head, 'g')[0]!.labels, { __name__: 'g', instance: a.host, job: 'fs', team: 'x' });
  fs.writeFileSync(file, JSON.stringify([]));
  const deadline = Date.now() + 10_000;
  while (m.activeTargets().length > 0) {
    assert.ok(Date.now() < deadline, 'the emptied file_sd file removes the target within 10 s');
    await new Promise((r) => setTimeout(r, 25));
  }
  const reg = new SelfRegistry();
  m.register(reg);
  assert.match(reg.render(), /vigil_target_scrapes_total\{scrape_job="fs"\} 1/);
});

test('scrapes Debian prometheus-node-exporter and stores node_cpu_seconds_total and up', async () => {
  const found = spawnSync('sh', ['-c', 'command -v prometheus-node-exporter'], { encoding: 'utf8' });
  assert.ok(found.status === 0, 'prometheus-node-exporter is not installed: run `apt-get install prometheus-node-exporter`');
  const port = await freePort();
  const proc = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  closers.push(() => {
    proc.kill('SIGTERM');
  });
  const head = new Head();
  const m = new ScrapeManager(head);
  closers.push(() => m.stop());
  m.applyConfig(parseScrapeConfigs([{ job_name: 'node', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }], DEFAULT_GLOBAL, '/'));
  const deadline = Date.now() + 15_000;
  for (;;) {
    await m.scrapeNow();
    if (m.activeTargets()[0]!.loop.health === 'up') break;
    assert.ok(Date.now() < deadline, `node exporter never came up: ${m.activeTargets()[0]!.loop.lastError}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpu = stored(head, 'node_cpu_seconds_total');
  assert.ok(cpu.length > 0, 'node_cpu_seconds_total stored');
  assert.equal(cpu[0]!.labels['job'], 'node');
  assert.ok(cpu[0]!.labels['cpu'] !== undefined && cpu[0]!.labels['mode'] !== undefined);
  assert.equal(stored(head, 'up').at(-1)!.samples.at(-1)![1], 1);
  const md = m.activeTargets()[0]!.loop.metadata.get('node_cpu_seconds_total');
  assert.equal(md?.type, 'counter');
});
