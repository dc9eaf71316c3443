/**
 * Range aggregations: slides each step's window `(t - range, t]` over the sample series. The
 * functions both languages define alike come from core/eval/window.ts; the ones here are LogQL's
 * own meaning of a name.
 */
import { absentLabels } from '../../core/eval/absent.js';
import { kahanSum } from '../../core/eval/numeric.js';
import type { EvalSeries, StepGrid } from '../../core/eval/series.js';
import { SlidingWindow, WINDOW_FUNCS, type WindowFn } from '../../core/eval/window.js';
import type { RangeFunc } from './ast.js';
import type { RangeExpr, SampleSeries } from './samples.js';

/** A window function of LogQL; `rangeSec` is the window length. */
type LogWindowFn = (s: SampleSeries, lo: number, hi: number, rangeSec: number, param: number) => number;

/**
 * LogQL's `rate` is the count (or, after `unwrap`, the sum) per second of the range, with no
 * extrapolation; PromQL's extrapolates a counter's increase to the window edges instead.
 */
const perSecond: LogWindowFn = (s, lo, hi, rangeSec) => (s.ones ? hi - lo : kahanSum(s.vs, lo, hi)) / rangeSec;

const LOG_WINDOW_FUNCS: ReadonlyMap<RangeFunc, LogWindowFn> = new Map<RangeFunc, LogWindowFn>([
  ['rate', perSecond],
  ['bytes_rate', perSecond],
  ['bytes_over_time', (s, lo, hi) => kahanSum(s.vs, lo, hi)],
  [
    'rate_counter',
    // A counter's increase per second with resets, but (unlike PromQL's rate) not extrapolated.
    (s, lo, hi, rangeSec) => {
      let inc = 0;
      for (let i = lo + 1; i < hi; i++) inc += s.vs[i]! >= s.vs[i - 1]! ? s.vs[i]! - s.vs[i - 1]! : s.vs[i]!;
      return inc / rangeSec;
    },
  ],
]);

/** The window function of `fn`: LogQL's own, else the shared one. */
function windowFn(fn: RangeFunc): LogWindowFn {
  const own = LOG_WINDOW_FUNCS.get(fn);
  if (own) return own;
  const shared: WindowFn | undefined = WINDOW_FUNCS.get(fn);
  if (!shared) throw new Error(`no window function ${fn}`);
  return (s, lo, hi, _r, param) => shared(s.ts, s.vs, lo, hi, param);
}

/** The step time of step `i`, shifted back by the offset: the end of its window. */
function windowEnd(grid: StepGrid, i: number, offsetMs: number): number {
  return grid.start + i * grid.interval - offsetMs;
}

/** Applies the range function of `e` to every window; steps with an empty window have no sample. */
export function rangeVector(e: RangeExpr, input: readonly SampleSeries[], grid: StepGrid): EvalSeries[] {
  if (e.fn === 'absent_over_time') return absentOverTime(e, input, grid);
  const fn = windowFn(e.fn);
  const rangeSec = e.rangeMs / 1000;
  const param = e.param ?? NaN;
  const win = new SlidingWindow();
  const out: EvalSeries[] = [];
  for (const s of input) {
    win.reset();
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < grid.n; i++) {
      const end = windowEnd(grid, i, e.offsetMs);
      win.advance(s.ts, end - e.rangeMs, end);
      if (win.hi <= win.lo) continue;
      ts.push(grid.start + i * grid.interval);
      vs.push(fn(s, win.lo, win.hi, rangeSec, param));
    }
    if (ts.length) out.push({ metric: s.labels, ts, vs, dropName: false });
  }
  return out;
}

/** 1 at the steps where no series has a line in the window, labelled by the selector's equality matchers. */
function absentOverTime(e: RangeExpr, input: readonly SampleSeries[], grid: StepGrid): EvalSeries[] {
  const present = new Uint8Array(grid.n);
  const win = new SlidingWindow();
  for (const s of input) {
    win.reset();
    for (let i = 0; i < grid.n; i++) {
      const end = windowEnd(grid, i, e.offsetMs);
      win.advance(s.ts, end - e.rangeMs, end);
      if (win.hi > win.lo) present[i] = 1;
    }
  }
  const ts: number[] = [];
  for (let i = 0; i < grid.n; i++) if (!present[i]) ts.push(grid.start + i * grid.interval);
  if (!ts.length) return [];
  return [{ metric: absentLabels(e.log.matchers), ts, vs: ts.map(() => 1), dropName: false }];
}
