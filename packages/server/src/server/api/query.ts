/**
 * The PromQL query API: `/api/v1/query`, `/api/v1/query_range`, `/api/v1/format_query` and
 * `/api/v1/parse_query`, GET and form POST, as Grafana calls them (`/api/v1/query_exemplars` is in exemplars.ts).
 * Queries pass the {@link QueryGate} and run in time slices; a client that goes away cancels its
 * query, and `stats=all` returns Prometheus' query statistics.
 */
import type { QueryOptions, QueryResult } from '../../metrics/promql/engine/engine.js';
import type { PromQueryService } from '../../metrics/query/service.js';
import { RemoteQueryError } from '../../metrics/query/remote.js';
import { VigilError } from '../../core/errors.js';
import { type QueryGate, QueryRefusedError } from './query_gate.js';
import { queryJsonChunks, writtenInPieces } from './query_json.js';
import { toApiJson } from '../../metrics/promql/engine/value.js';
import { DurationError, parseSecondsOrDuration } from '../../core/time/duration.js';
import { formatExpr, parseExpr } from '../../metrics/promql/parser/index.js';
import { ApiError, toApiError } from './errors.js';
import { json, type ApiRequest, type ApiResult, type Router } from './http.js';
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

/** What `stats` asks for: nothing, the totals, or the totals and per-step counts (`all`). */
type StatsWanted = 'none' | 'totals' | 'all';

function statsWanted(req: ApiRequest): StatsWanted {
  const v = req.query.get('stats');
  if (v === null || v === '') return 'none';
  return v === 'all' ? 'all' : 'totals';
}

function queryOptions(req: ApiRequest, stats: StatsWanted): QueryOptions {
  const lb = req.query.get('lookback_delta');
  return { signal: req.signal, perStepStats: stats === 'all', ...(lb ? { lookbackDelta: parseDurationParam(lb, 'lookback_delta') } : {}) };
}

/**
 * Runs a query service call (local engine or remote storage) through the gate, turning its errors
 * into the API's error types (the mapping lives in errors.ts; a remote's own errors keep their type
 * and Retry-After).
 */
export async function serviceCall<T>(gate: QueryGate, signal: AbortSignal, fn: (queuedMs: number) => Promise<T>): Promise<T> {
  try {
    return await gate.run(signal, fn);
  } catch (err) {
    if (err instanceof QueryRefusedError) throw new ApiError('unavailable', err.message, err.retryAfterSec);
    if (err instanceof RemoteQueryError) {
      if (err.code === 'canceled' || err.code === 'timeout') gate.count(err.code);
      throw new ApiError(err.code, err.message, err.retryAfterSec);
    }
    if (err instanceof VigilError) {
      if (err.code === 'canceled' || err.code === 'timeout') gate.count(err.code);
      else if (err.code === 'execution' && err.message.startsWith('query processing would load too many samples')) gate.count('max_samples');
      else if (err.code === 'execution' && err.message.startsWith('query stopped: memory')) {
        // Stopped because the heap neared its limit: not the query's fault, so retryable.
        gate.count('memory');
        throw new ApiError('unavailable', err.message, 5);
      }
    }
    throw toApiError(err) ?? err;
  }
}

/** The success body, with Prometheus' `stats` when asked for. */
function answer(res: QueryResult, stats: StatsWanted): ApiResult {
  const r = res.result;
  if (writtenInPieces(r)) {
    return {
      kind: 'stream',
      status: 200,
      contentType: 'application/json',
      chunks: queryJsonChunks(r, res.warnings, stats === 'none' ? undefined : res.stats, res.infos),
    };
  }
  const data = toApiJson(r) as Record<string, unknown>;
  return json(stats === 'none' ? data : { ...data, stats: res.stats }, res.warnings, res.infos);
}

/** Runs a parser call, turning its errors into the API's. */
function parseCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toApiError(err) ?? err;
  }
}

/** Registers the query endpoints over `service` (local or remote); every query passes `gate` (concurrency, queue, heap). */
export function registerQueryApi(router: Router, service: PromQueryService, gate: QueryGate, now: () => number = Date.now): void {
  router.on(['GET', 'POST'], '/api/v1/query', async (req) => {
    const query = required(req, 'query');
    const t = req.query.get('time');
    const time = t ? parseTime(t, 'time') : now();
    const stats = statsWanted(req);
    const opts = queryOptions(req, stats);
    const res = await serviceCall(gate, req.signal, (queued) => service.instant(query, time, opts, queued));
    return answer(res, stats);
  });

  router.on(['GET', 'POST'], '/api/v1/query_range', async (req) => {
    const query = required(req, 'query');
    const start = parseTime(required(req, 'start'), 'start');
    const end = parseTime(required(req, 'end'), 'end');
    if (end < start) throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
    const step = parseDurationParam(required(req, 'step'), 'step');
    if (step <= 0)
      throw new ApiError('bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    const stats = statsWanted(req);
    const opts = queryOptions(req, stats);
    const res = await serviceCall(gate, req.signal, (queued) => service.range(query, start, end, step, opts, queued));
    return answer(res, stats);
  });

  router.on(['GET', 'POST'], '/api/v1/format_query', (req) => {
    const query = required(req, 'query');
    return json(parseCall(() => formatExpr(parseExpr(query))));
  });

  router.on(['GET', 'POST'], '/api/v1/parse_query', (req) => {
    const query = required(req, 'query');
    return json(parseCall(() => parseExpr(query)));
  });
}
