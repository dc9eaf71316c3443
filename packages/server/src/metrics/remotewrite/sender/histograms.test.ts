// The remote_write sender forwards native histograms from the WAL as remote_write 1.0 histograms:
// Debian's Prometheus 2.42 (native histograms on) receives them, and its PromQL answers over them
// equal Vigil's own. Histograms go into Vigil through its TSDB's appender, so they are in the WAL
// exactly as a commit logs them, beside float samples (the receiving side is
// ../histograms_from_prometheus.test.ts). Only
// expressions both PromQL versions define alike are compared (Vigil follows Prometheus 3: left-open
// ranges, its interpolation within exponential buckets for histogram_quantile and _fraction).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../../core/model/histogram.js';
import { labelsFrom } from '../../../core/model/labels.js';
import { parseConfig } from '../../../server/config/config.js';
import { getJson, startServer, tempDir, waitFor } from '../../../testkit/helpers.js';
import { prometheusReceiver } from '../../../testkit/remote_receivers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const N = 300;

/** Counter histogram k of series s: schema 2, integer counts growing with k, some negative buckets. */
function histogram(s: number, k: number): FloatHistogram {
  const pos = [k, 2 * k + s, 3, Math.floor(k / 5)];
  const neg = [s + k];
  return FloatHistogram.of({
    schema: 2,
    zeroThreshold: 0.001,
    zeroCount: k,
    count: pos.reduce((a, b) => a + b, 0) + neg[0]! + k,
    sum: k * 1.5 - s,
    positiveSpans: [
      { offset: -2, length: 2 },
      { offset: 3, length: 2 },
    ],
    positiveBuckets: pos,
    negativeSpans: [{ offset: 1, length: 1 }],
    negativeBuckets: neg,
  });
}

async function instant(url: string, expr: string, t: number): Promise<Record<string, string>> {
  const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${t / 1000}`);
  assert.equal(r.body.status, 'success', JSON.stringify(r.body));
  const out: Record<string, string> = {};
  for (const s of (r.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result)
    out[s.metric['s'] ?? '-'] = s.value[1];
  return out;
}

test('native histograms in the WAL reach Prometheus as remote_write histograms; its answers equal the local ones', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-rw-hist-');
  const prom = await prometheusReceiver(dir, { nativeHistograms: true });
  await prom.start();
  cleanups.push(async () => {
    await prom.stop();
    cleanup();
  });
  const vigil = await startServer((c) => {
    c.remoteWriteTo = parseConfig(
      `remote_write:\n  - url: ${prom.writeUrl}\n    queue_config: { batch_send_deadline: 500ms, min_backoff: 30ms, max_backoff: 1s }\n`,
      'test.yml',
    ).remoteWriteTo;
  });
  cleanups.push(() => vigil.stop());
  // Batches of 50 steps: three histogram series and a float series in every commit.
  for (let from = 0; from < N; from += 50) {
    const a = vigil.server.db.appender();
    for (let k = from; k < from + 50; k++) {
      const t = BASE + k * 1000;
      for (let s = 0; s < 3; s++) a.appendHistogram(0, labelsFrom({ __name__: 'rw_hist', s: String(s) }), t, histogram(s, k));
      a.append(0, labelsFrom({ __name__: 'rw_hist_float' }), t, k);
    }
    a.commit();
  }
  const t = BASE + (N - 1) * 1000;
  await waitFor(
    'every histogram sample in Prometheus',
    async () => {
      const r = await instant(prom.url, 'count_over_time(rw_hist[10m])', t);
      return Object.keys(r).length === 3 && Object.values(r).every((v) => v === String(N)) ? r : undefined;
    },
    60_000,
    500,
  );
  for (const expr of [
    'count_over_time(rw_hist[10m])',
    'histogram_count(rw_hist)',
    'histogram_sum(rw_hist)',
    'histogram_count(increase(rw_hist[10m]))',
    'count_over_time(rw_hist_float[10m])',
  ]) {
    const local = await instant(vigil.url, expr, t);
    assert.ok(Object.keys(local).length > 0, `${expr}: a local answer`);
    assert.deepEqual(await instant(prom.url, expr, t), local, `${expr}: Prometheus`);
  }
  // The histograms themselves, bucket by bucket, at a few times. Bucket bounds are compared to the
  // last bits but one: Prometheus takes them from a table of decimal constants (2^-0.5 as
  // 0.7071067811865475), Vigil computes them (the nearest double, 0.7071067811865476).
  type Raw = Array<{ metric: Record<string, string>; histogram: [number, { count: string; sum: string; buckets: Array<[number, string, string, string]> }] }>;
  const close = (a: string, b: string): boolean => a === b || Math.abs(Number(a) - Number(b)) <= 1e-15 * Math.abs(Number(b));
  for (const at of [BASE, BASE + 137_000, t]) {
    const raw = async (url: string): Promise<Raw> => {
      const r = await getJson(`${url}/api/v1/query?query=rw_hist&time=${at / 1000}`);
      return (r.body.data as { result: Raw }).result;
    };
    const [p, v] = [await raw(prom.url), await raw(vigil.url)];
    assert.equal(p.length, 3);
    assert.equal(v.length, 3);
    for (let i = 0; i < 3; i++) {
      const [ph, vh] = [p[i]!.histogram, v[i]!.histogram];
      assert.deepEqual(p[i]!.metric, v[i]!.metric);
      assert.deepEqual([ph[0], ph[1].count, ph[1].sum], [vh[0], vh[1].count, vh[1].sum], `rw_hist at ${at}`);
      assert.equal(ph[1].buckets.length, vh[1].buckets.length);
      ph[1].buckets.forEach((b, j) => {
        const w = vh[1].buckets[j]!;
        assert.ok(
          b[0] === w[0] && close(b[1], w[1]) && close(b[2], w[2]) && b[3] === w[3],
          `bucket ${j} at ${at}: ${JSON.stringify(b)} vs ${JSON.stringify(w)}`,
        );
      });
    }
  }
  const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
  assert.match(metrics, /prometheus_remote_storage_samples_failed_total(\{[^}]*\})? 0\n/);
});
