/**
 * Log alerts: a queryFn for the rule engine (structurally `rules/types.ts`' `QueryFn`, without
 * importing upward) that evaluates LogQL metric expressions, as Loki's ruler does.
 */
import type { Labels } from '../model/labels.js';
import type { LogqlEngine } from './engine.js';

/** The subset of a rule query result a LogQL rule produces. */
export type LogqlRuleResult =
  | { readonly type: 'vector'; readonly samples: readonly { readonly metric: Labels; readonly t: number; readonly v: number }[] }
  | { readonly type: 'scalar'; readonly t: number; readonly v: number };

/** Returns `(expr, tMs) => vector` for `RuleManager`'s `queryFn`; throws on log (non-metric) queries. */
export function logqlQueryFn(engine: LogqlEngine): (expr: string, tMs: number) => LogqlRuleResult {
  return (expr, tMs) => {
    const r = engine.instantQuery(expr, BigInt(Math.floor(tMs)) * 1_000_000n);
    if (r.type === 'vector' || r.type === 'scalar') return r;
    throw new Error('a log alert rule needs a LogQL metric query (for example count_over_time({app="x"} |= "error" [5m]) > 0)');
  };
}

/** A link to the lines behind a log alert, for its annotations (`/loki/api/v1/query_range` form). */
export function logAlertLink(externalUrl: string, expr: string, tMs: number, rangeMs = 300_000): string {
  // The log selector and pipeline inside the first range aggregation are the lines that matter.
  const m = /\(\s*(\{[\s\S]*?)\s*\[[^\]]+\]\s*\)/.exec(expr);
  const q = m ? m[1]! : expr;
  const p = new URLSearchParams({ query: q, start: String(BigInt(tMs - rangeMs) * 1_000_000n), end: String(BigInt(tMs) * 1_000_000n), direction: 'backward', limit: '100' });
  return `${externalUrl.replace(/\/+$/, '')}/loki/api/v1/query_range?${p}`;
}
