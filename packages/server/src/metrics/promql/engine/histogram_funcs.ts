/**
 * PromQL functions over native histograms, after Prometheus' `promql/quantile.go` (`HistogramQuantile`,
 * `HistogramFraction`) and the histogram branches of `promql/functions.go` (`histogramRate`,
 * `instantValue`, `*_over_time`, `histogram_stddev`).
 */
import { type FloatHistogram, HistogramSchemaError, type HistogramOpNotes } from '../../../core/model/histogram.js';
import { kahanSumInc } from '../../../core/eval/numeric.js';
import { HIST_NOTES, sumHistograms } from '../../../core/eval/histogram_step.js';
import type { Floats } from '../../../core/eval/series.js';
import { extrapolationFactor, RANGE_FUNCS, type RangeEnv } from './rangefuncs.js';
import { fractionRanks, type FractionSpan } from './quantile.js';

/** `histogram_quantile(q, h)` of one native histogram; `nan` says the sum is NaN (NaN observations). */
export function nativeQuantile(q: number, h: FloatHistogram): { value: number; nanObservations: boolean; nanResult: boolean } {
  const nanObservations = Number.isNaN(h.sum);
  const done = (value: number, nanResult = false): { value: number; nanObservations: boolean; nanResult: boolean } => ({ value, nanObservations, nanResult });
  if (q < 0) return done(-Infinity);
  if (q > 1) return done(Infinity);
  if (h.count === 0 || Number.isNaN(q)) return done(NaN);
  // NaN observations count but sit in no bucket: walk up from below so they end up above the rest.
  const forward = nanObservations || q < 0.5;
  const buckets = [...h.allBuckets()];
  if (!forward) buckets.reverse();
  const rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let b: { lower: number; upper: number; count: number } | undefined;
  for (const x of buckets) {
    if (x.count === 0) continue;
    b = { lower: x.lower, upper: x.upper, count: x.count };
    count += x.count;
    if (count >= rank) break;
  }
  // No bucket has an observation: all of them were NaN.
  if (b === undefined) return done(NaN, nanObservations);
  if (nanObservations && count < rank) return done(NaN, true);
  if (!h.usesCustomBuckets() && b.lower < 0 && b.upper > 0) {
    // The zero bucket: with buckets on one side only, zero is the bound on the other.
    if (!h.hasNegative() && h.hasPositive()) b.lower = 0;
    else if (!h.hasPositive() && h.hasNegative()) b.upper = 0;
  } else if (h.usesCustomBuckets()) {
    if (b.lower === -Infinity) {
      if (b.upper <= 0) return done(b.upper);
      b.lower = 0;
    } else if (b.upper === Infinity) return done(b.lower);
  }
  if (count > h.count) count = h.count;
  if (count < rank) return done(b.upper);
  let fraction = (rank - (count - b.count)) / b.count;
  if (!forward) fraction = 1 - fraction;
  // Custom buckets and the zero bucket interpolate linearly, like classic buckets.
  if (h.usesCustomBuckets() || (b.lower <= 0 && b.upper >= 0)) return done(b.lower + (b.upper - b.lower) * fraction);
  // Exponential buckets: interpolate in log space, mirrored for negative buckets.
  const logLower = Math.log2(Math.abs(b.lower));
  const logUpper = Math.log2(Math.abs(b.upper));
  if (b.lower > 0) return done(2 ** (logLower + (logUpper - logLower) * fraction));
  return done(-(2 ** (logUpper + (logLower - logUpper) * (1 - fraction))));
}

/** `histogram_fraction(lower, upper, h)` of one native histogram. */
export function nativeFraction(lower: number, upper: number, h: FloatHistogram): number {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  const ranks = fractionRanks(lower, upper, nativeSpans(h));
  // NaN observations count but lie in no bucket: a bound above every bucket has only the
  // bucketed observations below it.
  let below = h.count;
  if (Number.isNaN(h.sum)) {
    below = 0;
    for (const x of h.allBuckets()) below += x.count;
  }
  const lowerRank = ranks.lower === undefined || ranks.lower > below ? below : ranks.lower;
  const upperRank = ranks.upper === undefined || ranks.upper > below ? below : ranks.upper;
  return (upperRank - lowerRank) / h.count;
}

