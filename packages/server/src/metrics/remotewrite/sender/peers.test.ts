// The remote_write sender against real receivers on loopback: Debian's VictoriaMetrics and
// Prometheus 2.x (remote-write receiver). Samples are written into Vigil through its own
// remote_write endpoint, so each is in Vigil's WAL exactly as ingest puts it there.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../../server/config/config.js';
import { exited, freePort, getJson, postWrite, spawnVigil, startServer, tempDir, waitFor, writeBody } from '../../../testkit/helpers.js';
import { prometheusReceiver, stormProxy, victoriaMetrics, vmExport, type Receiver } from '../../../testkit/remote_receivers.js';
import { cpuSeconds } from '../../../testkit/bench/procstat.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Fresh receivers in a temporary directory, stopped after the file. */
async function receiver(kind: 'vm' | 'prometheus'): Promise<Receiver> {
  const { dir, cleanup } = tempDir(`vigil-rw-${kind}-`);
  const r = kind === 'vm' ? await victoriaMetrics(dir) : await prometheusReceiver(dir);
  await r.start();
  cleanups.push(async () => {
    await r.stop();
    cleanup();
  });
  return r;
}

/** The remote_write entries of a vigil.yml snippet, parsed as the file would be. */
function remoteWrite(yaml: string): ReturnType<typeof parseConfig>['remoteWriteTo'] {
  return parseConfig(`remote_write:\n${yaml}`, 'test.yml').remoteWriteTo;
}

const FAST_QUEUE = `    queue_config: { batch_send_deadline: 500ms, min_backoff: 30ms, max_backoff: 1s }\n`;
const SERIES = 20;
const BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** Writes samples k in [from, to) of every series into Vigil: value s*1e6+k at BASE + k s. */
async function writeSamples(url: string, metric: string, from: number, to: number): Promise<void> {
  const series = Array.from({ length: SERIES }, (_, s) => ({
    labels: [
      { name: '__name__', value: metric },
      { name: 'series', value: String(s).padStart(2, '0') },
    ],
    samples: Array.from({ length: to - from }, (_, i): [number, number] => [BASE + (from + i) * 1000, s * 1e6 + from + i]),
  }));
  const r = await postWrite(url, writeBody(series));
  assert.equal(r.status, 204, r.text);
}

