/**
 * The PromQL engine: parses (or takes) an expression, works out the time range each selector
 * needs, opens one querier, selects every selector up front, then evaluates over all steps at
 * once. After Prometheus' `promql/engine.go`. Evaluation is a generator (core/util/pace): the
 * async entry points pause it every few milliseconds so one heavy query cannot hold the event
 * loop (ingest acks, health checks), and its timeout and cancellation fire during evaluation.
 */
import { compareLabels, type Labels, labelsKey } from '../../../core/model/labels.js';
import { type FloatSink, type Queryable, type Querier, reserveFloats, type Selection, type SelectHints } from '../../storage/interface.js';
import { isStaleNaN } from '../../../core/model/value.js';
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { type Expr, exprType, documentedType, parseExpr, ParseError, type VectorSelector, children } from '../parser/index.js';
import { EngineError } from './errors.js';
import { type EvalContext, Evaluator, resolveAt } from './evaluator.js';
import { EvalError } from '../../../core/eval/errors.js';
import { type Pacer, pacedSort, runSliced, runSync, TimeSlicer, type Work } from '../../../core/util/pace.js';
import type { EvalSeries, Floats } from '../../../core/eval/series.js';
import { lazyMatrixSeries } from '../../../core/eval/value.js';
import { statsOnlySelectors, withStatsHints } from './histogram_stats.js';
import { dropMetricName, type EvalValue } from './internal.js';
import type { Matrix, Value } from './value.js';

/** Engine-wide options. */
export interface EngineOptions {
  /** How far back an instant selector looks for a sample, ms. Default 5m. */
  readonly lookbackDelta?: number;
  /** Most samples a query may hold in memory. Default 50 000 000. */
  readonly maxSamples?: number;
  /** Query timeout, ms. Default 120 000. */
  readonly timeoutMs?: number;
  /** Most points per series in a range query result (11 000, as Prometheus' API enforces). */
  readonly maxPointsPerSeries?: number;
  /** Step of subqueries written without one (`[30m:]`), ms. Default 1m. */
  readonly defaultEvalIntervalMs?: number;
  /** The clock for timeouts, so tests can drive time. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Why evaluation must stop for lack of memory (core/util/heap), or undefined; checked at each
   * pause of an async query, so a query that outgrows the heap fails instead of the process.
   */
  readonly memoryPressure?: () => string | undefined;
}

/** Per-query options. */
export interface QueryOptions {
  /** Overrides the engine's lookback delta for this query. */
  readonly lookbackDelta?: number;
  /** Cancels the query; checked as evaluation goes (and at every pause of an async query). */
  readonly signal?: AbortSignal;
  /** Collects per-step sample counts for `stats=all` (costs an array per query). */
  readonly perStepStats?: boolean;
}

/** Prometheus' query statistics (`stats=all`): timings in seconds, sample counts. */
export interface QueryStats {
  readonly timings: {
    evalTotalTime: number;
    resultSortTime: number;
    queryPreparationTime: number;
    innerEvalTime: number;
    execQueueTime: number;
    execTotalTime: number;
  };
  readonly samples: {
    /** Samples per step of the query's grid, as [unix seconds, count], only with `perStepStats`. */
    totalQueryableSamplesPerStep?: [number, number][];
    totalQueryableSamples: number;
    peakSamples: number;
  };
}

/** A query result with its non-fatal annotations. */
export interface QueryResult {
  readonly result: Value;
  readonly warnings: string[];
  readonly infos?: string[];
  readonly stats: QueryStats;
}

interface SelectorRange {
  node: VectorSelector;
  mint: number;
  maxt: number;
  isRange: boolean;
  /** Evaluated at one time only (an instant selector outside subqueries, in a one-step query): its newest sample is all it needs. */
  latestOnly: boolean;
}

/** A parsed, checked query ready to run. */
interface Prepared {
  readonly queryable: Queryable;
  readonly expr: Expr;
  readonly start: number;
  readonly end: number;
  readonly interval: number;
  readonly opts: QueryOptions;
}

const SECONDS = 1 / 1000;

