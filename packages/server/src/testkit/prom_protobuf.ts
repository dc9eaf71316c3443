/**
 * An encoder of Prometheus' protobuf exposition (varint-delimited `io.prometheus.client.MetricFamily`
 * messages) for tests, written from the field numbers in metrics/scrape/parser/metricfamily.ts, and
 * a histogram that keeps classic and native buckets of the same observations, as client_golang does.
 */
import type { Span } from '../core/model/histogram.js';
import { ByteWriter } from '../core/util/bytes.js';

export interface EncExemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds; absent: no timestamp field. */
  readonly ts?: number;
}

export interface EncBucket {
  readonly upper: number;
  readonly cumulative?: number;
  readonly cumulativeFloat?: number;
  readonly exemplar?: EncExemplar;
}

export interface EncHistogram {
  readonly count?: number;
  readonly countFloat?: number;
  readonly sum: number;
  readonly buckets?: readonly EncBucket[];
  readonly createdMs?: number;
  readonly schema?: number;
  readonly zeroThreshold?: number;
  readonly zeroCount?: number;
  readonly zeroCountFloat?: number;
  readonly negativeSpans?: readonly Span[];
  readonly negativeDeltas?: readonly number[];
  readonly negativeCounts?: readonly number[];
  readonly positiveSpans?: readonly Span[];
  readonly positiveDeltas?: readonly number[];
  readonly positiveCounts?: readonly number[];
  readonly exemplars?: readonly EncExemplar[];
}

export interface EncMetric {
  readonly labels?: Readonly<Record<string, string>>;
  readonly timestampMs?: number;
  readonly gauge?: number;
  readonly counter?: { readonly value: number; readonly exemplar?: EncExemplar; readonly createdMs?: number };
  readonly untyped?: number;
  readonly summary?: {
    readonly count: number;
    readonly sum: number;
    readonly quantiles: ReadonlyArray<readonly [number, number]>;
    readonly createdMs?: number;
  };
  readonly histogram?: EncHistogram;
}

export type EncType = 'counter' | 'gauge' | 'summary' | 'untyped' | 'histogram' | 'gaugehistogram';
const TYPE_NUMBERS: Record<EncType, number> = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4, gaugehistogram: 5 };

export interface EncFamily {
  readonly name: string;
  readonly help?: string;
  readonly type: EncType;
  readonly unit?: string;
  readonly metrics: readonly EncMetric[];
}

/** The media type a protobuf target answers with. */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** A message under construction: fields appended in order, nested messages as their bytes. */
class Msg {
  readonly w = new ByteWriter(64);
  private tag(field: number, wire: number): void {
    this.w.uvarint(field * 8 + wire);
  }
  uvarint(field: number, v: number): this {
    this.tag(field, 0);
    this.w.uvarint(v);
    return this;
  }
  svarint(field: number, v: number): this {
    this.tag(field, 0);
    this.w.svarint(v);
    return this;
  }
  double(field: number, v: number): this {
    this.tag(field, 1);
    this.w.f64(v);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.w.uvarint(b.length);
    this.w.bytes(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }
  msg(field: number, m: Msg): this {
    return this.bytes(field, m.done());
  }
  packedSint(field: number, vs: readonly number[]): this {
    if (vs.length === 0) return this;
    const inner = new ByteWriter(vs.length * 2);
    for (const v of vs) inner.svarint(v);
    return this.bytes(field, inner.view());
  }
  packedDouble(field: number, vs: readonly number[]): this {
    if (vs.length === 0) return this;
    const inner = new ByteWriter(vs.length * 8);
    for (const v of vs) inner.f64(v);
    return this.bytes(field, inner.view());
  }
  done(): Buffer {
    return Buffer.from(this.w.view());
  }
}

function labelPairs(m: Msg, field: number, labels: Readonly<Record<string, string>> | undefined): void {
  for (const [name, value] of Object.entries(labels ?? {})) m.msg(field, new Msg().string(1, name).string(2, value));
}

function timestamp(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  return new Msg().uvarint(1, seconds).uvarint(2, (ms - seconds * 1000) * 1e6);
}

function exemplar(e: EncExemplar): Msg {
  const m = new Msg();
  labelPairs(m, 1, e.labels);
  m.double(2, e.value);
  if (e.ts !== undefined) m.msg(3, timestamp(e.ts));
  return m;
}

function spans(m: Msg, field: number, ss: readonly Span[] | undefined): void {
  for (const s of ss ?? []) m.msg(field, new Msg().svarint(1, s.offset).uvarint(2, s.length));
}

function histogram(h: EncHistogram): Msg {
  const m = new Msg();
  if (h.count !== undefined) m.uvarint(1, h.count);
  m.double(2, h.sum);
  for (const b of h.buckets ?? []) {
    const bm = new Msg();
    if (b.cumulative !== undefined) bm.uvarint(1, b.cumulative);
    bm.double(2, b.upper);
    if (b.exemplar) bm.msg(3, exemplar(b.exemplar));
    if (b.cumulativeFloat !== undefined) bm.double(4, b.cumulativeFloat);
    m.msg(3, bm);
  }
  if (h.countFloat !== undefined) m.double(4, h.countFloat);
  if (h.schema !== undefined) m.svarint(5, h.schema);
  if (h.zeroThreshold !== undefined) m.double(6, h.zeroThreshold);
  if (h.zeroCount !== undefined) m.uvarint(7, h.zeroCount);
  if (h.zeroCountFloat !== undefined) m.double(8, h.zeroCountFloat);
  spans(m, 9, h.negativeSpans);
  m.packedSint(10, h.negativeDeltas ?? []);
  m.packedDouble(11, h.negativeCounts ?? []);
  spans(m, 12, h.positiveSpans);
  m.packedSint(13, h.positiveDeltas ?? []);
  m.packedDouble(14, h.positiveCounts ?? []);
  if (h.createdMs !== undefined) m.msg(15, timestamp(h.createdMs));
  for (const e of h.exemplars ?? []) m.msg(16, exemplar(e));
  return m;
}

function metric(x: EncMetric): Msg {
  const m = new Msg();
  labelPairs(m, 1, x.labels);
  if (x.gauge !== undefined) m.msg(2, new Msg().double(1, x.gauge));
  if (x.counter) {
    const c = new Msg().double(1, x.counter.value);
    if (x.counter.exemplar) c.msg(2, exemplar(x.counter.exemplar));
    if (x.counter.createdMs !== undefined) c.msg(3, timestamp(x.counter.createdMs));
    m.msg(3, c);
  }
  if (x.summary) {
    const s = new Msg().uvarint(1, x.summary.count).double(2, x.summary.sum);
    for (const [q, v] of x.summary.quantiles) s.msg(3, new Msg().double(1, q).double(2, v));
    if (x.summary.createdMs !== undefined) s.msg(4, timestamp(x.summary.createdMs));
    m.msg(4, s);
  }
  if (x.untyped !== undefined) m.msg(5, new Msg().double(1, x.untyped));
  if (x.timestampMs !== undefined) m.uvarint(6, x.timestampMs);
  if (x.histogram) m.msg(7, histogram(x.histogram));
  return m;
}

/** One MetricFamily message, without its length. */
export function encodeMetricFamily(f: EncFamily): Buffer {
  const m = new Msg().string(1, f.name);
  if (f.help !== undefined) m.string(2, f.help);
  m.uvarint(3, TYPE_NUMBERS[f.type]);
  for (const x of f.metrics) m.msg(4, metric(x));
  if (f.unit !== undefined) m.string(5, f.unit);
  return m.done();
}

/** A scrape body: each family prefixed with its length as a varint. */
export function encodeMetricFamilies(fams: readonly EncFamily[]): Buffer {
  const w = new ByteWriter(256);
  for (const f of fams) {
    const b = encodeMetricFamily(f);
    w.uvarint(b.length);
    w.bytes(b);
  }
  return Buffer.from(w.view());
}

/**
 * A histogram with classic bounds and native buckets of one schema over the same observations,
 * as client_golang exposes one configured with both.
 */
export class DualHistogram {
  private readonly classic: number[];
  private readonly native = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  count = 0;
  sum = 0;
  zeroCount = 0;
  private readonly exemplarsByBucket = new Map<number, EncExemplar>();

