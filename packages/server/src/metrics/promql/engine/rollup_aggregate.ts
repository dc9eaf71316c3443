/**
 * `sum by (…) (rate(m[5m]))`, `count(m)` and the like in one pass: an aggregation with a small
 * running state (core/eval/aggregate_dense) over a one-argument range function of a matrix
 * selector, or over an instant selector. Each series' value at each step goes from its window
 * straight into its group's cell, so the series in between (one per input series, a point per
 * step) are never built. Results, sample counts and group order are those of evaluating the
 * argument and then aggregating.
 */
import { type AggregateSpec, assignGroups, Grouper } from '../../../core/eval/aggregate.js';
import { DENSE_OPS, DenseAggregation, MAX_DENSE_CELLS } from '../../../core/eval/aggregate_dense.js';
import type { EvalSeries, StepGrid } from '../../../core/eval/series.js';
import type { Work } from '../../../core/util/pace.js';
import type { AggregateExpr, Call, MatrixSelector, VectorSelector } from '../parser/index.js';
import type { EvalContext } from './evaluator.js';
import { type EvalValue, unwrapParens } from './internal.js';
import { KEEPS_NAME, RANGE_FUNCS, type RangeEnv } from './rangefuncs.js';
import { InstantSteps, Rollup } from './rollup.js';

/** What an aggregation fed straight from its selector's samples reads. */
export type FusedInput = { readonly call: Call; readonly selector: MatrixSelector } | { readonly call: undefined; readonly selector: VectorSelector };

/** The argument of `expr` when {@link rollupAggregate} can evaluate it. */
export function fusibleInput(expr: AggregateExpr): FusedInput | undefined {
  if (!DENSE_OPS.has(expr.op) || expr.param !== undefined) return undefined;
  const arg = unwrapParens(expr.expr);
  if (arg.kind === 'VectorSelector') return { call: undefined, selector: arg };
  if (arg.kind !== 'Call' || arg.args.length !== 1 || !RANGE_FUNCS.has(arg.func.name)) return undefined;
  const selector = unwrapParens(arg.args[0]!);
  return selector.kind === 'MatrixSelector' ? { call: arg, selector } : undefined;
}

/**
 * Evaluates `spec` over `input` on the steps of `grid`, or returns undefined (having done
 * nothing) when the selection holds native histograms or the group × step grid would be too big:
 * the caller then evaluates the usual way.
 */
export function* rollupAggregate(
  ctx: EvalContext,
  grid: StepGrid,
  countSteps: boolean,
  spec: AggregateSpec,
  input: FusedInput,
  at: number | undefined,
): Work<EvalValue | undefined> {
  const vs = input.call === undefined ? input.selector : input.selector.vectorSelector;
  const series = ctx.selected.get(vs) ?? [];
  const S = series.length;
  for (let j = 0; j < S; j++) if (series[j]!.hs !== undefined) return undefined;
  const grouper = new Grouper(spec);
  const { gOf, groupLabels } = yield* assignGroups(grouper, series, ctx.pace);
  if (groupLabels.length * grid.n > MAX_DENSE_CELLS) return undefined;
  const perStep = countSteps ? ctx.perStep : undefined;
  const agg = new DenseAggregation(spec.op, groupLabels, grid);
  const vals = new Float64Array(grid.n);
  let values: (s: EvalSeries) => number;
  let steps: Int32Array;
  // The output of a range function drops the metric name unless the function keeps it.
  let dropName = false;
  if (input.call === undefined) {
    const lookup = new InstantSteps({ n: grid.n, start: grid.start, interval: grid.interval, offset: vs.offset, range: ctx.lookbackDelta, at }, perStep);
    steps = lookup.steps;
    values = (s) => {
      const m = lookup.run(s.ts, s.vs, vals, 0, false);
      // Counted series by series, as the selector counts them.
      ctx.addSamples(m);
      return m;
    };
  } else {
    const name = input.call.func.name;
    const env: RangeEnv = {
      rangeStart: 0,
      rangeEnd: 0,
      range: input.selector.range,
      ts: 0,
      params: [],
      warn: (m) => ctx.warn(m),
      info: (m) => ctx.info(m),
      metricName: '',
    };
    const rollup = new Rollup(
      name,
      RANGE_FUNCS.get(name)!,
      { n: grid.n, start: grid.start, interval: grid.interval, offset: vs.offset, range: input.selector.range, at },
      env,
      [],
      perStep,
    );
    steps = rollup.steps;
    dropName = !KEEPS_NAME.has(name);
    values = (s) => {
      const m = rollup.run(s.ts, s.vs, vals, 0);
      // Counted series by series, as the range function counts them.
      ctx.addSamples(rollup.total);
      return m;
    };
  }
  for (let j = 0; j < S; j++) {
    const s = series[j]!;
    const m = values(s);
    agg.add(gOf[j]!, j, steps, vals, 0, m, s.dropName || dropName);
    ctx.pace.check();
    if (ctx.pace.due()) yield;
  }
  const r = agg.finish();
  ctx.addSamples(r.total);
  return { type: 'vector', series: r.series };
}
