/**
 * Native histograms, after Prometheus' `model/histogram.FloatHistogram`: sparse buckets laid out by
 * spans, exponential (schema −4…8: bucket i of schema s ends at 2^(i·2^−s)) or with custom bounds
 * (NHCB, schema −53), plus a zero bucket, a count, a sum and a counter-reset hint.
 *
 * Values are treated as immutable: every operation returns a new histogram. The shape (spans plus
 * absolute float bucket counts) is the one Prometheus' chunk and WAL encodings write, so a later
 * on-disk encoding maps field for field. Results of arithmetic come back compact (no empty
 * buckets), which is the canonical form two histograms are compared in.
 */

/** Prometheus' counter-reset hint of a histogram sample. */
export type CounterResetHint = 'unknown' | 'reset' | 'not_reset' | 'gauge';

/** A run of `length` consecutive buckets starting `offset` indexes after the previous run's end. */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

/** The schema of histograms with custom bucket bounds (NHCB). */
export const CUSTOM_BUCKETS_SCHEMA = -53;
/** Exponential schemas Prometheus accepts. */
export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;

/** Fields of a histogram (also the input of {@link FloatHistogram.of}). */
export interface HistogramFields {
  counterResetHint: CounterResetHint;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positiveSpans: readonly Span[];
  positiveBuckets: readonly number[];
  negativeSpans: readonly Span[];
  negativeBuckets: readonly number[];
  /** Upper bounds of the custom buckets (schema −53 only), ascending; the last bucket ends at +Inf. */
  customValues: readonly number[];
}

/** Two histograms that cannot be combined (exponential with custom buckets). */
export class HistogramSchemaError extends Error {
  constructor() {
    super('cannot combine histograms with exponential and custom buckets');
  }
}

/** One bucket: `(lower, upper]` for positive buckets, `[lower, upper)` for negative ones, `[lower, upper]` for the zero bucket. */
export interface HistogramBucket {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Prometheus' API boundary rule: 0 open left, 1 open right, 3 closed both. */
  readonly boundaryRule: 0 | 1 | 3;
}

/** What an operation noticed that a query reports as an annotation. */
export interface HistogramOpNotes {
  /** Custom bounds differed and were intersected. */
  reconciled?: boolean;
  /** A counter reset and a not-reset hint met. */
  counterResetCollision?: boolean;
}

type BucketMap = Map<number, number>;

/** The upper bound of exponential bucket `idx` in `schema`. */
export function exponentialBound(idx: number, schema: number): number {
  if (schema <= 0) return 2 ** (idx * 2 ** -schema);
  const per = 2 ** schema;
  const whole = Math.floor(idx / per);
  const frac = idx - whole * per;
  // Split so the integer part is exact: 2^whole · 2^(frac/per).
  return 2 ** whole * 2 ** (frac / per);
}

/** The index a bucket of `from` lands in when merged down to the coarser schema `to`. */
function reducedIndex(idx: number, from: number, to: number): number {
  return Math.floor((idx - 1) / 2 ** (from - to)) + 1;
}

function toMap(spans: readonly Span[], buckets: readonly number[]): BucketMap {
  const m: BucketMap = new Map();
  let idx = 0;
  let b = 0;
  for (let s = 0; s < spans.length; s++) {
    idx += spans[s]!.offset;
    for (let k = 0; k < spans[s]!.length; k++) {
      const c = buckets[b++] ?? 0;
      m.set(idx, (m.get(idx) ?? 0) + c);
      idx++;
    }
  }
  return m;
}

/** Spans and buckets of the non-zero entries of `m`, in index order. */
function fromMap(m: BucketMap): { spans: Span[]; buckets: number[] } {
  const idxs = [...m.keys()].filter((i) => m.get(i) !== 0).sort((a, b) => a - b);
  const spans: Span[] = [];
  const buckets: number[] = [];
  let prevEnd = 0;
  let runStart = 0;
  let runLen = 0;
  for (const i of idxs) {
    if (runLen > 0 && i === runStart + runLen) runLen++;
    else {
      if (runLen > 0) {
        spans.push({ offset: runStart - prevEnd, length: runLen });
        prevEnd = runStart + runLen;
      }
      runStart = i;
      runLen = 1;
    }
    buckets.push(m.get(i)!);
  }
  if (runLen > 0) spans.push({ offset: runStart - prevEnd, length: runLen });
  return { spans, buckets };
}

