/**
 * The evaluator: evaluates an AST over all steps of a query at once, one switch over node kinds,
 * after Prometheus' `evaluator.eval` / `rangeEval`. Instant-vector nodes yield a series per output
 * label set with one point per step; range functions slide a window over each input series.
 */
import { absentLabels as selectorAbsentLabels } from '../../../core/eval/absent.js';
import { aggregateSeries, aggregateStep, Grouper, SERIES_AGG_OPS } from '../../../core/eval/aggregate.js';
import { DEFAULT_MATCHING, isSetOp, scalarOp, SET_MATCHING, setOp, vectorOp, vectorScalarOp } from '../../../core/eval/binop.js';
import type { EvalSeries, StepSample } from '../../../core/eval/series.js';
import { evalByStep, type StepArg } from '../../../core/eval/stepwise.js';
import { SlidingWindow } from '../../../core/eval/window.js';
import { type Labels, labelsKey } from '../../../core/model/labels.js';
import type { Pacer, Work } from '../../../core/util/pace.js';
import { type FloatSink, reserveFloats } from '../../storage/interface.js';
import type { AtModifier, Call, Expr, MatrixSelector, SubqueryExpr, VectorMatching, VectorSelector } from '../parser/index.js';
import { exprType } from '../parser/index.js';
import {
  applyDate,
  DATE_FUNCS,
  histogramFraction,
  histogramQuantile,
  histogramQuantiles,
  labelJoiner,
  labelReplacer,
  MATH_FUNCS,
  roundTo,
  sortByLabels,
  sortByValue,
} from './functions.js';
import { type EvalValue, execError, unwrapParens } from './internal.js';
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { getLabel, METRIC_NAME } from '../../../core/model/labels.js';
import { HIST_RANGE_FUNCS } from './histogram_funcs.js';
import { floatSamples, floatsOnly, HISTOGRAM_PROPS, NATIVE_NOTES, nativeFraction, nativeQuantileSample, withNative } from './histogram_vector.js';
import { KEEPS_NAME, RANGE_FUNCS, type RangeEnv, RangeFuncError } from './rangefuncs.js';
import { InstantSteps, Rollup } from './rollup.js';
import { fusibleInput, rollupAggregate } from './rollup_aggregate.js';

/** Query-wide state shared by the evaluators of a query and its subqueries. */
export interface EvalContext {
  readonly queryStart: number;
  readonly queryEnd: number;
  readonly isRangeQuery: boolean;
  readonly lookbackDelta: number;
  readonly defaultEvalInterval: number;
  /** Raw samples of each selector, selected up front (stale markers dropped for range selectors). */
  readonly selected: ReadonlyMap<VectorSelector, EvalSeries[]>;
  warn(msg: string): void;
  info(msg: string): void;
  /** Throws when the query timed out or was canceled; says when to yield the event loop. */
  readonly pace: Pacer;
  /** Accounts for samples held in memory; throws past the limit. */
  addSamples(n: number): void;
  /** Samples read from storage per step of the query's own grid (Prometheus' queryable samples). */
  readonly perStep: Float64Array;
}

/** Resolves an `@` modifier to milliseconds. */
export function resolveAt(at: AtModifier | undefined, start: number, end: number): number | undefined {
  if (at === undefined) return undefined;
  if (at === 'start') return start;
  if (at === 'end') return end;
  return at;
}

/** Evaluates expressions over the steps `start, start+interval, …, end`. */
export class Evaluator {
  /** Number of steps. */
  readonly n: number;

  constructor(
    private readonly ctx: EvalContext,
    readonly start: number,
    readonly end: number,
    readonly interval: number,
    /** This evaluator runs the query's own steps (not a subquery's): it counts samples per step. */
    private readonly countSteps = false,
  ) {
    this.n = interval > 0 ? Math.floor((end - start) / interval) + 1 : 1;
  }

  private ts(i: number): number {
    return this.start + i * this.interval;
  }

  private at(at: AtModifier | undefined): number | undefined {
    return resolveAt(at, this.ctx.queryStart, this.ctx.queryEnd);
  }

