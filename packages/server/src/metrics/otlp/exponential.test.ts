/**
 * OTLP exponential histograms into native histograms against a real head: the layout (scale to
 * schema, index shift, spans), downscaling past schema 8, the zero bucket, refusals in
 * partial_success, delta points added up (also after the ingestor starts over and reads its totals
 * back from the store), the protobuf decoder agreeing with the JSON one on what the real SDK
 * serializes, and agent mode's refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { isStaleNaN } from '../../core/model/value.js';
import { tempDir } from '../../testkit/helpers.js';
import { ExemplarStorage } from '../exemplars/storage.js';
import { AgentStorage } from '../tsdb/agent.js';
import { Head } from '../tsdb/head.js';
import { OtlpMetricsError } from './errors.js';
import { DEFAULT_ZERO_THRESHOLD } from './exponential.js';
import { OtlpMetricsIngestor } from './ingest.js';

const NOW = Date.UTC(2026, 0, 1);
const ns = (ms: number): string => String(BigInt(ms) * 1_000_000n);

interface Buckets {
  offset: number;
  bucketCounts: string[];
}

/** An exponentialHistogram data point in OTLP/JSON. */
function point(t: number, scale: number, count: number, positive: Buckets, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { timeUnixNano: ns(t), scale, count: String(count), positive, ...more };
}

function body(temporality: number, points: unknown[], name = 'latency'): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
          scopeMetrics: [{ metrics: [{ name, unit: 's', exponentialHistogram: { aggregationTemporality: temporality, dataPoints: points } }] }],
        },
      ],
    }),
  );
}

/** The samples of `name` in the head: floats as numbers, histograms as FloatHistograms. */
function samples(head: Head, name: string): Array<[number, number | FloatHistogram]> {
  const q = head.querier(0, Number.MAX_SAFE_INTEGER);
  const set = q.select({ start: 0, end: Number.MAX_SAFE_INTEGER }, [new Matcher('=', '__name__', name)]);
  const out: Array<[number, number | FloatHistogram]> = [];
  while (set.next()) {
    const it = set.at().iterator();
    while (it.next()) out.push([it.t(), it.h?.() ?? it.v()]);
  }
  q.close();
  return out;
}

