// `vigil agent` against real peers on loopback: Debian's VictoriaMetrics as the remote store, small
// HTTP targets served by this test, and the agents as child processes (kill -9 included).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { exited, freePort, postWrite, spawnVigil, tempDir, VIGIL_BIN, waitFor, writeBody, type VigilProcess } from '../../testkit/helpers.js';
import { victoriaMetrics, vmExport, type Receiver } from '../../testkit/remote_receivers.js';
import { encodeHistogramWriteRequest } from '../../testkit/rw_histogram.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function receiver(): Promise<Receiver> {
  const { dir, cleanup } = tempDir('vigil-agent-vm-');
  const vm = await victoriaMetrics(dir);
  await vm.start();
  cleanups.push(async () => {
    await vm.stop();
    cleanup();
  });
  return vm;
}

async function agent(data: string, config: string, extra: string[] = []): Promise<VigilProcess> {
  const v = await spawnVigil(data, await freePort(), ['--config', config, ...extra], process.env, [], 'agent');
  cleanups.push(async () => {
    if (v.proc.exitCode === null && v.proc.signalCode === null) {
      v.proc.kill('SIGTERM');
      await exited(v.proc);
    }
  });
  return v;
}

/** `n` scrape targets, each exposing `series` series of `agent_target_metric` whose value counts its scrapes. */
async function targets(n: number, series: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let scrapes = 0;
    const lines = Array.from({ length: series }, (_, k) => `agent_target_metric{target="t${i}",k="${k}"}`);
    const server = http.createServer((_req, res) => {
      scrapes++;
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`# TYPE agent_target_metric gauge\n${lines.map((l) => `${l} ${scrapes}`).join('\n')}\n`);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    out.push(`127.0.0.1:${port}`);
  }
  return out;
}

const FAST_QUEUE = `    queue_config: { batch_send_deadline: 200ms, min_backoff: 30ms, max_backoff: 1s }\n`;