/** The buckets of `h` as spans: the zero bucket and custom buckets interpolate linearly, exponential buckets in log space. */
function* nativeSpans(h: FloatHistogram): Generator<FractionSpan> {
  let rank = 0;
  for (const x of h.allBuckets()) {
    let bl = x.lower;
    let bu = x.upper;
    const zeroBucket = !h.usesCustomBuckets() && bl <= 0 && bu >= 0;
    if (zeroBucket) {
      if (!h.hasNegative() && h.hasPositive()) bl = 0;
      else if (!h.hasPositive() && h.hasNegative()) bu = 0;
    }
    if (h.usesCustomBuckets() && bl === -Infinity && bu > 0) bl = 0;
    const below = rank;
    // A bucket of infinite width is not interpolated: its observations all lie beyond any finite value.
    const linear = (v: number): number => (bl === -Infinity ? below + x.count : bu === Infinity ? below : below + (x.count * (v - bl)) / (bu - bl));
    const exponential = (v: number): number => {
      const logLower = Math.log2(Math.abs(bl));
      const logUpper = Math.log2(Math.abs(bu));
      const logV = Math.log2(Math.abs(v));
      const fraction = v > 0 ? (logV - logLower) / (logUpper - logLower) : 1 - (logV - logUpper) / (logLower - logUpper);
      return below + x.count * fraction;
    };
    const interpolate = (v: number): number => (zeroBucket || h.usesCustomBuckets() ? linear(v) : exponential(v));
    yield { lower: bl, upper: bu, below, interpolate };
    rank += x.count;
  }
}