/** Evaluates PromQL queries against a {@link Queryable}. */
export class Engine {
  private readonly lookbackDelta: number;
  private readonly maxSamples: number;
  private readonly timeoutMs: number;
  private readonly maxPointsPerSeries: number;
  private readonly defaultEvalInterval: number;
  private readonly now: () => number;
  private readonly memoryPressure: (() => string | undefined) | undefined;

  constructor(opts: EngineOptions = {}) {
    this.memoryPressure = opts.memoryPressure;
    this.lookbackDelta = opts.lookbackDelta ?? 5 * 60_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxPointsPerSeries = opts.maxPointsPerSeries ?? 11_000;
    this.defaultEvalInterval = opts.defaultEvalIntervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Evaluates `expr` at one instant `tMs`, synchronously (tests, tools, rules' unit tests). */
  instantQuery(queryable: Queryable, expr: string | Expr, tMs: number, opts: QueryOptions = {}): QueryResult {
    return this.runSync(this.prepare(queryable, expr, tMs, tMs, 0, opts));
  }

  /** Evaluates `expr` at every step from `startMs` to `endMs`; the result is a matrix sorted by labels. */
  rangeQuery(queryable: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): QueryResult {
    return this.runSync(this.prepareRange(queryable, expr, startMs, endMs, stepMs, opts));
  }

  /**
   * {@link instantQuery} in time slices: the event loop runs between slices, and the timeout and
   * the signal stop the query within one slice. `queuedMs` is reported as `execQueueTime`.
   */
  instantQueryAsync(queryable: Queryable, expr: string | Expr, tMs: number, opts: QueryOptions = {}, queuedMs = 0): Promise<QueryResult> {
    return this.runSliced(this.prepare(queryable, expr, tMs, tMs, 0, opts), queuedMs);
  }

  /** {@link rangeQuery} in time slices, as {@link instantQueryAsync}. */
  rangeQueryAsync(
    queryable: Queryable,
    expr: string | Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
    opts: QueryOptions = {},
    queuedMs = 0,
  ): Promise<QueryResult> {
    // Argument errors are thrown, not returned as a rejected promise: callers treat both alike.
    return this.runSliced(this.prepareRange(queryable, expr, startMs, endMs, stepMs, opts), queuedMs);
  }

  /**
   * What evaluating `expr` over [startMs, endMs] will select: each selector's matchers and time
   * range (lookback, ranges, offsets, `@` and subqueries applied), for a store that must fetch
   * before it is read (remote_read).
   */
  selections(expr: Expr, startMs: number, endMs: number, opts: QueryOptions = {}): Selection[] {
    return selectorRanges(expr, startMs, endMs, opts.lookbackDelta ?? this.lookbackDelta, this.defaultEvalInterval).map((r) => ({
      start: r.mint,
      end: r.maxt,
      matchers: r.node.matchers,
    }));
  }

  /** Throws the API's `bad_data` error for a range query's bounds and step that cannot run. */
  checkRange(startMs: number, endMs: number, stepMs: number): void {
    if (!(stepMs > 0)) throw new EngineError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (endMs < startMs) throw new EngineError('bad_data', 'end timestamp must not be before start time');
    if ((endMs - startMs) / stepMs + 1 > this.maxPointsPerSeries)
      throw new EngineError(
        'bad_data',
        `exceeded maximum resolution of ${this.maxPointsPerSeries} points per timeseries. Try decreasing the query resolution (?step=XX)`,
      );
  }

  private prepareRange(queryable: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions): Prepared {
    this.checkRange(startMs, endMs, stepMs);
    return this.prepare(queryable, expr, startMs, endMs, stepMs, opts);
  }

  private prepare(queryable: Queryable, input: string | Expr, start: number, end: number, interval: number, opts: QueryOptions): Prepared {
    let expr: Expr;
    try {
      expr = typeof input === 'string' ? parseExpr(input) : input;
    } catch (err) {
      if (err instanceof ParseError) throw new EngineError('bad_data', err.message);
      throw err;
    }
    const type = exprType(expr);
    if (interval > 0 && type !== 'scalar' && type !== 'vector')
      throw new EngineError('bad_data', `invalid expression type "${documentedType(type)}" for range query, must be Scalar or instant Vector`);
    return { queryable, expr, start, end, interval, opts };
  }

  private slicer(p: Prepared): TimeSlicer {
    return new TimeSlicer({
      ...(p.opts.signal ? { signal: p.opts.signal } : {}),
      deadline: this.now() + this.timeoutMs,
      now: this.now,
      // A signal that aborted by timing out (a rule group's interval) is a timeout, not a cancel.
      canceled: () =>
        isTimeout(p.opts.signal?.reason) ? new EngineError('timeout', 'query timed out in query execution') : new EngineError('canceled', 'query was canceled'),
      timedOut: () => new EngineError('timeout', 'query timed out in query execution'),
      atPause: () => {
        const pressure = this.memoryPressure?.();
        if (pressure !== undefined) throw new EngineError('execution', `query stopped: ${pressure}`);
      },
    });
  }

  private runSync(p: Prepared): QueryResult {
    // The slicer still checks the signal and deadline at every checkpoint; nothing pauses.
    const slicer = this.slicer(p);
    return runSync(this.work(p, { check: () => slicer.check(), due: () => false }, 0));
  }

  private runSliced(p: Prepared, queuedMs: number): Promise<QueryResult> {
    const slicer = this.slicer(p);
    return runSliced(this.work(p, slicer, queuedMs), slicer);
  }

  private *work(p: Prepared, pace: Pacer, queuedMs: number): Work<QueryResult> {
    const began = performance.now();
    const { queryable, expr, start, end, interval, opts } = p;
    const isRange = interval > 0;
    const warnings = new Set<string>();
    const infos = new Set<string>();
    const lookbackDelta = opts.lookbackDelta ?? this.lookbackDelta;
    let samples = 0;
    let peak = 0;
    const maxSamples = this.maxSamples;
    // Counted as samples are decoded, so a query is refused before it holds too many, not after.
    const addSamples = (n: number): void => {
      samples += n;
      if (samples > peak) peak = samples;
      if (samples > maxSamples) throw new EngineError('execution', 'query processing would load too many samples into memory in query execution');
    };
    const steps = isRange ? Math.floor((end - start) / interval) + 1 : 1;
    const perStep = new Float64Array(steps);
    pace.check();

    const ranges = selectorRanges(expr, start, end, lookbackDelta, this.defaultEvalInterval);
    const selected = new Map<VectorSelector, EvalSeries[]>();
    if (ranges.length > 0) {
      const mint = Math.min(...ranges.map((r) => r.mint));
      const maxt = Math.max(...ranges.map((r) => r.maxt));
      const querier = queryable.querier(mint, maxt);
      const statsOnly = statsOnlySelectors(expr);
      try {
        for (const r of ranges) {
          const series = yield* selectSeries(querier, r, addSamples, (w) => warnings.add(w), pace);
          selected.set(r.node, statsOnly.has(r.node) ? series.map(withStatsHints) : series);
          pace.check();
        }
      } finally {
        querier.close();
      }
    }
    const prepared = performance.now();

    const ctx: EvalContext = {
      queryStart: start,
      queryEnd: end,
      isRangeQuery: isRange,
      lookbackDelta,
      defaultEvalInterval: this.defaultEvalInterval,
      selected,
      warn: (m) => warnings.add(m),
      info: (m) => infos.add(m),
      pace,
      addSamples,
      perStep,
    };
    let value: EvalValue;
    try {
      value = yield* new Evaluator(ctx, start, end, interval, true).eval(expr);
    } catch (err) {
      if (err instanceof EngineError) throw err;
      // The evaluation code shared with LogQL raises its own error type.
      if (err instanceof EvalError) throw new EngineError('execution', err.message);
      if (err instanceof RangeError) throw new EngineError('execution', err.message);
      throw err;
    }
    const evaluated = performance.now();
    const result = yield* toValue(value, start, interval, pace);
    const done = performance.now();
    let total = 0;
    for (const n of perStep) total += n;
    const stats: QueryStats = {
      timings: {
        evalTotalTime: (done - began) * SECONDS,
        resultSortTime: (done - evaluated) * SECONDS,
        queryPreparationTime: (prepared - began) * SECONDS,
        innerEvalTime: (evaluated - prepared) * SECONDS,
        execQueueTime: queuedMs * SECONDS,
        execTotalTime: (done - began + queuedMs) * SECONDS,
      },
      samples: {
        ...(opts.perStepStats === true
          ? { totalQueryableSamplesPerStep: Array.from(perStep, (n, i): [number, number] => [(start + i * interval) / 1000, n]) }
          : {}),
        totalQueryableSamples: total,
        peakSamples: peak,
      },
    };
    const out: { result: Value; warnings: string[]; infos?: string[]; stats: QueryStats } = { result, warnings: [...warnings], stats };
    if (infos.size > 0) out.infos = [...infos];
    return out;
  }
}

/** Whether an abort reason is a timeout (`AbortSignal.timeout`), which is reported as one rather than a cancel. */
export function isTimeout(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === 'TimeoutError';
}

/** Works out the samples each selector needs, like Prometheus' `getTimeRangesForSelector`. */
function selectorRanges(expr: Expr, start: number, end: number, lookback: number, defaultStep: number): SelectorRange[] {
  const out: SelectorRange[] = [];
  const walk = (e: Expr, s: number, en: number, oneStep: boolean): void => {
    switch (e.kind) {
      case 'VectorSelector': {
        const at = resolveAt(e.at, start, end);
        out.push({ node: e, mint: (at ?? s) - e.offset - lookback, maxt: (at ?? en) - e.offset, isRange: false, latestOnly: oneStep });
        return;
      }
      case 'MatrixSelector': {
        const vs = e.vectorSelector;
        const at = resolveAt(vs.at, start, end);
        out.push({ node: vs, mint: (at ?? s) - vs.offset - e.range, maxt: (at ?? en) - vs.offset, isRange: true, latestOnly: false });
        return;
      }
      case 'SubqueryExpr': {
        const at = resolveAt(e.at, start, end);
        const step = e.step > 0 ? e.step : defaultStep;
        walk(e.expr, (at ?? s) - e.offset - e.range - step, (at ?? en) - e.offset, false);
        return;
      }
      default:
        for (const c of children(e)) walk(c, s, en, oneStep);
    }
  };
  walk(expr, start, end, start === end);
  return out;
}

function* selectSeries(querier: Querier, r: SelectorRange, addSamples: (n: number) => void, warn: (w: string) => void, pace: Pacer): Work<EvalSeries[]> {
  // Every window the evaluator reads is left-open, (ref - range, ref]: a sample at exactly `mint`
  // is never used, and not reading it spares decoding the chunk it ends, for aligned windows.
  const start = r.mint + 1;
  const hints: SelectHints = r.latestOnly ? { start, end: r.maxt, latestOnly: true } : { start, end: r.maxt };
  const set = querier.selectPaced ? yield* querier.selectPaced(hints, r.node.matchers, pace) : querier.select(hints, r.node.matchers);
  const out: EvalSeries[] = [];
  let count = 0;
  // Samples are decoded straight into shared blocks; each series keeps views of its part.
  const sink: FloatSink = { ts: new Float64Array(0), vs: new Float64Array(0), n: 0, start: 0 };
  const maxt = r.maxt;
  const isRange = r.isRange;
  while (set.next()) {
    // Decoding chunks is most of a big query's time: pause every few hundred series when due.
    if ((++count & 127) === 0 && pace.due()) {
      pace.check();
      yield;
    }
    const series = set.at();
    const it = series.iterator();
    sink.start = sink.n;
    let hs: (FloatHistogram | undefined)[] | undefined;
    // Float chunks are read in bulk; a histogram sample (or a store without bulk reads) one by one.
    let more = it.seek(start);
    while (more) {
      if (it.readFloats !== undefined && it.readFloats(maxt, sink, isRange)) break;
      const t = it.t();
      if (t > maxt) break;
      let v = it.v();
      let h = it.h?.();
      // A histogram whose sum is the staleness marker is one (Prometheus marks histogram series so).
      if (h !== undefined && isStaleNaN(h.sum)) {
        v = h.sum;
        h = undefined;
      }
      // Range selectors ignore staleness markers; instant selectors need them to end a series.
      if (!(isRange && isStaleNaN(v))) {
        reserveFloats(sink, 1);
        const n = sink.n;
        if (h !== undefined) (hs ??= [])[n - sink.start] = h;
        sink.ts[n] = t;
        sink.vs[n] = v;
        sink.n = n + 1;
      }
      more = it.next();
    }
    const from = sink.start;
    addSamples(sink.n - from);
    const es: EvalSeries = { metric: series.labels, ts: sink.ts.subarray(from, sink.n), vs: sink.vs.subarray(from, sink.n), dropName: false };
    if (hs !== undefined) es.hs = hs;
    out.push(es);
  }
  for (const w of set.warnings()) warn(w);
  return out;
}

/** Converts the evaluated top-level value, dropping deferred metric names and checking collisions. */
function* toValue(v: EvalValue, start: number, interval: number, pace: Pacer): Work<Value> {
  const isRange = interval > 0;
  switch (v.type) {
    case 'scalar':
      if (!isRange) return { type: 'scalar', t: start, v: v.vs[0]! };
      return { type: 'matrix', series: [{ metric: [], points: Array.from(v.vs, (x, i) => ({ t: start + i * interval, v: x })) }] };
    case 'string':
      return { type: 'string', t: start, v: v.v };
    case 'vector':
    case 'matrix': {
      // Drop deferred names, then merge series that now share a label set (they may come from
      // different steps); two points at one time is a collision.
      const merged = new Map<string, { metric: Labels; ts: Floats; vs: Floats; hs?: (FloatHistogram | undefined)[] }>();
      let n = 0;
      for (const s of v.series) {
        if ((++n & 1023) === 0 && pace.due()) {
          pace.check();
          yield;
        }
        const metric = s.dropName ? dropMetricName(s.metric) : s.metric;
        const k = labelsKey(metric);
        const prev = merged.get(k);
        if (prev === undefined) {
          // Shared, not copied: nothing below writes into a series' arrays, only replaces them.
          merged.set(k, s.hs === undefined ? { metric, ts: s.ts, vs: s.vs } : { metric, ts: s.ts, vs: s.vs, hs: s.hs });
          continue;
        }
        const pts = Array.from(prev.ts, (t, i) => ({ t, v: prev.vs[i]!, h: prev.hs?.[i] }));
        const have = new Set(prev.ts);
        s.ts.forEach((t, i) => {
          if (have.has(t)) throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
          pts.push({ t, v: s.vs[i]!, h: s.hs?.[i] });
        });
        pts.sort((a, b) => a.t - b.t);
        prev.ts = pts.map((p) => p.t);
        prev.vs = pts.map((p) => p.v);
        if (pts.some((p) => p.h !== undefined)) prev.hs = pts.map((p) => p.h);
      }
      const series = [...merged.values()];
      if (v.type === 'vector' && !isRange) {
        return {
          type: 'vector',
          samples: series
            .filter((s) => s.ts.length > 0)
            .map((s) => {
              const h = s.hs?.[0];
              return h === undefined ? { metric: s.metric, t: start, v: s.vs[0]! } : { metric: s.metric, t: start, v: NaN, h };
            }),
        };
      }
      const m: Matrix = { type: 'matrix', series: [] };
      // Points are made only when read (the JSON writer reads the arrays): ten million objects
      // living until the result is written would make every scavenge meanwhile long.
      for (let i = 0; i < series.length; i++) {
        if ((i & 1023) === 1023 && pace.due()) {
          pace.check();
          yield;
        }
        const s = series[i]!;
        if (s.ts.length > 0) m.series.push(lazyMatrixSeries(s.metric, s.ts, s.vs, s.hs));
      }
      if (isRange) yield* pacedSort(m.series, (a, b) => compareLabels(a.metric, b.metric), pace);
      return m;
    }
  }
}
