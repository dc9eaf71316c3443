/**
 * Decoding of Prometheus' protobuf exposition (`io.prometheus.client.MetricFamily`, varint
 * length-delimited) into plain objects, over core's protobuf field reader. A family is decoded
 * whole when the parser reaches it; {@link ./protoparse.ts} turns it into entries.
 *
 * Field numbers (prometheus/client_model io/prometheus/client/metrics.proto):
 *   MetricFamily  1 name, 2 help, 3 type (enum), 4 metric, 5 unit
 *   Metric        1 label, 2 gauge, 3 counter, 4 summary, 5 untyped, 6 timestamp_ms, 7 histogram
 *   LabelPair     1 name, 2 value
 *   Gauge, Untyped 1 value
 *   Counter       1 value, 2 exemplar, 3 created_timestamp
 *   Summary       1 sample_count, 2 sample_sum, 3 quantile, 4 created_timestamp
 *   Quantile      1 quantile, 2 value
 *   Histogram     1 sample_count, 4 sample_count_float, 2 sample_sum, 3 bucket, 15 created_timestamp,
 *                 5 schema (sint32), 6 zero_threshold, 7 zero_count, 8 zero_count_float,
 *                 9 negative_span, 10 negative_delta (sint64), 11 negative_count,
 *                 12 positive_span, 13 positive_delta (sint64), 14 positive_count, 16 exemplars
 *   Bucket        1 cumulative_count, 4 cumulative_count_float, 2 upper_bound, 3 exemplar
 *   BucketSpan    1 offset (sint32), 2 length
 *   Exemplar      1 label, 2 value, 3 timestamp
 *   Timestamp     1 seconds, 2 nanos
 */
import type { Label } from '../../../core/model/labels.js';
import type { Span } from '../../../core/model/histogram.js';
import { ProtoFields, type Fail } from '../../../core/otlp/protobuf.js';
import type { Exemplar } from './types.js';
import { readLabelPair } from '../../remotewrite/proto.js';

/** MetricFamily.type as the enum numbers it: COUNTER 0 … GAUGE_HISTOGRAM 5. */
export const PB_TYPES = ['counter', 'gauge', 'summary', 'untyped', 'histogram', 'gaugehistogram'] as const;
export type PbType = (typeof PB_TYPES)[number];

/** An exemplar as sent: its labels in wire order, and whether it had a timestamp. */
export interface PbExemplar {
  readonly labels: Label[];
  readonly value: number;
  readonly ts: number | undefined;
}

export interface PbBucket {
  cumulativeCount: number;
  cumulativeCountFloat: number;
  upperBound: number;
  exemplar: PbExemplar | undefined;
}

export interface PbHistogram {
  sampleCount: number;
  sampleCountFloat: number;
  sampleSum: number;
  buckets: PbBucket[];
  created: number | undefined;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  zeroCountFloat: number;
  negativeSpans: Span[];
  negativeDeltas: number[];
  negativeCounts: number[];
  positiveSpans: Span[];
  positiveDeltas: number[];
  positiveCounts: number[];
  exemplars: PbExemplar[];
}

export interface PbSummary {
  sampleCount: number;
  sampleSum: number;
  quantiles: Array<{ quantile: number; value: number }>;
  created: number | undefined;
}

export interface PbMetric {
  /**
   * Where its LabelPair messages are in the family's buffer, as start and end offsets: labels are
   * decoded ({@link decodeLabels}) only for a series the loop does not know by these bytes.
   */
  labelSpans: number[];
  /** Gauge, counter or untyped value (the one the family's type names; 0 when absent). */
  gauge: number;
  counter: number;
  untyped: number;
  counterExemplar: PbExemplar | undefined;
  counterCreated: number | undefined;
  summary: PbSummary | undefined;
  histogram: PbHistogram | undefined;
  /** 0 means none, as Prometheus reads it (proto3 cannot tell 0 from unset). */
  timestampMs: number;
}

export interface PbFamily {
  name: string;
  help: string;
  type: PbType;
  unit: string;
  /**
   * Where its Metric messages are in the family's buffer, as start and end offsets; each is
   * decoded ({@link decodeMetric}) when the parser reaches it, so a body of many tiny metrics
   * never stands in memory as objects all at once.
   */
  metricSpans: number[];
}

