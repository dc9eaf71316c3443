/**
 * OTLP exponential histograms from the real OpenTelemetry JS SDK (a view with the exponential
 * histogram aggregation), through the protobuf and JSON exporters, into a `vigil start` child
 * process: the native histograms are read back over /api/v1/query value by value (count, sum,
 * every bucket in the raw `histogram` field, and histogram_count / histogram_sum /
 * histogram_quantile). Delta histograms add up across a kill -9 and restart. Bad points (scale
 * −10, counts that disagree) are refused alone in partial_success; a truncated protobuf is a 400.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationType, MeterProvider, MetricReader, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { exited, freePort, spawnVigil, tempDir, type VigilProcess } from '../../testkit/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function vigil(dir: string, port: number): Promise<VigilProcess> {
  const v = await spawnVigil(dir, port);
  cleanups.push(async () => {
    if (v.proc.exitCode === null && v.proc.signalCode === null) {
      v.proc.kill('SIGTERM');
      await exited(v.proc);
    }
  });
  return v;
}

async function fresh(): Promise<VigilProcess> {
  const { dir, cleanup } = tempDir('vigil-otlpexp-');
  cleanups.push(cleanup);
  return vigil(dir, await freePort());
}

/** A provider whose histograms use the exponential aggregation (at most 160 buckets a side) and export only when flushed. */
function provider(exporter: PushMetricExporter): MeterProvider {
  return new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    views: [{ instrumentName: '*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } }],
  });
}

type Bucket = [number, string, string, string];
interface Raw {
  count: string;
  sum: string;
  buckets: Bucket[];
}

async function api(url: string, q: string): Promise<Array<{ metric: Record<string, string>; value?: [number, string]; histogram?: [number, Raw] }>> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value?: [number, string]; histogram?: [number, Raw] }> };
  };
  assert.equal(body.status, 'success', `query ${q}: ${JSON.stringify(body)}`);
  return body.data.result;
}

async function scalar(url: string, q: string): Promise<number> {
  const r = await api(url, q);
  assert.equal(r.length, 1, `${q}: one series, got ${JSON.stringify(r)}`);
  return Number(r[0]!.value![1]);
}

async function raw(url: string, q: string): Promise<Raw> {
  const r = await api(url, q);
  assert.equal(r.length, 1, `${q}: one series`);
  assert.ok(r[0]!.histogram, `${q}: a native histogram, got ${JSON.stringify(r[0])}`);
  return r[0]!.histogram[1];
}

/** The schema of exponential buckets, from their width (upper = lower · 2^(2^−schema)). */
function schemaOf(b: Bucket): number {
  return Math.round(-Math.log2(Math.log2(Number(b[2]) / Number(b[1]))));
}

/**
 * Checks a raw histogram against the observations: count, sum, a zero bucket holding the zeros, and
 * each positive observation in a bucket `(lower, upper]` of width `schema` whose count is the
 * number of observations it holds; no other bucket.
 */
function checkBuckets(h: Raw, observed: number[], schema: number, what: string): void {
  assert.equal(Number(h.count), observed.length, `${what}: count`);
  assert.ok(Math.abs(Number(h.sum) - observed.reduce((a, b) => a + b, 0)) < 1e-9, `${what}: sum ${h.sum}`);
  const zeros = observed.filter((v) => v === 0).length;
  const zero = h.buckets.find((b) => b[0] === 3);
  // The API writes bounds as Go's 'f' format does: 1e-128 in full decimal digits.
  if (zeros > 0) assert.deepEqual(zero?.map(Number), [3, -1e-128, 1e-128, zeros], `${what}: the zero bucket`);
  const positive = h.buckets.filter((b) => b[0] === 0);
  assert.equal(positive.length + (zero ? 1 : 0), h.buckets.length, `${what}: only positive buckets and the zero bucket`);
  const held = new Map<Bucket, number>();
  for (const v of observed.filter((x) => x > 0)) {
    const b = positive.find((x) => Number(x[1]) < v && v <= Number(x[2]) * (1 + 1e-12));
    assert.ok(b, `${what}: ${v} is in a bucket of ${JSON.stringify(positive)}`);
    held.set(b, (held.get(b) ?? 0) + 1);
  }
  for (const b of positive) {
    assert.equal(schemaOf(b), schema, `${what}: bucket ${JSON.stringify(b)} has schema ${schema}`);
    assert.equal(Number(b[3]), held.get(b), `${what}: bucket ${JSON.stringify(b)} holds its observations`);
  }
}

const LATENCIES = [0, 0.5, 0.75, 3, 100];

/** Records the same observations on every provider: a wide histogram and a narrow one. */
function record(mp: MeterProvider): void {
  const meter = mp.getMeter('otlp-exp-test');
  const latency = meter.createHistogram('http.server.duration', { unit: 's', description: 'Request latency.' });
  for (const v of LATENCIES) latency.record(v, { route: '/cart' });
  const size = meter.createHistogram('rpc.size', { unit: 'By' });
  size.record(1500);
  size.record(1500);
}

