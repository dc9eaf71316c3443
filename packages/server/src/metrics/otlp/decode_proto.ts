/**
 * ExportMetricsServiceRequest in the binary protobuf encoding, over the shared OTLP reader
 * (core/otlp/protobuf.ts), into ./model.ts. Malformed input is a 400 naming the field and offset.
 *
 * Field numbers (opentelemetry-proto collector/metrics/v1, metrics/v1):
 *   ExportMetricsServiceRequest 1 resource_metrics
 *   ResourceMetrics             1 resource, 2 scope_metrics, 3 schema_url
 *   ScopeMetrics                1 scope, 2 metrics, 3 schema_url
 *   Metric                      1 name, 2 description, 3 unit, 5 gauge, 7 sum, 9 histogram,
 *                               10 exponential_histogram, 11 summary, 12 metadata
 *   Gauge, Summary              1 data_points
 *   Sum                         1 data_points, 2 aggregation_temporality, 3 is_monotonic
 *   Histogram, ExpHistogram     1 data_points, 2 aggregation_temporality
 *   NumberDataPoint             7 attributes, 2 start_time_unix_nano, 3 time_unix_nano (fixed64),
 *                               4 as_double, 6 as_int (sfixed64), 5 exemplars, 8 flags
 *   HistogramDataPoint          9 attributes, 2 start, 3 time, 4 count (fixed64), 5 sum,
 *                               6 bucket_counts (packed fixed64), 7 explicit_bounds (packed double),
 *                               8 exemplars, 10 flags, 11 min, 12 max
 *   ExponentialHistogramDataPoint 1 attributes, 2 start, 3 time, 4 count (fixed64), 5 sum,
 *                               6 scale (sint32), 7 zero_count (fixed64), 8 positive, 9 negative,
 *                               10 flags, 11 exemplars, 12 min, 13 max, 14 zero_threshold
 *   ExponentialHistogramDataPoint.Buckets 1 offset (sint32), 2 bucket_counts (packed uint64)
 *   SummaryDataPoint            7 attributes, 2 start, 3 time, 4 count (fixed64), 5 sum,
 *                               6 quantile_values {1 quantile, 2 value}, 8 flags
 *   Exemplar                    7 filtered_attributes, 2 time_unix_nano, 3 as_double, 6 as_int,
 *                               4 span_id, 5 trace_id
 */
import { decodeResource, nanosToMillis, ProtoFields } from '../../core/otlp/protobuf.js';
import { attrOf, valueText } from './attrs.js';
import { OtlpMetricsError } from './errors.js';
import {
  addExemplar,
  type Attr,
  newMetric,
  PointPool,
  newPoint,
  type DataPoint,
  type Exemplar,
  type Metric,
  type MetricKind,
  type MetricsRequest,
  type ResourceMetrics,
  type ScopeMetrics,
} from './model.js';

function malformed(detail: string): OtlpMetricsError {
  return new OtlpMetricsError(400, `malformed OTLP protobuf ExportMetricsServiceRequest: ${detail}`);
}

/**
 * Decodes a (decompressed) ExportMetricsServiceRequest. With a `pool`, the common number points
 * are the pool's, valid until its next reset; without one, every point is the caller's to keep.
 */
export function decodeMetricsProto(buf: Buffer, pool?: PointPool): MetricsRequest {
  const points = pool ?? new PointPool(0);
  return ProtoFields.decode(buf, 'ExportMetricsServiceRequest', malformed, (f) => {
    const resources: ResourceMetrics[] = [];
    while (f.next()) {
      if (f.field === 1) resources.push(resourceMetrics(f.message('resource_metrics', 'ResourceMetrics'), points));
      else f.skip();
    }
    return { resources };
  });
}

function resourceMetrics(f: ProtoFields, pool: PointPool): ResourceMetrics {
  const out: ResourceMetrics = { attrs: [], scopes: [] };
  while (f.next()) {
    if (f.field === 1) {
      const r = decodeResource(f.message('resource', 'Resource'));
      for (const kv of r.attributes ?? []) out.attrs.push(attrOf(kv));
    } else if (f.field === 2) out.scopes.push(scopeMetrics(f.message('scope_metrics', 'ScopeMetrics'), pool));
    else f.skip();
  }
  return out;
}

function scopeMetrics(f: ProtoFields, pool: PointPool): ScopeMetrics {
  const out: ScopeMetrics = { name: '', version: '', metrics: [] };
  while (f.next()) {
    if (f.field === 1) {
      const g = f.message('scope', 'InstrumentationScope');
      while (g.next()) {
        if (g.field === 1) out.name = g.string('name');
        else if (g.field === 2) out.version = g.string('version');
        else g.skip();
      }
    } else if (f.field === 2) out.metrics.push(metric(f.message('metrics', 'Metric'), pool));
    else f.skip();
  }
  return out;
}

const KIND_FIELDS: Record<number, [MetricKind, string, string]> = {
  5: ['gauge', 'gauge', 'Gauge'],
  7: ['sum', 'sum', 'Sum'],
  9: ['histogram', 'histogram', 'Histogram'],
  10: ['exponential_histogram', 'exponential_histogram', 'ExponentialHistogram'],
  11: ['summary', 'summary', 'Summary'],
};

