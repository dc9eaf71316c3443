/**
 * The LogQL engine. Log queries run the pipeline over the store's pull iterators and keep the
 * newest (or oldest) `limit` lines. Metric queries select once over the whole range, turn each
 * line into a sample of its output series, then slide each step's window over the sorted samples
 * (metric.ts). Results use the value types shared with PromQL (core/eval/value.ts). Evaluation
 * is a generator (core/util/pace): the async entry points pause it every few milliseconds, so a
 * heavy query does not hold the event loop, and its timeout and cancellation fire as it runs.
 */
import { EvalError } from '../../core/eval/errors.js';
import type { StepGrid } from '../../core/eval/series.js';
import type { Matrix, Scalar, Vector } from '../../core/eval/value.js';
import { compareLabels, labelsKey, type Labels } from '../../core/model/labels.js';
import type { LogQueryable } from '../storage/interface.js';
import type { Direction, LogEntry } from '../storage/types.js';
import type { Expr, LogExpr, MetricExpr } from './ast.js';
import { LogqlBudgetError, LogqlCanceledError, LogqlExecError, type LogqlStats } from './errors.js';
import { type Pacer, runSliced, runSync, TimeSlicer, type Work } from '../../core/util/pace.js';
import { evalMetric, type MetricValue } from './metric.js';
import { parseLogql } from './parser.js';
import { Pipeline } from './pipeline.js';
import type { ReadBudget } from './samples.js';

export { LogqlBudgetError, LogqlCanceledError, LogqlExecError, type LogqlStats } from './errors.js';

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
  /** Query timeout, ms (default 120 000, as `query.timeout`). */
  readonly timeoutMs?: number;
  /** Most bytes of log lines one query may read (Loki's `max_query_bytes_read`; 0: no limit). */
  readonly maxBytesRead?: number;
  /** Clock of the timeout (default `Date.now`). */
  readonly now?: () => number;
}

/** Per-query options of the async entry points. */
export interface LogqlQueryOptions {
  /** Cancels the query at its next pause (a client that went away). */
  readonly signal?: AbortSignal;
  /** Collects lines and bytes read. */
  readonly stats?: LogqlStats;
}

/** A query the engine has parsed and is about to run. */
type Job = (budget: ReadBudget) => Work<LogqlValue>;

/** Evaluates LogQL over a {@link LogQueryable}. */
export class LogqlEngine {
  private readonly maxSeries: number;
  private readonly timeoutMs: number;
  private readonly maxBytesRead: number;
  private readonly now: () => number;
  constructor(
    private readonly store: LogQueryable,
    opts: LogqlEngineOptions = {},
  ) {
    this.maxSeries = opts.maxSeries ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxBytesRead = opts.maxBytesRead ?? 0;
    this.now = opts.now ?? Date.now;
  }

  /**
   * A range query. Log queries return up to `limit` lines in [start, end); metric queries a matrix
   * with one point per `stepMs` from start to end inclusive. Synchronous (tests, tools).
   */
  rangeQuery(query: string | Expr, start: bigint, end: bigint, stepMs: number, limit = 100, direction: Direction = 'backward', stats?: LogqlStats): LogqlValue {
    return this.runSync(this.rangeJob(query, start, end, stepMs, limit, direction), stats);
  }

  /** An instant query at `t` (ns): metric queries give a vector, log queries lines before `t`. */
  instantQuery(query: string | Expr, t: bigint, limit = 100, direction: Direction = 'backward', stats?: LogqlStats): LogqlValue {
    return this.runSync(this.instantJob(query, t, limit, direction), stats);
  }

  /** {@link rangeQuery} in time slices: the event loop runs between slices; timeout and signal stop it. */
  rangeQueryAsync(
    query: string | Expr,
    start: bigint,
    end: bigint,
    stepMs: number,
    limit = 100,
    direction: Direction = 'backward',
    opts: LogqlQueryOptions = {},
  ): Promise<LogqlValue> {
    return this.runSliced(this.rangeJob(query, start, end, stepMs, limit, direction), opts);
  }

  /** {@link instantQuery} in time slices. */
  instantQueryAsync(query: string | Expr, t: bigint, limit = 100, direction: Direction = 'backward', opts: LogqlQueryOptions = {}): Promise<LogqlValue> {
    return this.runSliced(this.instantJob(query, t, limit, direction), opts);
  }

