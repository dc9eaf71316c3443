/**
 * Query results of both languages' metric queries, shaped like Prometheus' `promql.Value` types.
 * Times are ms.
 */
import type { Labels } from '../model/labels.js';

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
