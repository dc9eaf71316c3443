/**
 * sum, count, group, min and max over all steps at once, accumulated series by series into one
 * cell per (group, step). Fed either with evaluated series ({@link aggregateDense}) or straight
 * from a range function's per-step values (PromQL's `sum by (…) (rate(…))`, which then never
 * builds the intermediate series).
 */
import type { Labels } from '../model/labels.js';
import type { Pacer, Work } from '../util/pace.js';
import type { EvalSeries, StepGrid } from './series.js';

/** Operators with a small running state, accumulated series by series into a (group × step) grid. */
export const DENSE_OPS: ReadonlySet<string> = new Set(['sum', 'count', 'group', 'min', 'max']);
/** Largest (group × step) grid a {@link DenseAggregation} allocates; beyond it, steps go one by one. */
export const MAX_DENSE_CELLS = 1 << 20;

/**
 * The cells of one aggregation. Each cell sees its values in the order series are added, exactly
 * as the step-wise path adds them (so Kahan sums are bit-identical), and groups come out in the
 * order the step-wise path creates them: by first step with a value, then by first series.
 */
export class DenseAggregation {
  private readonly n: number;
  private readonly acc: Float64Array;
  private readonly comp: Float64Array | undefined;
  private readonly cnt: Int32Array;
  private readonly drop: Uint8Array;
  private readonly firstStep: Int32Array;
  private readonly firstJ: Int32Array;
  private readonly isSum: boolean;
  private readonly isExtremum: boolean;
  private readonly isMax: boolean;

  constructor(
    private readonly op: string,
    private readonly groupLabels: readonly Labels[],
    private readonly grid: StepGrid,
  ) {
    const n = grid.n;
    const cells = groupLabels.length * n;
    this.n = n;
    this.acc = new Float64Array(cells);
    this.isSum = op === 'sum';
    this.comp = this.isSum ? new Float64Array(cells) : undefined;
    this.cnt = new Int32Array(cells);
    this.drop = new Uint8Array(cells);
    this.firstStep = new Int32Array(groupLabels.length).fill(n);
    this.firstJ = new Int32Array(groupLabels.length);
    this.isMax = op === 'max';
    this.isExtremum = op === 'min' || this.isMax;
  }

  /**
   * Adds series `j` of group `g`: its value at step `steps[k]` is `vals[from + k]`, for k < m,
   * steps ascending. Series must be added in input order.
   */
  add(g: number, j: number, steps: Int32Array, vals: Float64Array, from: number, m: number, dropName: boolean): void {
    if (m === 0) return;
    const base = g * this.n;
    if (steps[0]! < this.firstStep[g]!) {
      this.firstStep[g] = steps[0]!;
      this.firstJ[g] = j;
    }
    const { acc, comp, cnt, drop } = this;
    for (let k = 0; k < m; k++) {
      const cell = base + steps[k]!;
      const v = vals[from + k]!;
      const c = cnt[cell]!;
      cnt[cell] = c + 1;
      if (dropName) drop[cell] = 1;
      if (comp !== undefined) {
        // Inline kahanSumInc(v, acc, comp), starting from a zero sum like kahanSum.
        const sum = acc[cell]!;
        const t = sum + v;
        if (t === Infinity || t === -Infinity) comp[cell] = 0;
        else if (Math.abs(sum) >= Math.abs(v)) comp[cell] = comp[cell]! + (sum - t + v);
        else comp[cell] = comp[cell]! + (v - t + sum);
        acc[cell] = t;
      } else if (this.isExtremum) {
        const cur = acc[cell]!;
        if (c === 0 || (this.isMax ? v > cur || Number.isNaN(cur) : v < cur || Number.isNaN(cur))) acc[cell] = v;
      }
    }
  }

  /** The output series, one per group that has a value at some step, and their number of points. */
  finish(): { series: EvalSeries[]; total: number } {
    const { n, start, interval } = this.grid;
    const { acc, comp, cnt, firstStep, firstJ, op } = this;
    const order: number[] = [];
    for (let g = 0; g < this.groupLabels.length; g++) if (firstStep[g]! < n) order.push(g);
    order.sort((a, b) => firstStep[a]! - firstStep[b]! || firstJ[a]! - firstJ[b]!);
    const out: EvalSeries[] = [];
    let total = 0;
    for (const g of order) {
      const base = g * n;
      let m = 0;
      for (let i = firstStep[g]!; i < n; i++) if (cnt[base + i]! > 0) m++;
      const ts = new Float64Array(m);
      const vs = new Float64Array(m);
      let k = 0;
      for (let i = firstStep[g]!; i < n; i++) {
        const cell = base + i;
        const c = cnt[cell]!;
        if (c === 0) continue;
        ts[k] = start + i * interval;
        vs[k] = op === 'count' ? c : op === 'group' ? 1 : comp !== undefined ? acc[cell]! + comp[cell]! : acc[cell]!;
        k++;
      }
      total += m;
      out.push({ metric: this.groupLabels[g]!, ts, vs, dropName: this.drop[base + firstStep[g]!] === 1 });
    }
    return { series: out, total };
  }
}

/** {@link DenseAggregation} over evaluated series; `gOf[j]` is the group of `input[j]`. */
export function* aggregateDense(
  op: string,
  input: readonly EvalSeries[],
  gOf: Int32Array,
  groupLabels: Labels[],
  grid: StepGrid,
  pace: Pacer,
): Work<{ series: EvalSeries[]; total: number }> {
  const { n, start, interval } = grid;
  const agg = new DenseAggregation(op, groupLabels, grid);
  let steps = new Int32Array(n);
  let vals = new Float64Array(n);
  for (let j = 0; j < input.length; j++) {
    if ((j & 1023) === 1023 && pace.due()) {
      pace.check();
      yield;
    }
    const s = input[j]!;
    const len = s.ts.length;
    if (len === 0) continue;
    if (len > steps.length) {
      steps = new Int32Array(len);
      vals = new Float64Array(len);
    }
    const ts = s.ts;
    const vs = s.vs;
    for (let p = 0; p < len; p++) {
      steps[p] = n === 1 ? 0 : Math.round((ts[p]! - start) / interval);
      vals[p] = vs[p]!;
    }
    agg.add(gOf[j]!, j, steps, vals, 0, len, s.dropName);
  }
  return agg.finish();
}
