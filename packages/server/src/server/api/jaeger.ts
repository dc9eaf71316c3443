/**
 * Jaeger's query API, for Grafana's Jaeger data source and the Jaeger UI, mounted under `/jaeger`
 * (the data source's URL is `http://<vigil>/jaeger`). The prefix is needed because Jaeger and Tempo
 * both own `GET /api/traces/<id>` with different JSON (`{data: [...]}` against `{batches: [...]}`) and
 * neither client says which it wants; VictoriaTraces mounts Jaeger under a prefix for the same reason.
 *
 * - `/jaeger/api/services`, `/jaeger/api/services/<s>/operations`, `/jaeger/api/operations?service=&spanKind=`;
 * - `/jaeger/api/traces` (service, operation, tags JSON or `tag=k:v`, minDuration, maxDuration on a
 *   span, limit, start and end in µs, or lookback) and `/jaeger/api/traces/<id>`, in Jaeger's UI JSON;
 * - `/jaeger/api/dependencies?endTs=<ms>&lookback=<ms>`: parent → child service edges with callCount;
 * - the stable api_v3 over HTTP: `/jaeger/api/v3/services`, `/operations`, `/traces` (`query.*`
 *   parameters) and `/traces/<id>`, answering OTLP/JSON in `{result: {resourceSpans}}`.
 *
 * A search is a TraceQL filter built from the parameters, so it means what a Tempo search means, and
 * its hints narrow the store's candidates; every scan is bounded by a trace count and a timeout.
 */
import type { Span } from '../../traces/storage/types.js';
import type { TraceQueryable } from '../../traces/storage/interface.js';
import { toOtlpJson } from '../../traces/ingest/otlp_encode.js';
import { compileSearch, hintsOf } from '../../traces/traceql/index.js';
import { TimeSlicer } from '../../core/util/pace.js';
import { parseGoDurationNanos } from '../../traces/traceql/lexer.js';
import type { ApiRequest, ApiResult, Router } from './http.js';
import { DependencyCounter, toJaegerTrace } from './jaeger_model.js';
import { normalizeTraceId } from './tempo.js';
import { BadRequest, QUERY_TIMEOUT_MS, boundedSignal, intParam, jsonBody, storeSearchOf } from './trace_query.js';

/** The most traces one search returns, and the most a dependency scan reads. */
export const MAX_JAEGER_LIMIT = 1500;
export const MAX_DEPENDENCY_TRACES = 100_000;

interface Criteria {
  service: string;
  operation?: string;
  tags: [string, string][];
  minNs?: number;
  maxNs?: number;
  start: bigint;
  end: bigint;
  limit: number;
}

function envelope(data: unknown, total = Array.isArray(data) ? data.length : 0): ApiResult {
  return jsonBody({ data, total, limit: 0, offset: 0, errors: null });
}

function failure(status: number, msg: string): ApiResult {
  return jsonBody({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg }] }, status);
}

function v3Failure(status: number, message: string): ApiResult {
  return jsonBody({ error: { httpCode: status, message } }, status);
}

/** One tag as a TraceQL condition; Jaeger's own tags for OTLP status and kind map to the intrinsics. */
function tagCondition(k: string, v: string): string {
  if (k === 'error' && v === 'true') return 'status = error';
  if (k === 'otel.status_code' && /^(ERROR|OK|UNSET)$/.test(v)) return `status = ${v.toLowerCase()}`;
  if (k === 'span.kind' && /^(unspecified|internal|server|client|producer|consumer)$/.test(v)) return `kind = ${v}`;
  const attr = `.${JSON.stringify(k)}`;
  const alts = [`${attr} = ${JSON.stringify(v)}`];
  if (/^-?\d+(\.\d+)?$/.test(v) || v === 'true' || v === 'false') alts.push(`${attr} = ${v}`);
  return alts.length === 1 ? alts[0]! : `(${alts.join(' || ')})`;
}

