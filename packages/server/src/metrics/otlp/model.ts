/**
 * OTLP metrics as the translation reads them: one shape both decoders (protobuf and JSON) produce,
 * already reduced to what Prometheus keeps. Attribute values are their Prometheus label text,
 * times are whole milliseconds, counts are numbers.
 */

/** An attribute with its value as label text. */
export interface Attr {
  readonly key: string;
  readonly value: string;
}

/** opentelemetry.proto.metrics.v1.AggregationTemporality. */
export const TEMPORALITY_UNSPECIFIED = 0;
export const TEMPORALITY_DELTA = 1;
export const TEMPORALITY_CUMULATIVE = 2;

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the series ended (Prometheus stores a staleness marker). */
export const FLAG_NO_RECORDED_VALUE = 1;

export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary' | 'empty';

export interface Exemplar {
  readonly attrs: Attr[];
  readonly timeMs: number;
  readonly value: number;
  /** Lowercase hex, '' when absent. */
  readonly traceId: string;
  readonly spanId: string;
}

/** One data point of any kind; the fields its kind does not use stay at their defaults. */
export interface DataPoint {
  attrs: Attr[];
  startMs: number;
  timeMs: number;
  flags: number;
  /** Gauge and sum. */
  value: number;
  /** Histogram and summary. */
  count: number;
  sum: number;
  hasSum: boolean;
  /** Histogram: counts per bucket (not cumulative), and the upper bounds (one fewer). */
  bucketCounts: number[];
  bounds: number[];
  /** Summary: quantile, value, quantile, value, ... */
  quantiles: number[];
  exemplars: Exemplar[];
}

export interface Metric {
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  temporality: number;
  monotonic: boolean;
  points: DataPoint[];
  /** Data points of an exponential histogram: counted, not kept (see ingest.ts). */
  unstoredPoints: number;
}

export interface ScopeMetrics {
  name: string;
  version: string;
  metrics: Metric[];
}

export interface ResourceMetrics {
  attrs: Attr[];
  scopes: ScopeMetrics[];
}

export interface MetricsRequest {
  resources: ResourceMetrics[];
}

export function newPoint(): DataPoint {
  return { attrs: [], startMs: 0, timeMs: 0, flags: 0, value: 0, count: 0, sum: 0, hasSum: false, bucketCounts: [], bounds: [], quantiles: [], exemplars: [] };
}

export function newMetric(): Metric {
  return { name: '', description: '', unit: '', kind: 'empty', temporality: 0, monotonic: false, points: [], unstoredPoints: 0 };
}