function agentConfig(dir: string, name: string, body: string): string {
  const file = path.join(dir, `${name}.yml`);
  fs.writeFileSync(file, body);
  return file;
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

test(
  'two sharded agents: every target is scraped by exactly one, all its series reach VictoriaMetrics once; queries are refused',
  { timeout: 120_000 },
  async () => {
    const vm = await receiver();
    const addrs = await targets(12, 5);
    const { dir, cleanup } = tempDir('vigil-agent-shard-');
    cleanups.push(cleanup);
    const agents: VigilProcess[] = [];
    for (const index of [0, 1]) {
      const cfg = agentConfig(
        dir,
        `agent${index}`,
        `mode: agent
self_scrape: false
global: { scrape_interval: 1s, external_labels: { agent: a${index} }, shard: { index: ${index}, total: 2 } }
scrape_configs:
  - job_name: targets
    static_configs: [{ targets: [${addrs.map((a) => `'${a}'`).join(', ')}] }]
remote_write:
  - url: ${vm.writeUrl}
${FAST_QUEUE}`,
      );
      agents.push(await agent(path.join(dir, `data${index}`), cfg));
    }
    // Every target's five series, plus `up`, arrive; each under one agent only.
    const series = await waitFor(
      'every target’s series in VictoriaMetrics',
      async () => {
        const s = await vmExport(vm, '{__name__=~"agent_target_metric|up"}');
        return s.length >= addrs.length * 6 && s.every((x) => x.values.length >= 2) ? s : undefined;
      },
      60_000,
      500,
    );
    const agentOf = new Map<string, Set<string>>();
    for (const s of series) {
      const inst = s.metric['instance']!;
      const set = agentOf.get(inst) ?? new Set<string>();
      set.add(s.metric['agent']!);
      agentOf.set(inst, set);
    }
    assert.deepEqual([...agentOf.keys()].sort(), [...addrs].sort(), 'every target scraped');
    for (const [inst, by] of agentOf) assert.equal(by.size, 1, `${inst} scraped by ${[...by].join(' and ')}`);
    assert.equal(series.length, addrs.length * 6, 'each series once');
    const split = [0, 1].map((i) => [...agentOf.values()].filter((s) => s.has(`a${i}`)).length);
    console.log(`shard split of ${addrs.length} targets: ${split.join(' / ')}`);
    // Each agent's targets page lists its own shard: the rest are dropped by relabeling.
    for (const [i, a] of agents.entries()) {
      const t = (await (await fetch(`${a.url}/api/v1/targets`)).json()) as { data: { activeTargets: unknown[]; droppedTargets: unknown[] } };
      assert.equal(t.data.activeTargets.length, split[i]);
      assert.equal(t.data.droppedTargets.length, addrs.length - split[i]!);
    }
    // No local queries, rules or alerts, as Prometheus' agent answers them; no log or trace ingest.
    const a = agents[0]!.url;
    for (const [method, route] of [
      ['GET', '/api/v1/query?query=up'],
      ['POST', '/api/v1/query_range?query=up&start=0&end=1&step=1'],
      ['GET', '/api/v1/series?match[]=up'],
      ['GET', '/api/v1/labels'],
      ['GET', '/api/v1/label/job/values'],
      ['GET', '/api/v1/rules'],
      ['GET', '/api/v1/alerts'],
      ['GET', '/api/v1/status/tsdb'],
      ['GET', '/loki/api/v1/query?query=%7Ba%3D%22b%22%7D'],
      ['GET', '/api/v2/alerts'],
    ] as const) {
      const r = await fetch(`${a}${route}`, { method });
      const body = (await r.json()) as { status: string; errorType: string; error: string };
      assert.equal(r.status, 422, `${method} ${route}`);
      assert.equal(body.errorType, 'execution');
      assert.match(body.error, /unavailable in agent mode/, route);
    }
    const push = await fetch(`${a}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"streams":[]}' });
    assert.equal(push.status, 422);
    assert.match(await push.text(), /not taken in agent mode/);
    assert.equal((await fetch(`${a}/-/ready`)).status, 200);
    assert.equal(await metricValue(a, 'prometheus_remote_storage_samples_failed_total'), 0);
  },
);

test('an agent forwards native histograms to a Vigil server (send_native_histograms), the last ones after a kill -9', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-agent-nh-');
  cleanups.push(cleanup);
  const server = await spawnVigil(path.join(dir, 'server'), await freePort(), ['--config', agentConfig(dir, 'server', 'self_scrape: false\n')]);
  cleanups.push(async () => {
    server.proc.kill('SIGTERM');
    await exited(server.proc);
  });
  const cfg = agentConfig(
    dir,
    'agent',
    `mode: agent
self_scrape: false
remote_write:
  - url: ${server.url}/api/v1/write
    send_native_histograms: true
${FAST_QUEUE}`,
  );
  const data = path.join(dir, 'agent');
  const t0 = Date.now() - 60_000;
  const hist = (i: number): FloatHistogram =>
    FloatHistogram.of({ schema: 1, count: 3 + i, sum: 1.5 * (i + 1), zeroCount: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1 + i] });
  const send = async (url: string, from: number, to: number): Promise<void> => {
    const ts = Array.from({ length: to - from }, (_, k) => t0 + (from + k) * 1000);
    const res = await postWrite(
      url,
      snappyEncode(encodeHistogramWriteRequest([{ labels: labelsFrom({ __name__: 'agent_h', job: 'nh' }), ts, hs: ts.map((_, k) => hist(from + k)) }])),
    );
    assert.equal(res.status, 204, res.text);
  };
  /** The server's histograms of agent_h, once there are `n`. */
  const stored = (n: number) =>
    waitFor(
      `${n} histograms in the server`,
      async () => {
        const q = new URLSearchParams({ query: 'agent_h[5m]', time: String((t0 + 10_000) / 1000) });
        const body = (await (await fetch(`${server.url}/api/v1/query?${q}`)).json()) as {
          data: { result: Array<{ histograms?: Array<[number, { count: string; sum: string; buckets: unknown[] }]> }> };
        };
        const hs = body.data.result[0]?.histograms ?? [];
        return hs.length === n ? hs : undefined;
      },
      60_000,
      250,
    );
  let a = await agent(data, cfg);
  await send(a.url, 0, 5);
  await stored(5);
  // The queue saves its position every second; then a batch only the agent's WAL holds when it is killed.
  await new Promise((r) => setTimeout(r, 1500));
  await send(a.url, 5, 8);
  a.proc.kill('SIGKILL');
  await exited(a.proc);
  a = await agent(data, cfg);
  await stored(8);
  await send(a.url, 8, 10);
  const all = await stored(10);
  all.forEach(([t, h], i) => {
    assert.equal(t * 1000, t0 + i * 1000);
    assert.equal(Number(h.count), 3 + i);
    assert.equal(Number(h.sum), 1.5 * (i + 1));
  });
  assert.equal(await metricValue(a.url, 'prometheus_remote_storage_samples_failed_total'), 0);
});

test('an agent without remote_write refuses to start, saying why', { timeout: 30_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-agent-norw-');
  cleanups.push(cleanup);
  const cfg = agentConfig(dir, 'agent', 'self_scrape: false\n');
  for (const args of [
    ['agent', '--config', cfg],
    ['start', '--config', agentConfig(dir, 'mode', 'mode: agent\n')],
  ]) {
    const p = spawn(process.execPath, [VIGIL_BIN, ...args, '--data', path.join(dir, 'data'), '--listen', `127.0.0.1:${await freePort()}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const { code } = await exited(p);
    assert.equal(code, 2, err);
    assert.match(err, /agent mode needs at least one remote_write receiver/);
  }
});

const SERIES = 20;
const BASE = Math.floor(Date.now() / 1000) * 1000 - 600_000;

/** Writes samples k in [from, to) of every series into the agent through remote_write: value s*1e6+k at BASE + k s. */
async function writeSamples(url: string, from: number, to: number): Promise<void> {
  const series = Array.from({ length: SERIES }, (_, s) => ({
    labels: [
      { name: '__name__', value: 'agent_kill' },
      { name: 'series', value: String(s).padStart(2, '0') },
    ],
    samples: Array.from({ length: to - from }, (_, i): [number, number] => [BASE + (from + i) * 1000, s * 1e6 + from + i]),
  }));
  const r = await postWrite(url, writeBody(series));
  assert.equal(r.status, 204, r.text);
}

async function expectAllInVm(vm: Receiver, n: number): Promise<void> {
  const got = await waitFor(
    `${n} samples of each series in VictoriaMetrics`,
    async () => {
      const s = await vmExport(vm, 'agent_kill');
      return s.length === SERIES && s.every((x) => x.timestamps.length >= n) ? s : undefined;
    },
    60_000,
    500,
  );
  for (const s of got) {
    const id = Number(s.metric['series']);
    const want = Array.from({ length: n }, (_, k) => BASE + k * 1000);
    assert.deepEqual(s.timestamps, want, `series ${id}: every sample once, in order`);
    assert.deepEqual(
      s.values,
      want.map((_, k) => id * 1e6 + k),
    );
  }
}

test('an agent killed with kill -9 while samples wait to be sent: after a restart every acknowledged one arrives', { timeout: 120_000 }, async () => {
  const vm = await receiver();
  const { dir, cleanup } = tempDir('vigil-agent-kill-');
  cleanups.push(cleanup);
  const cfg = agentConfig(dir, 'agent', `self_scrape: false\nremote_write:\n  - url: ${vm.writeUrl}\n${FAST_QUEUE}`);
  const data = path.join(dir, 'data');
  // Truncating every second: the WAL must still keep everything unsent through the outage.
  const fast = ['--storage.agent.wal-truncate-frequency', '1s'];
  let a = await agent(data, cfg, fast);
  await writeSamples(a.url, 0, 100);
  await expectAllInVm(vm, 100);
  // The receiver down, so what follows is acknowledged by the agent (in its WAL) and unsent when it dies.
  await vm.stop();
  for (let k = 100; k < 400; k += 50) await writeSamples(a.url, k, k + 50);
  await new Promise((r) => setTimeout(r, 2500)); // failed sends, and truncation rounds that must hold the unsent segments
  a.proc.kill('SIGKILL');
  await exited(a.proc);
  await vm.start();
  a = await agent(data, cfg, fast);
  await writeSamples(a.url, 400, 420);
  await expectAllInVm(vm, 420);
  assert.equal(await metricValue(a.url, 'prometheus_remote_storage_samples_failed_total'), 0);
  // Everything sent: the next rounds condense the WAL to series records only.
  await waitFor('a WAL truncation', async () => ((await metricValue(a.url, 'prometheus_agent_truncations_total')) > 0 ? true : undefined), 20_000, 200);
});

/** Resident memory of a process, bytes. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Bytes of the files in `dir`. */
function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

test('an agent’s memory and WAL do not grow with samples: same series, ten times the samples, flat RSS, WAL truncated', { timeout: 180_000 }, async () => {
  const vm = await receiver();
  const addrs = await targets(4, 500);
  const { dir, cleanup } = tempDir('vigil-agent-mem-');
  cleanups.push(cleanup);
  const cfg = agentConfig(
    dir,
    'agent',
    `self_scrape: false
global: { scrape_interval: 100ms, scrape_timeout: 100ms }
scrape_configs:
  - job_name: targets
    static_configs: [{ targets: [${addrs.map((a) => `'${a}'`).join(', ')}] }]
remote_write:
  - url: ${vm.writeUrl}
${FAST_QUEUE}`,
  );
  const data = path.join(dir, 'data');
  const a = await agent(data, cfg, ['--storage.agent.wal-truncate-frequency', '2s']);
  const appended = (): Promise<number> => metricValue(a.url, 'prometheus_agent_samples_appended_total');
  const quarter = Number(process.env['VIGIL_AGENT_MEM_SECONDS'] ?? 40) / 4;
  // Warm up: every series exists, the queues have their shards, the heap has its working size.
  await new Promise((r) => setTimeout(r, quarter * 1000));
  const s0 = await appended();
  const r0 = rss(a.proc.pid!);
  let peak = r0;
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, (quarter * 3 * 1000) / 30));
    peak = Math.max(peak, rss(a.proc.pid!));
  }
  const s1 = await appended();
  const walBytes = dirBytes(path.join(data, 'wal'));
  const written = await metricValue(a.url, 'vigil_tsdb_wal_written_bytes_total');
  const series = await metricValue(a.url, 'prometheus_agent_active_series');
  console.log(
    `agent memory: ${series} series, ${s0} samples at warm-up, ${s1} at the end; RSS ${(r0 / 2 ** 20).toFixed(1)} MiB then peak ${(peak / 2 ** 20).toFixed(1)} MiB; WAL ${(walBytes / 2 ** 20).toFixed(2)} MiB on disk of ${(written / 2 ** 20).toFixed(2)} MiB written`,
  );
  assert.ok(series >= 4 * 500 && series < 4 * 500 + 100, `the targets’ series and the scrapes’ own: ${series}`);
  assert.ok(s1 > 3 * s0, `samples kept coming: ${s0} then ${s1}`);
  // Flat: no chunk, no index grows with samples; what varies is the garbage between collections.
  assert.ok(peak - r0 < 40 * 2 ** 20, `RSS grew by ${((peak - r0) / 2 ** 20).toFixed(1)} MiB over the run`);
  assert.ok((await metricValue(a.url, 'prometheus_agent_truncations_total')) > 0);
  assert.ok(walBytes < written / 2, `the WAL keeps only what is unsent: ${walBytes} of ${written} bytes`);
  assert.equal(await metricValue(a.url, 'prometheus_remote_storage_samples_failed_total'), 0);
});
