/**
 * Range functions over a window of (time, value) samples that PromQL and LogQL define the same
 * way (`sum_over_time`, `quantile_over_time`, …), and the cursor that slides the window over a
 * series. Windows are left-open, `(from, to]`, in both languages.
 */
import { extremum, kahanMean, kahanSum, quantile, variance } from './numeric.js';
import type { Floats } from './series.js';

/**
 * A function of the samples `[lo, hi)` of a non-empty window (callers skip empty windows, which
 * have no output). `param` is the scalar argument (the φ of `quantile_over_time`).
 */
export type WindowFn = (ts: Floats, vs: Floats, lo: number, hi: number, param: number) => number;

/** A plain array copy of `vs[lo, hi)`, for functions that sort. */
export function windowValues(vs: Floats, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(vs[i]!);
  return out;
}

/** The shared window functions, by their name in both languages. */
export const WINDOW_FUNCS: ReadonlyMap<string, WindowFn> = new Map<string, WindowFn>([
  ['count_over_time', (_ts, _vs, lo, hi) => hi - lo],
  ['sum_over_time', (_ts, vs, lo, hi) => kahanSum(vs, lo, hi)],
  ['avg_over_time', (_ts, vs, lo, hi) => kahanMean(vs, lo, hi)],
  ['min_over_time', (_ts, vs, lo, hi) => extremum(vs, lo, hi, false)],
  ['max_over_time', (_ts, vs, lo, hi) => extremum(vs, lo, hi, true)],
  ['stdvar_over_time', (_ts, vs, lo, hi) => variance(vs, lo, hi)],
  ['stddev_over_time', (_ts, vs, lo, hi) => Math.sqrt(variance(vs, lo, hi))],
  ['quantile_over_time', (_ts, vs, lo, hi, q) => quantile(q, windowValues(vs, lo, hi))],
  ['first_over_time', (_ts, vs, lo) => vs[lo]!],
  ['last_over_time', (_ts, vs, _lo, hi) => vs[hi - 1]!],
]);

/**
 * The samples of a series inside a window that moves forward step by step: `[lo, hi)` indexes the
 * times in `(from, to]`. Each step only moves the bounds on, so a whole query is one pass.
 */
export class SlidingWindow {
  lo = 0;
  hi = 0;

  /** Starts again from the first sample (a window that jumps back, e.g. PromQL's `@`). */
  reset(): void {
    this.lo = 0;
    this.hi = 0;
  }

  /** Moves the window to `(from, to]` over the sorted times `ts`. */
  advance(ts: Floats, from: number, to: number): void {
    const len = ts.length;
    let lo = this.lo;
    let hi = this.hi;
    while (lo < len && ts[lo]! <= from) lo++;
    if (hi < lo) hi = lo;
    while (hi < len && ts[hi]! <= to) hi++;
    this.lo = lo;
    this.hi = hi;
  }
}