async function checkCumulative(url: string): Promise<void> {
  // 0.5 to 100 spans 7.6 powers of two: scale 4 is the finest that fits 160 buckets (scale 5 needs 246).
  checkBuckets(await raw(url, 'http_server_duration_seconds{route="/cart"}'), LATENCIES, 4, 'latency');
  // One value keeps the SDK at scale 20; Prometheus' finest schema is 8, so 2^12 buckets were merged into one.
  checkBuckets(await raw(url, 'rpc_size_bytes'), [1500, 1500], 8, 'size');
  assert.equal(await scalar(url, 'histogram_count(http_server_duration_seconds)'), 5);
  assert.equal(await scalar(url, 'histogram_sum(http_server_duration_seconds)'), 104.25);
  // The median of 0, 0.5, 0.75, 3, 100 is 0.75: the quantile lies in 0.75's bucket, (2^(-7/16), 2^(-6/16)].
  const median = await scalar(url, 'histogram_quantile(0.5, http_server_duration_seconds)');
  assert.ok(median > 2 ** (-7 / 16) && median <= 2 ** (-6 / 16), `median ${median}`);
  const p99 = await scalar(url, 'histogram_quantile(0.99, rpc_size_bytes)');
  assert.ok(Math.abs(p99 - 1500) / 1500 < 2 ** (1 / 256) - 1, `p99 ${p99}`);
  const md = (await (await fetch(`${url}/api/v1/metadata`)).json()) as { data: Record<string, Array<{ type: string; help: string; unit: string }>> };
  assert.deepEqual(md.data['http_server_duration_seconds']?.[0], { type: 'histogram', help: 'Request latency.', unit: 'seconds' });
}

test('the protobuf exporter: exponential histograms stored as native histograms, bucket by bucket', async () => {
  const v = await fresh();
  const mp = provider(new ProtoExporter({ url: `${v.url}/v1/metrics` }));
  record(mp);
  await mp.forceFlush();
  await mp.shutdown();
  await checkCumulative(v.url);
});

test('the JSON exporter: the same native histograms', async () => {
  const v = await fresh();
  const mp = provider(new JsonExporter({ url: `${v.url}/v1/metrics` }));
  record(mp);
  await mp.forceFlush();
  await mp.shutdown();
  await checkCumulative(v.url);
});

test('delta exponential histograms add up, at the coarser schema, and keep adding up after kill -9 and restart', async () => {
  const { dir, cleanup } = tempDir('vigil-otlpexp-');
  cleanups.push(cleanup);
  const port = await freePort();
  let v = await vigil(dir, port);
  const deltaProvider = (): MeterProvider =>
    provider(new JsonExporter({ url: `${v.url}/v1/metrics`, temporalityPreference: AggregationTemporalityPreference.DELTA }));
  const exportOnce = async (values: number[]): Promise<void> => {
    const mp = deltaProvider();
    const h = mp.getMeter('delta').createHistogram('job.duration', { unit: 's' });
    for (const x of values) h.record(x);
    await mp.forceFlush();
    await mp.shutdown();
    // Delta points must be later than the last one: the next export's time is after this one's.
    await new Promise((r) => setTimeout(r, 5));
  };
  // First export: one value, scale 20 merged to schema 8. Second: 0.3 to 40 needs a coarser scale (7 powers of two in 160 buckets: 4).
  await exportOnce([1.5, 1.5]);
  await exportOnce([0.3, 40]);
  const first = await raw(v.url, 'job_duration_seconds');
  checkBuckets(first, [1.5, 1.5, 0.3, 40], 4, 'two deltas');

  v.proc.kill('SIGKILL');
  await exited(v.proc);
  v = await vigil(dir, port);
  checkBuckets(await raw(v.url, 'job_duration_seconds'), [1.5, 1.5, 0.3, 40], 4, 'after the restart');
  await exportOnce([1.5, 7]);
  checkBuckets(await raw(v.url, 'job_duration_seconds'), [1.5, 1.5, 0.3, 40, 1.5, 7], 4, 'three deltas');
  assert.equal(await scalar(v.url, 'histogram_count(job_duration_seconds)'), 6);
  assert.ok(Math.abs((await scalar(v.url, 'histogram_sum(job_duration_seconds)')) - 51.8) < 1e-9);
});

/** A reader that hands over what the SDK collected, for bodies built by hand. */
class Collector extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

test('bad points are refused alone in partial_success (scale -10, counts that disagree); a truncated protobuf is a 400', async () => {
  const v = await fresh();
  const now = String(BigInt(Date.now()) * 1_000_000n);
  const point = (scale: number, count: string, attr: string): unknown => ({
    attributes: [{ key: 'case', value: { stringValue: attr } }],
    timeUnixNano: now,
    scale,
    count,
    sum: 3,
    positive: { offset: 0, bucketCounts: ['2'] },
  });
  const res = await fetch(`${v.url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'bad',
                  exponentialHistogram: { aggregationTemporality: 2, dataPoints: [point(-10, '2', 'scale'), point(0, '5', 'count'), point(0, '2', 'ok')] },
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
  assert.equal(body.partialSuccess.rejectedDataPoints, '2');
  assert.match(body.partialSuccess.errorMessage, /exponential histogram bad: scale -10 is below -4/);
  assert.match(body.partialSuccess.errorMessage, /exponential histogram bad: the buckets hold 2 observations \(zero bucket included\) but count is 5/);
  assert.deepEqual(
    (await api(v.url, 'bad')).map((r) => [r.metric['case'], r.histogram?.[1].count]),
    [['ok', '2']],
  );

  const reader = new Collector();
  const mp = new MeterProvider({ readers: [reader], views: [{ instrumentName: '*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }] });
  mp.getMeter('m').createHistogram('cut').record(2);
  const proto = Buffer.from(ProtobufMetricsSerializer.serializeRequest((await reader.collect()).resourceMetrics)!);
  const cut = await fetch(`${v.url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: proto.subarray(0, proto.length - 3),
  });
  assert.equal(cut.status, 400);
  assert.match(await cut.text(), /malformed OTLP protobuf ExportMetricsServiceRequest: cannot read/);
  assert.deepEqual(await api(v.url, 'cut'), []);
  await mp.shutdown();
});
