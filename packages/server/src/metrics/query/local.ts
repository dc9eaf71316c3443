/**
 * The local {@link PromQueryService}: Vigil's PromQL engine over its own TSDB, metadata learned
 * from senders, and the exemplar buffer. This is what `storage.type: local` (the default) serves.
 */
import { compareLabels, labelsKey, labelsToRecord, type Labels } from '../../core/model/labels.js';
import { pacedSort, runSliced, TimeSlicer, type Pacer, type Work } from '../../core/util/pace.js';
import type { Matcher } from '../../core/model/matcher.js';
import { formatFloat } from '../../core/eval/format.js';
import { isTimeout, type Engine, type QueryOptions, type QueryResult } from '../promql/engine/engine.js';
import { children, parseExpr, ParseError, type Expr } from '../promql/parser/index.js';
import {
  labelNamesOf,
  labelValuesOf,
  selectOf,
  sortLimitPaced,
  type FetchingQueryable,
  type Querier,
  type Queryable,
  type Selection,
} from '../storage/interface.js';
import { MergeQuerier } from '../storage/merge.js';
import { EVERY_SERIES } from '../remoteread/fetched.js';
import { SelfHistogram, type SelfRegistry } from '../../core/selfmon/registry.js';
import { EngineError } from '../promql/engine/errors.js';
import type { MetadataStore, MetricMetadata } from '../metadata.js';
import type { ExemplarStorage } from '../exemplars/storage.js';
import { OPEN_END, OPEN_START, type ExemplarSeries, type ListAnswer, type PromQueryService, type SeriesArgs } from './service.js';

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

/** Cuts `values` to `limit` (0: none) and says so in a warning, as Prometheus does. */
export function truncated(values: unknown[], limit: number): string[] {
  if (limit > 0 && values.length > limit) {
    values.length = limit;
    return ['results truncated due to limit'];
  }
  return [];
}

/** How the series and label calls share the thread with ingest. */
export interface LocalPacing {
  /** Longest run of one call, ms (the query timeout). */
  readonly timeoutMs: number;
  /** Why work must stop for memory now (core/util/heap), checked at every pause. */
  readonly memoryPressure?: () => string | undefined;
}

