// Native histograms from the real thing: Debian's Prometheus 2.42 (native histograms on) is given
// histograms through its own remote-write receiver and forwards them to Vigil with
// `send_native_histograms: true`. The stored histograms must equal Prometheus' own, a histogram
// stale marker must end its series in both, and the native-histogram queries both PromQL versions
// define alike must answer alike.
//
// Prometheus' WAL watcher forwards only samples stamped after it started, so the data begins just
// after Prometheus' start and runs a few minutes ahead of the clock (Vigil takes up to 10 minutes).
// Samples sit half a second off the whole seconds the queries are asked at, so no sample lies on a
// range's start, where Prometheus 2 (left-closed) and 3 (left-open, which Vigil follows) differ.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { STALE_NAN } from '../../core/model/value.js';
import { getJson, postWrite, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { prometheusReceiver } from '../../testkit/remote_receivers.js';
import { encodeHistogramWriteRequest } from '../../testkit/rw_histogram.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const N = 180;
const STEP = 1000;

/**
 * Counter histogram k of series s: integer counts growing with k; series 1 uses schema 0 (sums
 * across series reduce the others' resolution to it), series 2 has a counter reset half way. Counts
 * start well above zero: a rate whose window starts near a counter's zero is cut at the zero point
 * by Prometheus 3 (and Vigil), not by 2.42 (see README).
 */
function histogram(s: number, k: number): FloatHistogram {
  const j = 40 + (s === 2 && k >= N / 2 ? k - N / 2 : k);
  const pos = [j + 1, 2 * j + s, 3 + (j % 7), Math.floor(j / 3)];
  const neg = [s + j];
  const zero = Math.floor(j / 2);
  return FloatHistogram.of({
    schema: s === 1 ? 0 : 2,
    zeroThreshold: 0.001,
    zeroCount: zero,
    count: pos.reduce((a, b) => a + b, 0) + neg[0]! + zero,
    sum: j * 1.75 - s,
    positiveSpans: [
      { offset: -2, length: 2 },
      { offset: 3, length: 2 },
    ],
    positiveBuckets: pos,
    negativeSpans: [{ offset: 1, length: 1 }],
    negativeBuckets: neg,
  });
}

type Result = {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, ApiHist];
  values?: unknown[];
  histograms?: Array<[number, ApiHist]>;
};
type ApiHist = { count: string; sum: string; buckets?: Array<[number, string, string, string]> };

async function ask(url: string, path: string): Promise<{ result: Result[]; status: string; error?: string }> {
  const r = await getJson(`${url}${path}`);
  return { status: r.body.status, ...(r.body.error ? { error: r.body.error } : {}), result: (r.body.data as { result: Result[] } | undefined)?.result ?? [] };
}

/** Equal, allowing the last bits of float text (bucket bounds: Prometheus reads a table of constants, Vigil computes them; sums of floats in another order). */
function close(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
}

function sameHist(p: ApiHist, v: ApiHist, what: string): void {
  assert.ok(close(p.count, v.count) && close(p.sum, v.sum), `${what}: count/sum ${p.count}/${p.sum} vs ${v.count}/${v.sum}`);
  const pb = p.buckets ?? [];
  const vb = v.buckets ?? [];
  assert.equal(pb.length, vb.length, `${what}: buckets ${JSON.stringify(pb)} vs ${JSON.stringify(vb)}`);
  pb.forEach((b, i) => {
    const w = vb[i]!;
    assert.ok(
      b[0] === w[0] && close(b[1], w[1]) && close(b[2], w[2]) && close(b[3], w[3]),
      `${what}: bucket ${i} ${JSON.stringify(b)} vs ${JSON.stringify(w)}`,
    );
  });
}

/** Compares two results series by series (sorted by labels): floats, histograms, either as instant or range. */
function sameResults(p: Result[], v: Result[], what: string): void {
  const key = (r: Result): string => JSON.stringify(Object.entries(r.metric).sort());
  const ps = [...p].sort((a, b) => key(a).localeCompare(key(b)));
  const vs = [...v].sort((a, b) => key(a).localeCompare(key(b)));
  assert.deepEqual(ps.map(key), vs.map(key), `${what}: series`);
  ps.forEach((a, i) => {
    const b = vs[i]!;
    const w = `${what} ${key(a)}`;
    if (a.value || b.value) {
      assert.ok(
        a.value && b.value && a.value[0] === b.value[0] && close(a.value[1], b.value[1]),
        `${w}: ${JSON.stringify(a.value)} vs ${JSON.stringify(b.value)}`,
      );
    }
    if (a.histogram || b.histogram) {
      assert.ok(
        a.histogram && b.histogram && a.histogram[0] === b.histogram[0],
        `${w}: histogram ${JSON.stringify(a.histogram)} vs ${JSON.stringify(b.histogram)}`,
      );
      sameHist(a.histogram[1], b.histogram[1], w);
    }
    const pv = (a.values ?? []) as Array<[number, string]>;
    const vv = (b.values ?? []) as Array<[number, string]>;
    assert.equal(pv.length, vv.length, `${w}: values ${JSON.stringify(pv)} vs ${JSON.stringify(vv)}`);
    pv.forEach((x, j) => assert.ok(x[0] === vv[j]![0] && close(x[1], vv[j]![1]), `${w}: value ${JSON.stringify(x)} vs ${JSON.stringify(vv[j])}`));
    const ph = a.histograms ?? [];
    const vh = b.histograms ?? [];
    assert.equal(ph.length, vh.length, `${w}: ${ph.length} vs ${vh.length} histograms`);
    ph.forEach((x, j) => {
      assert.equal(x[0], vh[j]![0], `${w}: histogram time`);
      sameHist(x[1], vh[j]![1], `${w} at ${x[0]}`);
    });
  });
}

