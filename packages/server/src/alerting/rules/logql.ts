/**
 * Log alerts, as Loki's ruler runs them: rule files whose expressions are LogQL metric queries. This
 * module gives the rule engine what it needs for them: a queryFn that evaluates LogQL, and the
 * language (validation, the UI link, and a `logs_url` annotation pointing at the lines behind each
 * alert).
 */
import type { Labels } from '../../core/model/labels.js';
import type { RuleLanguage } from './types.js';
import type { LogExpr, MetricExpr } from '../../logs/logql/ast.js';
import type { LogqlEngine } from '../../logs/logql/engine.js';
import type { LogQueryService } from '../../logs/query/service.js';
import { parseLogql } from '../../logs/logql/parser.js';

/** The subset of a rule query result a LogQL rule produces. */
export type LogqlRuleResult =
  | { readonly type: 'vector'; readonly samples: readonly { readonly metric: Labels; readonly t: number; readonly v: number }[] }
  | { readonly type: 'scalar'; readonly t: number; readonly v: number };

const NOT_METRIC = 'a log rule needs a LogQL metric query (for example sum(count_over_time({app="x"} |= "error" [5m])) > 0), not a log query';

/**
 * Returns `(expr, tMs, signal) => vector` for `RuleManager`'s `queryFn`, evaluated in time slices
 * (with a synchronous twin for the template `query` function); throws on log (non-metric) queries.
 */
export function logqlQueryFn(engine: LogqlEngine): ((expr: string, tMs: number, signal?: AbortSignal) => Promise<LogqlRuleResult>) & {
  sync: (expr: string, tMs: number) => LogqlRuleResult;
} {
  const metric = (r: Awaited<ReturnType<LogqlEngine['instantQueryAsync']>>): LogqlRuleResult => {
    if (r.type === 'vector' || r.type === 'scalar') return r;
    throw new Error(NOT_METRIC);
  };
  const ns = (tMs: number): bigint => BigInt(Math.floor(tMs)) * 1_000_000n;
  return Object.assign(
    async (expr: string, tMs: number, signal?: AbortSignal) => metric(await engine.instantQueryAsync(expr, ns(tMs), 100, 'backward', signal ? { signal } : {})),
    {
      sync: (expr: string, tMs: number) => metric(engine.instantQuery(expr, ns(tMs))),
    },
  );
}

/**
 * The queryFn of log rules when LogQL is answered by remote storage (`logs.storage.type: remote`):
 * each evaluation is an instant query to the remote. The template `query` function cannot wait for
 * a network answer, so its synchronous twin throws a clear error.
 */
export function logqlServiceQueryFn(svc: LogQueryService): ((expr: string, tMs: number, signal?: AbortSignal) => Promise<LogqlRuleResult>) & {
  sync: (expr: string, tMs: number) => LogqlRuleResult;
} {
  return Object.assign(
    async (expr: string, tMs: number, signal?: AbortSignal) => {
      const r = (await svc.instantQueryAsync(expr, BigInt(Math.floor(tMs)) * 1_000_000n, 100, 'backward', signal)).value;
      if (r.type === 'vector' || r.type === 'scalar') return r;
      throw new Error(NOT_METRIC);
    },
    {
      sync: (expr: string): LogqlRuleResult => {
        throw new Error(
          `the template query function cannot run ${JSON.stringify(expr)}: logs are in remote storage (${svc.name}), which cannot answer synchronously`,
        );
      },
    },
  );
}

/** The first range aggregation of a metric query, depth first: its log query selects the lines that matter. */
function firstRange(e: MetricExpr): { log: LogExpr; rangeMs: number; offsetMs: number } | undefined {
  switch (e.kind) {
    case 'range':
      return { log: e.log, rangeMs: e.rangeMs, offsetMs: e.offsetMs };
    case 'agg':
      return firstRange(e.expr);
    case 'bin':
      return firstRange(e.lhs) ?? firstRange(e.rhs);
    default:
      return undefined;
  }
}

function linesOf(expr: string): { query: string; log: LogExpr; rangeMs: number; offsetMs: number } | undefined {
  const e = parseLogql(expr);
  if (e.kind === 'log') return undefined;
  const r = firstRange(e);
  return r?.log.source === undefined ? undefined : { query: r.log.source, ...r };
}

function logsPage(externalURL: string, params: Record<string, string>): string {
  return `${externalURL.replace(/\/+$/, '')}/ui/logs?${new URLSearchParams(params).toString()}`;
}

/**
 * The lines behind one alert: the first range aggregation's log query, narrowed by the alert's
 * labels (label filters apply to stream and parsed labels alike), over the time the alert has been
 * active plus one range before it.
 */
export function logAlertLink(externalURL: string, expr: string, labels: Labels, activeAtMs: number, tMs: number): string | undefined {
  const lines = linesOf(expr);
  if (lines === undefined) return undefined;
  // Labels the selector already pins down need no filter.
  const pinned = (name: string, value: string): boolean => lines.log.matchers.some((m) => m.type === '=' && m.name === name && m.value === value);
  const filters = labels
    .filter((l) => !pinned(l.name, l.value))
    .map((l) => ` | ${l.name}=${JSON.stringify(l.value)}`)
    .join('');
  const to = tMs - lines.offsetMs;
  const from = Math.min(activeAtMs, tMs) - lines.offsetMs - lines.rangeMs;
  return logsPage(externalURL, { query: lines.query + filters, from: new Date(from).toISOString(), to: new Date(to + 1000).toISOString() });
}

/** LogQL as a rule language: metric queries only; alerts link to the Logs page. */
export const logqlLanguage: RuleLanguage = {
  name: 'LogQL',
  canonical(expr) {
    // LogQL has no canonical printer here; the text runs as written, once it parses as a metric query.
    if (parseLogql(expr).kind === 'log') throw new Error(NOT_METRIC);
    return expr.trim();
  },
  generatorURL(externalURL, expr) {
    const lines = linesOf(expr);
    return logsPage(externalURL, { query: lines?.query ?? expr });
  },
  alertAnnotations(externalURL, expr, labels, activeAt, t) {
    const link = logAlertLink(externalURL, expr, labels, activeAt, t);
    return link === undefined ? {} : { logs_url: link };
  },
};