/** The TraceQL filter one span must satisfy for its trace to qualify, as Jaeger searches spans. */
export function criteriaToTraceQL(c: Omit<Criteria, 'start' | 'end' | 'limit'>): string {
  const conds = [`resource.service.name = ${JSON.stringify(c.service)}`];
  if (c.operation) conds.push(`name = ${JSON.stringify(c.operation)}`);
  for (const [k, v] of c.tags) conds.push(tagCondition(k, v));
  if (c.minNs !== undefined) conds.push(`duration >= ${Math.round(c.minNs)}ns`);
  if (c.maxNs !== undefined) conds.push(`duration <= ${Math.round(c.maxNs)}ns`);
  return `{ ${conds.join(' && ')} }`;
}

function goDuration(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const ns = parseGoDurationNanos(v);
  if (ns === undefined) throw new BadRequest(`cannot parse ${name} ${JSON.stringify(v)}: want a duration such as 100ms or 1.5s`);
  return ns;
}

function micros(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d{1,17}$/.test(v)) throw new BadRequest(`cannot parse ${name} ${JSON.stringify(v)}: want microseconds since the epoch`);
  return BigInt(v) * 1000n;
}

function rfc3339(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(ms)) throw new BadRequest(`cannot parse ${name} ${JSON.stringify(v)}: want an RFC 3339 time`);
  return BigInt(ms) * 1_000_000n;
}

function parseTags(q: URLSearchParams): [string, string][] {
  const out: [string, string][] = [];
  const json = q.get('tags');
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new BadRequest(`malformed 'tags' parameter: ${JSON.stringify(json)} is not a JSON object`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new BadRequest(`malformed 'tags' parameter: want a JSON object of strings`);
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new BadRequest(`malformed 'tags' parameter: the value of ${JSON.stringify(k)} is not a string`);
      out.push([k, v]);
    }
  }
  for (const t of q.getAll('tag')) {
    const i = t.indexOf(':');
    if (i <= 0) throw new BadRequest(`malformed 'tag' parameter ${JSON.stringify(t)}: want key:value`);
    out.push([t.slice(0, i), t.slice(i + 1)]);
  }
  return out;
}

/** The traces (all spans) with a span matching the criteria, newest first, at most `limit`. */
async function findTraces(store: TraceQueryable, c: Criteria, signal: AbortSignal): Promise<Span[][]> {
  const search = compileSearch(criteriaToTraceQL(c));
  const pacer = new TimeSlicer({ signal });
  pacer.check();
  const out: Span[][] = [];
  for (const trace of store.search(storeSearchOf(hintsOf(search.root), c.start, c.end))) {
    await pacer.tick();
    if (search.evaluate(trace).length === 0) continue;
    out.push(trace);
    if (out.length >= c.limit) break;
  }
  return out;
}

/** The most recent traces read to learn the span kinds of a service's operations. */
export const MAX_KIND_TRACES = 1000;

/**
 * The service's operations with their span kinds, filtered by `spanKind` when given. The names come
 * from the store's index; the kinds from the service's most recent traces (the index keeps none), so
 * an operation not seen in them has the kind '' and is left out of a filtered answer.
 */
export function operationsWithKinds(store: TraceQueryable, service: string, spanKind: string): { name: string; spanKind: string }[] {
  const kinds = new Map<string, Set<string>>();
  let n = 0;
  for (const trace of store.search({ start: 0n, end: BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000_000n, service })) {
    if (++n > MAX_KIND_TRACES) break;
    for (const s of trace) {
      if (s.resource['service.name'] !== service || s.kind === 'unspecified') continue;
      let k = kinds.get(s.name);
      if (!k) kinds.set(s.name, (k = new Set()));
      k.add(s.kind);
    }
  }
  const out: { name: string; spanKind: string }[] = [];
  for (const name of store.operations(service)) {
    const ks = [...(kinds.get(name) ?? [''])].sort();
    for (const k of ks) if (!spanKind || k === spanKind) out.push({ name, spanKind: k });
  }
  return out;
}

