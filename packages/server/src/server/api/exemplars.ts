/**
 * `/api/v1/query_exemplars`, GET and form POST, in Prometheus' shape: the query's vector selectors
 * pick the series (a series matching any one selector's matchers), `start` and `end` bound the
 * exemplars' timestamps, and each series comes with its exemplars oldest first, values as strings
 * and timestamps as float seconds. Grafana's Prometheus data source calls it with a panel's query.
 */
import type { Matcher } from '../../core/model/matcher.js';
import { labelsToRecord } from '../../core/model/labels.js';
import { formatFloat } from '../../core/eval/format.js';
import type { ExemplarStorage } from '../../metrics/exemplars/storage.js';
import { children, parseExpr, type Expr } from '../../metrics/promql/parser/index.js';
import { ApiError } from './errors.js';
import { json, type Router } from './http.js';
import { MAX_TIME, MIN_TIME, timeParam } from './params.js';

/** The matchers of every vector selector in `expr` (range selectors included), as Prometheus' ExtractSelectors. */
export function extractSelectors(expr: Expr): Matcher[][] {
  const out: Matcher[][] = [];
  const walk = (e: Expr): void => {
    if (e.kind === 'VectorSelector') out.push(e.matchers);
    for (const c of children(e)) walk(c);
  };
  walk(expr);
  return out;
}

/** Registers `/api/v1/query_exemplars` over `storage`. */
export function registerExemplarsApi(router: Router, storage: ExemplarStorage): void {
  router.on(['GET', 'POST'], '/api/v1/query_exemplars', (req) => {
    const start = timeParam(req.query, 'start', MIN_TIME);
    const end = timeParam(req.query, 'end', MAX_TIME);
    if (end < start) throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start timestamp');
    const query = req.query.get('query');
    if (query === null || query === '') throw new ApiError('bad_data', 'invalid parameter "query": parameter is required');
    let expr: Expr;
    try {
      expr = parseExpr(query);
    } catch (err) {
      throw new ApiError('bad_data', `invalid parameter "query": ${(err as Error).message}`);
    }
    const selectors = extractSelectors(expr);
    // A query without selectors (`1 + 1`) selects no series; Prometheus answers null data then.
    if (selectors.length === 0) return json(null);
    return json(
      storage.select(start, end, selectors).map((r) => ({
        seriesLabels: labelsToRecord(r.seriesLabels),
        exemplars: r.exemplars.map((e) => ({ labels: labelsToRecord(e.labels), value: formatFloat(e.value), timestamp: e.ts / 1000 })),
      })),
    );
  });
}
