/**
 * Native histograms over remote_write 1.0 and 2.0 against a started server: stored and read back
 * through the query API equal to what was sent (integer and float counts, schemas -4 and 8, custom
 * buckets), a histogram stale marker ending its series, the 2.0 Histograms-Written header and a
 * created timestamp's empty histogram, and bad histograms refused with a 400 naming the series and
 * field while nothing of their request is written.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { STALE_NAN } from '../../core/model/value.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { apiHistogram } from '../../metrics/promql/engine/value.js';
import { encodeLabels, WriteRequestEncoder } from '../../metrics/remotewrite/proto.js';
import { getJson, postWrite, startServer } from '../../testkit/helpers.js';
import { encodeHistogramWriteRequest } from '../../testkit/rw_histogram.js';
import { encodeV2Request, lenField } from '../../testkit/rw2.js';

const srv = await startServer();
after(() => srv.stop());

const T = Math.floor(Date.now() / 1000) * 1000 - 600_000;

function counter(k: number, schema = 1): FloatHistogram {
  const pos = [k, 2 * k + 1, 3];
  return FloatHistogram.of({
    schema,
    zeroThreshold: 0.001,
    zeroCount: k,
    count: k + pos.reduce((a, b) => a + b, 0) + 2,
    sum: 1.25 * k,
    positiveSpans: [
      { offset: -1, length: 2 },
      { offset: 2, length: 1 },
    ],
    positiveBuckets: pos,
    negativeSpans: [{ offset: 0, length: 1 }],
    negativeBuckets: [2],
  });
}

const float = (k: number): FloatHistogram => counter(k, 3).with({ count: counter(k, 3).count + 0.5, zeroCount: k + 0.5, counterResetHint: 'gauge' });
const custom = (k: number): FloatHistogram =>
  FloatHistogram.of({
    schema: -53,
    customValues: [0.1, 0.5, 2],
    count: 3 * k + 1,
    sum: k,
    positiveSpans: [{ offset: 0, length: 4 }],
    positiveBuckets: [k, k, k, 1],
  });

type ApiHist = ReturnType<typeof apiHistogram>;

/** The raw histogram samples of `selector` in [start, end] (a range selector, so each sample once). */
async function rangeHistograms(
  selector: string,
  start: number,
  end: number,
): Promise<Array<{ metric: Record<string, string>; histograms?: Array<[number, ApiHist]> }>> {
  const r = await getJson(`${srv.url}/api/v1/query?query=${encodeURIComponent(`${selector}[${end - start + 1}ms]`)}&time=${end / 1000}`);
  assert.equal(r.body.status, 'success', JSON.stringify(r.body));
  return (r.body.data as { result: Array<{ metric: Record<string, string>; histograms?: Array<[number, ApiHist]> }> }).result;
}

async function instant(q: string, t: number): Promise<unknown[]> {
  const r = await getJson(`${srv.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${t / 1000}`);
  assert.equal(r.body.status, 'success', JSON.stringify(r.body));
  return (r.body.data as { result: unknown[] }).result;
}

const series = (name: string, make: (k: number) => FloatHistogram, n: number): { labels: Labels; ts: number[]; hs: FloatHistogram[] } => ({
  labels: labelsFrom({ __name__: name, job: 'rw' }),
  ts: Array.from({ length: n }, (_, k) => T + k * 1000),
  hs: Array.from({ length: n }, (_, k) => make(k)),
});

test('remote_write 1.0 histograms are stored as sent: integer, float, schemas -4 and 8, custom buckets', async () => {
  const sent = [
    series('rw_int', (k) => counter(k), 5),
    series('rw_float', float, 5),
    series('rw_schema_min', (k) => counter(k, -4), 3),
    series('rw_schema_max', (k) => counter(k, 8), 3),
    series('rw_custom', custom, 4),
  ];
  // A float series in the same request.
  const floats = new WriteRequestEncoder();
  floats.addSeries(labelsFrom({ __name__: 'rw_plain', job: 'rw' }), [T], [42]);
  const r = await postWrite(srv.url, snappyEncode(Buffer.concat([floats.finish(), encodeHistogramWriteRequest(sent)])));
  assert.equal(r.status, 204, r.text);
  for (const s of sent) {
    const name = s.labels.find((l) => l.name === '__name__')!.value;
    const got = await rangeHistograms(name, T, T + 10_000);
    assert.equal(got.length, 1, name);
    assert.deepEqual(
      got[0]!.histograms,
      s.hs.map((h, i) => [(T + i * 1000) / 1000, apiHistogram(h)]),
      name,
    );
  }
  assert.deepEqual(await instant('rw_plain', T), [{ metric: { __name__: 'rw_plain', job: 'rw' }, value: [T / 1000, '42'] }]);
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(metrics, /vigil_remote_write_histograms_total 20\n/);
});

