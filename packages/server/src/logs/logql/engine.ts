/**
 * The LogQL engine. Log queries run the pipeline over the store's pull iterators and keep the
 * newest (or oldest) `limit` lines. Metric queries select once over the whole range, turn each
 * line into a sample of its output series, then slide each step's window over the sorted samples
 * (metric.ts). Results use the value types shared with PromQL (core/eval/value.ts).
 */
import { EvalError } from '../../core/eval/errors.js';
import type { StepGrid } from '../../core/eval/series.js';
import type { Matrix, Scalar, Vector } from '../../core/eval/value.js';
import { compareLabels, labelsKey, type Labels } from '../../core/model/labels.js';
import type { LogQueryable } from '../storage/interface.js';
import type { Direction, LogEntry } from '../storage/types.js';
import type { Expr, LogExpr, MetricExpr } from './ast.js';
import { LogqlExecError, type LogqlStats } from './errors.js';
import { evalMetric, type MetricValue } from './metric.js';
import { parseLogql } from './parser.js';
import { Pipeline } from './pipeline.js';

export { LogqlExecError, type LogqlStats } from './errors.js';

/** One stream of a log query result. */
export interface ResultStream {
  readonly labels: Labels;
  readonly entries: LogEntry[];
}

/** A log query's result. */
export interface StreamsValue {
  readonly type: 'streams';
  readonly streams: ResultStream[];
}

/** Any LogQL result. */
export type LogqlValue = StreamsValue | Matrix | Vector | Scalar;

const NS_PER_MS = 1_000_000n;

/** Options of {@link LogqlEngine}. */
export interface LogqlEngineOptions {
  /** Most series a metric query may produce (default 10000). */
  readonly maxSeries?: number;
}

/** Evaluates LogQL over a {@link LogQueryable}. */
export class LogqlEngine {
  private readonly maxSeries: number;
  constructor(
    private readonly store: LogQueryable,
    opts: LogqlEngineOptions = {},
  ) {
    this.maxSeries = opts.maxSeries ?? 10_000;
  }

  /**
   * A range query. Log queries return up to `limit` lines in [start, end); metric queries a matrix
   * with one point per `stepMs` from start to end inclusive.
   */
  rangeQuery(query: string | Expr, start: bigint, end: bigint, stepMs: number, limit = 100, direction: Direction = 'backward', stats?: LogqlStats): LogqlValue {
    const expr = typeof query === 'string' ? parseLogql(query) : query;
    if (expr.kind === 'log') return this.logs(expr, start, end, limit, direction, stats);
    const startMs = Number(start / NS_PER_MS);
    const endMs = Number(end / NS_PER_MS);
    if (stepMs <= 0) throw new LogqlExecError('zero or negative query resolution step widths are not accepted');
    if ((endMs - startMs) / stepMs > 11_000)
      throw new LogqlExecError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    const grid: StepGrid = { n: Math.floor((endMs - startMs) / stepMs) + 1, start: startMs, interval: stepMs };
    const r = this.evalMetric(expr, grid, stats);
    if (r.type === 'scalar') return { type: 'matrix', series: [{ metric: [], points: Array.from(r.vs, (v, i) => ({ t: startMs + i * stepMs, v })) }] };
    const series = r.series
      .map((s) => ({ metric: s.metric, points: Array.from(s.ts, (t, i) => ({ t, v: s.vs[i]! })) }))
      .sort((a, b) => compareLabels(a.metric, b.metric));
    return { type: 'matrix', series };
  }

  /** An instant query at `t` (ns): metric queries give a vector, log queries lines before `t`. */
  instantQuery(query: string | Expr, t: bigint, limit = 100, direction: Direction = 'backward', stats?: LogqlStats): LogqlValue {
    const expr = typeof query === 'string' ? parseLogql(query) : query;
    if (expr.kind === 'log') return this.logs(expr, t - 3_600_000n * NS_PER_MS, t + 1n, limit, direction, stats);
    const tMs = Number(t / NS_PER_MS);
    const r = this.evalMetric(expr, { n: 1, start: tMs, interval: 0 }, stats);
    if (r.type === 'scalar') return { type: 'scalar', t: tMs, v: r.vs[0]! };
    return { type: 'vector', samples: r.series.map((s) => ({ metric: s.metric, t: tMs, v: s.vs[0]! })) };
  }

  /** Runs a log query. */
  logs(expr: LogExpr, start: bigint, end: bigint, limit: number, direction: Direction, stats?: LogqlStats): StreamsValue {
    const p = new Pipeline(expr.stages);
    const hint = p.hint();
    const picked: { key: string; labels: Labels; e: LogEntry }[] = [];
    for (const s of this.store.selectStreams(expr.matchers, start, end)) {
      let n = 0;
      const streamKey = labelsKey(s.labels);
      for (const e of this.store.entries(s, start, end, direction, hint)) {
        if (stats) {
          stats.linesScanned++;
          stats.bytesScanned += e.line.length;
        }
        const out = p.run(e.line, e.t, s.labels, e.meta);
        if (!out) continue;
        const key = out.labels === s.labels ? streamKey : labelsKey(out.labels);
        picked.push({ key, labels: out.labels, e: out.line === e.line ? e : { t: e.t, line: out.line } });
        if (++n >= limit) break;
      }
    }
    const sign = direction === 'forward' ? 1 : -1;
    picked.sort((a, b) => sign * (a.e.t < b.e.t ? -1 : a.e.t > b.e.t ? 1 : 0));
    const groups = new Map<string, ResultStream>();
    for (const x of picked.slice(0, limit)) {
      let g = groups.get(x.key);
      if (!g) groups.set(x.key, (g = { labels: x.labels, entries: [] }));
      g.entries.push(x.e);
    }
    return { type: 'streams', streams: [...groups.values()] };
  }

  private evalMetric(expr: MetricExpr, grid: StepGrid, stats: LogqlStats | undefined): MetricValue {
    try {
      return evalMetric(expr, grid, { store: this.store, maxSeries: this.maxSeries, ...(stats ? { stats } : {}) });
    } catch (err) {
      // The evaluation code shared with PromQL raises its own error type.
      if (err instanceof EvalError) throw new LogqlExecError(err.message);
      throw err;
    }
  }
}
