/**
 * The log query service: what the Loki API (and so the UI's log pages) asks of "the log storage",
 * behind one seam. {@link LocalLogQueryService} answers from a {@link LogQueryable} and a LogQL
 * engine built once by the wiring; `RemoteLogQueryService` (remote.ts) sends the calls to a
 * Loki-compatible API. The API parses parameters, calls this and shapes JSON; it never branches on
 * which one it holds.
 */
import type { Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { Expr } from '../logql/ast.js';
import type { LogqlEngine, LogqlStats, LogqlValue } from '../logql/engine.js';
import { LogqlExecError } from '../logql/errors.js';
import type { LogQueryable } from '../storage/interface.js';
import type { Direction, StoreStats } from '../storage/types.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import { type DetectedField, detectedFields, type DetectedLabel, detectedLabels } from './detected.js';
import { formatQuery } from './format.js';
import { lineContext, type LineContext } from './context.js';
import { correlate, type CorrelatedLine, DEFAULT_ID_FIELDS } from './correlate.js';
import { type Facet, facetsOf, type FacetOptions } from './facets.js';
import { seriesOf } from './metadata.js';
import { type LiveTail, LogTail } from './tail.js';
import { logVolume, type VolumeOptions, type VolumeSeries } from './volume.js';
import { logPatterns, type LogPattern, type PatternLimits } from './patterns.js';

/** A query's value and the work it did. */
export interface QueryOutcome {
  readonly value: LogqlValue;
  readonly stats: LogqlStats;
  /** Wall time, seconds. */
  readonly execSec: number;
}

/** The window and shape of a log query. */
export interface LogWindow {
  readonly start: bigint;
  readonly end: bigint;
  readonly limit: number;
  readonly direction: Direction;
}

/** The counts `/index/stats` answers. */
export type IndexStats = Pick<StoreStats, 'streams' | 'chunks' | 'entries' | 'bytes'>;

/** A value now (the local store) or later (a remote API). */
export type Awaitable<T> = T | Promise<T>;

/** Everything the Loki API reads. Times are ns; errors are VigilErrors with the API's codes. */
export interface LogQueryService {
  /** `local`, or the remote's URL: named in errors and logs. */
  readonly name: string;
  /** A range query: lines in [start, end) or a matrix with a point per `stepMs`; stopped by `signal`. */
  rangeQueryAsync(query: string, w: LogWindow, stepMs: number, signal?: AbortSignal): Promise<QueryOutcome>;
  /** An instant query at `t`. */
  instantQueryAsync(query: string, t: bigint, limit: number, direction: Direction, signal?: AbortSignal): Promise<QueryOutcome>;
  /** Label names seen in [start, end), sorted. */
  labelNames(start: bigint, end: bigint): Awaitable<string[]>;
  /** Values of one label over the streams matching `matchers`, sorted. */
  labelValues(name: string, matchers: readonly Matcher[], start: bigint, end: bigint): Awaitable<string[]>;
  /** The streams matching any selector, each once. */
  series(selectors: readonly (readonly Matcher[])[], start: bigint, end: bigint): Awaitable<Labels[]>;
  /** Stream, chunk, line and byte counts of the matching streams. */
  indexStats(matchers: readonly Matcher[] | undefined, start: bigint, end: bigint): Awaitable<IndexStats>;
  /** Bytes of the matching streams' lines, grouped by series or label name, largest first. */
  volume(matchers: readonly Matcher[], start: bigint, end: bigint, opts?: VolumeOptions): Awaitable<VolumeSeries[]>;
  /** The line patterns of the matching streams, with their counts per `stepMs` bucket. */
  patterns(matchers: readonly Matcher[], start: bigint, end: bigint, stepMs: number): Awaitable<LogPattern[]>;
  /** The labels of the matching streams with their cardinality. */
  detectedLabels(matchers: readonly Matcher[], start: bigint, end: bigint): Awaitable<DetectedLabel[]>;
  /** Fields (JSON and logfmt keys) in the newest `lineLimit` lines of a log query, at most `limit` of them. */
  detectedFields(query: string, start: bigint, end: bigint, lineLimit: number, limit: number): Awaitable<DetectedField[]>;
  /** The query in canonical spelling; throws on a query that does not parse. */
  formatQuery(query: string): string;
  /** Top field values over the lines of a log query (a metric query is an execution error). */
  facets(query: string, w: LogWindow, opts?: FacetOptions): Awaitable<{ lines: number; facets: Facet[] }>;
  /** Lines around time `t` in the first stream matching `matchers`. */
  context(matchers: readonly Matcher[], t: bigint, before: number, after: number): Awaitable<LineContext | undefined>;
  /** Every line carrying `id` in one of `fields`, across streams, oldest first. */
  correlate(id: string, start: bigint, end: bigint, fields?: readonly string[], limit?: number): Awaitable<CorrelatedLine[]>;
  /** A live tail of a log query; throws on a query it cannot follow. */
  tail(query: string): LiveTail;
  /** Registers the service's self-metrics (a remote's call latency; none locally). */
  register(reg: SelfRegistry): void;
  /** Releases connections (a remote's keep-alive pool). */
  close(): void;
}

/** Answers the Loki API's questions from the log store and the LogQL engine. */
export class LocalLogQueryService implements LogQueryService {
  readonly name = 'local';

  constructor(
    readonly store: LogQueryable,
    readonly engine: LogqlEngine,
  ) {}

  register(): void {}

  close(): void {}

  /** A range query: lines in [start, end) or a matrix with a point per `stepMs`. */
  rangeQuery(query: string | Expr, w: LogWindow, stepMs: number): QueryOutcome {
    return measured((stats) => this.engine.rangeQuery(query, w.start, w.end, stepMs, w.limit, w.direction, stats));
  }

  /** An instant query at `t`. */
  instantQuery(query: string | Expr, t: bigint, limit: number, direction: Direction): QueryOutcome {
    return measured((stats) => this.engine.instantQuery(query, t, limit, direction, stats));
  }

  /** {@link rangeQuery} in time slices, stopped by `signal` (the client went away) or the timeout. */
  async rangeQueryAsync(query: string | Expr, w: LogWindow, stepMs: number, signal?: AbortSignal): Promise<QueryOutcome> {
    return measuredAsync((stats) => this.engine.rangeQueryAsync(query, w.start, w.end, stepMs, w.limit, w.direction, { stats, ...(signal ? { signal } : {}) }));
  }

  /** {@link instantQuery} in time slices. */
  async instantQueryAsync(query: string | Expr, t: bigint, limit: number, direction: Direction, signal?: AbortSignal): Promise<QueryOutcome> {
    return measuredAsync((stats) => this.engine.instantQueryAsync(query, t, limit, direction, { stats, ...(signal ? { signal } : {}) }));
  }

  /** Label names seen in [start, end). */
  labelNames(start: bigint, end: bigint): string[] {
    return this.store.labelNames(start, end);
  }

  /** Values of one label over the streams matching `matchers`. */
  labelValues(name: string, matchers: readonly Matcher[], start: bigint, end: bigint): string[] {
    return this.store.labelValues(name, matchers, start, end);
  }

  /** The streams matching any selector, each once. */
  series(selectors: readonly (readonly Matcher[])[], start: bigint, end: bigint): Labels[] {
    return seriesOf(this.store, selectors, start, end);
  }

  /** Stream, chunk, line and byte counts of the matching streams. */
  indexStats(matchers: readonly Matcher[] | undefined, start: bigint, end: bigint): StoreStats {
    return this.store.stats(matchers, start, end);
  }

  /** Bytes of the matching streams' lines, grouped by series or label name, largest first. */
  volume(matchers: readonly Matcher[], start: bigint, end: bigint, opts: VolumeOptions = {}): VolumeSeries[] {
    return logVolume(this.store, matchers, start, end, opts);
  }
  /** The line patterns of the matching streams, with their counts per `stepMs` bucket, most lines first. */
  patterns(matchers: readonly Matcher[], start: bigint, end: bigint, stepMs: number, limits: PatternLimits = {}): LogPattern[] {
    return logPatterns(this.store, matchers, start, end, stepMs, limits);
  }
  /** The labels of the matching streams with their cardinality. */
  detectedLabels(matchers: readonly Matcher[], start: bigint, end: bigint): DetectedLabel[] {
    return detectedLabels(this.store, matchers, start, end);
  }
  /** Fields (JSON and logfmt keys) in the newest `lineLimit` lines of a log query, at most `limit` of them. */
  detectedFields(query: string, start: bigint, end: bigint, lineLimit: number, limit: number): DetectedField[] {
    const v = this.engine.rangeQuery(query, start, end, 1000, lineLimit, 'backward');
    if (v.type !== 'streams') throw new LogqlExecError('detected fields need a log query');
    return detectedFields(v, limit);
  }
  /** The query in canonical spelling; throws on a query that does not parse. */
  formatQuery(query: string): string {
    return formatQuery(query);
  }
  /** Top field values over the lines of a log query (a metric query is an execution error). */
  facets(query: string, w: LogWindow, opts: FacetOptions = {}): { lines: number; facets: Facet[] } {
    // The step does not matter for a log query; the engine only needs a positive one.
    const v = this.engine.rangeQuery(query, w.start, w.end, 1000, w.limit, w.direction);
    if (v.type !== 'streams') throw new LogqlExecError('facets need a log query');
    return facetsOf(v, opts);
  }

  /** Lines around time `t` in the first stream matching `matchers`. */
  context(matchers: readonly Matcher[], t: bigint, before: number, after: number): LineContext | undefined {
    return lineContext(this.store, matchers, t, before, after);
  }

  /** Every line carrying `id` in one of `fields`, across streams, oldest first. */
  correlate(id: string, start: bigint, end: bigint, fields: readonly string[] = DEFAULT_ID_FIELDS, limit = 1000): CorrelatedLine[] {
    return correlate(this.store, id, start, end, fields, limit);
  }

  /** A live tail of a log query; throws on a query it cannot follow. */
  tail(query: string): LogTail {
    return new LogTail(this.store, this.engine, query);
  }
}

function measured(run: (stats: LogqlStats) => LogqlValue): QueryOutcome {
  const stats: LogqlStats = { linesScanned: 0, bytesScanned: 0 };
  const t0 = performance.now();
  const value = run(stats);
  return { value, stats, execSec: (performance.now() - t0) / 1000 };
}

async function measuredAsync(run: (stats: LogqlStats) => Promise<LogqlValue>): Promise<QueryOutcome> {
  const stats: LogqlStats = { linesScanned: 0, bytesScanned: 0 };
  const t0 = performance.now();
  const value = await run(stats);
  return { value, stats, execSec: (performance.now() - t0) / 1000 };
}
