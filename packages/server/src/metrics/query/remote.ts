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
import { labelsFrom, labelsKey } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { RemoteApi, RemoteQueryError, type Envelope, type RemoteQueryConfig } from '../../core/httpclient/remote_api.js';
import { evalValueFromApi, type ApiPair } from '../../core/eval/api_value.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import { documentedType, exprType, formatMatcher, parseExpr, ParseError, type ValueType } from '../promql/parser/index.js';
import type { QueryOptions, QueryResult, QueryStats } from '../promql/engine/engine.js';
import type { Value } from '../promql/engine/value.js';
import type { MetricMetadata } from '../metadata.js';
import type { ExemplarSeries, ListAnswer, PromQueryService, SeriesArgs } from './service.js';

export { parseApiFloat, remoteError, RemoteQueryError, type RemoteErrorCode, type RemoteQueryConfig } from '../../core/httpclient/remote_api.js';

/** Points per series of a range query, as the local engine and Prometheus' API allow. */
const MAX_POINTS_PER_SERIES = 11_000;

/** Reads a query answer's `data` into Vigil's value types; matrices are sorted by labels, as a range query's are. */
export function valueFromApi(data: unknown): Value {
  const d = data as { resultType?: string; result?: unknown };
  if (d?.resultType === 'string') {
    const r = d.result as ApiPair;
    return { type: 'string', t: Math.round(r[0] * 1000), v: String(r[1]) };
  }
  return evalValueFromApi(data);
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

/** Delegates every call to a remote Prometheus HTTP API. */
export class RemotePromQueryService implements PromQueryService {
  readonly name: string;
  private readonly api: RemoteApi;

  constructor(
    private readonly cfg: RemoteQueryConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.api = new RemoteApi(cfg);
    this.name = this.api.name;
  }

  register(reg: SelfRegistry): void {
    this.api.register(
      reg,
      'vigil_remote_storage_query_duration_seconds',
      'Calls to the remote query API (storage.type: remote), by endpoint and outcome: the HTTP status, or unreachable, timeout, canceled.',
    );
  }

  private call(method: 'GET' | 'POST', path: string, params: URLSearchParams, signal: AbortSignal | undefined, endpoint = path): Promise<Envelope> {
    return this.api.call(method, path, params, signal, endpoint);
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
    this.api.close();
  }
}
