/**
 * The remote {@link PromQueryService}: every call goes to a Prometheus-compatible HTTP API
 * (VictoriaMetrics single-node or vmselect, Mimir, Thanos Query, Cortex, Prometheus itself) and
 * its answer is read back into Vigil's value types, so rules, templates and the API's JSON writer
 * treat it like a local result. Queries are parsed here first with Vigil's parser: a query Vigil
 * cannot parse is the same 400 in either mode, and dashboards keep to PromQL whatever the
 * backend's dialect (MetricsQL extensions are refused).
 *
 * The remote's errors become Vigil's (see {@link remoteError}): its 400 stays bad_data with its
 * message, 422 stays execution, an overloaded or timed-out remote is 503 with Retry-After, and a
 * remote that cannot be reached is a 503 that names it.
 */
import { VigilError } from '../../core/errors.js';
import { compareLabels, labelsFrom, labelsKey } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { HttpClient, HttpRequestError, BodySizeLimitError, type HttpResponse } from '../../core/httpclient/client.js';
import type { HttpClientConfig } from '../../core/httpclient/config.js';
import { SelfHistogram, type SelfRegistry } from '../../core/selfmon/registry.js';
import { documentedType, exprType, formatMatcher, parseExpr, ParseError, type ValueType } from '../promql/parser/index.js';
import type { QueryOptions, QueryResult, QueryStats } from '../promql/engine/engine.js';
import type { Matrix, Sample, Value } from '../promql/engine/value.js';
import { lazyMatrixSeries } from '../../core/eval/value.js';
import type { MetricMetadata } from '../metadata.js';
import type { ExemplarSeries, ListAnswer, PromQueryService, SeriesArgs } from './service.js';

/** `storage.remote`: where the remote's Prometheus API is, how to reach it, how long to wait. */
export interface RemoteQueryConfig {
  /** The API's base URL, without `/api/v1` (`http://vm:8428`, `http://vmselect:8481/select/0/prometheus`). */
  readonly url: string;
  /** Longest wait for one answer, ms; also sent as the query's `timeout` so the remote stops too. */
  readonly timeoutMs: number;
  /** Largest answer read, bytes (0: no limit): a runaway result cannot take Vigil's heap. */
  readonly maxResponseBytes: number;
  readonly httpClient: HttpClientConfig;
}

/** The error codes a remote call fails with: the Prometheus API's error types. */
export type RemoteErrorCode = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'unavailable' | 'internal';

/** A failed remote call; `retryAfterSec` is set when trying again later may work. */
export class RemoteQueryError extends VigilError {
  declare readonly code: RemoteErrorCode;
  constructor(
    code: RemoteErrorCode,
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(code, message);
  }
}

/** Points per series of a range query, as the local engine and Prometheus' API allow. */
const MAX_POINTS_PER_SERIES = 11_000;

/** Seconds a client is told to wait when the remote gave no Retry-After of its own. */
const DEFAULT_RETRY_AFTER_SEC = 5;

/** The Prometheus API envelope. */
interface Envelope {
  status?: string;
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

function parseEnvelope(body: Buffer): Envelope | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Vigil error for a remote's non-2xx answer. The HTTP status decides, as Prometheus' clients
 * read it: 400 is the query's fault, 422 the evaluation's, 429 and 5xx gateway/overload statuses
 * pass with time, anything else (401, 404, 500) is a remote that is misconfigured or broken.
 */
export function remoteError(name: string, res: Pick<HttpResponse, 'status' | 'statusText' | 'headers' | 'body'>): RemoteQueryError {
  const env = parseEnvelope(res.body);
  const detail = env?.error ?? (res.body.toString('utf8').trim().slice(0, 500) || res.statusText);
  if (res.status === 400) return new RemoteQueryError('bad_data', detail);
  if (res.status === 422) return new RemoteQueryError('execution', detail);
  if (res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504) {
    const ra = Number(res.headers['retry-after']);
    const retry = Number.isFinite(ra) && ra > 0 ? Math.ceil(ra) : DEFAULT_RETRY_AFTER_SEC;
    const code = env?.errorType === 'timeout' || res.status === 504 ? 'timeout' : 'unavailable';
    return new RemoteQueryError(code, `remote storage ${name} answered ${res.status}: ${detail}`, retry);
  }
  return new RemoteQueryError('internal', `remote storage ${name} answered ${res.status} ${res.statusText}: ${detail}`);
}

/** Parses a value as the API writes it: Go's float text, with `+Inf`, `-Inf` and `NaN`. */
export function parseApiFloat(s: unknown): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = typeof s === 'string' ? Number(s) : NaN;
  if (Number.isNaN(v)) throw new RemoteQueryError('internal', `remote answered a value that is not a number: ${JSON.stringify(s)}`);
  return v;
}