test('a histogram whose sum is the stale marker ends the series', async () => {
  const s = series('rw_stale', (k) => counter(k), 3);
  s.hs[2] = FloatHistogram.of({ sum: STALE_NAN });
  const r = await postWrite(srv.url, snappyEncode(encodeHistogramWriteRequest([s])));
  assert.equal(r.status, 204, r.text);
  assert.equal((await instant('rw_stale', T + 1500)).length, 1, 'present before the marker');
  assert.deepEqual(await instant('rw_stale', T + 2500), [], 'gone after the marker, inside the lookback');
  assert.deepEqual(await instant('count_over_time(rw_stale[1m])', T + 3000), [{ metric: { job: 'rw' }, value: [(T + 3000) / 1000, '2'] }]);
});

/** A TimeSeries of `labels` with one raw Histogram message. */
function rawHistogramSeries(labels: Labels, msg: Buffer): Buffer {
  return lenField(1, Buffer.concat([encodeLabels(labels).bytes, lenField(4, msg)]));
}

test('a bad histogram refuses its whole request with a 400 naming the series and the field', async () => {
  const good = series('rw_all_or_nothing', (k) => counter(k), 2);
  const floats = new WriteRequestEncoder();
  floats.addSeries(labelsFrom({ __name__: 'rw_all_or_nothing_floats' }), [T], [1]);
  // schema 9 (zigzag 18), count 0.
  const bad = rawHistogramSeries(labelsFrom({ __name__: 'rw_bad', job: 'rw' }), Buffer.from([0x08, 0x00, 0x20, 18, 0x78, 0x01]));
  const r = await postWrite(srv.url, snappyEncode(Buffer.concat([floats.finish(), encodeHistogramWriteRequest([good]), bad])));
  assert.equal(r.status, 400);
  assert.equal(r.text.trim(), 'invalid native histogram of rw_bad{job="rw"}: schema: 9 is not between -4 and 8 (or -53 for custom buckets)');
  assert.deepEqual(await instant('{__name__=~"rw_all_or_nothing.*|rw_bad"}', T + 1000), []);
  // Out of order within a series: the TSDB's refusal, the request again written not at all.
  const backwards = series('rw_backwards', (k) => counter(k), 2);
  backwards.ts.reverse();
  const r2 = await postWrite(srv.url, snappyEncode(encodeHistogramWriteRequest([good, backwards])));
  assert.equal(r2.status, 400);
  assert.match(r2.text, /rw_backwards/);
  assert.deepEqual(await instant('{__name__=~"rw_all_or_nothing|rw_backwards"}', T + 1000), []);
});

const V2_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

async function postV2(body: Buffer): Promise<{ status: number; text: string; written: string[] }> {
  const res = await fetch(`${srv.url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': V2_TYPE, 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '2.0.0' },
    body: snappyEncode(body),
  });
  return {
    status: res.status,
    text: await res.text(),
    written: ['samples', 'histograms', 'exemplars'].map((k) => res.headers.get(`x-prometheus-remote-write-${k}-written`) ?? ''),
  };
}

test('remote_write 2.0 histograms are stored; Histograms-Written counts them; a created timestamp adds an empty histogram', async () => {
  const hs = [counter(3), counter(5)];
  const res = await postV2(
    encodeV2Request([
      { labels: labelsFrom({ __name__: 'rw2_hist', job: 'rw' }), histograms: hs.map((h, i) => ({ t: T + i * 1000, h })), createdTs: T - 1000 },
      { labels: labelsFrom({ __name__: 'rw2_custom', job: 'rw' }), histograms: [{ t: T, h: custom(2) }] },
      { labels: labelsFrom({ __name__: 'rw2_up', job: 'rw' }), ts: [T], vs: [1] },
    ]),
  );
  assert.equal(res.status, 204, res.text);
  assert.deepEqual(res.written, ['1', '3', '0']);
  const got = await rangeHistograms('rw2_hist', T - 1000, T + 1000);
  const empty = FloatHistogram.of({ schema: 1, zeroThreshold: 0.001 });
  assert.deepEqual(got[0]!.histograms, [
    [(T - 1000) / 1000, apiHistogram(empty)],
    [T / 1000, apiHistogram(hs[0]!)],
    [(T + 1000) / 1000, apiHistogram(hs[1]!)],
  ]);
  assert.deepEqual((await rangeHistograms('rw2_custom', T, T))[0]!.histograms, [[T / 1000, apiHistogram(custom(2))]]);
});

test('remote_write 2.0: a bad histogram is a 400 naming it, nothing written, zero Written headers', async () => {
  const spansTooLong = counter(1).with({ positiveSpans: [{ offset: 0, length: 9 }] });
  const res = await postV2(
    encodeV2Request([
      { labels: labelsFrom({ __name__: 'rw2_ok', job: 'rw' }), ts: [T], vs: [1], histograms: [] },
      { labels: labelsFrom({ __name__: 'rw2_bad', job: 'rw' }), histograms: [{ t: T, h: spansTooLong }] },
    ]),
  );
  assert.equal(res.status, 400);
  assert.match(res.text, /invalid native histogram of rw2_bad\{job="rw"\}: positive_spans: spans cover 9 buckets but 3 positive bucket counts were sent/);
  assert.deepEqual(res.written, ['0', '0', '0']);
  assert.deepEqual(await instant('{__name__=~"rw2_ok|rw2_bad"}', T), []);
});