function assertHistogram(got: number | FloatHistogram | undefined, want: FloatHistogram, what: string): void {
  assert.ok(got instanceof FloatHistogram, `${what}: a histogram sample`);
  assert.ok(got.equals(want), `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

test('layout: scale to schema, OTLP index i to native index i+1, both sides, the zero bucket, scale 10 merged down to schema 8', () => {
  const head = new Head({ now: () => NOW });
  const exemplars = new ExemplarStorage({ maxExemplars: 10 });
  const ing = new OtlpMetricsIngestor(head, { now: () => NOW, exemplars });
  const res = ing.ingest(
    body(2, [
      point(
        NOW,
        2,
        7,
        { offset: -1, bucketCounts: ['1', '0', '0', '0', '2'] },
        {
          negative: { offset: 0, bucketCounts: ['3'] },
          zeroCount: '1',
          sum: 12.5,
          min: -2,
          max: 3,
          exemplars: [{ timeUnixNano: ns(NOW - 5), asDouble: 2.5, traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708' }],
        },
      ),
      // Scale 10: OTLP buckets 5..9 fall in schema-8 buckets floor(i/4)+1 = 2,2,2,3,3; -3..-2 in 0.
      point(
        NOW + 1000,
        10,
        7,
        { offset: 5, bucketCounts: ['1', '1', '1', '1', '1'] },
        { negative: { offset: -3, bucketCounts: ['1', '1'] }, sum: 9, zeroThreshold: 0.001 },
      ),
    ]),
    'json',
  );
  assert.deepEqual(res, { accepted: 2, rejected: 0, message: '' });
  const got = samples(head, 'latency_seconds');
  assert.deepEqual(
    got.map(([t]) => t),
    [NOW, NOW + 1000],
  );
  assertHistogram(
    got[0]![1],
    FloatHistogram.of({
      schema: 2,
      zeroThreshold: DEFAULT_ZERO_THRESHOLD,
      zeroCount: 1,
      count: 7,
      sum: 12.5,
      positiveSpans: [
        { offset: 0, length: 1 },
        { offset: 3, length: 1 },
      ],
      positiveBuckets: [1, 2],
      negativeSpans: [{ offset: 1, length: 1 }],
      negativeBuckets: [3],
    }),
    'scale 2',
  );
  assertHistogram(
    got[1]![1],
    FloatHistogram.of({
      schema: 8,
      zeroThreshold: 0.001,
      count: 7,
      sum: 9,
      positiveSpans: [{ offset: 2, length: 2 }],
      positiveBuckets: [3, 2],
      negativeSpans: [{ offset: 0, length: 1 }],
      negativeBuckets: [2],
    }),
    'scale 10',
  );
  // The exemplar is on the histogram's own series, as Prometheus keeps native histograms' exemplars.
  const ex = exemplars.select(0, NOW + 10_000, [[new Matcher('=', '__name__', 'latency_seconds')]]);
  assert.deepEqual(
    ex.map((r) => [Object.fromEntries(r.seriesLabels.map((l) => [l.name, l.value])), r.exemplars.map((e) => [e.value, e.ts])]),
    [[{ __name__: 'latency_seconds', job: 'api' }, [[2.5, NOW - 5]]]],
  );
  // Each observation's bucket still holds it: OTLP scale-10 bucket 9 is (2^(9/1024), 2^(10/1024)], inside schema-8 bucket 3.
  const top = [...(got[1]![1] as FloatHistogram).positiveBucketList()].at(-1)!;
  assert.ok(top.lower <= 2 ** (9 / 1024) && 2 ** (10 / 1024) <= top.upper * (1 + 1e-12));
});

test('refused alone in partial_success: scale below -4, counts that disagree, a negative count; a NaN sum allows observations in no bucket', () => {
  const head = new Head({ now: () => NOW });
  const ing = new OtlpMetricsIngestor(head, { now: () => NOW });
  const ok = { offset: 0, bucketCounts: ['2'] };
  const res = ing.ingest(
    body(2, [
      point(NOW, -10, 2, ok),
      point(NOW + 1000, 0, 3, ok),
      point(NOW + 2000, 0, 2, { offset: 0, bucketCounts: ['-1', '3'] }),
      point(NOW + 3000, 0, 5, ok, { sum: 'NaN' }),
      point(NOW + 4000, 0, 2, ok, { sum: 1.5 }),
    ]),
    'json',
  );
  assert.equal(res.accepted, 2);
  assert.equal(res.rejected, 3);
  assert.match(res.message, /exponential histogram latency_seconds: scale -10 is below -4/);
  assert.match(res.message, /the buckets hold 2 observations \(zero bucket included\) but count is 3/);
  assert.match(res.message, /a negative count/);
  const got = samples(head, 'latency_seconds');
  assert.deepEqual(
    got.map(([t]) => t),
    [NOW + 3000, NOW + 4000],
  );
  assert.ok(Number.isNaN((got[0]![1] as FloatHistogram).sum));
  assert.equal((got[1]![1] as FloatHistogram).count, 2);
});

test('delta points add up bucket by bucket at the coarser schema; "no recorded value" is a staleness marker; totals come back from the store', () => {
  const head = new Head({ now: () => NOW });
  let ing = new OtlpMetricsIngestor(head, { now: () => NOW });
  // Scale 1, OTLP bucket 0 = (1, 2^0.5]; scale 0, bucket 0 = (1, 2]: both in schema-0 bucket 1.
  ing.ingest(body(1, [point(NOW, 1, 2, { offset: 0, bucketCounts: ['2'] }, { sum: 2.5 })]), 'json');
  ing.ingest(body(1, [point(NOW + 1000, 0, 2, { offset: 0, bucketCounts: ['1'] }, { sum: 4.5, zeroCount: '1' })]), 'json');
  const late = ing.ingest(body(1, [point(NOW + 500, 0, 1, { offset: 0, bucketCounts: ['1'] })]), 'json');
  assert.match(late.message, /delta sample at .* is not after the series' latest/);
  ing.ingest(body(1, [point(NOW + 2000, 0, 0, { offset: 0, bucketCounts: [] }, { flags: 1 })]), 'json');
  // A new ingestor knows no totals: it reads the newest histogram from the store, past the marker.
  ing = new OtlpMetricsIngestor(head, { now: () => NOW });
  ing.ingest(body(1, [point(NOW + 3000, 2, 1, { offset: -1, bucketCounts: ['1'] }, { sum: 1 })]), 'json');
  const got = samples(head, 'latency_seconds');
  assert.deepEqual(
    got.map(([t]) => t),
    [NOW, NOW + 1000, NOW + 2000, NOW + 3000],
  );
  const schema1 = { schema: 1, zeroThreshold: DEFAULT_ZERO_THRESHOLD, count: 2, sum: 2.5, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2] };
  assertHistogram(got[0]![1], FloatHistogram.of(schema1), 'first delta');
  const second = {
    schema: 0,
    zeroThreshold: DEFAULT_ZERO_THRESHOLD,
    zeroCount: 1,
    count: 4,
    sum: 7,
    positiveSpans: [{ offset: 1, length: 1 }],
    positiveBuckets: [3],
  };
  assertHistogram(got[1]![1], FloatHistogram.of(second), 'first + second');
  assert.ok(typeof got[2]![1] === 'number' && isStaleNaN(got[2]![1]), 'a float staleness marker');
  // Scale 2, OTLP bucket -1 = (2^-0.25, 1]: schema-0 bucket 0.
  assertHistogram(
    got[3]![1],
    FloatHistogram.of({ ...second, count: 5, sum: 8, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 3] }),
    'after the restart',
  );
});

/** A reader that hands over what the SDK collected. */
class Collector extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

test('the protobuf decoder stores what the JSON decoder stores for the SDK`s exponential histograms; a truncated body is a 400', async () => {
  const reader = new Collector({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const mp = new MeterProvider({
    readers: [reader],
    views: [{ instrumentName: '*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 20 } } }],
  });
  const h = mp.getMeter('m').createHistogram('work.duration', { unit: 's' });
  for (const v of [0, 0.003, 0.2, 0.21, 7, 7.5, 1000]) h.record(v, { route: '/a' });
  h.record(1.5, { route: '/b' });
  const { resourceMetrics } = await reader.collect();
  const proto = Buffer.from(ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!);
  const json = Buffer.from(JsonMetricsSerializer.serializeRequest(resourceMetrics)!);
  const stored = (enc: 'json' | 'protobuf', b: Buffer): FloatHistogram[] => {
    const head = new Head();
    const res = new OtlpMetricsIngestor(head).ingest(b, enc);
    assert.deepEqual([res.rejected, res.message], [0, '']);
    return samples(head, 'work_duration_seconds').map(([, x]) => x as FloatHistogram);
  };
  const fromProto = stored('protobuf', proto);
  const fromJson = stored('json', json);
  assert.equal(fromProto.length, 2);
  for (let i = 0; i < 2; i++) assert.ok(fromProto[i]!.equals(fromJson[i]!), `series ${i}`);
  // maxSize 20 over 0.003..1000 forces a coarse scale; one value alone keeps the SDK's scale 20, merged down to 8.
  const [a, b] = fromProto;
  assert.deepEqual([a!.count, a!.zeroCount, b!.count, b!.schema], [7, 1, 1, 8]);
  assert.ok(a!.schema < 8 && a!.schema >= -4);
  assert.ok(Math.abs(a!.sum - 1014.913) < 1e-9);
  const bucket = [...b!.positiveBucketList()];
  assert.equal(bucket.length, 1);
  assert.ok(bucket[0]!.lower < 1.5 && 1.5 <= bucket[0]!.upper && bucket[0]!.upper / bucket[0]!.lower < 1.003);
  for (const cut of [proto.length - 1, Math.floor(proto.length / 2), 7])
    assert.throws(
      () => new OtlpMetricsIngestor(new Head()).ingest(proto.subarray(0, cut), 'protobuf'),
      (e: unknown) => e instanceof OtlpMetricsError && e.status === 400 && /malformed OTLP protobuf ExportMetricsServiceRequest: cannot read/.test(e.message),
      `cut at ${cut} of ${proto.length}`,
    );
  await mp.shutdown();
});

test('agent mode keeps native histograms: delta points add up from the newest total, which a restart reads back from the WAL', async () => {
  const { dir, cleanup } = tempDir('vigil-otlpexp-agent-');
  const walDir = path.join(dir, 'wal');
  const t = Date.now() - 10_000;
  const delta = (at: number, count: number) => body(1, [point(at, 0, count, { offset: 0, bucketCounts: [String(count)] })]);
  let agent = new AgentStorage({ walDir, truncateIntervalMs: 0 });
  try {
    agent.start();
    assert.equal(new OtlpMetricsIngestor(agent).ingest(delta(t, 2), 'json').rejected, 0);
    assert.equal(new OtlpMetricsIngestor(agent).ingest(delta(t + 1000, 3), 'json').rejected, 0);
    await agent.stop();
    agent = new AgentStorage({ walDir, truncateIntervalMs: 0 });
    agent.start();
    const res = new OtlpMetricsIngestor(agent).ingest(delta(t + 2000, 4), 'json');
    assert.equal(res.rejected, 0, res.message);
    const latest = agent.latestSample(labelsFrom({ __name__: 'latency_seconds', job: 'api' }), t + 2000, 60_000);
    assert.equal(latest?.t, t + 2000);
    assert.equal(latest?.h?.count, 9, 'two deltas before the restart and one after');
    assert.deepEqual(latest?.h?.positiveBuckets, [9]);
  } finally {
    await agent.stop();
    cleanup();
  }
});