type ApiPair = [number, string];

function point(p: ApiPair): { t: number; v: number } {
  // Seconds with up to millisecond fractions; rounding undoes the float division's error.
  return { t: Math.round(p[0] * 1000), v: parseApiFloat(p[1]) };
}

/** Reads a query answer's `data` into Vigil's value types; matrices are sorted by labels, as a range query's are. */
export function valueFromApi(data: unknown): Value {
  const d = data as { resultType?: string; result?: unknown };
  switch (d?.resultType) {
    case 'scalar': {
      const p = point(d.result as ApiPair);
      return { type: 'scalar', t: p.t, v: p.v };
    }
    case 'string': {
      const r = d.result as ApiPair;
      return { type: 'string', t: Math.round(r[0] * 1000), v: String(r[1]) };
    }
    case 'vector': {
      const samples: Sample[] = (d.result as Array<{ metric: Record<string, string>; value: ApiPair }>).map((s) => ({
        metric: labelsFrom(s.metric),
        ...point(s.value),
      }));
      return { type: 'vector', samples };
    }
    case 'matrix': {
      // Parallel arrays behind lazily made points, as the local engine's range results: a large
      // answer keeps few objects alive while it is written out (see core/eval/value.ts).
      const series: Matrix['series'] = (d.result as Array<{ metric: Record<string, string>; values: ApiPair[] }>).map((s) => {
        const ts = new Float64Array(s.values.length);
        const vs = new Float64Array(s.values.length);
        s.values.forEach((p, i) => {
          ts[i] = Math.round(p[0] * 1000);
          vs[i] = parseApiFloat(p[1]);
        });
        return lazyMatrixSeries(labelsFrom(s.metric), ts, vs);
      });
      series.sort((a, b) => compareLabels(a.metric, b.metric));
      return { type: 'matrix', series };
    }
    default:
      throw new RemoteQueryError('internal', `remote answered an unknown result type ${JSON.stringify(d?.resultType)}`);
  }
}

/** A selector as text for `match[]`. */
function selectorText(ms: readonly Matcher[]): string {
  return `{${ms.map(formatMatcher).join(',')}}`;
}

function seconds(ms: number): string {
  return String(ms / 1000);
}

/** Statistics of a remote query: the remote's sample counts are not known here, the times are. */
function statsOf(queuedMs: number, totalMs: number): QueryStats {
  const s = totalMs / 1000;
  return {
    timings: { evalTotalTime: s, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: s, execQueueTime: queuedMs / 1000, execTotalTime: s },
    samples: { totalQueryableSamples: 0, peakSamples: 0 },
  };
}

/** Checks `query` as the local engine would before anything is sent; returns its type. */
function checkQuery(query: string, range: boolean): ValueType {
  let type: ValueType;
  try {
    type = exprType(parseExpr(query));
  } catch (err) {
    if (err instanceof ParseError) throw new RemoteQueryError('bad_data', err.message);
    throw err;
  }
  if (range && type !== 'scalar' && type !== 'vector')
    throw new RemoteQueryError('bad_data', `invalid expression type "${documentedType(type)}" for range query, must be Scalar or instant Vector`);
  return type;
}

/**
 * An instant answer in the expression's PromQL type: MetricsQL answers a scalar expression (`1+1`,
 * Grafana's health check) as a one-sample vector without labels, or an empty one for NaN.
 */
export function asPromqlType(v: Value, type: ValueType, timeMs: number): Value {
  if (type !== 'scalar' || v.type !== 'vector' || v.samples.length > 1 || (v.samples[0]?.metric.length ?? 0) > 0) return v;
  const s = v.samples[0];
  return { type: 'scalar', t: s?.t ?? timeMs, v: s?.v ?? NaN };
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === 'TimeoutError';
}

