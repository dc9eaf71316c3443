// The sender speaking remote_write 2.0 (`protobuf_message: io.prometheus.write.v2.Request`) to
// real receivers on loopback: spawned `vigil start` processes (Vigil's receiver speaks 2.0), and
// Debian's Prometheus 2.42, which does not (it answers 2xx to a request it read as an empty 1.0 one).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FloatHistogram } from '../../../core/model/histogram.js';
import { labelsFrom } from '../../../core/model/labels.js';
import { snappyEncode } from '../../../core/util/snappy.js';
import { parseConfig } from '../../../server/config/config.js';
import { exited, freePort, getJson, postWrite, spawnVigil, startServer, tempDir, waitFor, writeBody, type VigilProcess } from '../../../testkit/helpers.js';
import { prometheusReceiver } from '../../../testkit/remote_receivers.js';
import { WriteRequestEncoder } from '../proto.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const FAST_QUEUE = '    queue_config: { batch_send_deadline: 300ms, min_backoff: 30ms, max_backoff: 1s }\n';
const V2 = '    protobuf_message: io.prometheus.write.v2.Request\n';
const SERIES = 10;
const BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** A spawned `vigil start` on a port of its own, stopped after the file (and restartable on the same data). */
async function vigilReceiver(): Promise<{ url: string; writeUrl: string; stop: () => Promise<void>; start: () => Promise<void> }> {
  const { dir, cleanup } = tempDir('vigil-rw2-recv-');
  const port = await freePort();
  let p: VigilProcess | undefined;
  const r = {
    url: `http://127.0.0.1:${port}`,
    writeUrl: `http://127.0.0.1:${port}/api/v1/write`,
    start: async () => {
      p = await spawnVigil(path.join(dir, 'data'), port, ['--config', cfg]);
    },
    stop: async () => {
      if (!p) return;
      p.proc.kill('SIGTERM');
      await exited(p.proc);
      p = undefined;
    },
  };
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(cfg, 'self_scrape: false\n');
  await r.start();
  cleanups.push(async () => {
    await r.stop();
    cleanup();
  });
  return r;
}