/** Waits until VictoriaMetrics holds samples 0..n-1 of every series, then checks each arrived once, in order, with its value. */
async function expectAllInVm(vm: Receiver, metric: string, n: number, timeoutMs = 60_000): Promise<void> {
  const got = await waitFor(
    `${n} samples of each ${metric} series in VictoriaMetrics`,
    async () => {
      const s = await vmExport(vm, metric);
      return s.length === SERIES && s.every((x) => new Set(x.timestamps).size >= n) ? s : undefined;
    },
    timeoutMs,
    500,
  );
  for (const s of got) {
    const id = Number(s.metric['series']);
    const want = Array.from({ length: n }, (_, k) => BASE + k * 1000);
    assert.deepEqual(s.timestamps, want, `series ${id}: every sample once, in order`);
    assert.deepEqual(
      s.values,
      want.map((_, k) => id * 1e6 + k),
      `series ${id}: values`,
    );
  }
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function instant(url: string, expr: string, t: number): Promise<Record<string, number>> {
  const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${t / 1000}`);
  assert.equal(r.body.status, 'success', JSON.stringify(r.body));
  const out: Record<string, number> = {};
  for (const s of (r.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result)
    out[s.metric['series']!] = Number(s.value[1]);
  return out;
}

test('every sample reaches VictoriaMetrics and Prometheus, and their query results equal the local ones', { timeout: 120_000 }, async () => {
  const vm = await receiver('vm');
  const prom = await receiver('prometheus');
  const vigil = await startServer((c) => {
    c.remoteWriteTo = remoteWrite(`  - url: ${vm.writeUrl}\n    name: vm\n${FAST_QUEUE}  - url: ${prom.writeUrl}\n    name: prom\n${FAST_QUEUE}`);
  });
  cleanups.push(() => vigil.stop());
  for (let k = 0; k < 600; k += 100) await writeSamples(vigil.url, 'rw_equal', k, k + 100);
  await expectAllInVm(vm, 'rw_equal', 600);
  const t = BASE + 600 * 1000;
  for (const expr of ['count_over_time(rw_equal[2h])', 'sum_over_time(rw_equal[2h])', 'max_over_time(rw_equal[2h])']) {
    const local = await instant(vigil.url, expr, t);
    assert.equal(Object.keys(local).length, SERIES);
    const fromProm = await waitFor(`${expr} in Prometheus`, async () => {
      const r = await instant(prom.url, expr, t);
      return JSON.stringify(r) === JSON.stringify(local) ? r : undefined;
    });
    assert.deepEqual(fromProm, local, `${expr}: Prometheus`);
    assert.deepEqual(await instant(vm.url, expr, t), local, `${expr}: VictoriaMetrics`);
  }
  assert.equal(await metricValue(vigil.url, 'prometheus_remote_storage_samples_failed_total'), 0);
  assert.ok((await metricValue(vigil.url, 'prometheus_remote_storage_samples_total')) >= 2 * 600 * SERIES);
  assert.equal(await metricValue(vigil.url, 'prometheus_remote_storage_shards'), 2, 'one shard per queue at this rate');
});

/**
 * The receiver is stopped for `outageMs` while samples keep coming, then started again on the same
 * port and data: every sample arrives, once and in order, none is failed.
 */
async function outage(outageMs: number): Promise<void> {
  const vm = await receiver('vm');
  const vigil = await startServer((c) => {
    c.remoteWriteTo = remoteWrite(`  - url: ${vm.writeUrl}\n${FAST_QUEUE}`);
  });
  cleanups.push(() => vigil.stop());
  const metric = `rw_outage_${outageMs}`;
  let k = 0;
  const write = async (n: number): Promise<void> => {
    await writeSamples(vigil.url, metric, k, k + n);
    k += n;
  };
  await write(50);
  await expectAllInVm(vm, metric, 50);
  await vm.stop();
  // One sample per series every 250 ms through the outage.
  const until = Date.now() + outageMs;
  while (Date.now() < until) {
    await write(1);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok((await metricValue(vigil.url, 'prometheus_remote_storage_samples_retried_total')) > 0, 'sends failed and were retried during the outage');
  await vm.start();
  await write(10);
  await expectAllInVm(vm, metric, k, 120_000);
  assert.equal(await metricValue(vigil.url, 'prometheus_remote_storage_samples_failed_total'), 0);
  assert.equal(await metricValue(vigil.url, 'prometheus_remote_storage_samples_dropped_total'), 0);
}

test('VictoriaMetrics down for a few seconds: every sample arrives, in order', { timeout: 120_000 }, () =>
  outage(Number(process.env['VIGIL_RW_SHORT_OUTAGE_MS'] ?? 5_000)),
);

test('VictoriaMetrics down for two minutes: every sample arrives, in order', { timeout: 300_000 }, () =>
  outage(Number(process.env['VIGIL_RW_OUTAGE_MS'] ?? 120_000)),
);

test('Vigil killed with kill -9 while samples wait to be sent: a restart sends every one', { timeout: 120_000 }, async () => {
  const vm = await receiver('vm');
  const { dir, cleanup } = tempDir('vigil-rw-kill-');
  cleanups.push(cleanup);
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(cfg, `self_scrape: false\nremote_write:\n  - url: ${vm.writeUrl}\n${FAST_QUEUE}`);
  const port = await freePort();
  const data = path.join(dir, 'data');
  let v = await spawnVigil(data, port, ['--config', cfg]);
  await writeSamples(v.url, 'rw_kill', 0, 100);
  await expectAllInVm(vm, 'rw_kill', 100);
  // The receiver down, so what follows is certainly unsent (acknowledged by Vigil, in its WAL) when Vigil dies.
  await vm.stop();
  for (let k = 100; k < 400; k += 50) await writeSamples(v.url, 'rw_kill', k, k + 50);
  await new Promise((r) => setTimeout(r, 700)); // a send attempt or two fail
  v.proc.kill('SIGKILL');
  await exited(v.proc);
  await vm.start();
  v = await spawnVigil(data, port, ['--config', cfg]);
  cleanups.push(async () => {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
  });
  await writeSamples(v.url, 'rw_kill', 400, 420);
  await expectAllInVm(vm, 'rw_kill', 420);
  assert.equal(await metricValue(v.url, 'prometheus_remote_storage_samples_failed_total'), 0);
});

test('a 429 storm: the sender backs off (few requests, little CPU) and sends everything once it ends', { timeout: 120_000 }, async () => {
  const vm = await receiver('vm');
  const proxy = await stormProxy(vm.url);
  cleanups.push(() => proxy.close());
  const { dir, cleanup } = tempDir('vigil-rw-429-');
  cleanups.push(cleanup);
  const cfg = path.join(dir, 'vigil.yml');
  // Prometheus' default backoff (30ms doubling to 5s), a short batch deadline.
  fs.writeFileSync(cfg, `self_scrape: false\nremote_write:\n  - url: ${proxy.url}/api/v1/write\n    queue_config: { batch_send_deadline: 500ms }\n`);
  const v = await spawnVigil(path.join(dir, 'data'), await freePort(), ['--config', cfg]);
  cleanups.push(async () => {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
  });
  await writeSamples(v.url, 'rw_storm', 0, 50);
  await expectAllInVm(vm, 'rw_storm', 50);
  proxy.storm = true;
  const requestsBefore = proxy.requests;
  await writeSamples(v.url, 'rw_storm', 50, 100);
  const stormMs = Number(process.env['VIGIL_RW_STORM_MS'] ?? 20_000);
  await new Promise((r) => setTimeout(r, 1000));
  const cpu0 = cpuSeconds(v.proc.pid!);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, stormMs - 1000));
  const cpu = cpuSeconds(v.proc.pid!) - cpu0;
  const wall = (performance.now() - t0) / 1000;
  const requests = proxy.requests - requestsBefore;
  proxy.storm = false;
  console.log(
    `429 storm: ${requests} requests in ${stormMs} ms, Vigil CPU ${cpu.toFixed(3)} s over ${wall.toFixed(1)} s (${((100 * cpu) / wall).toFixed(1)}%)`,
  );
  // Doubling from 30 ms to the 5 s cap: about 8 tries in the first 5 s, then one each 5 s.
  assert.ok(requests <= 8 + Math.ceil(stormMs / 5000) + 4, `backoff: ${requests} requests during the storm`);
  assert.ok(cpu / wall < 0.05, `no busy loop: ${cpu} CPU seconds in ${wall} s`);
  assert.ok((await metricValue(v.url, 'prometheus_remote_storage_samples_retried_total')) > 0);
  await expectAllInVm(vm, 'rw_storm', 100, 30_000);
  assert.equal(await metricValue(v.url, 'prometheus_remote_storage_samples_failed_total'), 0);
});
