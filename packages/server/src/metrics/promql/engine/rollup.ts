/**
 * A range function over every step of one float series in one pass. The window slides forward
 * step by step (its bounds kept in typed arrays), then a kernel computes every step's value into
 * a typed array. The common functions have a kernel of their own, whose loop calls the numeric
 * code directly: a value returned from a call V8 does not inline is a heap number, one allocation
 * per step and series, which used to be most of the time of `rate` over a range query. The other
 * functions go step by step through their {@link RangeFunc}.
 */
import { extremum, kahanMean, kahanSum } from '../../../core/eval/numeric.js';
import type { Floats } from '../../../core/eval/series.js';
import { SlidingWindow } from '../../../core/eval/window.js';
import { isStaleNaN } from '../../../core/model/value.js';
import { extrapolatedChange, type RangeEnv, type RangeFunc } from './rangefuncs.js';

/** The windows of a range function: `(ref - range, ref]` with `ref` the step time (or the `@` time) minus the offset. */
export interface WindowGrid {
  readonly n: number;
  readonly start: number;
  readonly interval: number;
  readonly offset: number;
  readonly range: number;
  readonly at: number | undefined;
}

/** What a kernel reads: the series, each step's window `[lo[i], hi[i])` and end `refs[i]`. */
interface KernelInput {
  readonly ts: Floats;
  readonly vs: Floats;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly refs: Float64Array;
  readonly n: number;
  readonly env: RangeEnv;
}

/** Writes the value of each step that has one to `vals[from + k]` and its step to `steps[k]`; returns the count. */
type Kernel = (x: KernelInput, vals: Float64Array, from: number, steps: Int32Array) => number;

function extrapolatedKernel(isCounter: boolean, isRate: boolean): Kernel {
  return (x, vals, from, steps) => {
    const { ts, vs, lo, hi, refs, env } = x;
    const range = env.range;
    let m = 0;
    for (let i = 0; i < x.n; i++) {
      const l = lo[i]!;
      const h = hi[i]!;
      if (h - l < 2) continue;
      env.rangeStart = refs[i]! - range;
      env.rangeEnd = refs[i]!;
      vals[from + m] = extrapolatedChange(ts, vs, l, h, env, isCounter, isRate);
      steps[m++] = i;
    }
    return m;
  };
}

/** Kernels of functions whose value needs only the window's values (and at least one of them). */
const KERNELS: ReadonlyMap<string, Kernel> = new Map<string, Kernel>([
  ['rate', extrapolatedKernel(true, true)],
  ['increase', extrapolatedKernel(true, false)],
  ['delta', extrapolatedKernel(false, false)],
  [
    'sum_over_time',
    (x, vals, from, steps) => {
      let m = 0;
      for (let i = 0; i < x.n; i++) {
        if (x.hi[i]! <= x.lo[i]!) continue;
        vals[from + m] = kahanSum(x.vs, x.lo[i]!, x.hi[i]!);
        steps[m++] = i;
      }
      return m;
    },
  ],
  [
    'avg_over_time',
    (x, vals, from, steps) => {
      let m = 0;
      for (let i = 0; i < x.n; i++) {
        if (x.hi[i]! <= x.lo[i]!) continue;
        vals[from + m] = kahanMean(x.vs, x.lo[i]!, x.hi[i]!);
        steps[m++] = i;
      }
      return m;
    },
  ],
  [
    'max_over_time',
    (x, vals, from, steps) => {
      let m = 0;
      for (let i = 0; i < x.n; i++) {
        if (x.hi[i]! <= x.lo[i]!) continue;
        vals[from + m] = extremum(x.vs, x.lo[i]!, x.hi[i]!, true);
        steps[m++] = i;
      }
      return m;
    },
  ],
  [
    'min_over_time',
    (x, vals, from, steps) => {
      let m = 0;
      for (let i = 0; i < x.n; i++) {
        if (x.hi[i]! <= x.lo[i]!) continue;
        vals[from + m] = extremum(x.vs, x.lo[i]!, x.hi[i]!, false);
        steps[m++] = i;
      }
      return m;
    },
  ],
]);

/** Evaluates one range function over the steps of a grid, series after series. */
export class Rollup {
  /** Step index of each output of the last {@link run}. */
  readonly steps: Int32Array;
  /** Samples in the windows of the last {@link run}, all steps together (for the sample limit). */
  total = 0;
  private readonly win = new SlidingWindow();
  private readonly kernel: Kernel | undefined;
  private readonly input: { ts: Floats; vs: Floats; lo: Int32Array; hi: Int32Array; refs: Float64Array; n: number; env: RangeEnv };

