/**
 * Time slicing for long background work (flush, compaction, checkpoints) on the thread that also
 * acknowledges writes: the work calls {@link TimeSlicer.tick} often, and gives the event loop a turn
 * whenever its current slice has run for longer than the budget, so no single stretch blocks I/O for
 * more than about one budget.
 */

/** Default slice budget: well under the 50 ms a stall may last, leaving room for the last step. */
export const DEFAULT_SLICE_MS = 10;

/** Lets pending I/O callbacks and timers run (setImmediate runs after the poll phase). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks the current slice; `tick()` yields once the slice is over budget. */
export class TimeSlicer {
  private last = performance.now();
  /** How many times the work gave way (for tests and benchmarks). */
  yields = 0;

  constructor(readonly budgetMs = DEFAULT_SLICE_MS) {}

  /** True when the current slice has used its budget; cheap enough to call per item. */
  due(): boolean {
    return performance.now() - this.last >= this.budgetMs;
  }

  /** Yields to the event loop if the slice is over budget; otherwise resolves at once (no turn). */
  async tick(): Promise<void> {
    if (!this.due()) return;
    await yieldToLoop();
    this.yields++;
    this.last = performance.now();
  }
}

/** A slicer that never yields: for synchronous callers (start-up, tests) of sliced code. */
export const NEVER_YIELD = new TimeSlicer(Infinity);

/**
 * Sorts `items` in place with `cmp` like Array.prototype.sort, in slices: runs of 4096 are sorted
 * natively, then merged pairwise, checking the slicer every 4096 items. Stable.
 */
export async function sortSliced<T>(items: T[], cmp: (a: T, b: T) => number, slicer: TimeSlicer): Promise<void> {
  const RUN = 4096;
  const n = items.length;
  for (let i = 0; i < n; i += RUN) {
    const run = items.slice(i, i + RUN).sort(cmp);
    for (let j = 0; j < run.length; j++) items[i + j] = run[j]!;
    await slicer.tick();
  }
  let src = items;
  let dst: T[] = new Array<T>(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let a = lo;
      let b = mid;
      for (let k = lo; k < hi; k++) {
        dst[k] = a < mid && (b >= hi || cmp(src[a]!, src[b]!) <= 0) ? src[a++]! : src[b++]!;
        if ((k & (RUN - 1)) === 0) await slicer.tick();
      }
    }
    [src, dst] = [dst, src];
  }
  if (src !== items) for (let i = 0; i < n; i++) items[i] = src[i]!;
}

/** Runs a generator of steps to its end at once (start-up, shutdown, tests). */
export function runSteps<R>(steps: Generator<void, R>): R {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs a generator of steps, giving the event loop a turn between steps whenever the slice is used up. */
export async function runSliced<R>(steps: Generator<void, R>, slicer: TimeSlicer): Promise<R> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (slicer.due()) await slicer.tick();
  }
}
