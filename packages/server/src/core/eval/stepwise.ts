/**
 * Step-by-step evaluation: cuts series over the steps of a query into one vector per step, hands
 * each step's operands to a function (a binary operator, an aggregation, …) and gathers the
 * samples it returns back into series.
 */
import { labelsKey } from '../model/labels.js';
import type { Pacer, Work } from '../util/pace.js';
import { evalError } from './errors.js';
import type { EvalSeries, SeriesBuilder, StepGrid, StepSample } from './series.js';

/** An operand over all steps: one number per step, a string, or series over the steps. */
export type StepOperand =
  | { readonly type: 'scalar'; readonly vs: Float64Array }
  | { readonly type: 'string'; readonly v: string }
  | { readonly type: 'vector'; readonly series: readonly EvalSeries[] };

/** An operand at one step. */
export type StepArg = StepSample[] | number | string;

/** How {@link evalByStep} reports progress and collisions. */
export interface StepwiseOptions {
  /** Checked every 64 steps: throws to abort (a timeout), says when to yield the event loop. */
  readonly pace: Pacer;
  /**
   * Keep two outputs with one label set at one step apart instead of failing. PromQL's instant
   * queries check for that only after dropping metric names; everything else fails at once.
   */
  readonly deferDuplicateCheck: boolean;
}

/**
 * Applies `fn` to the operands at each step of `grid`. Returns the output series (in order of
 * first appearance) and the number of samples made. A generator: it yields when the pacer says
 * the event loop is due (see core/util/pace).
 */
export function* evalByStep(
  inputs: readonly StepOperand[],
  grid: StepGrid,
  fn: (args: StepArg[], ts: number, i: number) => StepSample[],
  opts: StepwiseOptions,
): Work<{ series: EvalSeries[]; total: number }> {
  const cursors = inputs.map((inp) => (inp.type === 'vector' ? new Array<number>(inp.series.length).fill(0) : []));
  const out = new Map<string, SeriesBuilder>();
  const extra: EvalSeries[] = [];
  let total = 0;
  for (let i = 0; i < grid.n; i++) {
    if ((i & 63) === 0) {
      opts.pace.check();
      if (opts.pace.due()) yield;
    }
    const ts = grid.start + i * grid.interval;
    const args: StepArg[] = inputs.map((inp, k) => {
      switch (inp.type) {
        case 'scalar':
          return inp.vs[i]!;
        case 'string':
          return inp.v;
        case 'vector': {
          const cur = cursors[k]!;
          const vec: StepSample[] = [];
          for (let j = 0; j < inp.series.length; j++) {
            const s = inp.series[j]!;
            const c = cur[j]!;
            if (c < s.ts.length && s.ts[c] === ts) {
              const h = s.hs?.[c];
              vec.push(h === undefined ? { metric: s.metric, v: s.vs[c]!, dropName: s.dropName } : { metric: s.metric, v: NaN, dropName: s.dropName, h });
              cur[j] = c + 1;
            }
          }
          return vec;
        }
      }
    });
    const res = fn(args, ts, i);
    total += res.length;
    for (const s of res) {
      const key = labelsKey(s.metric);
      let es = out.get(key);
      if (es === undefined) {
        es = { metric: s.metric, ts: [], vs: [], dropName: s.dropName };
        out.set(key, es);
      } else if (es.ts[es.ts.length - 1] === ts) {
        if (!opts.deferDuplicateCheck) evalError('vector cannot contain metrics with the same labelset');
        // Kept apart, so that the caller's final check reports it.
        extra.push({ metric: s.metric, ts: [ts], vs: [s.v], dropName: s.dropName, ...(s.h === undefined ? {} : { hs: [s.h] }) });
        continue;
      }
      if (s.h !== undefined) (es.hs ??= [])[es.ts.length] = s.h;
      es.ts.push(ts);
      es.vs.push(s.v);
    }
  }
  return { series: [...out.values(), ...extra], total };
}