  constructor(
    name: string,
    private readonly fn: RangeFunc,
    private readonly grid: WindowGrid,
    private readonly env: RangeEnv,
    /** Scalar arguments by step, copied into `env.params` at each step. */
    private readonly params: readonly Float64Array[],
    /** Window samples per step, added to when given (Prometheus' per-step query statistics). */
    private readonly perStep: Float64Array | undefined,
  ) {
    const n = grid.n;
    this.steps = new Int32Array(n);
    this.kernel = params.length === 0 ? KERNELS.get(name) : undefined;
    const refs = new Float64Array(n);
    for (let i = 0; i < n; i++) refs[i] = (grid.at ?? grid.start + i * grid.interval) - grid.offset;
    this.input = { ts: refs, vs: refs, lo: new Int32Array(n), hi: new Int32Array(n), refs, n, env };
  }

  /** Evaluates the function at every step over the samples `ts`/`vs`; output k goes to `vals[from + k]`. Returns the count. */
  run(ts: Floats, vs: Floats, vals: Float64Array, from: number): number {
    const { n, start, interval, range, at } = this.grid;
    const { env, win, steps, perStep, input } = this;
    const { lo, hi, refs } = input;
    win.reset();
    let total = 0;
    for (let i = 0; i < n; i++) {
      const ref = refs[i]!;
      // An `@` pins every step's window to one place: start from the first sample each time.
      if (at !== undefined) win.reset();
      win.advance(ts, ref - range, ref);
      lo[i] = win.lo;
      hi[i] = win.hi;
      total += win.hi - win.lo;
      if (perStep !== undefined) perStep[i] = perStep[i]! + win.hi - win.lo;
    }
    this.total = total;
    input.ts = ts;
    input.vs = vs;
    if (this.kernel !== undefined) return this.kernel(input, vals, from, steps);
    let m = 0;
    for (let i = 0; i < n; i++) {
      env.rangeStart = refs[i]! - range;
      env.rangeEnd = refs[i]!;
      env.ts = start + i * interval;
      for (let k = 0; k < this.params.length; k++) env.params[k] = this.params[k]![i]!;
      const v = this.fn(ts, vs, lo[i]!, hi[i]!, env);
      if (v !== undefined) {
        steps[m] = i;
        vals[from + m] = v;
        m++;
      }
    }
    return m;
  }
}

/**
 * An instant selector over every step of one series: at each step the newest sample in the
 * left-open lookback window `(ref - range, ref]`, unless it is a staleness marker (which ends the
 * series). The grid's `range` is the lookback delta.
 */
export class InstantSteps {
  /** Step index of each output of the last {@link run}. */
  readonly steps: Int32Array;
  /** Position in the series of the sample behind each output of the last {@link run}. */
  readonly from: Int32Array;

  constructor(
    private readonly grid: WindowGrid,
    /** Outputs per step, added to when given (Prometheus' per-step query statistics). */
    private readonly perStep: Float64Array | undefined,
  ) {
    this.steps = new Int32Array(grid.n);
    this.from = new Int32Array(grid.n);
  }

  /**
   * Writes the value at each step that has one to `vals[base + k]` (the sample's time in seconds
   * when `sampleTime`, for `timestamp()`); returns the count.
   */
  run(ts: Floats, vs: Floats, vals: Float64Array, base: number, sampleTime: boolean): number {
    const { n, start, interval, offset, range, at } = this.grid;
    const { steps, from, perStep } = this;
    const len = ts.length;
    let m = 0;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const ref = (at ?? start + i * interval) - offset;
      while (j < len && ts[j]! <= ref) j++;
      if (at !== undefined && j > 0 && ts[j - 1]! > ref) j = 0;
      if (j === 0) continue;
      const t = ts[j - 1]!;
      const v = vs[j - 1]!;
      // Left-open lookback window (ref - lookback, ref]; a staleness marker ends the series.
      if (t <= ref - range || isStaleNaN(v)) continue;
      vals[base + m] = sampleTime ? t / 1000 : v;
      steps[m] = i;
      from[m] = j - 1;
      m++;
      if (perStep !== undefined) perStep[i]!++;
    }
    return m;
  }
}
