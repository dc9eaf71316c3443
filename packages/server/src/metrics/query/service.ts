/**
 * The PromQL query service: what the Prometheus query API, rules and SLOs ask of "the metrics
 * storage", behind one seam. {@link LocalPromQueryService} answers from Vigil's own engine and
 * TSDB; {@link RemotePromQueryService} delegates every call to a Prometheus-compatible HTTP API (a
 * VictoriaMetrics or Mimir cluster), so that cluster's own query scaling does the work. Callers
 * (server/api, the rule wiring) never branch on which one they hold.
 */
import type { Matcher } from '../../core/model/matcher.js';
import type { QueryOptions, QueryResult } from '../promql/engine/engine.js';
import type { MetricMetadata } from '../metadata.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';

/** The earliest and latest times (ms) the local store reads when a bound is not given, as Prometheus' API. */
export const OPEN_START = -9_000_000_000_000_000 / 1000;
export const OPEN_END = 9_000_000_000_000_000 / 1000;

/** Common arguments of the series, label name and label value calls. */
export interface SeriesArgs {
  /** `match[]` selectors, already parsed (a bad one is the caller's 400). */
  readonly matchers: readonly (readonly Matcher[])[];
  /** Bounds in ms; absent: not given by the client (each backend has its default, see {@link OPEN_START}). */
  readonly start?: number;
  readonly end?: number;
  /** 0: no limit. */
  readonly limit: number;
  readonly signal: AbortSignal;
}

/** A list answer with the warnings to put in the envelope. */
export interface ListAnswer<T> {
  readonly data: T[];
  readonly warnings: string[];
}

/** One series' exemplars in the API's shape (values as strings, times in float seconds). */
export interface ExemplarSeries {
  readonly seriesLabels: Record<string, string>;
  readonly exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

/** Everything the PromQL side of Vigil reads. Errors are {@link VigilError}s with the API's codes. */
export interface PromQueryService {
  /** `local`, or the remote's URL: named in errors and logs. */
  readonly name: string;
  /** An instant query at `timeMs`; `queuedMs` is reported as the wait in the query gate. */
  instant(query: string, timeMs: number, opts: QueryOptions, queuedMs?: number): Promise<QueryResult>;
  /** A range query over `[startMs, endMs]` every `stepMs`. */
  range(query: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions, queuedMs?: number): Promise<QueryResult>;
  /**
   * An instant query answered without waiting (the template `query` function runs inside a
   * synchronous template). A remote cannot answer that way: it throws a clear error instead.
   */
  instantSync(query: string, timeMs: number): QueryResult;
  /** `/api/v1/series`: the label sets, sorted, deduplicated across the selectors. */
  series(args: SeriesArgs): Promise<ListAnswer<Record<string, string>>>;
  /** `/api/v1/labels` (no matchers: every series). */
  labelNames(args: SeriesArgs): Promise<ListAnswer<string>>;
  /** `/api/v1/label/<name>/values`. */
  labelValues(name: string, args: SeriesArgs): Promise<ListAnswer<string>>;
  /** `/api/v1/metadata`, by metric family (a metric name, or all up to `limit`). */
  metadata(metric: string | undefined, limit: number, signal: AbortSignal): Promise<Record<string, MetricMetadata[]>>;
  /** `/api/v1/query_exemplars` for the selectors of `query`; null when it has none (Prometheus' answer). */
  exemplars(query: string, startMs: number | undefined, endMs: number | undefined, signal: AbortSignal): Promise<ExemplarSeries[] | null>;
  /** Registers the service's self-metrics (a remote's call latency; none locally: the engine has its own). */
  register(reg: SelfRegistry): void;
  /** Releases connections (a remote's keep-alive pool). */
  close(): void;
}
