/**
 * Query results of both languages' metric queries, shaped like Prometheus' `promql.Value` types.
 * Times are ms.
 */
import type { Labels } from '../model/labels.js';
import type { FloatHistogram } from '../model/histogram.js';

/** A single number at a time. */
export interface Scalar {
  readonly type: 'scalar';
  readonly t: number;
  readonly v: number;
}

/** One sample of an instant vector. */
export interface Sample {
  readonly metric: Labels;
  readonly t: number;
  readonly v: number;
  /** A native-histogram sample (then `v` is NaN). */
  readonly h?: FloatHistogram;
}

/** An instant vector. Order is meaningful only after `sort*`/`topk`/`bottomk`. */
export interface Vector {
  readonly type: 'vector';
  readonly samples: Sample[];
}

/** One point of a series. */
export interface Point {
  readonly t: number;
  readonly v: number;
  /** A native-histogram point (then `v` is NaN). */
  readonly h?: FloatHistogram;
}

/** One series of a range vector. */
export interface MatrixSeries {
  readonly metric: Labels;
  readonly points: Point[];
}

/** A range vector, sorted by labels when it is the result of a range query. */
export interface Matrix {
  readonly type: 'matrix';
  readonly series: MatrixSeries[];
}

/** Where a {@link lazyMatrixSeries} keeps its parallel arrays (not enumerable: not part of its value). */
const POINT_ARRAYS = Symbol('point arrays');

/** The parallel time and value arrays of a series' points. */
export interface PointArrays {
  readonly ts: ArrayLike<number>;
  readonly vs: ArrayLike<number>;
  /** Histograms by position, when the series has any. */
  readonly hs?: readonly (FloatHistogram | undefined)[];
}

/**
 * A series whose `points` are made on first use from parallel arrays. A range query over 300,000
 * series has about ten million points: as objects made up front they all live until the result is
 * written, so every scavenge meanwhile copies them (long pauses of the thread that acknowledges
 * writes). The JSON writer reads the arrays ({@link pointArraysOf}) and never makes the objects.
 * The arrays are shared, not copied: nothing writes into them.
 */
export function lazyMatrixSeries(metric: Labels, ts: ArrayLike<number>, vs: ArrayLike<number>, hs?: readonly (FloatHistogram | undefined)[]): MatrixSeries {
  let points: Point[] | undefined;
  const s = { metric } as MatrixSeries;
  Object.defineProperty(s, 'points', {
    enumerable: true,
    get: (): Point[] => {
      if (points === undefined) {
        points = new Array<Point>(ts.length);
        for (let i = 0; i < ts.length; i++) {
          const h = hs?.[i];
          points[i] = h === undefined ? { t: ts[i]!, v: vs[i]! } : { t: ts[i]!, v: NaN, h };
        }
      }
      return points;
    },
  });
  Object.defineProperty(s, POINT_ARRAYS, { value: (hs === undefined ? { ts, vs } : { ts, vs, hs }) satisfies PointArrays });
  return s;
}

/** The arrays behind a {@link lazyMatrixSeries}, undefined for a series made otherwise. */
export function pointArraysOf(s: MatrixSeries): PointArrays | undefined {
  return (s as MatrixSeries & { [POINT_ARRAYS]?: PointArrays })[POINT_ARRAYS];
}