/** Decodes the MetricFamily message `buf` (one delimited message, without its length). */
export function decodeFamily(buf: Buffer, fail: Fail): PbFamily {
  return ProtoFields.decode(buf, 'MetricFamily', fail, (f) => {
    const fam: PbFamily = { name: '', help: '', type: 'untyped', unit: '', metricSpans: [] };
    while (f.next()) {
      if (f.field === 1) fam.name = f.string('name');
      else if (f.field === 2) fam.help = f.string('help');
      else if (f.field === 3) {
        const t = f.int32('type');
        const name = PB_TYPES[t];
        if (name === undefined) throw fail(`unknown metric type ${t} for metric ${JSON.stringify(fam.name)}`);
        fam.type = name;
      } else if (f.field === 4) {
        const start = f.spanOf('metric');
        fam.metricSpans.push(start, f.pos);
      } else if (f.field === 5) fam.unit = f.string('unit');
      else f.skip();
    }
    return fam;
  });
}

/** Decodes the Metric message `buf` (one of a family's {@link PbFamily.metricSpans}); label offsets are into `buf`. */
export function decodeMetric(buf: Buffer, fail: Fail): PbMetric {
  return ProtoFields.decode(buf, 'Metric', fail, readMetric);
}

function readMetric(f: ProtoFields): PbMetric {
  const m: PbMetric = {
    labelSpans: [],
    gauge: 0,
    counter: 0,
    untyped: 0,
    counterExemplar: undefined,
    counterCreated: undefined,
    summary: undefined,
    histogram: undefined,
    timestampMs: 0,
  };
  while (f.next()) {
    switch (f.field) {
      case 1:
        m.labelSpans.push(f.spanOf('label'), f.pos);
        break;
      case 2:
        m.gauge = singleValue(f.message('gauge', 'Gauge'));
        break;
      case 3:
        decodeCounter(f.message('counter', 'Counter'), m);
        break;
      case 4:
        m.summary = decodeSummary(f.message('summary', 'Summary'));
        break;
      case 5:
        m.untyped = singleValue(f.message('untyped', 'Untyped'));
        break;
      case 6:
        m.timestampMs = f.int64Number('timestamp_ms');
        break;
      case 7:
        m.histogram = decodeHistogram(f.message('histogram', 'Histogram'));
        break;
      default:
        f.skip();
    }
  }
  return m;
}

/** The labels of `m`, in wire order, from `buf`, the buffer of its family. */
export function decodeLabels(buf: Buffer, m: PbMetric, fail: Fail): Label[] {
  const out: Label[] = [];
  const spans = m.labelSpans;
  for (let i = 0; i < spans.length; i += 2) out.push(ProtoFields.decode(buf.subarray(spans[i]!, spans[i + 1]!), 'LabelPair', fail, readLabelPair));
  return out;
}

function singleValue(f: ProtoFields): number {
  let v = 0;
  while (f.next()) {
    if (f.field === 1) v = f.double('value');
    else f.skip();
  }
  return v;
}

function decodeCounter(f: ProtoFields, m: PbMetric): void {
  while (f.next()) {
    if (f.field === 1) m.counter = f.double('value');
    else if (f.field === 2) m.counterExemplar = decodeExemplar(f.message('exemplar', 'Exemplar'));
    else if (f.field === 3) m.counterCreated = decodeTimestamp(f.message('created_timestamp', 'Timestamp'));
    else f.skip();
  }
}

function decodeSummary(f: ProtoFields): PbSummary {
  const s: PbSummary = { sampleCount: 0, sampleSum: 0, quantiles: [], created: undefined };
  while (f.next()) {
    if (f.field === 1) s.sampleCount = f.int64Number('sample_count');
    else if (f.field === 2) s.sampleSum = f.double('sample_sum');
    else if (f.field === 3) {
      const q = f.message('quantile', 'Quantile');
      const e = { quantile: 0, value: 0 };
      while (q.next()) {
        if (q.field === 1) e.quantile = q.double('quantile');
        else if (q.field === 2) e.value = q.double('value');
        else q.skip();
      }
      s.quantiles.push(e);
    } else if (f.field === 4) s.created = decodeTimestamp(f.message('created_timestamp', 'Timestamp'));
    else f.skip();
  }
  return s;
}