/** The variance of the observations in `h`, each bucket's observations taken at its (geometric, for exponential buckets) middle. */
export function nativeVariance(h: FloatHistogram): number {
  const mean = h.sum / h.count;
  let variance = 0;
  let c = 0;
  for (const b of h.allBuckets()) {
    if (b.count === 0) continue;
    let val: number;
    if (h.usesCustomBuckets()) val = (b.upper + b.lower) / 2;
    else if (b.lower <= 0 && b.upper >= 0) val = 0;
    else {
      val = Math.sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    const delta = val - mean;
    [variance, c] = kahanSumInc(b.count * delta * delta, variance, c);
  }
  return (variance + c) / h.count;
}

/** A range function over a window that may hold histograms (`hs[i]` set where point i is one). */
export type HistRangeFunc = (
  ts: Floats,
  vs: Floats,
  hs: readonly (FloatHistogram | undefined)[],
  lo: number,
  hi: number,
  env: RangeEnv,
) => number | FloatHistogram | undefined;

/** How many of the window's points are histograms. */
function histCount(hs: readonly (FloatHistogram | undefined)[], lo: number, hi: number): number {
  let n = 0;
  for (let i = lo; i < hi; i++) if (hs[i] !== undefined) n++;
  return n;
}

/** Sums (or averages) a window's histograms, reporting a schema clash; undefined when it happened. */
function windowSum(hs: readonly (FloatHistogram | undefined)[], lo: number, hi: number, mean: boolean, env: RangeEnv): FloatHistogram | undefined {
  const notes: HistogramOpNotes = {};
  let acc: FloatHistogram;
  try {
    acc = sumHistograms(hs.slice(lo, hi) as FloatHistogram[], mean, notes);
  } catch (err) {
    if (!(err instanceof HistogramSchemaError)) throw err;
    env.warn(HIST_NOTES.mixedExpCustom(env.metricName));
    return undefined;
  }
  if (notes.reconciled) env.info(HIST_NOTES.reconciled('aggregation'));
  if (notes.counterResetCollision) env.warn(HIST_NOTES.counterResetCollision('aggregation'));
  return acc;
}

/** The change over a window of histogram samples, reset-corrected for counters (Prometheus' `histogramRate`). */
function histogramChange(hs: readonly (FloatHistogram | undefined)[], lo: number, hi: number, env: RangeEnv, isCounter: boolean): FloatHistogram | undefined {
  const first = hs[lo]!;
  const last = hs[hi - 1]!;
  const notes: HistogramOpNotes = {};
  let h: FloatHistogram;
  try {
    if (isCounter) {
      if (hs.slice(lo, hi).some((x) => x!.counterResetHint === 'gauge')) env.warn(HIST_NOTES.notCounter(env.metricName));
      // Split at resets (a switch between exponential and custom buckets is one): the change is the
      // first run's own change plus the last value of every later run, which started from zero.
      // So runs of different layouts combine as long as the ones that contribute agree.
      let runStart = lo;
      let acc: FloatHistogram | undefined;
      const addRun = (from: number, to: number): void => {
        const part = from === lo ? (to - 1 > from ? hs[to - 1]!.sub(hs[from]!, notes) : undefined) : hs[to - 1]!;
        if (part !== undefined) acc = acc === undefined ? part : acc.add(part, notes);
      };
      for (let i = lo + 1; i < hi; i++) {
        if (!hs[i]!.detectReset(hs[i - 1]!)) continue;
        addRun(runStart, i);
        runStart = i;
      }
      addRun(runStart, hi);
      h = acc ?? last.sub(last);
    } else {
      if (first.counterResetHint !== 'gauge' || last.counterResetHint !== 'gauge') env.warn(HIST_NOTES.notGauge(env.metricName));
      h = last.sub(first, notes);
    }
  } catch (err) {
    if (!(err instanceof HistogramSchemaError)) throw err;
    env.warn(HIST_NOTES.mixedExpCustom(env.metricName));
    return undefined;
  }
  if (notes.reconciled) env.info(HIST_NOTES.reconciled('subtraction'));
  return h.with({ counterResetHint: 'gauge' }).compact();
}

function histRate(isCounter: boolean, isRate: boolean, name: string): HistRangeFunc {
  const floatFn = RANGE_FUNCS.get(name)!;
  return (ts, vs, hs, lo, hi, env) => {
    if (hi - lo < 2) return undefined;
    const n = histCount(hs, lo, hi);
    if (n === 0) return floatFn(ts, vs, lo, hi, env);
    if (n !== hi - lo) {
      env.warn(HIST_NOTES.mixedFloatsHistograms(env.metricName));
      return undefined;
    }
    const h = histogramChange(hs, lo, hi, env, isCounter);
    if (h === undefined) return undefined;
    // As for float counters, the extrapolation stops where the count would reach zero.
    const firstCount = hs[lo]!.count;
    const zeroFraction = isCounter && h.count > 0 && firstCount >= 0 ? firstCount / h.count : undefined;
    return h.mul(extrapolationFactor(ts[lo]!, ts[hi - 1]!, hi - lo, env, isRate, zeroFraction));
  };
}

function histInstant(isRate: boolean, name: string): HistRangeFunc {
  const floatFn = RANGE_FUNCS.get(name)!;
  return (ts, vs, hs, lo, hi, env) => {
    if (hi - lo < 2) return undefined;
    const prev = hs[hi - 2];
    const last = hs[hi - 1];
    if (prev === undefined && last === undefined) return floatFn(ts, vs, lo, hi, env);
    if (prev === undefined || last === undefined) {
      env.warn(HIST_NOTES.mixedFloatsHistograms(env.metricName));
      return undefined;
    }
    if (isRate && (last.counterResetHint === 'gauge' || prev.counterResetHint === 'gauge')) env.warn(HIST_NOTES.notCounter(env.metricName));
    if (!isRate && (last.counterResetHint !== 'gauge' || prev.counterResetHint !== 'gauge')) env.warn(HIST_NOTES.notGauge(env.metricName));
    let h = last;
    if (!isRate || !last.detectReset(prev)) {
      try {
        const notes: HistogramOpNotes = {};
        h = last.sub(prev, notes);
        if (notes.reconciled) env.info(HIST_NOTES.reconciled('subtraction'));
      } catch (err) {
        if (!(err instanceof HistogramSchemaError)) throw err;
        env.warn(HIST_NOTES.mixedExpCustom(env.metricName));
        return undefined;
      }
    }
    h = h.with({ counterResetHint: 'gauge' }).compact();
    const interval = ts[hi - 1]! - ts[hi - 2]!;
    if (interval === 0) return undefined;
    return isRate ? h.div(interval / 1000) : h;
  };
}

function histOverTime(avg: boolean, name: string): HistRangeFunc {
  const floatFn = RANGE_FUNCS.get(name)!;
  return (ts, vs, hs, lo, hi, env) => {
    if (hi <= lo) return undefined;
    const n = histCount(hs, lo, hi);
    if (n === 0) return floatFn(ts, vs, lo, hi, env);
    if (n !== hi - lo) {
      env.warn(HIST_NOTES.mixedFloatsHistograms(env.metricName));
      return undefined;
    }
    return windowSum(hs, lo, hi, avg, env);
  };
}

/** Counts the window's neighbouring points that differ (floats by `floats`, histograms by `histograms`); a float next to a histogram always differs. */
function neighbourCount(floats: (prev: number, cur: number) => boolean, histograms: (prev: FloatHistogram, cur: FloatHistogram) => boolean): HistRangeFunc {
  return (_ts, vs, hs, lo, hi) => {
    if (hi <= lo) return undefined;
    let n = 0;
    for (let i = lo + 1; i < hi; i++) {
      const a = hs[i - 1];
      const b = hs[i];
      if (a === undefined && b === undefined) n += floats(vs[i - 1]!, vs[i]!) ? 1 : 0;
      else if (a !== undefined && b !== undefined) n += histograms(a, b) ? 1 : 0;
      else n++;
    }
    return n;
  };
}

/** Functions that take histograms in their window; every other range function sees only the float samples. */
export const HIST_RANGE_FUNCS: ReadonlyMap<string, HistRangeFunc> = new Map<string, HistRangeFunc>([
  ['rate', histRate(true, true, 'rate')],
  ['increase', histRate(true, false, 'increase')],
  ['delta', histRate(false, false, 'delta')],
  ['irate', histInstant(true, 'irate')],
  ['idelta', histInstant(false, 'idelta')],
  ['sum_over_time', histOverTime(false, 'sum_over_time')],
  ['avg_over_time', histOverTime(true, 'avg_over_time')],
  ['last_over_time', (_ts, vs, hs, lo, hi) => (hi > lo ? (hs[hi - 1] ?? vs[hi - 1]!) : undefined)],
  ['first_over_time', (_ts, vs, hs, lo, hi) => (hi > lo ? (hs[lo] ?? vs[lo]!) : undefined)],
  // A switch between floats and histograms counts as a reset and as a change, as in Prometheus.
  [
    'resets',
    neighbourCount(
      (prev, cur) => cur < prev,
      (prev, cur) => cur.detectReset(prev),
    ),
  ],
  [
    'changes',
    neighbourCount(
      (prev, cur) => !(cur === prev || (Number.isNaN(cur) && Number.isNaN(prev))),
      (prev, cur) => !cur.equals(prev),
    ),
  ],
  ...['count_over_time', 'present_over_time', 'ts_of_last_over_time', 'ts_of_first_over_time'].map((name): [string, HistRangeFunc] => {
    const f = RANGE_FUNCS.get(name)!;
    return [name, (ts, vs, _hs, lo, hi, env) => f(ts, vs, lo, hi, env)];
  }),
]);
