/**
 * Functions over range vectors (`rate`, `*_over_time`, …), after Prometheus' `promql/functions.go`.
 * Each receives the samples of one series inside the window `(rangeStart, rangeEnd]` as the index
 * range `[lo, hi)` of parallel arrays, and returns a value or undefined for "no output".
 * The functions LogQL defines the same way (`sum_over_time`, …) come from core/eval/window.ts;
 * `rate`/`increase`/`delta` stay here: PromQL extrapolates them to the window edges and
 * corrects counter resets, LogQL's `rate` is a plain count (or sum) per second.
 */
import { VigilError } from '../../../core/errors.js';
import { kahanSumInc, quantile } from '../../../core/eval/numeric.js';
import type { Floats } from '../../../core/eval/series.js';
import { WINDOW_FUNCS, windowValues } from '../../../core/eval/window.js';

/** The window and scalar parameters a range function sees at one step. */
export interface RangeEnv {
  /** Exclusive start of the window, ms. */
  rangeStart: number;
  /** Inclusive end of the window, ms. */
  rangeEnd: number;
  /** The range of the selector, ms. */
  range: number;
  /** The evaluation time (after `@`), ms, used by `predict_linear`. */
  ts: number;
  /** Scalar arguments other than the range vector, at this step. */
  params: number[];
  /** Warnings raised while computing (e.g. out-of-range quantile). */
  warn: (msg: string) => void;
  /** Infos raised while computing (e.g. histograms ignored). */
  info: (msg: string) => void;
  /** The series' metric name, for annotations. */
  metricName: string;
  /**
   * Counter resets of the series whose values are `resetsOf`, counted from its start: entry i is
   * how many samples in (0, i] are below the one before. Made on first use per series by
   * `rate`/`increase`, so a window without a reset (nearly all) skips its scan for them.
   */
  resetsOf?: Floats;
  resets?: Int32Array;
}

/** A range function. */
export type RangeFunc = (ts: Floats, vs: Floats, lo: number, hi: number, env: RangeEnv) => number | undefined;

function extrapolatedRate(ts: Floats, vs: Floats, lo: number, hi: number, env: RangeEnv, isCounter: boolean, isRate: boolean): number | undefined {
  if (hi - lo < 2) return undefined;
  return extrapolatedChange(ts, vs, lo, hi, env, isCounter, isRate);
}

/**
 * `rate` (isCounter, isRate), `increase` (isCounter) or `delta` over a window of at least two
 * samples. Never undefined, so a caller's loop over steps keeps the value unboxed.
 */
export function extrapolatedChange(ts: Floats, vs: Floats, lo: number, hi: number, env: RangeEnv, isCounter: boolean, isRate: boolean): number {
  const firstV = vs[lo]!;
  let result = vs[hi - 1]! - firstV;
  // Kept small enough for V8 to inline into a loop over steps: resets are rare, their fix a call.
  if (isCounter && resetsIn(vs, lo, hi, env)) result = withResets(vs, lo, hi, result);
  return result * extrapolationFactor(ts[lo]!, ts[hi - 1]!, hi - lo, env, isRate, isCounter && result > 0 && firstV >= 0 ? firstV / result : NaN);
}

/** `change` with the value before each counter reset in `vs[lo, hi)` added, one at a time. */
function withResets(vs: Floats, lo: number, hi: number, change: number): number {
  let result = change;
  let prev = vs[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (cur < prev) result += prev;
    prev = cur;
  }
  return result;
}

/** Whether the samples `[lo, hi)` of `vs` hold a counter reset, from the per-series counts in `env`. */
function resetsIn(vs: Floats, lo: number, hi: number, env: RangeEnv): boolean {
  const resets = env.resetsOf === vs && env.resets !== undefined ? env.resets : countResets(vs, env);
  return resets[hi - 1]! - resets[lo]! > 0;
}