/** Delegates every call to a remote Prometheus HTTP API. */
export class RemotePromQueryService implements PromQueryService {
  readonly name: string;
  private readonly client: HttpClient;
  private readonly base: string;

  constructor(
    private readonly cfg: RemoteQueryConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.base = cfg.url.replace(/\/+$/, '');
    this.name = this.base;
    this.client = new HttpClient(cfg.httpClient, { idleTimeoutMs: 90_000 });
  }

  /** Latency of calls to the remote by endpoint and outcome, once registered. */
  private latency: SelfHistogram | undefined;

  register(reg: SelfRegistry): void {
    this.latency = new SelfHistogram(
      reg,
      'vigil_remote_storage_query_duration_seconds',
      'Calls to the remote query API (storage.type: remote), by endpoint and outcome: the HTTP status, or unreachable, timeout, canceled.',
      ['endpoint', 'code'],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60],
    );
  }

  /** Sends one API call and returns the envelope of a 2xx answer; everything else is a {@link RemoteQueryError}. */
  private async call(method: 'GET' | 'POST', path: string, params: URLSearchParams, signal: AbortSignal | undefined, endpoint = path): Promise<Envelope> {
    const t0 = performance.now();
    let code = 'unreachable';
    try {
      const res = await this.send(method, path, params, signal);
      code = String(res.status);
      if (res.status < 200 || res.status > 299) throw remoteError(this.name, res);
      const env = parseEnvelope(res.body);
      if (!env || env.status !== 'success')
        throw new RemoteQueryError('internal', `remote storage ${this.name} answered ${path} with something other than a Prometheus API success envelope`);
      return env;
    } catch (err) {
      if (err instanceof RemoteQueryError && (err.code === 'timeout' || err.code === 'canceled') && code === 'unreachable') code = err.code;
      throw err;
    } finally {
      this.latency?.observe([endpoint, code], (performance.now() - t0) / 1000);
    }
  }

  /** One HTTP exchange; failures to get any answer become {@link RemoteQueryError}s. */
  private async send(method: 'GET' | 'POST', path: string, params: URLSearchParams, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const url = `${this.base}${path}`;
    let res: HttpResponse;
    try {
      res =
        method === 'POST'
          ? await this.client.request('POST', url, {
              headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
              body: params.toString(),
              signal: both,
              bodySizeLimit: this.cfg.maxResponseBytes,
            })
          : await this.client.request('GET', `${url}?${params.toString()}`, {
              headers: { accept: 'application/json' },
              signal: both,
              bodySizeLimit: this.cfg.maxResponseBytes,
            });
    } catch (err) {
      // Which signal fired decides: the caller gone (or its own deadline), or this call's timeout.
      if (signal?.aborted) {
        if (isTimeout(signal.reason)) throw new RemoteQueryError('timeout', 'query timed out in query execution');
        throw new RemoteQueryError('canceled', 'query was canceled');
      }
      if (timeout.aborted)
        throw new RemoteQueryError('timeout', `remote storage ${this.name} did not answer within ${this.cfg.timeoutMs / 1000}s`, DEFAULT_RETRY_AFTER_SEC);
      if (err instanceof BodySizeLimitError) throw new RemoteQueryError('execution', `remote storage ${this.name}: answer too large: ${err.message}`);
      if (err instanceof HttpRequestError)
        throw new RemoteQueryError('unavailable', `remote storage ${this.name} is unreachable: ${err.detail}`, DEFAULT_RETRY_AFTER_SEC);
      throw err;
    }
    return res;
  }

  private queryParams(query: string, opts: QueryOptions): URLSearchParams {
    const p = new URLSearchParams({ query, timeout: `${this.cfg.timeoutMs / 1000}s` });
    if (opts.lookbackDelta !== undefined) p.set('lookback_delta', `${opts.lookbackDelta / 1000}s`);
    return p;
  }

  private async runQuery(path: string, p: URLSearchParams, opts: QueryOptions, queuedMs: number, fix: (v: Value) => Value = (v) => v): Promise<QueryResult> {
    const t0 = this.now();
    const env = await this.call('POST', path, p, opts.signal);
    return {
      result: fix(valueFromApi(env.data)),
      warnings: env.warnings ?? [],
      ...(env.infos?.length ? { infos: env.infos } : {}),
      stats: statsOf(queuedMs, this.now() - t0),
    };
  }

  async instant(query: string, timeMs: number, opts: QueryOptions, queuedMs = 0): Promise<QueryResult> {
    const type = checkQuery(query, false);
    const p = this.queryParams(query, opts);
    p.set('time', seconds(timeMs));
    return this.runQuery('/api/v1/query', p, opts, queuedMs, (v) => asPromqlType(v, type, timeMs));
  }

  async range(query: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions, queuedMs = 0): Promise<QueryResult> {
    checkQuery(query, true);
    // The local engine's bound (Prometheus' API's): the same 400 in both modes, before the remote's own.
    if ((endMs - startMs) / stepMs + 1 > MAX_POINTS_PER_SERIES)
      throw new RemoteQueryError(
        'bad_data',
        `exceeded maximum resolution of ${MAX_POINTS_PER_SERIES} points per timeseries. Try decreasing the query resolution (?step=XX)`,
      );
    const p = this.queryParams(query, opts);
    p.set('start', seconds(startMs));
    p.set('end', seconds(endMs));
    p.set('step', seconds(stepMs));
    return this.runQuery('/api/v1/query_range', p, opts, queuedMs);
  }

  instantSync(query: string): QueryResult {
    // A template renders synchronously; waiting for a network answer would block the thread.
    throw new RemoteQueryError(
      'execution',
      `the template query function cannot run ${JSON.stringify(query)}: metrics are in remote storage (${this.name}), which cannot answer synchronously; use the alert's $value and labels instead`,
    );
  }

  private seriesParams(a: SeriesArgs): URLSearchParams {
    const p = new URLSearchParams();
    for (const ms of a.matchers) p.append('match[]', selectorText(ms));
    if (a.start !== undefined) p.set('start', seconds(a.start));
    if (a.end !== undefined) p.set('end', seconds(a.end));
    if (a.limit > 0) p.set('limit', String(a.limit));
    return p;
  }

  async series(a: SeriesArgs): Promise<ListAnswer<Record<string, string>>> {
    const env = await this.call('POST', '/api/v1/series', this.seriesParams(a), a.signal);
    const data = (env.data as Array<Record<string, string>> | null) ?? [];
    // The same order as the local answer: by the labels' sorted text.
    const keyed = data.map((r) => ({ r, k: labelsKey(labelsFrom(r)) })).sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
    return { data: keyed.map((x) => x.r), warnings: env.warnings ?? [] };
  }

  async labelNames(a: SeriesArgs): Promise<ListAnswer<string>> {
    const env = await this.call('POST', '/api/v1/labels', this.seriesParams(a), a.signal);
    return { data: [...((env.data as string[] | null) ?? [])].sort(), warnings: env.warnings ?? [] };
  }

  async labelValues(name: string, a: SeriesArgs): Promise<ListAnswer<string>> {
    const env = await this.call('GET', `/api/v1/label/${encodeURIComponent(name)}/values`, this.seriesParams(a), a.signal, '/api/v1/label/:name/values');
    return { data: [...((env.data as string[] | null) ?? [])].sort(), warnings: env.warnings ?? [] };
  }

  async metadata(metric: string | undefined, limit: number, signal: AbortSignal): Promise<Record<string, MetricMetadata[]>> {
    const p = new URLSearchParams();
    if (metric) p.set('metric', metric);
    if (limit > 0) p.set('limit', String(limit));
    const env = await this.call('GET', '/api/v1/metadata', p, signal);
    return (env.data as Record<string, MetricMetadata[]> | null) ?? {};
  }

  async exemplars(query: string, startMs: number | undefined, endMs: number | undefined, signal: AbortSignal): Promise<ExemplarSeries[] | null> {
    checkQuery(query, false);
    const p = new URLSearchParams({ query });
    if (startMs !== undefined) p.set('start', seconds(startMs));
    if (endMs !== undefined) p.set('end', seconds(endMs));
    const env = await this.call('POST', '/api/v1/query_exemplars', p, signal);
    return (env.data as ExemplarSeries[] | null) ?? null;
  }

  close(): void {
    this.client.close();
  }
}