/** A Histogram message with no field set. */
export function emptyPbHistogram(): PbHistogram {
  return {
    sampleCount: 0,
    sampleCountFloat: 0,
    sampleSum: 0,
    buckets: [],
    created: undefined,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    zeroCountFloat: 0,
    negativeSpans: [],
    negativeDeltas: [],
    negativeCounts: [],
    positiveSpans: [],
    positiveDeltas: [],
    positiveCounts: [],
    exemplars: [],
  };
}

function decodeHistogram(f: ProtoFields): PbHistogram {
  const h = emptyPbHistogram();
  while (f.next()) {
    switch (f.field) {
      case 1:
        h.sampleCount = f.int64Number('sample_count');
        break;
      case 2:
        h.sampleSum = f.double('sample_sum');
        break;
      case 3:
        h.buckets.push(decodeBucket(f.message('bucket', 'Bucket')));
        break;
      case 4:
        h.sampleCountFloat = f.double('sample_count_float');
        break;
      case 5:
        h.schema = f.sint('schema');
        break;
      case 6:
        h.zeroThreshold = f.double('zero_threshold');
        break;
      case 7:
        h.zeroCount = f.int64Number('zero_count');
        break;
      case 8:
        h.zeroCountFloat = f.double('zero_count_float');
        break;
      case 9:
        h.negativeSpans.push(decodeSpan(f.message('negative_span', 'BucketSpan')));
        break;
      case 10:
        f.packedSint('negative_delta', h.negativeDeltas);
        break;
      case 11:
        f.packedDouble('negative_count', h.negativeCounts);
        break;
      case 12:
        h.positiveSpans.push(decodeSpan(f.message('positive_span', 'BucketSpan')));
        break;
      case 13:
        f.packedSint('positive_delta', h.positiveDeltas);
        break;
      case 14:
        f.packedDouble('positive_count', h.positiveCounts);
        break;
      case 15:
        h.created = decodeTimestamp(f.message('created_timestamp', 'Timestamp'));
        break;
      case 16:
        h.exemplars.push(decodeExemplar(f.message('exemplars', 'Exemplar')));
        break;
      default:
        f.skip();
    }
  }
  return h;
}

function decodeBucket(f: ProtoFields): PbBucket {
  const b: PbBucket = { cumulativeCount: 0, cumulativeCountFloat: 0, upperBound: 0, exemplar: undefined };
  while (f.next()) {
    if (f.field === 1) b.cumulativeCount = f.int64Number('cumulative_count');
    else if (f.field === 2) b.upperBound = f.double('upper_bound');
    else if (f.field === 3) b.exemplar = decodeExemplar(f.message('exemplar', 'Exemplar'));
    else if (f.field === 4) b.cumulativeCountFloat = f.double('cumulative_count_float');
    else f.skip();
  }
  return b;
}

function decodeSpan(f: ProtoFields): Span {
  let offset = 0;
  let length = 0;
  while (f.next()) {
    if (f.field === 1) offset = f.sint('offset');
    else if (f.field === 2) length = f.uint32('length');
    else f.skip();
  }
  return { offset, length };
}

function decodeExemplar(f: ProtoFields): PbExemplar {
  const labels: Label[] = [];
  let value = 0;
  let ts: number | undefined;
  while (f.next()) {
    if (f.field === 1) labels.push(readLabelPair(f.message('label', 'LabelPair')));
    else if (f.field === 2) value = f.double('value');
    else if (f.field === 3) ts = decodeTimestamp(f.message('timestamp', 'Timestamp'));
    else f.skip();
  }
  return { labels, value, ts };
}

/** google.protobuf.Timestamp in milliseconds (nanoseconds truncated, as Prometheus does). */
function decodeTimestamp(f: ProtoFields): number {
  let seconds = 0;
  let nanos = 0;
  while (f.next()) {
    if (f.field === 1) seconds = f.int64Number('seconds');
    else if (f.field === 2) nanos = f.int32('nanos');
    else f.skip();
  }
  return seconds * 1000 + Math.trunc(nanos / 1e6);
}

/** An exemplar for the loop: labels sorted, as the text parsers give them. */
export function toExemplar(e: PbExemplar): Exemplar {
  const labels = [...e.labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return e.ts === undefined ? { labels, value: e.value } : { labels, value: e.value, ts: e.ts };
}