function metric(f: ProtoFields, pool: PointPool): Metric {
  const m = newMetric();
  while (f.next()) {
    const kind = KIND_FIELDS[f.field];
    if (kind) {
      // A oneof: the last member on the wire wins.
      m.kind = kind[0];
      m.points = [];
      m.temporality = 0;
      m.monotonic = false;
      data(f.message(kind[1], kind[2]), m, pool);
    } else if (f.field === 1) m.name = f.string('name');
    else if (f.field === 2) m.description = f.string('description');
    else if (f.field === 3) m.unit = f.string('unit');
    else f.skip();
  }
  return m;
}

function data(f: ProtoFields, m: Metric, pool: PointPool): void {
  const layout = m.kind === 'histogram' ? HISTOGRAM : m.kind === 'exponential_histogram' ? EXPONENTIAL : m.kind === 'summary' ? SUMMARY : NUMBER;
  while (f.next()) {
    if (f.field === 1) {
      if (layout === NUMBER) {
        const start = f.spanOf('data_points');
        const p = pool.next();
        if (fastNumberPoint(f.buffer, start, f.pos, p)) {
          pool.keep();
          m.points.push(p);
        } else m.points.push(decodePoint(f.sub(start, f.pos, 'NumberDataPoint'), NUMBER));
      } else m.points.push(decodePoint(f.message('data_points', layout.type), layout));
    } else if (f.field === 2 && m.kind !== 'gauge' && m.kind !== 'summary') m.temporality = f.int32('aggregation_temporality');
    else if (f.field === 3 && m.kind === 'sum') m.monotonic = f.bool('is_monotonic');
    else f.skip();
  }
}

/**
 * A DataView of the request being decoded, made once per request: its float and word reads are
 * compiled inline, where Buffer's readDoubleLE copies through a scratch array.
 */
let viewBuf: Buffer | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
function viewOf(buf: Buffer): DataView {
  if (buf !== viewBuf) {
    viewBuf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }
  return view;
}

/**
 * The common NumberDataPoint (contiguous attributes, times, a value, small flags) read straight
 * from the bytes into `p` (a pool's, all defaults), with no reader per point: most of a request is
 * such points. Anything else (exemplars, unknown fields, long lengths, a truncation) returns
 * false, and the general decoder reads the point, which also words any error.
 */
function fastNumberPoint(buf: Buffer, start: number, end: number, p: DataPoint): boolean {
  const dv = viewOf(buf);
  let pos = start;
  while (pos < end) {
    const tag = buf[pos++]!;
    if (tag === 0x3a) {
      const tagAt = pos - 1;
      if (pos + 2 > end) return false;
      let len = buf[pos++]!;
      if (len >= 0x80) {
        const b = buf[pos++]!;
        if (b >= 0x80) return false;
        len = (len & 0x7f) | (b << 7);
      }
      if (pos + len > end) return false;
      if (p.rawBuf === undefined) {
        p.rawBuf = buf;
        p.rawStart = tagAt;
      } else if (p.rawEnd !== tagAt) return false;
      pos += len;
      p.rawEnd = pos;
    } else if (tag === 0x11 || tag === 0x19 || tag === 0x21 || tag === 0x31) {
      if (pos + 8 > end) return false;
      // start_time_unix_nano (0x11) is stepped over: Prometheus does not use it.
      if (tag === 0x21) p.value = dv.getFloat64(pos, true);
      else if (tag !== 0x11) {
        const lo = dv.getUint32(pos, true);
        const hi = dv.getUint32(pos + 4, true);
        if (tag === 0x31) p.value = (hi | 0) * 2 ** 32 + lo;
        else p.timeMs = nanosToMillis(lo, hi);
      }
      pos += 8;
    } else if (tag === 0x40) {
      if (pos >= end) return false;
      const b = buf[pos++]!;
      if (b >= 0x80) return false;
      p.flags = b;
    } else return false;
  }
  return pos === end;
}

/**
 * One attribute field of a data point: stepped over while the fields are contiguous (their byte
 * range kept for the translation), decoded once they are not.
 */
function attribute(f: ProtoFields, p: DataPoint): void {
  // The tag of an attributes field (1, 7 or 9, wire type 2) is one byte, just before the reader.
  const tagAt = f.pos - 1;
  if (p.rawBuf === undefined && p.attrs.length === 0) {
    p.rawBuf = f.buffer;
    p.rawStart = tagAt;
    f.skipBytes('attributes');
    p.rawEnd = f.pos;
  } else if (p.rawBuf !== undefined && p.rawEnd === tagAt) {
    f.skipBytes('attributes');
    p.rawEnd = f.pos;
  } else {
    decodedAttrs(p);
    p.attrs.push(f.keyText('attributes', valueText));
  }
}