  constructor(
    readonly bounds: readonly number[],
    readonly schema: number,
    readonly zeroThreshold = 2 ** -128,
  ) {
    this.classic = new Array<number>(bounds.length).fill(0);
  }

  /** Records `v`; with `exemplar`, the classic bucket it falls in keeps it. */
  observe(v: number, exemplar?: EncExemplar): void {
    this.count++;
    this.sum += v;
    const k = this.bounds.findIndex((b) => v <= b);
    if (k >= 0) this.classic[k]!++;
    if (exemplar) this.exemplarsByBucket.set(k, exemplar);
    const a = Math.abs(v);
    if (a <= this.zeroThreshold) {
      this.zeroCount++;
      return;
    }
    // Bucket i of schema s holds (2^((i-1)/2^s), 2^(i/2^s)].
    const idx = Math.ceil(Math.log2(a) * 2 ** this.schema);
    const m = v > 0 ? this.native : this.negative;
    m.set(idx, (m.get(idx) ?? 0) + 1);
  }

  /** The protobuf histogram: classic buckets (cumulative), and native spans with integer deltas unless `classicOnly`. */
  encode(classicOnly = false): EncHistogram {
    let cum = 0;
    const buckets: EncBucket[] = this.bounds.map((upper, k) => {
      cum += this.classic[k]!;
      const ex = this.exemplarsByBucket.get(k);
      return ex ? { upper, cumulative: cum, exemplar: ex } : { upper, cumulative: cum };
    });
    if (classicOnly) return { count: this.count, sum: this.sum, buckets };
    const pos = sparse(this.native);
    const neg = sparse(this.negative);
    return {
      count: this.count,
      sum: this.sum,
      buckets,
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: this.zeroCount,
      // A no-op span marks a native histogram without observations yet.
      positiveSpans: pos.spans.length > 0 ? pos.spans : [{ offset: 0, length: 0 }],
      positiveDeltas: pos.deltas,
      negativeSpans: neg.spans,
      negativeDeltas: neg.deltas,
    };
  }
}

/** Spans and deltas of the buckets in `m`, gaps of up to two empty buckets filled in as client_golang does. */
function sparse(m: Map<number, number>): { spans: Span[]; deltas: number[] } {
  const idx = [...m.keys()].sort((a, b) => a - b);
  const spans: Span[] = [];
  const deltas: number[] = [];
  let prevCount = 0;
  let last = 0;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    const gap = i === 0 ? Infinity : j - last - 1;
    if (gap > 2) {
      spans.push({ offset: i === 0 ? j : gap, length: 1 });
    } else {
      const s = spans[spans.length - 1]!;
      for (let g = 0; g < gap; g++) {
        deltas.push(-prevCount);
        prevCount = 0;
      }
      spans[spans.length - 1] = { offset: s.offset, length: s.length + gap + 1 };
    }
    const c = m.get(j)!;
    deltas.push(c - prevCount);
    prevCount = c;
    last = j;
  }
  return { spans, deltas };
}
