/**
 * A small classic histogram for the query benchmark. The ingest data set's `_bucket` series draw
 * their `le` at random per series, so they are not a histogram `histogram_quantile` can use; this
 * adds a real one (cumulative buckets up to `+Inf`, `_sum`, `_count`) in the ingest generator's
 * style: seeded, pre-encoded, one sample per series per request, on the same time steps, so it can
 * be sent as one more request group alongside the ingest data.
 */
import { mulberry32, type Dataset, type RequestGroup } from './datagen.js';
import { encodeLabels, WriteRequestEncoder } from '../../metrics/remotewrite/proto.js';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';

/** The histogram's metric family name. */
export const HISTOGRAM_FAMILY = 'bench_request_duration_seconds';

const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'] as const;
const HANDLERS = ['/api/v1/orders', '/api/v1/cart', '/api/v1/payments', '/login', '/search'] as const;

/** The histogram's series: labels of every bucket, sum and count series. */
interface HistSeries {
  readonly labels: Labels;
  /** Index into the bucket bounds, or -1 for `_sum`, -2 for `_count`. */
  readonly bucket: number;
  /** Index of the (instance, handler) histogram it belongs to. */
  readonly histogram: number;
  readonly phaseMs: number;
}

/**
 * Builds `instances` × 5 handlers histograms (14 series each) as one request group with exactly as
 * many requests as `data` has steps, so the sender interleaves it with the ingest groups and no
 * server sees its samples out of time order.
 */
export function histogramGroup(data: Dataset, instances: number): { group: RequestGroup; labels: Labels[] } {
  const { samples, stepMs, endMs, seed } = data.options;
  const rnd = mulberry32(seed ^ 0x5eed);
  const series: HistSeries[] = [];
  let h = 0;
  for (let i = 0; i < instances; i++) {
    const instance = `api-${i.toString().padStart(4, '0')}.internal:8080`;
    // A fixed scrape phase per target, as the ingest data has; never after the step's time.
    const phaseMs = (i * 1373) % stepMs;
    for (const handler of HANDLERS) {
      const base = { job: 'api', instance, handler };
      LE.forEach((le, b) => series.push({ labels: labelsFrom({ __name__: `${HISTOGRAM_FAMILY}_bucket`, ...base, le }), bucket: b, histogram: h, phaseMs }));
      series.push({ labels: labelsFrom({ __name__: `${HISTOGRAM_FAMILY}_sum`, ...base }), bucket: -1, histogram: h, phaseMs });
      series.push({ labels: labelsFrom({ __name__: `${HISTOGRAM_FAMILY}_count`, ...base }), bucket: -2, histogram: h, phaseMs });
      h++;
    }
  }
  const bounds = LE.map((le) => (le === '+Inf' ? Infinity : Number(le)));
  const counts = Array.from({ length: h }, () => new Float64Array(LE.length));
  const sums = new Float64Array(h);
  // Each handler has its own typical latency, so the quantiles differ between them.
  const means = Array.from({ length: h }, () => 0.01 + rnd() * 0.5);
  const encoded = series.map((s) => encodeLabels(s.labels));
  const enc = new WriteRequestEncoder();
  const ts = [0];
  const vs = [0];
  const requests: Buffer[] = [];
  const firstStepMs = endMs - (samples - 1) * stepMs;
  for (let step = 0; step < samples; step++) {
    for (let k = 0; k < h; k++) {
      const n = step === 0 ? 500 : Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) {
        const d = -Math.log(1 - rnd()) * means[k]!;
        sums[k] = sums[k]! + d;
        for (let b = 0; b < LE.length; b++) if (d <= bounds[b]!) counts[k]![b] = counts[k]![b]! + 1;
      }
    }
    series.forEach((s, i) => {
      ts[0] = firstStepMs + step * stepMs - s.phaseMs;
      vs[0] = s.bucket === -1 ? sums[s.histogram]! : counts[s.histogram]![s.bucket === -2 ? LE.length - 1 : s.bucket]!;
      enc.addSeries(encoded[i]!, ts, vs);
    });
    requests.push(snappyEncode(enc.finish()));
  }
  return { group: { firstSeries: data.labels.length, seriesCount: series.length, requests }, labels: series.map((s) => s.labels) };
}

/** `data` with the histogram added as one more request group. */
export function withHistogram(data: Dataset, instances: number): Dataset {
  const { group, labels } = histogramGroup(data, instances);
  return {
    ...data,
    labels: [...data.labels, ...labels],
    groups: [...data.groups, group],
    totalSamples: data.totalSamples + group.seriesCount * group.requests.length,
    totalRequests: data.totalRequests + group.requests.length,
    compressedBytes: data.compressedBytes + group.requests.reduce((n, b) => n + b.length, 0),
  };
}