/** The point's attributes, decoded from its raw byte range if not yet; malformed ones are a 400. */
export function decodedAttrs(p: DataPoint): Attr[] {
  const buf = p.rawBuf;
  if (buf === undefined) return p.attrs;
  p.rawBuf = undefined;
  p.attrs = ProtoFields.decode(buf.subarray(p.rawStart, p.rawEnd), 'data point attributes', malformed, (f) => {
    const out: Attr[] = [];
    while (f.next()) out.push(f.keyText('attributes', valueText));
    return out;
  });
  return p.attrs;
}

/**
 * Where one kind of data point keeps the fields every kind has (time is 3 in all; start_time, 2,
 * is skipped: Prometheus does not use it), and how it reads its own. One loop decodes every kind.
 */
interface PointLayout {
  readonly type: string;
  readonly kind: Parameters<typeof newPoint>[0];
  readonly attributes: number;
  readonly flags: number;
  /** 0: the kind has no exemplars. */
  readonly exemplars: number;
  /** Reads a field of the kind's own; false for one it does not know (skipped). */
  readonly own: (f: ProtoFields, p: DataPoint) => boolean;
}

function decodePoint(f: ProtoFields, layout: PointLayout): DataPoint {
  const p = newPoint(layout.kind);
  if (layout.kind === 'summary') p.hasSum = true;
  while (f.next()) {
    const n = f.field;
    if (n === layout.attributes) attribute(f, p);
    else if (n === 3) p.timeMs = f.fixed64Millis('time_unix_nano');
    else if (n === layout.flags) p.flags = f.uint32('flags');
    else if (n === layout.exemplars) addExemplar(p, exemplar(f.message('exemplars', 'Exemplar')));
    else if (!layout.own(f, p)) f.skip();
  }
  return p;
}

/** count (4) and sum (5), the same in histograms of both kinds and summaries. */
function countAndSum(f: ProtoFields, p: DataPoint): boolean {
  if (f.field === 4) p.count = f.fixed64Number('count');
  else if (f.field === 5) {
    p.sum = f.double('sum');
    p.hasSum = true;
  } else return false;
  return true;
}

const NUMBER: PointLayout = {
  type: 'NumberDataPoint',
  kind: 'number',
  attributes: 7,
  flags: 8,
  exemplars: 5,
  own: (f, p) => {
    if (f.field === 4) p.value = f.double('as_double');
    else if (f.field === 6) p.value = f.sfixed64Number('as_int');
    else return false;
    return true;
  },
};

const HISTOGRAM: PointLayout = {
  type: 'HistogramDataPoint',
  kind: 'histogram',
  attributes: 9,
  flags: 10,
  exemplars: 8,
  own: (f, p) => {
    if (f.field === 6) f.packedFixed64('bucket_counts', p.bucketCounts);
    else if (f.field === 7) f.packedDouble('explicit_bounds', p.bounds);
    else return countAndSum(f, p);
    return true;
  },
};

const EXPONENTIAL: PointLayout = {
  type: 'ExponentialHistogramDataPoint',
  kind: 'exponential',
  attributes: 1,
  flags: 10,
  exemplars: 11,
  own: (f, p) => {
    const e = p.exp!;
    if (f.field === 6) e.scale = f.sint32('scale');
    else if (f.field === 7) e.zeroCount = f.fixed64Number('zero_count');
    else if (f.field === 14) e.zeroThreshold = f.double('zero_threshold');
    else if (f.field === 8 || f.field === 9) {
      const positive = f.field === 8;
      const g = f.message(positive ? 'positive' : 'negative', 'Buckets');
      while (g.next()) {
        if (g.field === 1) {
          if (positive) e.positiveOffset = g.sint32('offset');
          else e.negativeOffset = g.sint32('offset');
        } else if (g.field === 2) g.packedUint64('bucket_counts', positive ? e.positiveCounts : e.negativeCounts);
        else g.skip();
      }
    } else return countAndSum(f, p);
    return true;
  },
};

const SUMMARY: PointLayout = {
  type: 'SummaryDataPoint',
  kind: 'summary',
  attributes: 7,
  flags: 8,
  exemplars: 0,
  own: (f, p) => {
    if (f.field !== 6) return countAndSum(f, p);
    const g = f.message('quantile_values', 'ValueAtQuantile');
    let q = 0;
    let v = 0;
    while (g.next()) {
      if (g.field === 1) q = g.double('quantile');
      else if (g.field === 2) v = g.double('value');
      else g.skip();
    }
    p.quantiles.push(q, v);
    return true;
  },
};

function exemplar(f: ProtoFields): Exemplar {
  const e = { attrs: [] as Exemplar['attrs'], timeMs: 0, value: 0, traceId: '', spanId: '' };
  while (f.next()) {
    if (f.field === 7) e.attrs.push(f.keyText('filtered_attributes', valueText));
    else if (f.field === 2) e.timeMs = f.fixed64Millis('time_unix_nano');
    else if (f.field === 3) e.value = f.double('as_double');
    else if (f.field === 6) e.value = f.sfixed64Number('as_int');
    else if (f.field === 4) e.spanId = f.hex('span_id');
    else if (f.field === 5) e.traceId = f.hex('trace_id');
    else f.skip();
  }
  return e;
}
