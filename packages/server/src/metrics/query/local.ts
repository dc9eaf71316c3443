/**
 * The local {@link PromQueryService}: Vigil's PromQL engine over its own TSDB, metadata learned
 * from senders, and the exemplar buffer. This is what `storage.type: local` (the default) serves.
 */
import { labelsKey, labelsToRecord, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { formatFloat } from '../../core/eval/format.js';
import type { Engine, QueryOptions, QueryResult } from '../promql/engine/engine.js';
import { children, parseExpr, type Expr } from '../promql/parser/index.js';
import type { Querier, Queryable } from '../storage/interface.js';
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

/** Answers from the engine and stores of this process. */
export class LocalPromQueryService implements PromQueryService {
  readonly name = 'local';

  constructor(
    private readonly engine: Engine,
    private readonly store: Queryable,
    private readonly metadataStore: MetadataStore,
    private readonly exemplarStore: ExemplarStorage,
  ) {}

  instant(query: string, timeMs: number, opts: QueryOptions, queuedMs = 0): Promise<QueryResult> {
    return this.engine.instantQueryAsync(this.store, query, timeMs, opts, queuedMs);
  }

  range(query: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions, queuedMs = 0): Promise<QueryResult> {
    return this.engine.rangeQueryAsync(this.store, query, startMs, endMs, stepMs, opts, queuedMs);
  }

  instantSync(query: string, timeMs: number): QueryResult {
    return this.engine.instantQuery(this.store, query, timeMs);
  }

  series(a: SeriesArgs): Promise<ListAnswer<Record<string, string>>> {
    const start = a.start ?? OPEN_START;
    const end = a.end ?? OPEN_END;
    const q = this.store.querier(start, end);
    try {
      const seen = new Map<string, Labels>();
      // Storage problems met on the way (a damaged chunk in a block) answer as warnings, not errors.
      const warnings = new Set<string>();
      for (const matchers of a.matchers) {
        // One more than the limit tells whether the result was cut.
        const ss = q.select({ start, end, seriesOnly: true, ...(a.limit ? { limit: a.limit + 1 } : {}) }, [...matchers]);
        while (ss.next()) {
          const s = ss.at();
          seen.set(labelsKey(s.labels), s.labels);
        }
        for (const w of ss.warnings()) warnings.add(w);
      }
      const out = [...seen.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([, l]) => labelsToRecord(l));
      return Promise.resolve({ data: out, warnings: [...warnings, ...truncated(out, a.limit)] });
    } finally {
      q.close();
    }
  }

  labelNames(a: SeriesArgs): Promise<ListAnswer<string>> {
    return Promise.resolve(this.labels(a, (q, m) => q.labelNames(m)));
  }

  labelValues(name: string, a: SeriesArgs): Promise<ListAnswer<string>> {
    return Promise.resolve(this.labels(a, (q, m) => q.labelValues(name, m)));
  }

  private labels(a: SeriesArgs, read: (q: Querier, m: Matcher[]) => Iterable<string>): ListAnswer<string> {
    const q = this.store.querier(a.start ?? OPEN_START, a.end ?? OPEN_END);
    try {
      const values = new Set<string>();
      for (const matchers of a.matchers.length ? a.matchers : [[]]) for (const v of read(q, [...matchers])) values.add(v);
      const out = [...values].sort();
      return { data: out, warnings: truncated(out, a.limit) };
    } finally {
      q.close();
    }
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

  register(): void {}

  close(): void {}
}