/** The parsed query, or undefined when it does not parse (the engine then gives the error, as without remotes). */
function parsedOrUndefined(query: string): Expr | undefined {
  try {
    return parseExpr(query);
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

/** Longest run between pauses, ms (as a query's). */
const SLICE_MS = 5;

/**
 * Answers from the engine and stores of this process, and from the `remote_read:` sources: what a
 * call selects is fetched from each of them first, then read merged with the local TSDB (series
 * with equal labels become one, a timestamp present in both counts once).
 */
export class LocalPromQueryService implements PromQueryService {
  readonly name = 'local';

  constructor(
    private readonly engine: Engine,
    private readonly store: Queryable,
    private readonly metadataStore: MetadataStore,
    private readonly exemplarStore: ExemplarStorage,
    private readonly pacing: LocalPacing = { timeoutMs: 120_000 },
    private readonly remotes: readonly FetchingQueryable[] = [],
  ) {}

  async instant(query: string, timeMs: number, opts: QueryOptions, queuedMs = 0): Promise<QueryResult> {
    const expr = this.remotes.length > 0 ? parsedOrUndefined(query) : undefined;
    if (!expr) return this.engine.instantQueryAsync(this.store, query, timeMs, opts, queuedMs);
    const store = await this.storeFor(this.engine.selections(expr, timeMs, timeMs, opts), opts.signal);
    return this.engine.instantQueryAsync(store, expr, timeMs, opts, queuedMs);
  }

  async range(query: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions, queuedMs = 0): Promise<QueryResult> {
    if (this.remotes.length > 0) this.engine.checkRange(startMs, endMs, stepMs); // before anything is fetched
    const expr = this.remotes.length > 0 ? parsedOrUndefined(query) : undefined;
    if (!expr) return this.engine.rangeQueryAsync(this.store, query, startMs, endMs, stepMs, opts, queuedMs);
    const store = await this.storeFor(this.engine.selections(expr, startMs, endMs, opts), opts.signal);
    return this.engine.rangeQueryAsync(store, expr, startMs, endMs, stepMs, opts, queuedMs);
  }

  /** Reads the local TSDB only: the template `query` function cannot wait for a remote_read source. */
  instantSync(query: string, timeMs: number): QueryResult {
    return this.engine.instantQuery(this.store, query, timeMs);
  }

  /**
   * The store a call reads: the local TSDB alone, or merged with what each remote_read source
   * fetched for `selections` (MergeQuerier: equal series become one, a timestamp in both counts once).
   */
  private async storeFor(selections: readonly Selection[], signal: AbortSignal | undefined): Promise<Queryable> {
    if (this.remotes.length === 0 || selections.length === 0) return this.store;
    const sig = signal ?? new AbortController().signal;
    let fetched: Queryable[];
    try {
      fetched = await Promise.all(this.remotes.map((r) => r.fetch(selections, sig)));
    } catch (err) {
      // Only the caller's signal fails a fetch (a remote's own failure is a warning): say it as the engine would.
      if (!sig.aborted) throw err;
      throw isTimeout(sig.reason) ? new EngineError('timeout', 'query timed out in query execution') : new EngineError('canceled', 'query was canceled');
    }
    const local = this.store;
    return { querier: (mint, maxt) => new MergeQuerier([local.querier(mint, maxt), ...fetched.map((f) => f.querier(mint, maxt))]) };
  }

  /** The remote_read selections of a series or label call: each `match[]` (or every series) over its range. */
  private listSelections(a: SeriesArgs, start: number, end: number): Selection[] {
    if (this.remotes.length === 0) return [];
    const sets = a.matchers.length > 0 ? a.matchers : [EVERY_SERIES];
    return sets.map((matchers) => ({ start, end, matchers }));
  }

  async series(a: SeriesArgs): Promise<ListAnswer<Record<string, string>>> {
    const start = a.start ?? OPEN_START;
    const end = a.end ?? OPEN_END;
    const store = await this.storeFor(this.listSelections(a, start, end), a.signal);
    return this.paced(a.signal, 'series request', function* (pace) {
      const q = store.querier(start, end);
      try {
        // Storage problems met on the way (a damaged chunk in a block) answer as warnings, not errors.
        const warnings = new Set<string>();
        // One match[] (the usual call): the set comes sorted by labels and without duplicates, so
        // its labels are kept as they come; no key strings or map entries for a million series.
        const one = a.matchers.length === 1;
        const out: Labels[] = [];
        const seen = new Map<string, Labels>();
        let n = 0;
        for (const matchers of a.matchers) {
          // One more than the limit tells whether the result was cut.
          const ss = yield* selectOf(q, { start, end, seriesOnly: true, ...(a.limit ? { limit: a.limit + 1 } : {}) }, matchers, pace);
          while (ss.next()) {
            const labels = ss.at().labels;
            if (one) out.push(labels);
            else seen.set(labelsKey(labels), labels);
            if ((++n & 1023) === 0 && pace.due()) {
              pace.check();
              yield;
            }
          }
          for (const w of ss.warnings()) warnings.add(w);
        }
        if (!one) for (const labels of seen.values()) out.push(labels);
        // Sorted as Prometheus' merged series sets are (label by label), which one set already is.
        if (!one) yield* pacedSort(out, compareLabels, pace);
        const cut = truncated(out, a.limit);
        const data: Array<Record<string, string>> = new Array(out.length);
        for (let i = 0; i < out.length; i++) {
          data[i] = labelsToRecord(out[i]!);
          if ((i & 1023) === 1023 && pace.due()) {
            pace.check();
            yield;
          }
        }
        return { data, warnings: [...warnings, ...cut] };
      } finally {
        q.close();
      }
    });
  }

  labelNames(a: SeriesArgs): Promise<ListAnswer<string>> {
    return this.labels(a, 'labels request', (q, m, pace) => labelNamesOf(q, m, pace));
  }

  labelValues(name: string, a: SeriesArgs): Promise<ListAnswer<string>> {
    return this.labels(a, 'label values request', (q, m, pace) => labelValuesOf(q, name, m, pace));
  }

  private async labels(a: SeriesArgs, what: string, read: (q: Querier, m: readonly Matcher[], pace: Pacer) => Work<string[]>): Promise<ListAnswer<string>> {
    const start = a.start ?? OPEN_START;
    const end = a.end ?? OPEN_END;
    const store = await this.storeFor(this.listSelections(a, start, end), a.signal);
    return this.paced(a.signal, what, function* (pace) {
      const q = store.querier(start, end);
      try {
        // One selector answers sorted and unique already; several are merged and sorted again.
        if (a.matchers.length <= 1) {
          const out = yield* read(q, a.matchers[0] ?? [], pace);
          return { data: out, warnings: truncated(out, a.limit) };
        }
        const values = new Set<string>();
        for (const matchers of a.matchers) for (const v of yield* read(q, matchers, pace)) values.add(v);
        const out = yield* sortLimitPaced([...values], pace);
        return { data: out, warnings: truncated(out, a.limit) };
      } finally {
        q.close();
      }
    });
  }

  /**
   * Runs `work` in slices of a few ms (selecting, de-duplicating and sorting a million series takes
   * seconds), stopping when the client goes away, the query timeout passes or memory runs short.
   */
  private paced<T>(signal: AbortSignal, what: string, work: (pace: Pacer) => Work<T>): Promise<T> {
    const slicer = new TimeSlicer({
      sliceMs: SLICE_MS,
      signal,
      deadline: Date.now() + this.pacing.timeoutMs,
      canceled: () => new EngineError('canceled', `${what} was canceled`),
      timedOut: () => new EngineError('timeout', `${what} timed out after ${this.pacing.timeoutMs}ms (query.timeout)`),
      atPause: () => {
        const pressure = this.pacing.memoryPressure?.();
        if (pressure !== undefined) throw new EngineError('execution', `query stopped: ${pressure}`);
      },
    });
    return runSliced(work(slicer), slicer);
  }

  metadata(metric: string | undefined, limit: number): Promise<Record<string, MetricMetadata[]>> {
    const out: Record<string, MetricMetadata[]> = {};
    for (const [family, md] of metric ? ([[metric, this.metadataStore.get(metric)]] as const) : this.metadataStore.list(limit)) {
      if (md) out[family] = [md];
    }
    return Promise.resolve(out);
  }

  exemplars(query: string, startMs: number | undefined, endMs: number | undefined): Promise<ExemplarSeries[] | null> {
    const selectors = extractSelectors(parseExpr(query));
    // A query without selectors (`1 + 1`) selects no series; Prometheus answers null data then.
    if (selectors.length === 0) return Promise.resolve(null);
    return Promise.resolve(
      this.exemplarStore.select(startMs ?? OPEN_START, endMs ?? OPEN_END, selectors).map((r) => ({
        seriesLabels: labelsToRecord(r.seriesLabels),
        exemplars: r.exemplars.map((e) => ({ labels: labelsToRecord(e.labels), value: formatFloat(e.value), timestamp: e.ts / 1000 })),
      })),
    );
  }

  register(reg: SelfRegistry): void {
    if (this.remotes.length === 0) return;
    const latency = new SelfHistogram(
      reg,
      'vigil_remote_read_duration_seconds',
      'Fetches from remote_read sources before a query, by source, answer encoding (streamed, samples) and outcome: the HTTP status, or unreachable, timeout, canceled.',
      ['remote_name', 'response_type', 'code'],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60],
    );
    for (const r of this.remotes) r.observeWith?.(latency);
  }

  close(): void {
    for (const r of this.remotes) r.close?.();
  }
}
