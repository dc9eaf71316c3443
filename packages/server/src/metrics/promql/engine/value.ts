/**
 * Query results, shaped like Prometheus' `promql.Value` types, and their serialisation to the
 * Prometheus HTTP API JSON form.
 */
import { labelsToRecord } from '../../../core/model/labels.js';
import { formatFloat } from '../../../core/eval/format.js';
import type { Matrix, Scalar, Vector } from '../../../core/eval/value.js';

// The numeric result types are shared with LogQL; `string` results are PromQL's only.
export type { Matrix, MatrixSeries, Point, Sample, Scalar, Vector } from '../../../core/eval/value.js';

/** A string at a time (ms). */
export interface StringValue {
  readonly type: 'string';
  readonly t: number;
  readonly v: string;
}

/** Any query result. */
export type Value = Scalar | StringValue | Vector | Matrix;

/** The Prometheus API's `[<unix seconds>, "<value>"]` pair. */
export type ApiPoint = [number, string];

/** The `data` object of a Prometheus `/api/v1/query(_range)` response. */
export type ApiResult =
  | { resultType: 'scalar'; result: ApiPoint }
  | { resultType: 'string'; result: ApiPoint }
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: ApiPoint }[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: ApiPoint[] }[] };

/** Formats a value like Go's `strconv.FormatFloat(v, 'f', -1, 64)` with Prometheus' `+Inf`/`-Inf`. */
export function formatValue(v: number): string {
  return formatFloat(v);
}

function apiPoint(t: number, v: string): ApiPoint {
  return [t / 1000, v];
}

/** Serialises a result into the Prometheus API JSON shape. */
export function toApiJson(value: Value): ApiResult {
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', result: apiPoint(value.t, formatValue(value.v)) };
    case 'string':
      return { resultType: 'string', result: apiPoint(value.t, value.v) };
    case 'vector':
      return {
        resultType: 'vector',
        result: value.samples.map((s) => ({ metric: labelsToRecord(s.metric), value: apiPoint(s.t, formatValue(s.v)) })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map((s) => ({
          metric: labelsToRecord(s.metric),
          values: s.points.map((p) => apiPoint(p.t, formatValue(p.v))),
        })),
      };
  }
}
