/**
 * Query results, shaped like Prometheus' `promql.Value` types, and their serialisation to the
 * Prometheus HTTP API JSON form.
 */
import { labelsToRecord } from '../../../core/model/labels.js';
import { formatFloat } from '../../../core/eval/format.js';
import type { Matrix, MatrixSeries, Scalar, Vector } from '../../../core/eval/value.js';
import type { FloatHistogram } from '../../../core/model/histogram.js';

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

/** A native histogram in Prometheus' API JSON: buckets are `[boundaryRule, lower, upper, count]`, counts and bounds as strings. */
export interface ApiHistogram {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

/** The Prometheus API's `[<unix seconds>, <histogram>]` pair. */
export type ApiHistogramPoint = [number, ApiHistogram];

/** The `data` object of a Prometheus `/api/v1/query(_range)` response. */
export type ApiResult =
  | { resultType: 'scalar'; result: ApiPoint }
  | { resultType: 'string'; result: ApiPoint }
  | { resultType: 'vector'; result: ({ metric: Record<string, string>; value: ApiPoint } | { metric: Record<string, string>; histogram: ApiHistogramPoint })[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values?: ApiPoint[]; histograms?: ApiHistogramPoint[] }[] };

/** A histogram as Prometheus' API writes it: only buckets with a non-zero count, lowest first. */
export function apiHistogram(h: FloatHistogram): ApiHistogram {
  const out: ApiHistogram = { count: formatValue(h.count), sum: formatValue(h.sum) };
  const buckets: [number, string, string, string][] = [];
  for (const b of h.allBuckets()) {
    if (b.count === 0) continue;
    buckets.push([b.boundaryRule, formatValue(b.lower), formatValue(b.upper), formatValue(b.count)]);
  }
  if (buckets.length > 0) out.buckets = buckets;
  return out;
}

/** One series of a matrix result: floats under `values`, histograms under `histograms` (either may be absent). */
export function apiMatrixSeries(s: MatrixSeries): { metric: Record<string, string>; values?: ApiPoint[]; histograms?: ApiHistogramPoint[] } {
  const values: ApiPoint[] = [];
  const histograms: ApiHistogramPoint[] = [];
  for (const p of s.points) {
    if (p.h === undefined) values.push(apiPoint(p.t, formatValue(p.v)));
    else histograms.push([p.t / 1000, apiHistogram(p.h)]);
  }
  const out: { metric: Record<string, string>; values?: ApiPoint[]; histograms?: ApiHistogramPoint[] } = { metric: labelsToRecord(s.metric) };
  if (values.length > 0) out.values = values;
  if (histograms.length > 0) out.histograms = histograms;
  return out;
}

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
        result: value.samples.map((s) =>
          s.h === undefined
            ? { metric: labelsToRecord(s.metric), value: apiPoint(s.t, formatValue(s.v)) }
            : { metric: labelsToRecord(s.metric), histogram: [s.t / 1000, apiHistogram(s.h)] as ApiHistogramPoint },
        ),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map(apiMatrixSeries),
      };
  }
}
