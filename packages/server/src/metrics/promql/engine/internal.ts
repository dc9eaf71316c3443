/**
 * Internal evaluation types and helpers of the PromQL evaluator modules. The series shapes and the
 * numeric and label helpers PromQL shares with LogQL live in core/eval.
 * Not exported from the package: the public result types live in `value.ts`.
 */
import type { EvalSeries } from '../../../core/eval/series.js';
import { type Labels, METRIC_NAME } from '../../../core/model/labels.js';
import { EngineError } from './errors.js';
import type { Expr } from '../parser/index.js';

/** The value of a node evaluated over all steps. */
export type EvalValue =
  | { readonly type: 'vector'; readonly series: EvalSeries[] }
  | { readonly type: 'matrix'; readonly series: EvalSeries[] }
  | { readonly type: 'scalar'; readonly vs: Float64Array }
  | { readonly type: 'string'; readonly v: string };

/** Strips parentheses, which do not change a value. */
export function unwrapParens(e: Expr): Expr {
  while (e.kind === 'ParenExpr') e = e.expr;
  return e;
}

/** Throws the error Prometheus raises as a runtime (execution) error. */
export function execError(message: string): never {
  throw new EngineError('execution', message);
}

/** The label set without `__name__`. */
export function dropMetricName(labels: Labels): Labels {
  if (!labels.some((l) => l.name === METRIC_NAME)) return labels;
  return labels.filter((l) => l.name !== METRIC_NAME);
}

/** Natural ("version") string comparison, as Prometheus' `sort_by_label` uses. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Go's `%q` of a string, close enough for error messages. */
export function goQuoteString(s: string): string {
  return JSON.stringify(s);
}