  private scalar(f: (ts: number, i: number) => number): EvalValue {
    const vs = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) vs[i] = f(this.ts(i), i);
    return { type: 'scalar', vs };
  }

  /** Throws when the query was canceled or timed out. */
  private check(): void {
    this.ctx.pace.check();
  }

  /** Evaluates a node over all steps; a generator that yields when the event loop is due. */
  *eval(expr: Expr): Work<EvalValue> {
    this.check();
    switch (expr.kind) {
      case 'NumberLiteral':
        return this.scalar(() => expr.value);
      case 'StringLiteral':
        return { type: 'string', v: expr.value };
      case 'ParenExpr':
        return yield* this.eval(expr.expr);
      case 'UnaryExpr': {
        const v = yield* this.eval(expr.expr);
        if (expr.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', vs: v.vs.map((x) => -x) };
        if (v.type !== 'vector') return execError('unary minus on a non-vector');
        return {
          type: 'vector',
          series: v.series.map((s) => {
            const neg: EvalSeries = { metric: s.metric, ts: s.ts, vs: s.vs.map((x) => -x), dropName: true };
            // A negated counter is no counter.
            if (s.hs !== undefined) neg.hs = s.hs.map((h) => h?.mul(-1).with({ counterResetHint: 'gauge' }));
            return neg;
          }),
        };
      }
      case 'VectorSelector':
        return { type: 'vector', series: yield* this.vectorSelector(expr, false) };
      case 'MatrixSelector':
      case 'SubqueryExpr':
        return { type: 'matrix', series: yield* this.matrixAtSingleStep(expr) };
      case 'BinaryExpr':
        return yield* this.binary(expr.op, expr.lhs, expr.rhs, expr.returnBool, expr.vectorMatching);
      case 'AggregateExpr': {
        const fusible = fusibleInput(expr);
        if (fusible !== undefined) {
          const vs = fusible.call === undefined ? fusible.selector : fusible.selector.vectorSelector;
          const r = yield* rollupAggregate(this.ctx, this, this.countSteps, expr, fusible, this.at(vs.at));
          if (r !== undefined) return r;
        }
        const grouper = new Grouper(expr);
        const param = expr.param === undefined ? undefined : yield* this.eval(expr.param);
        const input = yield* this.eval(expr.expr);
        const hasHist = input.type === 'vector' && input.series.some((s) => s.hs !== undefined);
        if (input.type === 'vector' && !hasHist && SERIES_AGG_OPS.has(expr.op) && (param === undefined || param.type === 'scalar')) {
          const r = yield* aggregateSeries(expr, grouper, input.series, param?.vs, this, this.ctx.pace, (m) => this.ctx.warn(m));
          this.ctx.addSamples(r.total);
          return { type: 'vector', series: r.series };
        }
        return yield* this.rangeEval(param === undefined ? [input] : [input, param], (args) =>
          aggregateStep(
            expr,
            grouper,
            args[0] as StepSample[],
            args[1] as number | string | undefined,
            (m) => this.ctx.warn(m),
            (m) => this.ctx.info(m),
          ),
        );
      }
      case 'Call':
        return yield* this.call(expr);
    }
  }

  /** Applies a per-step function to the step values of the inputs, collecting output series. */
  private *rangeEval(inputs: EvalValue[], fn: (args: StepArg[], ts: number, i: number) => StepSample[]): Work<EvalValue> {
    const operands = inputs.map((inp) => (inp.type === 'matrix' ? execError('unexpected range vector argument') : inp));
    // Instant queries defer the duplicate check until names are dropped at the end, like Prometheus.
    const r = yield* evalByStep(operands, this, fn, { pace: this.ctx.pace, deferDuplicateCheck: this.n === 1 });
    this.ctx.addSamples(r.total);
    return { type: 'vector', series: r.series };
  }

  private *vectorSelector(node: VectorSelector, sampleTime: boolean): Work<EvalSeries[]> {
    const data = this.ctx.selected.get(node) ?? [];
    const n = this.n;
    const grid = { n, start: this.start, interval: this.interval, offset: node.offset, range: this.ctx.lookbackDelta, at: this.at(node.at) };
    const lookup = new InstantSteps(grid, this.countSteps ? this.ctx.perStep : undefined);
    // Each series' points are written straight into shared blocks and kept as views of them.
    const sink: FloatSink = { ts: new Float64Array(0), vs: new Float64Array(0), n: 0, start: 0 };
    const out: EvalSeries[] = [];
    const pace = this.ctx.pace;
    for (let x = 0; x < data.length; x++) {
      if ((x & 255) === 255 && pace.due()) {
        pace.check();
        yield;
      }
      sink.start = sink.n;
      reserveFloats(sink, n);
      const base = sink.n;
      const s = data[x]!;
      const m = lookup.run(s.ts, s.vs, sink.vs, base, sampleTime);
      // Counted series by series, so max_samples stops a huge selection before it is all built.
      this.ctx.addSamples(m);
      if (m === 0) continue;
      const outT = sink.ts;
      const steps = lookup.steps;
      for (let k = 0; k < m; k++) outT[base + k] = this.start + steps[k]! * this.interval;
      sink.n = base + m;
      const es: EvalSeries = { metric: s.metric, ts: outT.subarray(base, base + m), vs: sink.vs.subarray(base, base + m), dropName: sampleTime };
      const shs = s.hs;
      if (shs !== undefined && !sampleTime) {
        let outH: (FloatHistogram | undefined)[] | undefined;
        for (let k = 0; k < m; k++) {
          const h = shs[lookup.from[k]!];
          if (h !== undefined) (outH ??= [])[k] = h;
        }
        if (outH !== undefined) {
          outH.length = m;
          es.hs = outH;
        }
      }
      out.push(es);
    }
    return out;
  }

  /** The series of a range-vector argument, with the window parameters. */
  private *rangeSource(node: Expr): Work<{ series: EvalSeries[]; offset: number; range: number; at: number | undefined }> {
    const e = unwrapParens(node);
    if (e.kind === 'MatrixSelector') {
      const vs = e.vectorSelector;
      return { series: this.ctx.selected.get(vs) ?? [], offset: vs.offset, range: e.range, at: this.at(vs.at) };
    }
    if (e.kind === 'SubqueryExpr') return { series: yield* this.subquery(e), offset: e.offset, range: e.range, at: this.at(e.at) };
    return execError(`expected a range vector, got ${e.kind}`);
  }

  private *subquery(node: SubqueryExpr): Work<EvalSeries[]> {
    const at = this.at(node.at);
    const step = node.step > 0 ? node.step : this.ctx.defaultEvalInterval;
    const lowest = (at ?? this.start) - node.offset - node.range;
    const innerEnd = (at ?? this.end) - node.offset;
    // Inner steps are absolute multiples of the step, the first one after the window start.
    const innerStart = Math.floor(lowest / step) * step + step;
    if (innerStart > innerEnd) return [];
    const inner = yield* new Evaluator(this.ctx, innerStart, innerEnd, step).eval(node.expr);
    if (inner.type === 'vector') return inner.series.map(forgetChunkHints);
    return execError('subquery is only allowed on instant vector');
  }

  /** Walks each series' windows `(ref - range, ref]` across all steps. */
  private *windows(
    src: { series: EvalSeries[]; offset: number; range: number; at: number | undefined },
    visit: (s: EvalSeries, lo: number, hi: number, i: number, ref: number) => void,
  ): Work<void> {
    const win = new SlidingWindow();
    for (const s of src.series) {
      win.reset();
      for (let i = 0; i < this.n; i++) {
        const ref = (src.at ?? this.ts(i)) - src.offset;
        // An `@` pins every step's window to one place: start from the first sample each time.
        if (src.at !== undefined) win.reset();
        win.advance(s.ts, ref - src.range, ref);
        visit(s, win.lo, win.hi, i, ref);
      }
      this.check();
      if (this.ctx.pace.due()) yield;
    }
  }

  private *matrixAtSingleStep(node: MatrixSelector | SubqueryExpr): Work<EvalSeries[]> {
    const src = yield* this.rangeSource(node);
    const out: EvalSeries[] = [];
    yield* this.windows(src, (s, lo, hi) => {
      if (hi <= lo) return;
      const es: EvalSeries = { metric: s.metric, ts: s.ts.slice(lo, hi), vs: s.vs.slice(lo, hi), dropName: s.dropName };
      if (s.hs !== undefined) es.hs = s.hs.slice(lo, hi);
      out.push(es);
    });
    return out;
  }

  private *binary(op: Parameters<typeof scalarOp>[0], lhsE: Expr, rhsE: Expr, returnBool: boolean, matching: VectorMatching | undefined): Work<EvalValue> {
    const lt = exprType(lhsE);
    const rt = exprType(rhsE);
    const lhs = yield* this.eval(lhsE);
    const rhs = yield* this.eval(rhsE);
    if (lt === 'scalar' && rt === 'scalar' && lhs.type === 'scalar' && rhs.type === 'scalar') {
      return this.scalar((_t, i) => {
        const [v, keep] = scalarOp(op, lhs.vs[i]!, rhs.vs[i]!);
        return returnBool ? (keep ? 1 : 0) : v;
      });
    }
    return yield* this.rangeEval([lhs, rhs], (args) => {
      const l = args[0]!;
      const r = args[1]!;
      if (typeof l === 'string' || typeof r === 'string') return execError('string operand in binary expression');
      if (typeof l === 'number') return vectorScalarOp(op, r as StepSample[], l, true, returnBool, this.ctx);
      if (typeof r === 'number') return vectorScalarOp(op, l, r, false, returnBool, this.ctx);
      if (isSetOp(op)) return setOp(op, l, r, matching ?? SET_MATCHING);
      return vectorOp(op, l, r, matching ?? DEFAULT_MATCHING, returnBool, this.ctx);
    });
  }

  private *call(node: Call): Work<EvalValue> {
    const name = node.func.name;
    const rf = RANGE_FUNCS.get(name);
    if (rf !== undefined) return yield* this.rangeFunction(node, rf);
    switch (name) {
      case 'time':
        return this.scalar((ts) => ts / 1000);
      case 'pi':
        return this.scalar(() => Math.PI);
      case 'start':
        return this.scalar(() => this.ctx.queryStart / 1000);
      case 'end':
        return this.scalar(() => this.ctx.queryEnd / 1000);
      case 'step':
        return this.scalar(() => (this.ctx.isRangeQuery ? this.interval / 1000 : 0));
      case 'range':
        return this.scalar(() => (this.ctx.queryEnd - this.ctx.queryStart) / 1000);
      case 'min_of':
      case 'max_of': {
        const a = yield* this.eval(node.args[0]!);
        const b = yield* this.eval(node.args[1]!);
        if (a.type !== 'scalar' || b.type !== 'scalar') return execError(`${name} expects scalars`);
        return this.scalar((_t, i) => (name === 'min_of' ? Math.min : Math.max)(a.vs[i]!, b.vs[i]!));
      }
      case 'scalar': {
        const v = yield* this.eval(node.args[0]!);
        const vs = new Float64Array(this.n).fill(NaN);
        if (v.type !== 'vector') return execError('scalar() expects an instant vector');
        const counts = new Int32Array(this.n);
        const start = this.start;
        for (const s of v.series)
          for (let j = 0; j < s.ts.length; j++) {
            // Only float samples count: a histogram has no scalar value.
            if (s.hs?.[j] !== undefined) continue;
            const i = this.interval > 0 ? Math.round((s.ts[j]! - start) / this.interval) : 0;
            counts[i]!++;
            vs[i] = counts[i] === 1 ? s.vs[j]! : NaN;
          }
        return { type: 'scalar', vs };
      }
      case 'vector': {
        const v = yield* this.eval(node.args[0]!);
        if (v.type !== 'scalar') return execError('vector() expects a scalar');
        const ts: number[] = [];
        for (let i = 0; i < this.n; i++) ts.push(this.ts(i));
        return { type: 'vector', series: [{ metric: [], ts, vs: Array.from(v.vs), dropName: false }] };
      }
      case 'timestamp': {
        const arg = unwrapParens(node.args[0]!);
        if (arg.kind === 'VectorSelector') return { type: 'vector', series: yield* this.vectorSelector(arg, true) };
        const v = yield* this.eval(arg);
        if (v.type !== 'vector') return execError('timestamp() expects an instant vector');
        return { type: 'vector', series: v.series.map((s) => ({ metric: s.metric, ts: s.ts, vs: s.ts.map((t) => t / 1000), dropName: true })) };
      }
      case 'absent':
        return yield* this.absent(node);
      case 'absent_over_time':
        return yield* this.absentOverTime(node);
      default:
        return yield* this.vectorFunction(node);
    }
  }

  private *vectorFunction(node: Call): Work<EvalValue> {
    const name = node.func.name;
    const args: EvalValue[] = [];
    for (const a of node.args) args.push(yield* this.eval(a));
    const math = MATH_FUNCS.get(name);
    if (math !== undefined) return this.mapSamples(args, (s) => ({ metric: s.metric, v: math(s.v), dropName: true }));
    const date = DATE_FUNCS.get(name);
    if (date !== undefined) {
      if (args.length === 0) {
        return yield* this.rangeEval([], (_a, ts) => [{ metric: [], v: applyDate(date, ts / 1000), dropName: false }]);
      }
      return this.mapSamples(args, (s) => ({ metric: s.metric, v: applyDate(date, s.v), dropName: true }));
    }
    switch (name) {
      case 'round':
        return yield* this.rangeEval(args, (a) => {
          const to = a.length > 1 ? (a[1] as number) : 1;
          return floatSamples(a[0]).map((s) => ({ metric: s.metric, v: roundTo(s.v, to), dropName: true }));
        });
      case 'clamp':
        return yield* this.rangeEval(args, (a) => {
          const min = a[1] as number;
          const max = a[2] as number;
          if (max < min) return [];
          return floatSamples(a[0]).map((s) => ({ metric: s.metric, v: Math.max(min, Math.min(max, s.v)), dropName: true }));
        });
      case 'clamp_min':
      case 'clamp_max':
        return yield* this.rangeEval(args, (a) => {
          const b = a[1] as number;
          const f = name === 'clamp_min' ? Math.max : Math.min;
          return floatSamples(a[0]).map((s) => ({ metric: s.metric, v: f(b, s.v), dropName: true }));
        });
      case 'label_replace': {
        const str = (k: number): string => (args[k]?.type === 'string' ? (args[k] as { v: string }).v : '');
        const f = labelReplacer(str(1), str(2), str(3), str(4));
        return yield* this.rangeEvalChecked(args.slice(0, 1), (a) => (a[0] as StepSample[]).map(f));
      }
      case 'label_join': {
        const strs = args.slice(1).map((a) => (a.type === 'string' ? a.v : ''));
        const f = labelJoiner(strs[0]!, strs[1]!, strs.slice(2));
        return yield* this.rangeEvalChecked(args.slice(0, 1), (a) => (a[0] as StepSample[]).map(f));
      }
      case 'sort':
      case 'sort_desc':
      case 'sort_by_label':
      case 'sort_by_label_desc': {
        if (this.ctx.isRangeQuery) this.ctx.warn('PromQL warning: sort is ineffective for range queries since results are always ordered by labels');
        const names = args.slice(1).map((a) => (a.type === 'string' ? a.v : ''));
        return yield* this.rangeEval(args.slice(0, 1), (a) => {
          const vec = a[0] as StepSample[];
          if (name === 'sort' || name === 'sort_desc') return sortByValue(vec, name === 'sort_desc');
          return sortByLabels(vec, names, name === 'sort_by_label_desc');
        });
      }
      case 'histogram_quantile':
        return yield* this.rangeEval([args[1]!, args[0]!], (a) => this.quantileAt(a[1] as number, a[0] as StepSample[]));
      case 'histogram_quantiles': {
        const label = args[1]?.type === 'string' ? args[1].v : '';
        return yield* this.rangeEval([args[0]!, ...args.slice(2)], (a) =>
          histogramQuantiles(label, a.slice(1) as number[], (q) => this.quantileAt(q, a[0] as StepSample[])),
        );
      }
      case 'histogram_fraction':
        return yield* this.rangeEval([args[2]!, args[0]!, args[1]!], (a) =>
          withNative(
            a[0] as StepSample[],
            this.ctx,
            (floats) => histogramFraction(a[1] as number, a[2] as number, floats, (m) => this.ctx.warn(m)),
            (h, metric) => {
              if (Number.isNaN(h.sum)) this.ctx.info(NATIVE_NOTES.fractionNaN(getLabel(metric, METRIC_NAME)));
              return nativeFraction(a[1] as number, a[2] as number, h);
            },
          ),
        );
      case 'histogram_count':
      case 'histogram_sum':
      case 'histogram_avg':
      case 'histogram_stddev':
      case 'histogram_stdvar': {
        // These read native histogram samples only; float samples have no output.
        const f = HISTOGRAM_PROPS[name]!;
        return yield* this.rangeEval(args, (a) =>
          (a[0] as StepSample[]).flatMap((s) => (s.h === undefined ? [] : [{ metric: s.metric, v: f(s.h), dropName: true }])),
        );
      }
      default:
        return execError(`function ${JSON.stringify(name)} is not supported`);
    }
  }

  /** `histogram_quantile(q, vec)` at one step, over classic buckets and native histograms. */
  private quantileAt(q: number, vec: StepSample[]): StepSample[] {
    return withNative(
      vec,
      this.ctx,
      (floats) =>
        histogramQuantile(
          q,
          floats,
          (m) => this.ctx.warn(m),
          (m) => this.ctx.info(m),
        ),
      (h, metric) => nativeQuantileSample(q, h, metric, this.ctx),
    );
  }

  /** Like rangeEval but also checks an instant query's output for duplicate label sets. */
  private *rangeEvalChecked(inputs: EvalValue[], fn: (args: StepArg[]) => StepSample[]): Work<EvalValue> {
    return yield* this.rangeEval(inputs, (a) => {
      const res = fn(a);
      if (this.n === 1) {
        const seen = new Set<string>();
        for (const s of res) {
          const k = labelsKey(s.metric);
          if (seen.has(k)) execError('vector cannot contain metrics with the same labelset');
          seen.add(k);
        }
      }
      return res;
    });
  }

  private mapSamples(args: EvalValue[], f: (s: StepSample) => StepSample): EvalValue {
    const v0 = args[0];
    if (v0?.type !== 'vector') return execError('expected an instant vector argument');
    // Float functions skip histogram samples, as Prometheus' simple functions do.
    const v = { series: v0.series.map(floatsOnly).filter((s) => s.ts.length > 0) };
    // Element-wise: no need to split into steps.
    return {
      type: 'vector',
      series: v.series.map((s) => {
        const r = f({ metric: s.metric, v: 0, dropName: s.dropName });
        return { metric: r.metric, ts: s.ts, vs: s.vs.map((x) => f({ metric: s.metric, v: x, dropName: s.dropName }).v), dropName: r.dropName };
      }),
    };
  }

  private *rangeFunction(node: Call, fn: typeof RANGE_FUNCS extends ReadonlyMap<string, infer F> ? F : never): Work<EvalValue> {
    const name = node.func.name;
    const matrixIdx = node.func.argTypes.indexOf('matrix');
    const params: Float64Array[] = [];
    for (let k = 0; k < node.args.length; k++) {
      if (k === matrixIdx) continue;
      const v = yield* this.eval(node.args[k]!);
      if (v.type === 'scalar') params.push(v.vs);
    }
    const src = yield* this.rangeSource(node.args[matrixIdx]!);
    const out: EvalSeries[] = [];
    const keep = KEEPS_NAME.has(name);
    let total = 0;
    const n = this.n;
    const env: RangeEnv = {
      rangeStart: 0,
      rangeEnd: 0,
      range: src.range,
      ts: 0,
      params: params.map(() => 0),
      warn: (m) => this.ctx.warn(m),
      info: (m) => this.ctx.info(m),
      metricName: '',
    };
    const hfn = HIST_RANGE_FUNCS.get(name);
    // Each series' points are written straight into shared blocks and kept as views of them.
    const sink: FloatSink = { ts: new Float64Array(0), vs: new Float64Array(0), n: 0, start: 0 };
    const at = src.at;
    const offset = src.offset;
    const range = src.range;
    const win = new SlidingWindow();
    const perStep = this.countSteps ? this.ctx.perStep : undefined;
    const rollup = new Rollup(name, fn, { n, start: this.start, interval: this.interval, offset, range, at }, env, params, perStep);
    try {
      for (const s0 of src.series) {
        // Functions without a meaning for histograms see only the float samples of a series.
        const s = s0.hs !== undefined && hfn === undefined ? floatsOnly(s0) : s0;
        if (s !== s0 && s.ts.length > 0) this.ctx.info(NATIVE_NOTES.ignoredInMixedRange(getLabel(s.metric, METRIC_NAME)));
        const ts = s.ts;
        const hs = s.hs;
        env.metricName = getLabel(s.metric, METRIC_NAME);
        let outH: (FloatHistogram | undefined)[] | undefined;
        let m = 0;
        sink.start = sink.n;
        reserveFloats(sink, n);
        const base = sink.n;
        const outT = sink.ts;
        const outV = sink.vs;
        if (hs === undefined || hfn === undefined) {
          // The float path: one pass over all steps.
          m = rollup.run(ts, s.vs, outV, base);
          total += rollup.total;
          const steps = rollup.steps;
          for (let k = 0; k < m; k++) outT[base + k] = this.start + steps[k]! * this.interval;
        } else {
          win.reset();
          for (let i = 0; i < n; i++) {
            const stepT = this.start + i * this.interval;
            const ref = (at ?? stepT) - offset;
            const from = ref - range;
            if (at !== undefined) win.reset();
            win.advance(ts, from, ref);
            const lo = win.lo;
            const hi = win.hi;
            total += hi - lo;
            if (perStep !== undefined) perStep[i] = perStep[i]! + hi - lo;
            env.rangeStart = from;
            env.rangeEnd = ref;
            env.ts = stepT;
            for (let k = 0; k < params.length; k++) env.params[k] = params[k]![i]!;
            const v = hfn(ts, s.vs, hs, lo, hi, env);
            if (v !== undefined) {
              outT[base + m] = stepT;
              if (typeof v === 'number') outV[base + m] = v;
              else {
                outV[base + m] = NaN;
                (outH ??= [])[m] = v;
              }
              m++;
            }
          }
        }
        if (m > 0) {
          sink.n = base + m;
          const es: EvalSeries = { metric: s.metric, ts: outT.subarray(base, base + m), vs: outV.subarray(base, base + m), dropName: s.dropName || !keep };
          if (outH !== undefined) {
            outH.length = m;
            es.hs = outH;
          }
          out.push(es);
        }
        // Counted series by series, as the selection is: the limit stops the work, not its end.
        this.ctx.addSamples(total);
        total = 0;
        this.check();
        if (this.ctx.pace.due()) yield;
      }
    } catch (err) {
      if (err instanceof RangeFuncError) execError(err.message);
      throw err;
    }
    return { type: 'vector', series: out };
  }

  private *absent(node: Call): Work<EvalValue> {
    const v = yield* this.eval(node.args[0]!);
    if (v.type !== 'vector') return execError('absent() expects an instant vector');
    const labels = absentLabels(node.args[0]!);
    const present = new Set<number>();
    for (const s of v.series) for (const t of s.ts) present.add(t);
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < this.n; i++) {
      const t = this.ts(i);
      if (!present.has(t)) {
        ts.push(t);
        vs.push(1);
      }
    }
    return { type: 'vector', series: ts.length > 0 ? [{ metric: labels, ts, vs, dropName: false }] : [] };
  }

  private *absentOverTime(node: Call): Work<EvalValue> {
    const src = yield* this.rangeSource(node.args[0]!);
    const present = new Uint8Array(this.n);
    yield* this.windows(src, (_s, lo, hi, i) => {
      if (hi > lo) present[i] = 1;
    });
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < this.n; i++) {
      if (present[i] === 0) {
        ts.push(this.ts(i));
        vs.push(1);
      }
    }
    const labels = absentLabels(node.args[0]!);
    return { type: 'vector', series: ts.length > 0 ? [{ metric: labels, ts, vs, dropName: false }] : [] };
  }
}

/**
 * A subquery's points with the counter-reset hints of chunks taken back to `unknown`: they say how
 * a sample follows the one before it in its chunk, but a subquery's points are a step apart and may
 * repeat a sample (a reset would be counted at each repeat, or missed across a step).
 */
function forgetChunkHints(s: EvalSeries): EvalSeries {
  if (s.hs === undefined) return s;
  const hs = s.hs.map((h) =>
    h !== undefined && (h.counterResetHint === 'reset' || h.counterResetHint === 'not_reset') ? h.with({ counterResetHint: 'unknown' }) : h,
  );
  return { ...s, hs };
}

/** Labels of `absent(...)`'s output: those the selector's matchers pin down. */
function absentLabels(arg: Expr): Labels {
  let e = arg;
  if (e.kind === 'MatrixSelector') e = e.vectorSelector;
  if (e.kind !== 'VectorSelector') return [];
  return selectorAbsentLabels(e.matchers);
}
