/**
 * `sum by (…) (rate(m[5m]))` and the like in one pass: an aggregation with a small running state
 * (core/eval/aggregate_dense) over a one-argument range function of a matrix selector. Each
 * series' value at each step goes from its window straight into its group's cell, so the range
 * function's output series (one per input series, a point per step) are never built. Results,
 * sample counts and group order are those of evaluating the range function and then aggregating.
 */
import { type AggregateSpec, Grouper } from '../../../core/eval/aggregate.js';
import { DENSE_OPS, DenseAggregation, MAX_DENSE_CELLS } from '../../../core/eval/aggregate_dense.js';
import type { Labels } from '../../../core/model/labels.js';
import type { StepGrid } from '../../../core/eval/series.js';
import type { Work } from '../../../core/util/pace.js';
import type { AggregateExpr, Call, MatrixSelector } from '../parser/index.js';
import type { EvalContext } from './evaluator.js';
import { type EvalValue, unwrapParens } from './internal.js';
import { KEEPS_NAME, RANGE_FUNCS, type RangeEnv } from './rangefuncs.js';
import { Rollup } from './rollup.js';

/** The range function and its selector when `expr` can be evaluated by {@link rollupAggregate}. */
export function fusibleRollup(expr: AggregateExpr): { call: Call; selector: MatrixSelector } | undefined {
  if (!DENSE_OPS.has(expr.op) || expr.param !== undefined) return undefined;
  const call = unwrapParens(expr.expr);
  if (call.kind !== 'Call' || call.args.length !== 1 || !RANGE_FUNCS.has(call.func.name)) return undefined;
  const selector = unwrapParens(call.args[0]!);
  return selector.kind === 'MatrixSelector' ? { call, selector } : undefined;
}

/**
 * Evaluates `spec` over `fn(selector)` on the steps of `grid`, or returns undefined (having done
 * nothing) when the selection holds native histograms or the group × step grid would be too big:
 * the caller then evaluates the usual way.
 */
export function* rollupAggregate(
  ctx: EvalContext,
  grid: StepGrid,
  countSteps: boolean,
  spec: AggregateSpec,
  call: Call,
  selector: MatrixSelector,
  at: number | undefined,
): Work<EvalValue | undefined> {
  const name = call.func.name;
  const series = ctx.selected.get(selector.vectorSelector) ?? [];
  const S = series.length;
  for (let j = 0; j < S; j++) if (series[j]!.hs !== undefined) return undefined;
  const grouper = new Grouper(spec);
  const gOf = new Int32Array(S);
  const groupLabels: Labels[] = [];
  const keyToGroup = new Map<string, number>();
  for (let j = 0; j < S; j++) {
    // Grouping a million series takes a while: let the event loop in between.
    if ((j & 1023) === 1023 && ctx.pace.due()) {
      ctx.pace.check();
      yield;
    }
    const [k, labels] = grouper.group(series[j]!.metric);
    let g = keyToGroup.get(k);
    if (g === undefined) {
      g = groupLabels.length;
      keyToGroup.set(k, g);
      groupLabels.push(labels);
    }
    gOf[j] = g;
  }
  if (groupLabels.length * grid.n > MAX_DENSE_CELLS) return undefined;
  const env: RangeEnv = {
    rangeStart: 0,
    rangeEnd: 0,
    range: selector.range,
    ts: 0,
    params: [],
    warn: (m) => ctx.warn(m),
    info: (m) => ctx.info(m),
    metricName: '',
  };
  const windows = { ...grid, offset: selector.vectorSelector.offset, range: selector.range, at };
  const rollup = new Rollup(name, RANGE_FUNCS.get(name)!, windows, env, [], countSteps ? ctx.perStep : undefined);
  const agg = new DenseAggregation(spec.op, groupLabels, grid);
  // The range function's output drops the metric name unless the function keeps it.
  const dropName = !KEEPS_NAME.has(name);
  const vals = new Float64Array(grid.n);
  for (let j = 0; j < S; j++) {
    const s = series[j]!;
    const m = rollup.run(s.ts, s.vs, vals, 0);
    // Counted series by series, as the range function counts them.
    ctx.addSamples(rollup.total);
    agg.add(gOf[j]!, j, rollup.steps, vals, 0, m, s.dropName || dropName);
    ctx.pace.check();
    if (ctx.pace.due()) yield;
  }
  const r = agg.finish();
  ctx.addSamples(r.total);
  return { type: 'vector', series: r.series };
}
