/**
 * The prom-client registry as OpenTelemetry metric data, so the metrics that are scraped can also be
 * pushed over OTLP without a second set of instruments. Each metric keeps its Prometheus name and
 * gets the OTLP unit its suffix says (`_seconds` → `s`, `_bytes` → `By`, `_ratio` → `1`): a receiver
 * translating OTLP to Prometheus names (unit words and `_total` appended unless already there) then
 * stores the very names a scrape stores. Counters become monotonic sums, gauges gauges, histograms
 * explicit-bucket histograms; summaries have no OTLP SDK form and are left out.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';

const UNIT_SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['_seconds', 's'],
  ['_bytes', 'By'],
  ['_ratio', '1'],
];

/** The OTLP unit of a Prometheus metric name: the one its suffix (before `_total`) names, else none. */
export function unitOfName(name: string): string {
  const base = name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
  for (const [suffix, unit] of UNIT_SUFFIXES) if (base.endsWith(suffix)) return unit;
  return '';
}

interface HistogramState {
  readonly boundaries: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** What the previous collection saw of a series, for delta temporality. */
type Previous = number | HistogramState;

function attrsOf(labels: Readonly<Partial<Record<string, string | number>>>, skip?: string): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(labels)) if (k !== skip && v !== undefined) out[k] = String(v);
  return out;
}

function keyOf(name: string, attrs: Attributes): string {
  let k = name;
  for (const a of Object.keys(attrs).sort()) k += `\u0000${a}\u0001${String(attrs[a])}`;
  return k;
}

/** Regroups prom-client's `_bucket` / `_sum` / `_count` lines into one histogram per label set. */
function histograms(name: string, values: ReadonlyArray<MetricValueWithName<string>>): Array<{ attrs: Attributes; h: HistogramState }> {
  const byKey = new Map<string, { attrs: Attributes; bounds: Array<[number, number]>; sum: number; count: number }>();
  for (const v of values) {
    const attrs = attrsOf(v.labels, 'le');
    const key = keyOf('', attrs);
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { attrs, bounds: [], sum: 0, count: 0 }));
    if (v.metricName === `${name}_bucket`) e.bounds.push([v.labels['le'] === '+Inf' ? Infinity : Number(v.labels['le']), v.value]);
    else if (v.metricName === `${name}_sum`) e.sum = v.value;
    else if (v.metricName === `${name}_count`) e.count = v.value;
  }
  return [...byKey.values()].map(({ attrs, bounds, sum, count }) => {
    bounds.sort((a, b) => a[0] - b[0]);
    // Cumulative `le` counts to OTLP's per-bucket counts; the last bucket is everything above the last bound.
    const boundaries = bounds.filter(([le]) => le !== Infinity).map(([le]) => le);
    const counts: number[] = [];
    let below = 0;
    for (const [, c] of bounds) {
      counts.push(c - below);
      below = c;
    }
    if (counts.length === boundaries.length) counts.push(count - below);
    return { attrs, h: { boundaries, counts, sum, count } };
  });
}

/**
 * A MetricProducer over a prom-client registry. Cumulative points start when the producer was made;
 * delta points carry the change since the previous collection (a counter that went down was reset
 * and counts from zero).
 */
export class RegistryProducer implements MetricProducer {
  private readonly start: HrTime = millisToHrTime(Date.now());
  private previousAt: HrTime = this.start;
  private readonly previous = new Map<string, Previous>();

  constructor(
    private readonly registry: Registry,
    private readonly temporality: AggregationTemporality,
    /** Metrics exported some other way (as exponential histograms), left out here. */
    private readonly skip: ReadonlySet<string> = new Set(),
  ) {}

  async collect(): Promise<CollectionResult> {
    const now = millisToHrTime(Date.now());
    const delta = this.temporality === AggregationTemporality.DELTA;
    const startTime = delta ? this.previousAt : this.start;
    this.previousAt = now;
    const metrics: MetricData[] = [];
    for (const m of (await this.registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[]) {
      if (this.skip.has(m.name)) continue;
      const type = String(m.type);
      const descriptor = { name: m.name, description: m.help, unit: unitOfName(m.name), valueType: ValueType.DOUBLE };
      const point = <T>(attributes: Attributes, value: T): DataPoint<T> => ({ startTime, endTime: now, attributes, value });
      if (type === 'counter') {
        const dataPoints = m.values.map((v) => {
          const attrs = attrsOf(v.labels);
          return point(attrs, delta ? this.counterDelta(keyOf(m.name, attrs), v.value) : v.value);
        });
        metrics.push({ descriptor, dataPointType: DataPointType.SUM, isMonotonic: true, aggregationTemporality: this.temporality, dataPoints });
      } else if (type === 'gauge') {
        const dataPoints = m.values.map((v) => point(attrsOf(v.labels), v.value));
        metrics.push({ descriptor, dataPointType: DataPointType.GAUGE, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints });
      } else if (type === 'histogram') {
        const dataPoints = histograms(m.name, m.values as MetricValueWithName<string>[]).map(({ attrs, h }) =>
          point<Histogram>(attrs, this.histogramValue(keyOf(m.name, attrs), h, delta)),
        );
        metrics.push({ descriptor, dataPointType: DataPointType.HISTOGRAM, aggregationTemporality: this.temporality, dataPoints });
      }
    }
    // The reader keeps the meter provider's resource and takes only the scopes from here.
    return { resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 'prom-client' }, metrics }] }, errors: [] };
  }

  private counterDelta(key: string, value: number): number {
    const prev = this.previous.get(key);
    this.previous.set(key, value);
    if (typeof prev !== 'number' || value < prev) return value;
    return value - prev;
  }

  private histogramValue(key: string, h: HistogramState, delta: boolean): Histogram {
    let shown = h;
    if (delta) {
      const prev = this.previous.get(key);
      this.previous.set(key, h);
      const comparable = typeof prev === 'object' && prev.count <= h.count && prev.boundaries.join() === h.boundaries.join();
      if (comparable)
        shown = { boundaries: h.boundaries, counts: h.counts.map((c, i) => c - (prev.counts[i] ?? 0)), sum: h.sum - prev.sum, count: h.count - prev.count };
    }
    return { buckets: { boundaries: shown.boundaries, counts: shown.counts }, sum: shown.sum, count: shown.count };
  }
}
