/**
 * Query answers of a remote Prometheus-shaped API (`resultType` and `result`: the shape Prometheus
 * and Loki both answer metric queries in) read back into the evaluation's value types, so a remote
 * answer is written out, recorded or alerted on like a local one.
 */
import { compareLabels, labelsFrom } from '../model/labels.js';
import { parseApiFloat, RemoteQueryError } from '../httpclient/remote_api.js';
import { lazyMatrixSeries, type Matrix, type Sample, type Scalar, type Vector } from './value.js';

/** A point as the API writes it: float seconds and the value's text. */
export type ApiPair = [number, string];

function point(p: ApiPair): { t: number; v: number } {
  // Seconds with up to millisecond fractions; rounding undoes the float division's error.
  return { t: Math.round(p[0] * 1000), v: parseApiFloat(p[1]) };
}

/** Reads a scalar, vector or matrix answer; matrices are sorted by labels, as a range query's are. */
export function evalValueFromApi(data: unknown): Scalar | Vector | Matrix {
  const d = data as { resultType?: string; result?: unknown };
  switch (d?.resultType) {
    case 'scalar': {
      const p = point(d.result as ApiPair);
      return { type: 'scalar', t: p.t, v: p.v };
    }
    case 'vector': {
      const samples: Sample[] = (d.result as Array<{ metric: Record<string, string>; value: ApiPair }>).map((s) => ({
        metric: labelsFrom(s.metric),
        ...point(s.value),
      }));
      return { type: 'vector', samples };
    }
    case 'matrix': {
      // Parallel arrays behind lazily made points, as the local engine's range results: a large
      // answer keeps few objects alive while it is written out (see value.ts).
      const series: Matrix['series'] = (d.result as Array<{ metric: Record<string, string>; values: ApiPair[] }>).map((s) => {
        const ts = new Float64Array(s.values.length);
        const vs = new Float64Array(s.values.length);
        s.values.forEach((p, i) => {
          ts[i] = Math.round(p[0] * 1000);
          vs[i] = parseApiFloat(p[1]);
        });
        return lazyMatrixSeries(labelsFrom(s.metric), ts, vs);
      });
      series.sort((a, b) => compareLabels(a.metric, b.metric));
      return { type: 'matrix', series };
    }
    default:
      throw new RemoteQueryError('internal', `remote answered an unknown result type ${JSON.stringify(d?.resultType)}`);
  }
}
