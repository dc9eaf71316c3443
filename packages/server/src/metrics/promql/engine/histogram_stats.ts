/**
 * Selectors read for their histograms' count and sum only. Prometheus reads these through its
 * `HistogramStatsIterator`, which works out counter-reset hints on the fly (`reset` where a sample
 * follows a higher one, else `not_reset`); a chunk reports a detected reset as `unknown`. The hints
 * decide whether a sum of histograms warns about conflicting resets, so Vigil gives such selectors
 * the same hints.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import type { EvalSeries } from '../../../core/eval/series.js';
import { children, type Expr, type VectorSelector } from '../parser/index.js';

const STATS_FUNCS = new Set(['histogram_count', 'histogram_sum', 'histogram_avg']);
const BUCKET_FUNCS = new Set(['histogram_quantile', 'histogram_quantiles', 'histogram_fraction']);

/**
 * The selectors under `histogram_count`/`_sum`/`_avg` with nothing between that needs the buckets:
 * no `histogram_quantile`/`_fraction`, no subquery (it re-reads samples a step apart) and no binary
 * operator (its sides are decided on their own), after Prometheus' `detectHistogramStatsDecoding`.
 */
export function statsOnlySelectors(expr: Expr): Set<VectorSelector> {
  const out = new Set<VectorSelector>();
  const walk = (e: Expr, stats: boolean): void => {
    if (e.kind === 'VectorSelector') {
      if (stats) out.add(e);
      return;
    }
    let next = stats;
    if (e.kind === 'Call' && STATS_FUNCS.has(e.func.name)) next = true;
    else if ((e.kind === 'Call' && BUCKET_FUNCS.has(e.func.name)) || e.kind === 'SubqueryExpr' || e.kind === 'BinaryExpr') next = false;
    for (const c of children(e)) walk(c, next);
  };
  walk(expr, false);
  return out;
}

/** The series with the hints a stats-only read gives its histograms (gauges keep theirs). */
export function withStatsHints(s: EvalSeries): EvalSeries {
  const hs = s.hs;
  if (hs === undefined) return s;
  const out: (FloatHistogram | undefined)[] = new Array<FloatHistogram | undefined>(hs.length);
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i];
    const prev = i > 0 ? hs[i - 1] : undefined;
    if (h === undefined || prev === undefined || h.counterResetHint === 'gauge') out[i] = h;
    else {
      const hint = h.detectReset(prev) ? 'reset' : 'not_reset';
      out[i] = hint === h.counterResetHint ? h : h.with({ counterResetHint: hint });
    }
  }
  return { ...s, hs: out };
}