async function metricValue(url: string, name: string, filter = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function query(url: string, expr: string, t: number): Promise<unknown> {
  const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${t / 1000}`);
  assert.equal(r.body.status, 'success', JSON.stringify(r.body));
  return r.body.data;
}

type Matrix = { resultType: string; result: Array<{ metric: Record<string, string>; values?: unknown }> };

/** A query result as text, label names and series in a fixed order. */
function canonical(m: Matrix): string {
  const rows = m.result.map((r) => ({ ...r, metric: Object.fromEntries(Object.entries(r.metric).sort(([a], [b]) => (a < b ? -1 : 1))) }));
  return JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
}

/** Samples k in [from, to) of every series: value s*1e6+k at BASE + k s. */
function samples(metric: string, from: number, to: number): Buffer {
  return writeBody(
    Array.from({ length: SERIES }, (_, s) => ({
      labels: labelsFrom({ __name__: metric, series: String(s).padStart(2, '0') }),
      samples: Array.from({ length: to - from }, (_, i): [number, number] => [BASE + (from + i) * 1000, s * 1e6 + from + i]),
    })),
  );
}

/** Waits until `url` holds samples 0..n-1 of every series of `metric`, each with its value. */
async function expectAll(url: string, metric: string, n: number, timeoutMs = 60_000): Promise<void> {
  const t = BASE + n * 1000;
  const want = Array.from({ length: SERIES }, (_, s) => [String(n), String(s * 1e6 * n + (n * (n - 1)) / 2)]);
  await waitFor(
    `${n} samples of each ${metric} series`,
    async () => {
      const counts = (await query(url, `count_over_time(${metric}[2h])`, t)) as { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      const sums = (await query(url, `sum_over_time(${metric}[2h])`, t)) as { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      const bySeries = (r: typeof counts): Map<string, string> => new Map(r.result.map((x) => [x.metric['series']!, x.value[1]]));
      const c = bySeries(counts);
      const su = bySeries(sums);
      const got = Array.from({ length: SERIES }, (_, s) => [c.get(String(s).padStart(2, '0')), su.get(String(s).padStart(2, '0'))]);
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    },
    timeoutMs,
    500,
  );
}

test(
  'remote_write 2.0 to a spawned Vigil: samples, exemplars, metadata and histograms arrive as remote_write 1.0 delivers them',
  { timeout: 120_000 },
  async () => {
    const [one, two] = [await vigilReceiver(), await vigilReceiver()];
    const sender = await startServer((c) => {
      c.selfScrape = false;
      c.global = { ...c.global, externalLabels: labelsFrom({ cluster: 'eu-1' }) };
      c.remoteWriteTo = parseConfig(
        'remote_write:\n' +
          `  - url: ${one.writeUrl}\n    name: v1\n    send_exemplars: true\n    metadata_config: { send_interval: 500ms }\n${FAST_QUEUE}` +
          `  - url: ${two.writeUrl}\n    name: v2\n    send_exemplars: true\n${FAST_QUEUE}${V2}`,
        'test.yml',
      ).remoteWriteTo;
    });
    cleanups.push(() => sender.stop());
    const enc = new WriteRequestEncoder();
    for (let s = 0; s < SERIES; s++) {
      const ts = Array.from({ length: 30 }, (_, k) => BASE + k * 1000);
      const vs = new Float64Array(30);
      for (let k = 0; k < 30; k++) vs[k] = s * 100 + k;
      const ex = s % 3 === 0 ? [{ labels: labelsFrom({ trace_id: `t${s}` }), value: s / 4, ts: BASE + 5000 }] : [];
      enc.addSeries(labelsFrom({ __name__: 'rw2_requests_total', series: String(s) }), ts, vs, ex);
    }
    enc.addMetadata('rw2_requests_total', 'counter', 'Requests the 2.0 test made.', 'requests');
    enc.addSeries(labelsFrom({ __name__: 'rw2_temperature' }), [BASE], [21.5]);
    enc.addMetadata('rw2_temperature', 'gauge', 'A gauge.', 'celsius');
    assert.equal((await postWrite(sender.url, snappyEncode(enc.finish()))).status, 204);
    // Native histograms go into the sender's WAL through its TSDB appender (as histograms.test.ts does).
    const app = sender.server.db.appender();
    for (let k = 0; k < 20; k++)
      app.appendHistogram(
        0,
        labelsFrom({ __name__: 'rw2_hist' }),
        BASE + k * 1000,
        FloatHistogram.of({
          schema: 0,
          zeroThreshold: 0.001,
          zeroCount: k,
          count: 3 * k,
          sum: k,
          positiveSpans: [{ offset: 0, length: 1 }],
          positiveBuckets: [2 * k],
        }),
      );
    app.commit();

    const t = BASE + 60_000;
    for (const expr of ['rw2_requests_total[2h]', 'rw2_temperature[2h]']) {
      // What the sender holds, as the receivers should: its series with the external label added.
      const local = (await query(sender.url, expr, t)) as Matrix;
      assert.ok(local.result.length > 0);
      const want = canonical({ ...local, result: local.result.map((r) => ({ ...r, metric: { ...r.metric, cluster: 'eu-1' } })) });
      await waitFor(`${expr} at both receivers`, async () =>
        canonical((await query(two.url, expr, t)) as Matrix) === want && canonical((await query(one.url, expr, t)) as Matrix) === want ? true : undefined,
      );
      assert.deepEqual(await query(two.url, expr, t), await query(one.url, expr, t), `${expr}: 2.0 delivers what 1.0 does`);
    }
    const exemplars = async (url: string): Promise<unknown> => {
      const r = await getJson(
        `${url}/api/v1/query_exemplars?query=${encodeURIComponent('rw2_requests_total')}&start=${(BASE - 60_000) / 1000}&end=${(BASE + 60_000) / 1000}`,
      );
      const d = r.body.data as Array<{ seriesLabels: Record<string, string> }>;
      return d.length === 4 ? d.sort((a, b) => (a.seriesLabels['series']! < b.seriesLabels['series']! ? -1 : 1)) : undefined;
    };
    const ex2 = await waitFor('the exemplars at the 2.0 receiver', () => exemplars(two.url));
    assert.deepEqual(ex2, await waitFor('the exemplars at the 1.0 receiver', () => exemplars(one.url)));
    const metadata = async (url: string): Promise<unknown> => {
      const d = (await getJson(`${url}/api/v1/metadata`)).body.data as Record<string, unknown>;
      return d['rw2_requests_total'] && d['rw2_temperature']
        ? { rw2_requests_total: d['rw2_requests_total'], rw2_temperature: d['rw2_temperature'] }
        : undefined;
    };
    const md2 = await waitFor('the metadata at the 2.0 receiver', () => metadata(two.url));
    assert.deepEqual(md2, await waitFor('the metadata at the 1.0 receiver', () => metadata(one.url)));
    assert.deepEqual(md2, {
      rw2_requests_total: [{ type: 'counter', help: 'Requests the 2.0 test made.', unit: 'requests' }],
      rw2_temperature: [{ type: 'gauge', help: 'A gauge.', unit: 'celsius' }],
    });
    // Histograms: whatever the receiver makes of them, it makes the same of both protocols' requests.
    await waitFor('the histogram requests settled', async () =>
      (await metricValue(sender.url, 'prometheus_remote_storage_samples_pending')) === 0 &&
      (await metricValue(sender.url, 'prometheus_remote_storage_highest_timestamp_in_seconds')) > 0
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 1000));
    for (const expr of ['count_over_time(rw2_hist[2h])', 'histogram_count(rw2_hist)', 'histogram_sum(rw2_hist)'])
      assert.deepEqual(await query(two.url, expr, t), await query(one.url, expr, t), `${expr}: 2.0 delivers what 1.0 does`);
    assert.equal(await metricValue(sender.url, 'prometheus_remote_storage_exemplars_failed_total', 'remote_name="v2"'), 0);
    assert.ok((await metricValue(sender.url, 'prometheus_remote_storage_samples_total', 'remote_name="v2"')) >= SERIES * 30 + 1);
  },
);

test('remote_write 2.0 through a receiver restart and kill -9 of the sender: every sample arrives', { timeout: 180_000 }, async () => {
  const recv = await vigilReceiver();
  const { dir, cleanup } = tempDir('vigil-rw2-kill-');
  cleanups.push(cleanup);
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(cfg, `self_scrape: false\nremote_write:\n  - url: ${recv.writeUrl}\n${FAST_QUEUE}${V2}`);
  const port = await freePort();
  const data = path.join(dir, 'data');
  let v = await spawnVigil(data, port, ['--config', cfg]);
  cleanups.push(async () => {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
  });
  assert.equal((await postWrite(v.url, samples('rw2_kill', 0, 100))).status, 204);
  await expectAll(recv.url, 'rw2_kill', 100);
  // The receiver restarts while samples keep coming.
  await recv.stop();
  for (let k = 100; k < 200; k += 25) {
    assert.equal((await postWrite(v.url, samples('rw2_kill', k, k + 25))).status, 204);
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.ok((await metricValue(v.url, 'prometheus_remote_storage_samples_retried_total')) > 0, 'sends failed and were retried');
  await recv.start();
  await expectAll(recv.url, 'rw2_kill', 200);
  // The receiver down again, so what follows is certainly unsent (acknowledged, in the WAL) when the sender dies.
  await recv.stop();
  for (let k = 200; k < 400; k += 50) assert.equal((await postWrite(v.url, samples('rw2_kill', k, k + 50))).status, 204);
  await new Promise((r) => setTimeout(r, 700));
  v.proc.kill('SIGKILL');
  await exited(v.proc);
  await recv.start();
  v = await spawnVigil(data, port, ['--config', cfg]);
  assert.equal((await postWrite(v.url, samples('rw2_kill', 400, 420))).status, 204);
  await expectAll(recv.url, 'rw2_kill', 420, 90_000);
  assert.equal(await metricValue(v.url, 'prometheus_remote_storage_samples_failed_total'), 0);
});

test(
  'remote_write 2.0 to Prometheus 2.42 (no 2.0): its 2xx without written-count headers fails the samples once, no retry loop',
  { timeout: 90_000 },
  async () => {
    const { dir, cleanup } = tempDir('vigil-rw2-prom-');
    const prom = await prometheusReceiver(dir);
    await prom.start();
    cleanups.push(async () => {
      await prom.stop();
      cleanup();
    });
    const sender = await startServer((c) => {
      c.selfScrape = false;
      c.remoteWriteTo = parseConfig(`remote_write:\n  - url: ${prom.writeUrl}\n${FAST_QUEUE}${V2}`, 'test.yml').remoteWriteTo;
    });
    cleanups.push(() => sender.stop());
    assert.equal((await postWrite(sender.url, samples('rw2_old_receiver', 0, 10))).status, 204);
    await waitFor('the samples failed', async () =>
      (await metricValue(sender.url, 'prometheus_remote_storage_samples_failed_total')) === SERIES * 10 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await metricValue(sender.url, 'prometheus_remote_storage_samples_failed_total'), SERIES * 10, 'counted once');
    assert.equal(await metricValue(sender.url, 'prometheus_remote_storage_samples_retried_total'), 0, 'not retried');
    assert.equal(await metricValue(sender.url, 'prometheus_remote_storage_samples_pending'), 0, 'settled: the queue is not stuck');
    const r = (await query(prom.url, 'count_over_time(rw2_old_receiver[2h])', BASE + 20_000)) as { result: unknown[] };
    assert.equal(r.result.length, 0, 'Prometheus 2.42 read the 2.0 request as an empty 1.0 one');
  },
);
