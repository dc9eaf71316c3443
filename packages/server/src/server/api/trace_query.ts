/**
 * What the Tempo and Jaeger query APIs share: turning TraceQL hints into the store's candidate
 * search, bounding a query (a timeout joined to the client's disconnect), and the plain-text
 * errors Tempo answers with (`invalid TraceQL query: parse error at line 1, col 3: …` is a 400).
 */
import { TraceqlExecError, TraceqlParseError, type TraceqlHints } from '../../traces/traceql/index.js';
import type { ScalarValue, TraceSearch } from '../../traces/storage/interface.js';
import { parseGoDurationNanos } from '../../traces/traceql/lexer.js';
import type { ApiResult } from './http.js';

/** The default bound on one query's run time; a slow query is stopped rather than holding a core. */
export const QUERY_TIMEOUT_MS = 30_000;

/** A client error with the text to answer; the handlers turn it into a plain-text 400. */
export class BadRequest extends Error {}

export function plain(status: number, message: string): ApiResult {
  return { kind: 'raw', status, body: message + '\n', contentType: 'text/plain; charset=utf-8' };
}

export function jsonBody(data: unknown, status = 200): ApiResult {
  return { kind: 'raw', status, body: JSON.stringify(data), contentType: 'application/json' };
}

/**
 * The store search a query's hints allow. Only `=` conditions on a scalar narrow it: the service
 * (resource `service.name`, or `rootServiceName`, whose value is some span's service), the span
 * name, and attributes of the span or resource. Every hint is a necessary condition, so the store
 * may return more traces than match, never fewer; TraceQL applies the whole query after.
 */
export function storeSearchOf(h: TraceqlHints, start: bigint, end: bigint): TraceSearch {
  let service: string | undefined;
  let spanName: string | undefined;
  const attributes: { key: string; value: ScalarValue }[] = [];
  for (const c of h.equals) {
    if (c.scope === 'intrinsic') {
      if ((c.name === 'rootServiceName' || c.name === 'trace:rootService') && typeof c.value === 'string') service ??= c.value;
      else if ((c.name === 'name' || c.name === 'span:name') && typeof c.value === 'string') spanName ??= c.value;
      continue;
    }
    if (c.scope !== 'span' && c.scope !== 'resource' && c.scope !== 'any') continue;
    // Only a resource-scoped service.name is the store's service; an unscoped one may be a span attribute.
    if (c.scope === 'resource' && c.name === 'service.name' && typeof c.value === 'string' && service === undefined) service = c.value;
    else attributes.push({ key: c.name, value: c.value });
  }
  return {
    start,
    end,
    ...(service !== undefined ? { service } : {}),
    ...(spanName !== undefined ? { spanName } : {}),
    ...(attributes.length ? { attributes } : {}),
  };
}

/** The client's signal joined to a timeout, so a query stops on either. */
export function boundedSignal(client: AbortSignal, timeoutMs = QUERY_TIMEOUT_MS): AbortSignal {
  return AbortSignal.any([client, AbortSignal.timeout(timeoutMs)]);
}

/** Maps what a query throws to Tempo's plain-text answers; rethrows what is not the client's doing. */
export function queryFailure(err: unknown, signal: AbortSignal): ApiResult {
  if (err instanceof BadRequest) return plain(400, err.message);
  if (err instanceof TraceqlParseError) return plain(400, `invalid TraceQL query: ${err.message}`);
  // A well-formed query that cannot run (too many series or points), as the TraceQL module documents: 422.
  if (err instanceof TraceqlExecError) return plain(422, err.message);
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof DOMException && reason.name === 'TimeoutError')
      return plain(504, `query timed out after ${QUERY_TIMEOUT_MS / 1000}s; narrow the time range or the query`);
    // The client went away: nobody reads this answer.
    return plain(499, 'client closed the request');
  }
  throw err;
}

/** A Go duration parameter (`100ms`, `1.5s`) in nanoseconds, or undefined when absent. */
export function durationParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const ns = parseGoDurationNanos(v);
  if (ns === undefined) throw new BadRequest(`invalid ${name}: ${JSON.stringify(v)} is not a duration such as 100ms or 1.5s`);
  return ns;
}

/** A positive integer parameter, at most `max` (larger values are clamped, as Tempo clamps limit). */
export function intParam(q: URLSearchParams, name: string, dflt: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new BadRequest(`invalid ${name}: ${JSON.stringify(v)} is not a positive integer`);
  return Math.min(n, max);
}

/** A time given in unix seconds (Tempo's search and tags APIs), as nanoseconds; undefined when absent. */
export function unixSecondsParam(q: URLSearchParams, name: string): bigint | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,12}$/.test(v)) throw new BadRequest(`invalid ${name}: ${JSON.stringify(v)} is not a time in unix seconds`);
  return BigInt(v) * 1_000_000_000n;
}

/** The [start, end) range of `start`/`end` in unix seconds; all of time when absent. */
export function rangeParams(q: URLSearchParams): { start: bigint; end: bigint; given: boolean } {
  const start = unixSecondsParam(q, 'start');
  const end = unixSecondsParam(q, 'end');
  if (start !== undefined && end !== undefined && end < start) throw new BadRequest('invalid start and end: end is before start');
  // end is inclusive to the second in Tempo's API: a trace starting within the end second counts.
  return {
    start: start ?? 0n,
    end: end !== undefined ? end + 1_000_000_000n : BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000_000n,
    given: start !== undefined || end !== undefined,
  };
}
