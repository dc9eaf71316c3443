/**
 * OTLP metrics as the translation reads them: one shape both decoders (protobuf and JSON) produce,
 * already reduced to what Prometheus keeps. Attribute values are their Prometheus label text,
 * times are whole milliseconds, counts are numbers. Start times are not kept: Prometheus 3 does
 * not use them.
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
  /** The attributes; from protobuf, decoded only when needed (see {@link RawAttrs}). */
  attrs: Attr[];
  /**
   * Protobuf only: the request's bytes holding the point's attribute fields, when they are
   * contiguous and not decoded yet. The translation finds a known series by these bytes and
   * decodes them only for a new one.
   */
  rawBuf: Buffer | undefined;
  rawStart: number;
  rawEnd: number;
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
  /** Exponential histogram (see ./exponential.ts). */
  exp: ExponentialBuckets | undefined;
  exemplars: Exemplar[];
}

/** The fields only an exponential histogram point has: bucket i of a side covers (base^(offset+i), base^(offset+i+1)], base 2^(2^-scale). */
export interface ExponentialBuckets {
  scale: number;
  zeroCount: number;
  /** 0 when the sender left it unset. */
  zeroThreshold: number;
  positiveOffset: number;
  positiveCounts: number[];
  negativeOffset: number;
  negativeCounts: number[];
}

export interface Metric {
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  temporality: number;
  monotonic: boolean;
  points: DataPoint[];
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

/**
 * Shared empty arrays for the fields a point's kind does not use, so a gauge point allocates only
 * its attributes (most of a request is such points). Never pushed to: decoders assign their own.
 */
const NO_NUMBERS: number[] = [];
const NO_EXEMPLARS: Exemplar[] = [];
/** Attributes of a point that has none decoded (its raw bytes stand for them); never pushed to. */
export const NO_ATTRS: Attr[] = [];

/** A point of kind `kind`, with fresh arrays only for the fields that kind fills. */
export function newPoint(kind: 'number' | 'histogram' | 'summary' | 'exponential'): DataPoint {
  return {
    attrs: [],
    rawBuf: undefined,
    rawStart: 0,
    rawEnd: 0,
    timeMs: 0,
    flags: 0,
    value: 0,
    count: 0,
    sum: 0,
    hasSum: false,
    bucketCounts: kind === 'histogram' ? [] : NO_NUMBERS,
    bounds: kind === 'histogram' ? [] : NO_NUMBERS,
    quantiles: kind === 'summary' ? [] : NO_NUMBERS,
    exp:
      kind === 'exponential'
        ? { scale: 0, zeroCount: 0, zeroThreshold: 0, positiveOffset: 0, positiveCounts: [], negativeOffset: 0, negativeCounts: [] }
        : undefined,
    exemplars: NO_EXEMPLARS,
  };
}

/**
 * Number data points kept from one request to the next for the protobuf decoder's common case (see
 * `fastNumberPoint` in ./decode_proto.ts). A request's points are garbage once it is stored, and a
 * thousand fresh ones per request made OTLP's young-generation collections cost three times
 * remote_write's (server profile of bench/otlp_metrics.js). Only for a caller that is done with a
 * request before it decodes the next: the ingestor, which decodes, translates and appends with no
 * await in between.
 */
export class PointPool {
  private readonly points: DataPoint[] = [];
  private used = 0;

  /**
   * `max`: points kept at most (about 100 bytes each, held for good); a bigger request makes fresh
   * ones past it. 16,384 covers a collector's default batch (8,192).
   */
  constructor(private readonly max = 1 << 14) {}

  /** Every point is free again: the previous request is done with. */
  reset(): void {
    this.used = 0;
  }

  /** A number point with every field at its default; not taken until {@link keep}. */
  next(): DataPoint {
    let p = this.points[this.used];
    if (p === undefined) {
      p = newPoint('number');
      if (this.points.length < this.max) this.points.push(p);
      return p;
    }
    p.attrs = NO_ATTRS;
    p.rawBuf = undefined;
    p.rawStart = 0;
    p.rawEnd = 0;
    p.timeMs = 0;
    p.flags = 0;
    p.value = 0;
    return p;
  }

  /** Takes the point {@link next} gave. */
  keep(): void {
    if (this.used < this.points.length) this.used++;
  }
}

/** Adds an exemplar, giving the point an array of its own on the first. */
export function addExemplar(p: DataPoint, e: Exemplar): void {
  if (p.exemplars === NO_EXEMPLARS) p.exemplars = [];
  p.exemplars.push(e);
}

export function newMetric(): Metric {
  return { name: '', description: '', unit: '', kind: 'empty', temporality: 0, monotonic: false, points: [] };
}
