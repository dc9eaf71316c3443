/**
 * The PromQL query API: `/api/v1/query`, `/api/v1/query_range`, `/api/v1/format_query` and
 * `/api/v1/parse_query`, GET and form POST, as Grafana calls them (`/api/v1/query_exemplars` is in exemplars.ts).
 */
import type { Engine } from '../../metrics/promql/engine/engine.js';
import { toApiJson } from '../../metrics/promql/engine/value.js';
import { DurationError, parseSecondsOrDuration } from '../../core/time/duration.js';
import { formatExpr, parseExpr } from '../../metrics/promql/parser/index.js';
import type { Queryable } from '../../metrics/storage/interface.js';
import { ApiError, toApiError } from './errors.js';
import { json, type ApiRequest, type Router } from './http.js';
import { parseTime } from './params.js';

/** Parses a duration parameter given as a PromQL duration (`5m`) or float seconds (`30`, `0.5`). */
export function parseDurationParam(s: string, param: string): number {
  try {
    return parseSecondsOrDuration(s);
  } catch (err) {
    if (err instanceof DurationError) throw new ApiError('bad_data', `invalid parameter "${param}": cannot parse ${JSON.stringify(s)} to a valid duration`);
    throw err;
  }
}

function required(req: ApiRequest, name: string): string {
  const v = req.query.get(name);
  if (v === null || v === '') throw new ApiError('bad_data', `invalid parameter "${name}": parameter is required`);
  return v;
}

function queryOptions(req: ApiRequest): { lookbackDelta?: number; signal: AbortSignal } {
  const lb = req.query.get('lookback_delta');
  return lb ? { lookbackDelta: parseDurationParam(lb, 'lookback_delta'), signal: req.signal } : { signal: req.signal };
}

/** Runs an engine call, turning its errors into the API's error types (the mapping lives in errors.ts). */
function engineCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toApiError(err) ?? err;
  }
}

/** Registers the query endpoints. */
export function registerQueryApi(router: Router, engine: Engine, store: Queryable, now: () => number = Date.now): void {
  router.on(['GET', 'POST'], '/api/v1/query', (req) => {
    const query = required(req, 'query');
    const t = req.query.get('time');
    const time = t ? parseTime(t, 'time') : now();
    const res = engineCall(() => engine.instantQuery(store, query, time, queryOptions(req)));
    return json(toApiJson(res.result), res.warnings);
  });

  router.on(['GET', 'POST'], '/api/v1/query_range', (req) => {
    const query = required(req, 'query');
    const start = parseTime(required(req, 'start'), 'start');
    const end = parseTime(required(req, 'end'), 'end');
    if (end < start) throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
    const step = parseDurationParam(required(req, 'step'), 'step');
    if (step <= 0)
      throw new ApiError('bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    const res = engineCall(() => engine.rangeQuery(store, query, start, end, step, queryOptions(req)));
    return json(toApiJson(res.result), res.warnings);
  });

  router.on(['GET', 'POST'], '/api/v1/format_query', (req) => {
    const query = required(req, 'query');
    return json(engineCall(() => formatExpr(parseExpr(query))));
  });

  router.on(['GET', 'POST'], '/api/v1/parse_query', (req) => {
    const query = required(req, 'query');
    return json(engineCall(() => parseExpr(query)));
  });
}
