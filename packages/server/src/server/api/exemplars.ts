/**
 * `/api/v1/query_exemplars`, GET and form POST, in Prometheus' shape: the query's vector selectors
 * pick the series (a series matching any one selector's matchers), `start` and `end` bound the
 * exemplars' timestamps, and each series comes with its exemplars oldest first, values as strings
 * and timestamps as float seconds. Grafana's Prometheus data source calls it with a panel's query.
 * The query service answers (the local exemplar buffer, or remote storage).
 */
import type { PromQueryService } from '../../metrics/query/service.js';
import { parseExpr } from '../../metrics/promql/parser/index.js';
import { ApiError } from './errors.js';
import { json, type Router } from './http.js';
import { parseTime } from './params.js';
import type { QueryGate } from './query_gate.js';
import { serviceCall } from './query.js';

export { extractSelectors } from '../../metrics/query/local.js';

/** Registers `/api/v1/query_exemplars` over `service`. */
export function registerExemplarsApi(router: Router, service: PromQueryService, gate: QueryGate): void {
  router.on(['GET', 'POST'], '/api/v1/query_exemplars', async (req) => {
    const time = (name: string): number | undefined => {
      const v = req.query.get(name);
      return v === null || v === '' ? undefined : parseTime(v, name);
    };
    const start = time('start');
    const end = time('end');
    if (start !== undefined && end !== undefined && end < start)
      throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start timestamp');
    const query = req.query.get('query');
    if (query === null || query === '') throw new ApiError('bad_data', 'invalid parameter "query": parameter is required');
    try {
      parseExpr(query);
    } catch (err) {
      throw new ApiError('bad_data', `invalid parameter "query": ${(err as Error).message}`);
    }
    return json(await serviceCall(gate, req.signal, () => service.exemplars(query, start, end, req.signal)));
  });
}