/** Fills `env.resets` for the series whose values are `vs` (once per series). */
function countResets(vs: Floats, env: RangeEnv): Int32Array {
  const n = vs.length;
  let resets = env.resets;
  if (resets === undefined || resets.length < n) resets = env.resets = new Int32Array(Math.max(n, 64));
  let count = 0;
  if (n > 0) resets[0] = 0;
  for (let i = 1; i < n; i++) {
    // As the scan in withResets: NaN never counts (a comparison with NaN is false).
    if (vs[i]! < vs[i - 1]!) count++;
    resets[i] = count;
  }
  env.resetsOf = vs;
  return resets;
}

/**
 * What `rate`/`increase`/`delta` multiply the change between the first and the last of `n`
 * samples by: extrapolation to the window's edges (where the samples plausibly continue there),
 * per second for a rate. `zeroFraction` (first value / change, counters only; NaN or absent
 * otherwise) stops the extrapolation where the counter would be zero.
 */
export function extrapolationFactor(firstT: number, lastT: number, n: number, env: RangeEnv, isRate: boolean, zeroFraction = NaN): number {
  let durationToStart = (firstT - env.rangeStart) / 1000;
  let durationToEnd = (env.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  // Extrapolate to the window edges only when the samples plausibly continue there.
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  // A counter cannot go below zero: do not extrapolate past the point where it would be zero
  // (without a zero fraction this is NaN, and the comparison false).
  const durationToZero = sampledInterval * zeroFraction;
  if (durationToZero < durationToStart) durationToStart = durationToZero;
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= env.range / 1000;
  return factor;
}

function instantValue(ts: Floats, vs: Floats, lo: number, hi: number, isRate: boolean): number | undefined {
  if (hi - lo < 2) return undefined;
  const lastV = vs[hi - 1]!;
  const prevV = vs[hi - 2]!;
  let result: number;
  if (isRate && lastV < prevV)
    result = lastV; // counter reset
  else result = lastV - prevV;
  const sampledInterval = ts[hi - 1]! - ts[hi - 2]!;
  if (sampledInterval === 0) return undefined;
  if (isRate) result /= sampledInterval / 1000;
  return result;
}

/** Least-squares fit with Kahan sums; returns [slope, intercept] at `interceptTime`. */
function linearRegression(ts: Floats, vs: Floats, lo: number, hi: number, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = vs[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(y, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function tsOfExtremum(ts: Floats, vs: Floats, lo: number, hi: number, max: boolean): number {
  let m = vs[lo]!;
  let at = ts[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    // Ties go to the latest sample, as in Prometheus.
    if (max ? cur >= m || Number.isNaN(m) : cur <= m || Number.isNaN(m)) {
      m = cur;
      at = ts[i]!;
    }
  }
  return at / 1000;
}

function checkQuantile(q: number, env: RangeEnv): void {
  if (Number.isNaN(q) || q < 0 || q > 1) env.warn(`PromQL warning: quantile value should be between 0 and 1, got ${q}`);
}

function holtWinters(vs: Floats, lo: number, hi: number, env: RangeEnv): number | undefined {
  const sf = env.params[0]!;
  const tf = env.params[1]!;
  if (!(sf > 0 && sf < 1)) throw new RangeFuncError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`);
  if (!(tf > 0 && tf < 1)) throw new RangeFuncError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`);
  const l = hi - lo;
  if (l < 2) return undefined;
  let s1 = vs[lo]!;
  let b = vs[lo + 1]! - vs[lo]!;
  let s0 = 0;
  for (let i = 1; i < l; i++) {
    let x: number;
    let y: number;
    if (i === 1) {
      x = sf * vs[lo + i]!;
      y = (1 - sf) * (s1 + b);
    } else {
      b = tf * (s1 - s0) + (1 - tf) * b;
      x = sf * vs[lo + i]!;
      y = (1 - sf) * (s1 + b);
    }
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/** A function-argument error raised from inside a range function. */
export class RangeFuncError extends VigilError {
  constructor(message: string) {
    super('execution', message);
  }
}

/** Range functions by name. `absent_over_time` is handled by the evaluator. */
export const RANGE_FUNCS: ReadonlyMap<string, RangeFunc> = new Map<string, RangeFunc>([
  ['rate', (ts, vs, lo, hi, env) => extrapolatedRate(ts, vs, lo, hi, env, true, true)],
  ['increase', (ts, vs, lo, hi, env) => extrapolatedRate(ts, vs, lo, hi, env, true, false)],
  ['delta', (ts, vs, lo, hi, env) => extrapolatedRate(ts, vs, lo, hi, env, false, false)],
  ['irate', (ts, vs, lo, hi) => instantValue(ts, vs, lo, hi, true)],
  ['idelta', (ts, vs, lo, hi) => instantValue(ts, vs, lo, hi, false)],
  [
    'deriv',
    (ts, vs, lo, hi) => {
      if (hi - lo < 2) return undefined;
      // Intercept at the first sample's time avoids precision loss from large timestamps.
      return linearRegression(ts, vs, lo, hi, ts[lo]!)[0];
    },
  ],
  [
    'predict_linear',
    (ts, vs, lo, hi, env) => {
      if (hi - lo < 2) return undefined;
      const [slope, intercept] = linearRegression(ts, vs, lo, hi, env.ts);
      return slope * env.params[0]! + intercept;
    },
  ],
  [
    'resets',
    (_ts, vs, lo, hi) => {
      if (hi - lo < 1) return undefined;
      let n = 0;
      for (let i = lo + 1; i < hi; i++) if (vs[i]! < vs[i - 1]!) n++;
      return n;
    },
  ],
  [
    'changes',
    (_ts, vs, lo, hi) => {
      if (hi - lo < 1) return undefined;
      let n = 0;
      for (let i = lo + 1; i < hi; i++) {
        const cur = vs[i]!;
        const prev = vs[i - 1]!;
        if (!(cur === prev || (Number.isNaN(cur) && Number.isNaN(prev)))) n++;
      }
      return n;
    },
  ],
  ['ts_of_last_over_time', (ts, _vs, lo, hi) => (hi > lo ? ts[hi - 1]! / 1000 : undefined)],
  ['ts_of_first_over_time', (ts, _vs, lo, hi) => (hi > lo ? ts[lo]! / 1000 : undefined)],
  ['ts_of_max_over_time', (ts, vs, lo, hi) => (hi > lo ? tsOfExtremum(ts, vs, lo, hi, true) : undefined)],
  ['ts_of_min_over_time', (ts, vs, lo, hi) => (hi > lo ? tsOfExtremum(ts, vs, lo, hi, false) : undefined)],
  ['present_over_time', (_ts, _vs, lo, hi) => (hi > lo ? 1 : undefined)],
  [
    'mad_over_time',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      const values = windowValues(vs, lo, hi);
      // A NaN sample makes the deviation NaN rather than being sorted away.
      if (values.some((v) => Number.isNaN(v))) return NaN;
      const median = quantile(0.5, values);
      return quantile(
        0.5,
        values.map((v) => Math.abs(v - median)),
      );
    },
  ],
  ['double_exponential_smoothing', (_ts, vs, lo, hi, env) => holtWinters(vs, lo, hi, env)],
  // The window functions LogQL shares; an empty window has no output.
  ...[...WINDOW_FUNCS].map(([name, fn]): [string, RangeFunc] => [
    name,
    (ts, vs, lo, hi, env) => {
      if (hi <= lo) return undefined;
      const param = env.params[0] ?? NaN;
      if (name === 'quantile_over_time') checkQuantile(param, env);
      return fn(ts, vs, lo, hi, param);
    },
  ]),
]);

/** Range functions that keep the metric name (they return a sample value unchanged). */
export const KEEPS_NAME: ReadonlySet<string> = new Set(['last_over_time', 'first_over_time']);
