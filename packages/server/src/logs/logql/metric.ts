/**
 * Evaluation of LogQL metric queries over the steps of a query. Range aggregations turn lines into
 * series; vector aggregations and binary operators are the shared code of core/eval, the same
 * that PromQL runs. A NaN from arithmetic (`0/0`) is a sample like any other, as in Loki.
 */
import { aggregateSeries, type AggregateSpec, Grouper } from '../../core/eval/aggregate.js';
import { isComparisonOp, isSetOp, scalarOp, setOp, vectorOp, vectorScalarOp, type VectorMatching } from '../../core/eval/binop.js';
import type { EvalSeries, StepGrid, StepSample } from '../../core/eval/series.js';
import type { Work } from '../../core/util/pace.js';
import { evalByStep, type StepArg } from '../../core/eval/stepwise.js';
import type { LogQueryable } from '../storage/interface.js';
import type { BinOp, GroupModifier, Grouping, MetricExpr } from './ast.js';
import { LogqlExecError } from './errors.js';
import { rangeVector } from './rangefuncs.js';
import { collectSamples, type ReadBudget } from './samples.js';

/** A node's value over all steps. */
export type MetricValue = { readonly type: 'scalar'; readonly vs: Float64Array } | { readonly type: 'vector'; readonly series: EvalSeries[] };

/** What evaluation reads and how far it may go. */
export interface MetricEnv {
  readonly store: LogQueryable;
  readonly maxSeries: number;
  /** Paces evaluation and counts what is read against the query's budget. */
  readonly budget: ReadBudget;
}
/** LogQL reports no warnings (PromQL warns about out-of-range quantiles; LogQL has no `quantile`). */
const NO_WARN = (): void => undefined;

/** Evaluates `e` over `grid`; a generator that yields when the event loop is due. */
export function* evalMetric(e: MetricExpr, grid: StepGrid, env: MetricEnv): Work<MetricValue> {
  switch (e.kind) {
    case 'num':
      return { type: 'scalar', vs: new Float64Array(grid.n).fill(e.value) };
    case 'vector': {
      const ts = Array.from({ length: grid.n }, (_, i) => grid.start + i * grid.interval);
      return { type: 'vector', series: [{ metric: [], ts, vs: ts.map(() => e.value), dropName: false }] };
    }
    case 'range': {
      const first = grid.start - e.offsetMs;
      const last = grid.start + (grid.n - 1) * grid.interval - e.offsetMs;
      const samples = yield* collectSamples(env.store, e, first, last, env.maxSeries, env.budget);
      return { type: 'vector', series: rangeVector(e, samples, grid) };
    }
    case 'agg': {
      const inner = yield* evalMetric(e.expr, grid, env);
      if (inner.type !== 'vector') throw new LogqlExecError(`${e.op} expects a vector`);
      const spec: AggregateSpec = { op: e.op, grouping: e.grouping?.labels ?? [], without: e.grouping?.without ?? false };
      // Only topk/bottomk take a parameter in LogQL, a number literal (1 when left out).
      const param = e.op === 'topk' || e.op === 'bottomk' ? new Float64Array(grid.n).fill(e.param ?? 1) : undefined;
      const r = yield* aggregateSeries(spec, new Grouper(spec), inner.series, param, grid, env.budget.pace, NO_WARN);
      return { type: 'vector', series: r.series };
    }
    case 'bin': {
      const l = yield* evalMetric(e.lhs, grid, env);
      const r = yield* evalMetric(e.rhs, grid, env);
      return yield* binary(e, l, r, grid, env);
    }
  }
}

function matching(op: BinOp, on: Grouping | undefined, group: GroupModifier | undefined): VectorMatching {
  const card = isSetOp(op) ? 'many-to-many' : group ? (group.side === 'left' ? 'many-to-one' : 'one-to-many') : 'one-to-one';
  return { card, on: on !== undefined && !on.without, matchingLabels: on?.labels ?? [], include: group?.include ?? [] };
}

function vectorArg(x: StepArg | undefined): StepSample[] {
  if (!Array.isArray(x)) throw new LogqlExecError('unsupported binary operation');
  return x;
}

function* binary(e: Extract<MetricExpr, { kind: 'bin' }>, l: MetricValue, r: MetricValue, grid: StepGrid, env: MetricEnv): Work<MetricValue> {
  const { op, bool } = e;
  if (isSetOp(op) && (l.type !== 'vector' || r.type !== 'vector')) throw new LogqlExecError(`set operator "${op}" not allowed in binary scalar expression`);
  if (l.type === 'scalar' && r.type === 'scalar') {
    // Unlike PromQL, a comparison of two scalars needs no `bool`: it always yields 1 or 0.
    const vs = l.vs.map((a, i) => {
      const [v, keep] = scalarOp(op, a, r.vs[i]!);
      return isComparisonOp(op) ? (keep ? 1 : 0) : v;
    });
    return { type: 'scalar', vs };
  }
  const m = matching(op, e.on, e.group);
  const perStep = (args: StepArg[]): StepSample[] => {
    const [a, b] = args;
    if (typeof a === 'number') return vectorScalarOp(op, vectorArg(b), a, true, bool);
    if (typeof b === 'number') return vectorScalarOp(op, vectorArg(a), b, false, bool);
    if (isSetOp(op)) return setOp(op, vectorArg(a), vectorArg(b), m);
    return vectorOp(op, vectorArg(a), vectorArg(b), m, bool);
  };
  const res = yield* evalByStep([l, r], grid, perStep, { pace: env.budget.pace, deferDuplicateCheck: false });
  return { type: 'vector', series: res.series };
}