  private rangeJob(query: string | Expr, start: bigint, end: bigint, stepMs: number, limit: number, direction: Direction): Job {
    const expr = typeof query === 'string' ? parseLogql(query) : query;
    if (expr.kind === 'log') return (b) => this.logLines(expr, start, end, limit, direction, b);
    const startMs = Number(start / NS_PER_MS);
    const endMs = Number(end / NS_PER_MS);
    if (stepMs <= 0) throw new LogqlExecError('zero or negative query resolution step widths are not accepted');
    if ((endMs - startMs) / stepMs > 11_000)
      throw new LogqlExecError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    const grid: StepGrid = { n: Math.floor((endMs - startMs) / stepMs) + 1, start: startMs, interval: stepMs };
    return function* (this: LogqlEngine, b: ReadBudget): Work<LogqlValue> {
      const r = yield* this.evalMetric(expr, grid, b);
      if (r.type === 'scalar') return { type: 'matrix', series: [{ metric: [], points: Array.from(r.vs, (v, i) => ({ t: startMs + i * stepMs, v })) }] };
      const series = r.series
        .map((s) => ({ metric: s.metric, points: Array.from(s.ts, (t, i) => ({ t, v: s.vs[i]! })) }))
        .sort((a, b) => compareLabels(a.metric, b.metric));
      return { type: 'matrix', series };
    }.bind(this);
  }

  private instantJob(query: string | Expr, t: bigint, limit: number, direction: Direction): Job {
    const expr = typeof query === 'string' ? parseLogql(query) : query;
    if (expr.kind === 'log') return (b) => this.logLines(expr, t - 3_600_000n * NS_PER_MS, t + 1n, limit, direction, b);
    const tMs = Number(t / NS_PER_MS);
    return function* (this: LogqlEngine, b: ReadBudget): Work<LogqlValue> {
      const r = yield* this.evalMetric(expr, { n: 1, start: tMs, interval: 0 }, b);
      if (r.type === 'scalar') return { type: 'scalar', t: tMs, v: r.vs[0]! };
      return { type: 'vector', samples: r.series.map((s) => ({ metric: s.metric, t: tMs, v: s.vs[0]! })) };
    }.bind(this);
  }

  private slicer(signal: AbortSignal | undefined): TimeSlicer {
    return new TimeSlicer({
      ...(signal ? { signal } : {}),
      deadline: this.now() + this.timeoutMs,
      now: this.now,
      canceled: () =>
        signal?.reason instanceof DOMException && signal.reason.name === 'TimeoutError'
          ? new LogqlCanceledError('timeout', 'query timed out')
          : new LogqlCanceledError('canceled', 'query was canceled'),
      timedOut: () => new LogqlCanceledError('timeout', 'query timed out'),
    });
  }

  /** The budget of one query: lines and bytes counted into `stats`, bytes held to the limit. */
  private budget(pace: Pacer, stats: LogqlStats | undefined): ReadBudget {
    const max = this.maxBytesRead;
    let bytes = 0;
    return {
      pace,
      read(n: number, b: number): void {
        bytes += b;
        if (stats) {
          stats.linesScanned += n;
          stats.bytesScanned += b;
        }
        if (max > 0 && bytes > max) throw new LogqlBudgetError(`the query would read too many bytes (limit: max_query_bytes_read ${max})`);
      },
    };
  }

  private runSync(job: Job, stats: LogqlStats | undefined): LogqlValue {
    const slicer = this.slicer(undefined);
    return runSync(this.guard(job(this.budget({ check: () => slicer.check(), due: () => false }, stats))));
  }

  private runSliced(job: Job, opts: LogqlQueryOptions): Promise<LogqlValue> {
    const slicer = this.slicer(opts.signal);
    return runSliced(this.guard(job(this.budget(slicer, opts.stats))), slicer);
  }

  /** Runs a log query synchronously (the tail's backfill, at most its 5,000 lines). */
  logs(expr: LogExpr, start: bigint, end: bigint, limit: number, direction: Direction, stats?: LogqlStats): StreamsValue {
    return this.runSync((b) => this.logLines(expr, start, end, limit, direction, b), stats) as StreamsValue;
  }

  /** Runs a log query: a generator pausing between streams and every thousand lines when due. */
  private *logLines(expr: LogExpr, start: bigint, end: bigint, limit: number, direction: Direction, budget: ReadBudget): Work<StreamsValue> {
    const p = new Pipeline(expr.stages);
    const hint = p.hint();
    const pace = budget.pace;
    const picked: { key: string; labels: Labels; e: LogEntry }[] = [];
    let lines = 0;
    for (const s of this.store.selectStreams(expr.matchers, start, end)) {
      if (pace.due()) {
        pace.check();
        yield;
      }
      let n = 0;
      const streamKey = labelsKey(s.labels);
      for (const e of this.store.entries(s, start, end, direction, hint)) {
        budget.read(1, e.line.length);
        if ((++lines & 1023) === 0 && pace.due()) {
          pace.check();
          yield;
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

  /** Turns errors of the evaluation code shared with PromQL into LogQL's own. */
  private *guard<T>(work: Work<T>): Work<T> {
    try {
      return yield* work;
    } catch (err) {
      if (err instanceof EvalError) throw new LogqlExecError(err.message);
      throw err;
    }
  }

  private evalMetric(expr: MetricExpr, grid: StepGrid, budget: ReadBudget): Work<MetricValue> {
    return evalMetric(expr, grid, { store: this.store, maxSeries: this.maxSeries, budget });
  }
}