test('Prometheus 2.42 forwards native histograms to Vigil; stored histograms and native-histogram queries equal its own', { timeout: 180_000 }, async () => {
  const vigil = await startServer();
  cleanups.push(() => vigil.stop());
  const { dir, cleanup } = tempDir('vigil-nh-from-prom-');
  const prom = await prometheusReceiver(dir, {
    nativeHistograms: true,
    config: `remote_write:\n  - url: ${vigil.url}/api/v1/write\n    send_native_histograms: true\n    queue_config: { batch_send_deadline: 500ms, min_backoff: 30ms, max_backoff: 1s }\n`,
  });
  await prom.start();
  cleanups.push(async () => {
    await prom.stop();
    cleanup();
  });
  // After the watcher's start (Prometheus is ready), on a whole second, samples half a second past.
  const base = Math.ceil((Date.now() + 2000) / 1000) * 1000;
  const at = (k: number): number => base + k * STEP + 500;
  const series: Array<{ labels: Labels; ts: number[]; hs: FloatHistogram[] }> = [0, 1, 2].map((s) => ({
    labels: labelsFrom({ __name__: 'nh_requests', job: s < 2 ? 'api' : 'db', instance: `i${s}` }),
    ts: [],
    hs: [],
  }));
  for (let k = 0; k < N; k++)
    series.forEach((x, s) => {
      x.ts.push(at(k));
      x.hs.push(histogram(s, k));
    });
  // In batches, as a sender would, so the forwarding runs through several WAL records.
  for (let from = 0; from < N; from += 30) {
    const part = series.map((x) => ({ labels: x.labels, ts: x.ts.slice(from, from + 30), hs: x.hs.slice(from, from + 30) }));
    const r = await postWrite(prom.url, snappyEncode(encodeHistogramWriteRequest(part)));
    assert.equal(r.status, 204, `Prometheus' receiver: ${r.text}`);
  }
  // A series that ends with a histogram stale marker (sum = the staleness NaN).
  const gone = { labels: labelsFrom({ __name__: 'nh_gone', job: 'api' }), ts: [] as number[], hs: [] as FloatHistogram[] };
  for (let k = 0; k < 60; k++) {
    gone.ts.push(at(k));
    gone.hs.push(histogram(0, k));
  }
  gone.ts.push(at(60));
  gone.hs.push(FloatHistogram.of({ sum: STALE_NAN }));
  const rg = await postWrite(prom.url, snappyEncode(encodeHistogramWriteRequest([gone])));
  assert.equal(rg.status, 204, `Prometheus' receiver: ${rg.text}`);
  const end = base + (N - 1) * STEP;
  const afterMarker = `/api/v1/query?query=nh_gone&time=${(at(60) + 1500) / 1000}`;
  await waitFor(
    'the stale marker forwarded to Vigil',
    async () => {
      const n = await ask(vigil.url, `/api/v1/query?query=${encodeURIComponent('count_over_time(nh_gone[10m])')}&time=${(at(60) + 1500) / 1000}`);
      return n.result[0]?.value?.[1] === '60' && (await ask(vigil.url, afterMarker)).result.length === 0 ? true : undefined;
    },
    90_000,
    500,
  );
  assert.deepEqual((await ask(prom.url, afterMarker)).result, [], 'Prometheus: the series ended at its marker');
  const beforeMarker = `/api/v1/query?query=nh_gone&time=${(at(59) + 200) / 1000}`;
  sameResults((await ask(prom.url, beforeMarker)).result, (await ask(vigil.url, beforeMarker)).result, 'nh_gone before its marker');
  assert.equal((await ask(vigil.url, beforeMarker)).result.length, 1);
  await waitFor(
    'every histogram forwarded to Vigil',
    async () => {
      const r = await ask(vigil.url, `/api/v1/query?query=${encodeURIComponent('count_over_time(nh_requests[10m])')}&time=${(end + 1000) / 1000}`);
      return r.result.length === 3 && r.result.every((x) => x.value?.[1] === String(N)) ? true : undefined;
    },
    90_000,
    500,
  );

  // The stored histograms: every raw sample, and query_range's histograms field, equal Prometheus'.
  const raw = `/api/v1/query?query=${encodeURIComponent('nh_requests[10m]')}&time=${(end + 1000) / 1000}`;
  const [pRaw, vRaw] = [await ask(prom.url, raw), await ask(vigil.url, raw)];
  assert.equal(pRaw.result.length, 3);
  assert.equal(pRaw.result[0]!.histograms!.length, N);
  sameResults(pRaw.result, vRaw.result, 'raw samples');
  const range = `&start=${(base + 10_000) / 1000}&end=${end / 1000}&step=7`;
  const rangeOf = (q: string): string => `/api/v1/query_range?query=${encodeURIComponent(q)}${range}`;
  sameResults((await ask(prom.url, rangeOf('nh_requests'))).result, (await ask(vigil.url, rangeOf('nh_requests'))).result, 'query_range nh_requests');

  // Queries both versions define alike, as range queries over the whole data.
  // [Vigil's, Prometheus'] where 2.42 lacks the operation: it answers histogram × scalar with the
  // histogram unchanged and avg of histograms with 0, and cannot divide a histogram, so these
  // results are checked against expressions 2.42 has that mean the same.
  const exprs: Array<string | [string, string]> = [
    'histogram_count(nh_requests)',
    'histogram_sum(nh_requests)',
    'histogram_count(rate(nh_requests[30s]))',
    'histogram_sum(rate(nh_requests[30s]))',
    'rate(nh_requests[30s])',
    'increase(nh_requests[1m])',
    'histogram_count(increase(nh_requests[1m]))',
    'sum(nh_requests)',
    'sum by (job) (nh_requests)',
    ['histogram_sum(avg by (job) (nh_requests))', 'histogram_sum(sum by (job) (nh_requests)) / on (job) count by (job) (nh_requests)'],
    ['histogram_count(avg by (job) (nh_requests))', 'histogram_count(sum by (job) (nh_requests)) / on (job) count by (job) (nh_requests)'],
    'sum by (job) (rate(nh_requests[30s]))',
    'histogram_sum(sum by (job) (nh_requests))',
    ['nh_requests * 2', 'nh_requests + nh_requests'],
    ['histogram_count(3 * nh_requests)', '3 * histogram_count(nh_requests)'],
    ['histogram_sum(nh_requests / 4)', 'histogram_sum(nh_requests) / 4'],
    ['histogram_sum(nh_requests * -1)', '-histogram_sum(nh_requests)'],
    'count_over_time(nh_requests[20s])',
    'histogram_quantile(0, nh_requests)',
    'histogram_quantile(1, nh_requests)',
    'histogram_fraction(0, 1, nh_requests)',
    'histogram_fraction(-1, 1, nh_requests)',
    'histogram_fraction(0, 0.0005, nh_requests)',
    'histogram_fraction(0, 4, nh_requests)',
    'histogram_fraction(-Inf, +Inf, nh_requests)',
  ];
  const diffs: string[] = [];
  for (const x of exprs) {
    const [ve, pe] = typeof x === 'string' ? [x, x] : x;
    const e = ve === pe ? ve : `${ve} (Prometheus: ${pe})`;
    const [p, v] = [await ask(prom.url, rangeOf(pe)), await ask(vigil.url, rangeOf(ve))];
    assert.equal(p.status, 'success', `${e}: Prometheus: ${p.error}`);
    assert.equal(v.status, 'success', `${e}: Vigil: ${v.error}`);
    assert.ok(p.result.length > 0, `${e}: an answer`);
    try {
      sameResults(p.result, v.result, e);
    } catch (err) {
      diffs.push((err as Error).message.split('\n')[0]!);
    }
  }
  assert.deepEqual(diffs, []);

  // Inside a bucket Prometheus 3 (and Vigil) interpolate exponentially, 2.42 linearly: the answers
  // differ a little but must lie in the same bucket (series i1 has schema 0, the others 2).
  for (const e of ['histogram_quantile(0.5, nh_requests)', 'histogram_quantile(0.9, rate(nh_requests[30s]))', 'histogram_quantile(0.01, nh_requests)']) {
    const [p, v] = [(await ask(prom.url, rangeOf(e))).result, (await ask(vigil.url, rangeOf(e))).result];
    assert.equal(p.length, 3, e);
    const bucket = (x: string, schema: number): number => Math.sign(Number(x)) * Math.ceil(Math.log2(Math.abs(Number(x))) * 2 ** schema);
    for (const ps of p) {
      const vs = v.find((x) => x.metric['instance'] === ps.metric['instance'])!;
      const schema = ps.metric['instance'] === 'i1' ? 0 : 2;
      const pv = ps.values as Array<[number, string]>;
      const vv = vs.values as Array<[number, string]>;
      assert.equal(pv.length, vv.length, e);
      let differ = 0;
      pv.forEach(([t, x], i) => {
        assert.equal(vv[i]![0], t);
        assert.equal(bucket(vv[i]![1], schema), bucket(x, schema), `${e} ${ps.metric['instance']} at ${t}: ${x} vs ${vv[i]![1]}`);
        if (x !== vv[i]![1]) differ++;
      });
      if (schema === 2) assert.ok(differ > 0, `${e}: the interpolations differ somewhere (else this check is moot)`);
    }
  }
});
