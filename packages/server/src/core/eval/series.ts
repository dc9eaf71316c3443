/**
 * The shapes evaluation works on: a vector at one step ({@link StepSample}s) and a series over the
 * steps of a query ({@link EvalSeries}), whose parallel arrays avoid an object per point.
 */
import type { Labels } from '../model/labels.js';
import type { FloatHistogram } from '../model/histogram.js';

/** One sample of an instant vector at one evaluation step. */
export interface StepSample {
  metric: Labels;
  v: number;
  /**
   * The sample is no longer "the same metric" (PromQL 3's delayed `__name__` removal: the name is
   * dropped when the query finishes). Log streams have no `__name__`, so LogQL ignores it.
   */
  dropName: boolean;
  /** The sample is a native histogram (then `v` is NaN and means nothing). */
  h?: FloatHistogram;
}

/** Numbers of a series: a typed array when filled in one go, else an array. */
export type Floats = number[] | Float64Array;

/**
 * A series over the evaluation steps (instant-vector values) or over raw sample times (the
 * input of range functions): `ts[i]` (ms) carries `vs[i]`; steps without a sample are absent.
 */
export interface EvalSeries {
  metric: Labels;
  ts: Floats;
  vs: Floats;
  dropName: boolean;
  /**
   * Native histograms by position, parallel to `ts`: where `hs[i]` is set the point is that
   * histogram. Absent on float-only series (nearly all), so they cost nothing.
   */
  hs?: (FloatHistogram | undefined)[];
}

/** The histogram of point `i` of a series, if it is one. */
export function histAt(s: EvalSeries, i: number): FloatHistogram | undefined {
  return s.hs === undefined ? undefined : s.hs[i];
}

/** An {@link EvalSeries} being built point by point. */
export interface SeriesBuilder extends EvalSeries {
  ts: number[];
  vs: number[];
}

/** The step grid of an evaluation: step `i` is at `start + i * interval` (ms), `n` steps. */
export interface StepGrid {
  readonly n: number;
  readonly start: number;
  readonly interval: number;
}