function reduceMap(m: BucketMap, from: number, to: number): BucketMap {
  if (from === to) return m;
  const out: BucketMap = new Map();
  for (const [i, c] of m) {
    const j = reducedIndex(i, from, to);
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

/** Maps custom buckets onto the coarser bounds `to` (a subset of `from`). */
function remapCustom(m: BucketMap, from: readonly number[], to: readonly number[]): BucketMap {
  const out: BucketMap = new Map();
  for (const [i, c] of m) {
    const upper = i < from.length ? from[i]! : Infinity;
    let j = 0;
    while (j < to.length && to[j]! < upper) j++;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A native histogram with float counts. */
export class FloatHistogram implements HistogramFields {
  readonly counterResetHint: CounterResetHint;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  readonly positiveSpans: readonly Span[];
  readonly positiveBuckets: readonly number[];
  readonly negativeSpans: readonly Span[];
  readonly negativeBuckets: readonly number[];
  readonly customValues: readonly number[];

  private constructor(f: HistogramFields) {
    this.counterResetHint = f.counterResetHint;
    this.schema = f.schema;
    this.zeroThreshold = f.zeroThreshold;
    this.zeroCount = f.zeroCount;
    this.count = f.count;
    this.sum = f.sum;
    this.positiveSpans = f.positiveSpans;
    this.positiveBuckets = f.positiveBuckets;
    this.negativeSpans = f.negativeSpans;
    this.negativeBuckets = f.negativeBuckets;
    this.customValues = f.customValues;
  }

  /** A histogram from its fields; missing fields take Prometheus' zero values (schema 0, no buckets). */
  static of(f: Partial<HistogramFields>): FloatHistogram {
    const h = new FloatHistogram({
      counterResetHint: f.counterResetHint ?? 'unknown',
      schema: f.schema ?? 0,
      zeroThreshold: f.zeroThreshold ?? 0,
      zeroCount: f.zeroCount ?? 0,
      count: f.count ?? 0,
      sum: f.sum ?? 0,
      positiveSpans: f.positiveSpans ?? [],
      positiveBuckets: f.positiveBuckets ?? [],
      negativeSpans: f.negativeSpans ?? [],
      negativeBuckets: f.negativeBuckets ?? [],
      customValues: f.customValues ?? [],
    });
    const problem = h.validate();
    if (problem !== undefined) throw new RangeError(problem);
    return h;
  }

  /** Why the histogram is malformed, or undefined. */
  validate(): string | undefined {
    const custom = this.usesCustomBuckets();
    if (!custom && (this.schema < MIN_SCHEMA || this.schema > MAX_SCHEMA || !Number.isInteger(this.schema)))
      return `histogram schema ${this.schema} is not between ${MIN_SCHEMA} and ${MAX_SCHEMA} (or ${CUSTOM_BUCKETS_SCHEMA} for custom buckets)`;
    const spanLen = (ss: readonly Span[]): number => ss.reduce((n, s) => n + s.length, 0);
    if (spanLen(this.positiveSpans) !== this.positiveBuckets.length) return 'histogram positive spans do not match the number of positive buckets';
    if (spanLen(this.negativeSpans) !== this.negativeBuckets.length) return 'histogram negative spans do not match the number of negative buckets';
    if (custom) {
      if (this.negativeBuckets.length > 0 || this.zeroCount !== 0) return 'histogram with custom buckets has negative or zero buckets';
      for (let i = 1; i < this.customValues.length; i++)
        if (!(this.customValues[i]! > this.customValues[i - 1]!)) return 'histogram custom bounds are not strictly increasing';
    } else if (this.customValues.length > 0) return 'histogram with an exponential schema has custom bounds';
    return undefined;
  }

  usesCustomBuckets(): boolean {
    return this.schema === CUSTOM_BUCKETS_SCHEMA;
  }

  /** A copy with some fields replaced. */
  with(f: Partial<HistogramFields>): FloatHistogram {
    return new FloatHistogram({ ...this.fields(), ...f });
  }

  private fields(): HistogramFields {
    return {
      counterResetHint: this.counterResetHint,
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: this.zeroCount,
      count: this.count,
      sum: this.sum,
      positiveSpans: this.positiveSpans,
      positiveBuckets: this.positiveBuckets,
      negativeSpans: this.negativeSpans,
      negativeBuckets: this.negativeBuckets,
      customValues: this.customValues,
    };
  }

  /** The bucket counts by index, positive and negative. */
  bucketMaps(): { pos: Map<number, number>; neg: Map<number, number> } {
    return { pos: toMap(this.positiveSpans, this.positiveBuckets), neg: toMap(this.negativeSpans, this.negativeBuckets) };
  }

  /** A histogram of this one's layout (schema, bounds, threshold) with other counts, empty buckets left out. */
  withBuckets(pos: Map<number, number>, neg: Map<number, number>, f: Partial<HistogramFields>): FloatHistogram {
    return this.withMaps(pos, neg, f);
  }

  private withMaps(pos: BucketMap, neg: BucketMap, f: Partial<HistogramFields>): FloatHistogram {
    const p = fromMap(pos);
    const n = fromMap(neg);
    return this.with({ ...f, positiveSpans: p.spans, positiveBuckets: p.buckets, negativeSpans: n.spans, negativeBuckets: n.buckets });
  }

  /** The same histogram without empty buckets (Prometheus' `Compact(0)`). */
  compact(): FloatHistogram {
    return this.withMaps(toMap(this.positiveSpans, this.positiveBuckets), toMap(this.negativeSpans, this.negativeBuckets), {});
  }

  /** Every count and the sum multiplied by `f` (a negative factor gives negative counts, as in Prometheus). */
  mul(f: number): FloatHistogram {
    return this.with({
      zeroCount: this.zeroCount * f,
      count: this.count * f,
      sum: this.sum * f,
      positiveBuckets: this.positiveBuckets.map((c) => c * f),
      negativeBuckets: this.negativeBuckets.map((c) => c * f),
    });
  }

  /** Every count and the sum divided by `d`; division by zero drops the buckets, as in Prometheus. */
  div(d: number): FloatHistogram {
    if (d === 0)
      return this.with({
        zeroCount: this.zeroCount / d,
        count: this.count / d,
        sum: this.sum / d,
        positiveSpans: [],
        positiveBuckets: [],
        negativeSpans: [],
        negativeBuckets: [],
      });
    return this.with({
      zeroCount: this.zeroCount / d,
      count: this.count / d,
      sum: this.sum / d,
      positiveBuckets: this.positiveBuckets.map((c) => c / d),
      negativeBuckets: this.negativeBuckets.map((c) => c / d),
    });
  }

  /** The same histogram at a coarser (lower) schema, buckets merged; custom-bucket histograms are unchanged. */
  reduceResolution(schema: number): FloatHistogram {
    if (this.usesCustomBuckets() || schema >= this.schema) return this;
    return this.withMaps(
      reduceMap(toMap(this.positiveSpans, this.positiveBuckets), this.schema, schema),
      reduceMap(toMap(this.negativeSpans, this.negativeBuckets), this.schema, schema),
      { schema },
    );
  }

  /**
   * The zero bucket widened to at least `threshold`: buckets that reach into it are merged into it,
   * and a bucket that straddles the new threshold widens it to its own upper bound.
   */
  widenZeroBucket(threshold: number): FloatHistogram {
    if (this.usesCustomBuckets() || threshold <= this.zeroThreshold) return this;
    const pos = toMap(this.positiveSpans, this.positiveBuckets);
    const neg = toMap(this.negativeSpans, this.negativeBuckets);
    let thr = threshold;
    let zero = this.zeroCount;
    for (let changed = true; changed;) {
      changed = false;
      for (const m of [pos, neg])
        for (const [i, c] of m) {
          const lower = exponentialBound(i - 1, this.schema);
          if (lower < thr) {
            zero += c;
            m.delete(i);
            const upper = exponentialBound(i, this.schema);
            if (upper > thr) {
              thr = upper;
              changed = true;
            }
          }
        }
    }
    return this.withMaps(pos, neg, { zeroThreshold: thr, zeroCount: zero });
  }

  /** `this + o`. Throws {@link HistogramSchemaError} for exponential with custom buckets. */
  add(o: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
    return this.combine(o, 1, notes);
  }

  /** `this − o`. Throws {@link HistogramSchemaError} for exponential with custom buckets. */
  sub(o: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
    return this.combine(o, -1, notes);
  }

  private combine(o: FloatHistogram, sign: 1 | -1, notes: HistogramOpNotes | undefined): FloatHistogram {
    if (this.usesCustomBuckets() !== o.usesCustomBuckets()) throw new HistogramSchemaError();
    const hint = combinedHint(this.counterResetHint, o.counterResetHint, notes);
    // with({}) is a copy: `a` is reassigned below as buckets are widened and reduced.
    let a = this.with({});
    let b = o;
    let pa: BucketMap;
    let pb: BucketMap;
    let customValues = a.customValues;
    if (a.usesCustomBuckets()) {
      pa = toMap(a.positiveSpans, a.positiveBuckets);
      pb = toMap(b.positiveSpans, b.positiveBuckets);
      if (!sameValues(a.customValues, b.customValues)) {
        // Prometheus 3 keeps only the bounds both have and merges the buckets between them.
        const bs = new Set(b.customValues);
        customValues = a.customValues.filter((v) => bs.has(v));
        pa = remapCustom(pa, a.customValues, customValues);
        pb = remapCustom(pb, b.customValues, customValues);
        if (notes) notes.reconciled = true;
      }
    } else {
      while (a.zeroThreshold !== b.zeroThreshold) {
        if (a.zeroThreshold < b.zeroThreshold) a = a.widenZeroBucket(b.zeroThreshold);
        else b = b.widenZeroBucket(a.zeroThreshold);
      }
      const schema = Math.min(a.schema, b.schema);
      a = a.reduceResolution(schema);
      b = b.reduceResolution(schema);
      pa = toMap(a.positiveSpans, a.positiveBuckets);
      pb = toMap(b.positiveSpans, b.positiveBuckets);
    }
    const na = toMap(a.negativeSpans, a.negativeBuckets);
    const nb = toMap(b.negativeSpans, b.negativeBuckets);
    for (const [i, c] of pb) pa.set(i, (pa.get(i) ?? 0) + sign * c);
    for (const [i, c] of nb) na.set(i, (na.get(i) ?? 0) + sign * c);
    return a.withMaps(pa, na, {
      counterResetHint: hint,
      customValues,
      zeroCount: a.zeroCount + sign * b.zeroCount,
      count: a.count + sign * b.count,
      sum: a.sum + sign * b.sum,
    });
  }

  /**
   * True when `this` follows `prev` only across a counter reset (Prometheus' `DetectReset`): the
   * hint says so, or a count went down, or the layout changed in a way a counter cannot.
   */
  detectReset(prev: FloatHistogram): boolean {
    if (this.counterResetHint === 'reset') return true;
    if (this.counterResetHint === 'not_reset') return false;
    if (this.count < prev.count) return true;
    if (this.usesCustomBuckets() !== prev.usesCustomBuckets()) return true;
    if (this.usesCustomBuckets()) {
      if (!sameValues(this.customValues, prev.customValues)) {
        // Prometheus 3 compares custom buckets on the bounds both have, as subtraction reconciles them.
        const ps = new Set(prev.customValues);
        const common = this.customValues.filter((v) => ps.has(v));
        const cur = remapCustom(toMap(this.positiveSpans, this.positiveBuckets), this.customValues, common);
        const old = remapCustom(toMap(prev.positiveSpans, prev.positiveBuckets), prev.customValues, common);
        for (const [i, c] of old) if ((cur.get(i) ?? 0) < c) return true;
        return false;
      }
    } else {
      if (this.schema > prev.schema) return true;
      if (this.zeroThreshold < prev.zeroThreshold) return true;
    }
    let p = prev.reduceResolution(this.schema).widenZeroBucket(this.zeroThreshold);
    if (p.zeroThreshold !== this.zeroThreshold) return true;
    if (this.zeroCount < p.zeroCount) return true;
    p = p.compact();
    const cur = [toMap(this.positiveSpans, this.positiveBuckets), toMap(this.negativeSpans, this.negativeBuckets)];
    const old = [toMap(p.positiveSpans, p.positiveBuckets), toMap(p.negativeSpans, p.negativeBuckets)];
    for (let k = 0; k < 2; k++) for (const [i, c] of old[k]!) if ((cur[k]!.get(i) ?? 0) < c) return true;
    return false;
  }

  /** Equal in every field after compaction (counts compared with `eq`, exact by default). */
  equals(o: FloatHistogram, eq: (a: number, b: number) => boolean = (a, b) => a === b || (a !== a && b !== b)): boolean {
    const a = this.compact();
    const b = o.compact();
    if (a.schema !== b.schema || a.zeroThreshold !== b.zeroThreshold) return false;
    if (!eq(a.count, b.count) || !eq(a.sum, b.sum) || !eq(a.zeroCount, b.zeroCount)) return false;
    if (a.usesCustomBuckets() && !sameValues(a.customValues, b.customValues)) return false;
    const spansEq = (x: readonly Span[], y: readonly Span[]): boolean =>
      x.length === y.length && x.every((s, i) => s.offset === y[i]!.offset && s.length === y[i]!.length);
    const bucketsEq = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((v, i) => eq(v, y[i]!));
    return (
      spansEq(a.positiveSpans, b.positiveSpans) &&
      spansEq(a.negativeSpans, b.negativeSpans) &&
      bucketsEq(a.positiveBuckets, b.positiveBuckets) &&
      bucketsEq(a.negativeBuckets, b.negativeBuckets)
    );
  }

  /** Bounds of positive bucket `idx`. */
  private positiveBounds(idx: number): [number, number] {
    if (this.usesCustomBuckets()) {
      const cv = this.customValues;
      return [idx === 0 ? -Infinity : cv[idx - 1]!, idx < cv.length ? cv[idx]! : Infinity];
    }
    return [exponentialBound(idx - 1, this.schema), exponentialBound(idx, this.schema)];
  }

  /** The positive buckets, lowest first. */
  *positiveBucketList(): Generator<HistogramBucket> {
    for (const [i, c] of [...toMap(this.positiveSpans, this.positiveBuckets)].sort((x, y) => x[0] - y[0])) {
      const [lower, upper] = this.positiveBounds(i);
      yield { lower, upper, count: c, boundaryRule: 0 };
    }
  }

  /** The negative buckets, most negative first. */
  *negativeBucketList(): Generator<HistogramBucket> {
    for (const [i, c] of [...toMap(this.negativeSpans, this.negativeBuckets)].sort((x, y) => y[0] - x[0]))
      yield { lower: -exponentialBound(i, this.schema), upper: -exponentialBound(i - 1, this.schema), count: c, boundaryRule: 1 };
  }

  /** Every bucket from the lowest to the highest: negative, the zero bucket (when it has a width or a count), positive. */
  *allBuckets(): Generator<HistogramBucket> {
    yield* this.negativeBucketList();
    if (!this.usesCustomBuckets() && (this.zeroThreshold !== 0 || this.zeroCount !== 0))
      yield { lower: -this.zeroThreshold, upper: this.zeroThreshold, count: this.zeroCount, boundaryRule: 3 };
    yield* this.positiveBucketList();
  }

  /** True when the histogram has positive or negative buckets (not counting the zero bucket). */
  hasPositive(): boolean {
    return this.positiveBuckets.length > 0;
  }

  hasNegative(): boolean {
    return this.negativeBuckets.length > 0;
  }
}

/** Prometheus' `FloatHistogram.String()`: `{count:20, sum:10, [-2,-1):2, [-0.001,0.001]:2, (0.5,1]:1}`. */
export function histogramString(h: FloatHistogram): string {
  const g = (v: number): string => (v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
  const parts = [`count:${g(h.count)}`, `sum:${g(h.sum)}`];
  for (const b of h.allBuckets()) {
    if (b.count === 0 && b.boundaryRule !== 3) continue;
    const open = b.boundaryRule === 0 ? '(' : '[';
    const close = b.boundaryRule === 1 ? ')' : ']';
    parts.push(`${open}${g(b.lower)},${g(b.upper)}${close}:${g(b.count)}`);
  }
  return `{${parts.join(', ')}}`;
}

/**
 * The histograms brought to one layout, so their buckets can be summed index by index: exponential
 * ones to the coarsest schema and the widest zero bucket, custom ones to the bounds all of them
 * have (`notes.reconciled` when that changed any). Throws {@link HistogramSchemaError} for a mix.
 */
export function alignHistograms(hs: readonly FloatHistogram[], notes?: HistogramOpNotes): FloatHistogram[] {
  if (hs.length === 0) return [];
  const custom = hs[0]!.usesCustomBuckets();
  if (hs.some((h) => h.usesCustomBuckets() !== custom)) throw new HistogramSchemaError();
  if (custom) {
    let common = hs[0]!.customValues;
    for (const h of hs) {
      const set = new Set(h.customValues);
      common = common.filter((v) => set.has(v));
    }
    return hs.map((h) => {
      if (sameValues(h.customValues, common)) return h;
      if (notes) notes.reconciled = true;
      const pos = remapCustom(toMap(h.positiveSpans, h.positiveBuckets), h.customValues, common);
      return h.withBuckets(pos, new Map(), { customValues: common });
    });
  }
  let out = [...hs];
  for (;;) {
    const thr = Math.max(...out.map((h) => h.zeroThreshold));
    if (out.every((h) => h.zeroThreshold === thr)) break;
    out = out.map((h) => h.widenZeroBucket(thr));
  }
  const schema = Math.min(...out.map((h) => h.schema));
  return out.map((h) => h.reduceResolution(schema));
}

/** The counter-reset hint of a sum, as Prometheus' `FloatHistogram.Add` decides it. */
export function combinedHint(a: CounterResetHint, b: CounterResetHint, notes?: HistogramOpNotes): CounterResetHint {
  if (a === b) return a;
  if (a === 'gauge' || b === 'gauge') return 'gauge';
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  // A reset meeting a not-reset: say nothing certain.
  if (notes) notes.counterResetCollision = true;
  return 'unknown';
}