const SPAN_KINDS = new Set(['server', 'client', 'producer', 'consumer', 'internal']);

function spanKindParam(v: string | null): string {
  if (!v) return '';
  if (!SPAN_KINDS.has(v)) throw new BadRequest(`unsupported span kind ${JSON.stringify(v)}: want server, client, producer, consumer or internal`);
  return v;
}

/** Registers the Jaeger API under `/jaeger`. */
export function registerJaegerApi(router: Router, store: TraceQueryable, opts: { now?: () => number; timeoutMs?: number } = {}): void {
  const now = opts.now ?? Date.now;
  const guarded =
    (fn: (req: ApiRequest, signal: AbortSignal) => Promise<ApiResult> | ApiResult, v3 = false) =>
    async (req: ApiRequest): Promise<ApiResult> => {
      const signal = boundedSignal(req.signal, opts.timeoutMs);
      try {
        return await fn(req, signal);
      } catch (err) {
        const status = err instanceof BadRequest ? 400 : signal.aborted ? 504 : 0;
        if (status === 0) throw err;
        const msg = status === 400 ? (err as Error).message : `query timed out after ${(opts.timeoutMs ?? QUERY_TIMEOUT_MS) / 1000}s`;
        return v3 ? v3Failure(status, msg) : failure(status, msg);
      }
    };

  router.on(
    'GET',
    '/jaeger/api/services',
    guarded(() => envelope(store.services())),
  );
  router.on(
    'GET',
    '/jaeger/api/services/:service/operations',
    guarded((req) => envelope(store.operations(req.params['service']!))),
  );
  router.on(
    'GET',
    '/jaeger/api/operations',
    guarded((req) => {
      const service = req.query.get('service');
      if (!service) throw new BadRequest("parameter 'service' is required");
      return envelope(operationsWithKinds(store, service, spanKindParam(req.query.get('spanKind'))));
    }),
  );

  router.on(
    'GET',
    '/jaeger/api/traces',
    guarded(async (req, signal) => {
      const q = req.query;
      const service = q.get('service');
      if (!service) throw new BadRequest("parameter 'service' is required");
      const endNs = micros(q.get('end'), 'end') ?? BigInt(now()) * 1_000_000n;
      const lookback = q.get('lookback');
      const lookbackNs = lookback && lookback !== 'custom' ? goDuration(lookback, 'lookback') : undefined;
      const startNs = micros(q.get('start'), 'start') ?? endNs - BigInt(Math.round(lookbackNs ?? 3_600_000_000_000));
      if (endNs < startNs) throw new BadRequest('end is before start');
      const minNs = goDuration(q.get('minDuration'), 'minDuration');
      const maxNs = goDuration(q.get('maxDuration'), 'maxDuration');
      if (minNs !== undefined && maxNs !== undefined && maxNs < minNs) throw new BadRequest('maxDuration is less than minDuration');
      const operation = q.get('operation');
      const criteria: Criteria = {
        service,
        ...(operation ? { operation } : {}),
        tags: parseTags(q),
        ...(minNs !== undefined ? { minNs } : {}),
        ...(maxNs !== undefined ? { maxNs } : {}),
        start: startNs,
        end: endNs + 1n,
        limit: intParam(q, 'limit', 20, MAX_JAEGER_LIMIT),
      };
      return envelope((await findTraces(store, criteria, signal)).map(toJaegerTrace));
    }),
  );

  router.on(
    'GET',
    '/jaeger/api/traces/:id',
    guarded((req) => {
      const id = normalizeTraceId(req.params['id'] ?? '');
      if (!id) throw new BadRequest(`invalid trace id ${JSON.stringify(req.params['id'] ?? '')}: want up to 32 hex digits, not all zero`);
      const spans = store.trace(id);
      return spans.length === 0 ? failure(404, 'trace not found') : envelope([toJaegerTrace(spans)]);
    }),
  );

  router.on(
    'GET',
    '/jaeger/api/dependencies',
    guarded(async (req, signal) => {
      const endMs = req.query.get('endTs') ? Number(req.query.get('endTs')) : now();
      const lookbackMs = req.query.get('lookback') ? Number(req.query.get('lookback')) : 86_400_000;
      if (!Number.isInteger(endMs) || endMs < 0) throw new BadRequest(`unable to parse param 'endTs': ${JSON.stringify(req.query.get('endTs'))}`);
      if (!Number.isInteger(lookbackMs) || lookbackMs <= 0)
        throw new BadRequest(`unable to parse param 'lookback': ${JSON.stringify(req.query.get('lookback'))}`);
      const counter = new DependencyCounter();
      const pacer = new TimeSlicer({ signal });
      pacer.check();
      let n = 0;
      for (const trace of store.search({ start: BigInt(endMs - lookbackMs) * 1_000_000n, end: BigInt(endMs) * 1_000_000n + 1n })) {
        await pacer.tick();
        if (++n > MAX_DEPENDENCY_TRACES) break;
        counter.add(trace);
      }
      return envelope(counter.result());
    }),
  );

  // The stable api_v3, over HTTP as Jaeger's grpc-gateway serves it.
  router.on(
    'GET',
    '/jaeger/api/v3/services',
    guarded(() => jsonBody({ services: store.services() }), true),
  );
  router.on(
    'GET',
    '/jaeger/api/v3/operations',
    guarded((req) => {
      const service = req.query.get('service');
      if (!service) throw new BadRequest('service is required');
      return jsonBody({ operations: operationsWithKinds(store, service, spanKindParam(req.query.get('span_kind') ?? req.query.get('spanKind'))) });
    }, true),
  );
  router.on(
    'GET',
    '/jaeger/api/v3/traces',
    guarded(async (req, signal) => {
      const q = req.query;
      const arg = (snake: string, camel: string): string | null => q.get(`query.${snake}`) ?? q.get(`query.${camel}`);
      const service = arg('service_name', 'serviceName');
      if (!service) throw new BadRequest('query.service_name is required');
      const start = rfc3339(arg('start_time_min', 'startTimeMin'), 'query.start_time_min');
      const end = rfc3339(arg('start_time_max', 'startTimeMax'), 'query.start_time_max');
      if (start === undefined || end === undefined) throw new BadRequest('query.start_time_min and query.start_time_max are required');
      if (end < start) throw new BadRequest('query.start_time_max is before query.start_time_min');
      const minNs = goDuration(arg('duration_min', 'durationMin'), 'query.duration_min');
      const maxNs = goDuration(arg('duration_max', 'durationMax'), 'query.duration_max');
      const operation = arg('operation_name', 'operationName');
      const depth = arg('search_depth', 'searchDepth') ?? '20';
      const limit = Number(depth);
      if (!Number.isInteger(limit) || limit <= 0) throw new BadRequest(`invalid query.search_depth ${JSON.stringify(depth)}: want a positive integer`);
      const traces = await findTraces(
        store,
        {
          service,
          ...(operation ? { operation } : {}),
          tags: [],
          ...(minNs !== undefined ? { minNs } : {}),
          ...(maxNs !== undefined ? { maxNs } : {}),
          start,
          end: end + 1n,
          limit: Math.min(limit, MAX_JAEGER_LIMIT),
        },
        signal,
      );
      return jsonBody({ result: { resourceSpans: toOtlpJson(traces.flat()) } });
    }, true),
  );
  router.on(
    'GET',
    '/jaeger/api/v3/traces/:id',
    guarded((req) => {
      const id = normalizeTraceId(req.params['id'] ?? '');
      if (!id) throw new BadRequest(`invalid trace id ${JSON.stringify(req.params['id'] ?? '')}: want up to 32 hex digits, not all zero`);
      const spans = store.trace(id);
      return spans.length === 0 ? v3Failure(404, 'trace not found') : jsonBody({ result: { resourceSpans: toOtlpJson(spans) } });
    }, true),
  );
}
