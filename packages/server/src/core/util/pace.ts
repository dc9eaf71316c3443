/**
 * Cooperative time slicing for long work on the main thread: query and rule evaluation, trace
 * searches, and the stores' background jobs (flush, merging, checkpoints, retention).
 *
 * Evaluation code is written as generators that `yield` whenever {@link Pacer.due} says the
 * current slice has used its time. A driver then either runs the generator straight through
 * ({@link runSync}: tests, tools) or hands the event loop back between slices ({@link runSliced}),
 * so ingest acks and health checks are answered while a heavy query runs. Each pause is also
 * where cancellation and the deadline are checked: a timeout fires within one slice.
 */

/** A computation that may pause: each `yield` is a point where the event loop may run. */
export type Work<T> = Generator<void, T, void>;

/** What evaluation asks of its driver. */
export interface Pacer {
  /** Throws when the work was canceled or ran past its deadline. Cheap enough for inner loops. */
  check(): void;
  /** True when the running slice has used its time: the caller should `yield` now. */
  due(): boolean;
}

/** A pacer that never pauses and never stops the work (plain synchronous evaluation). */
export const NO_PACE: Pacer = { check: () => undefined, due: () => false };

/** Options of a {@link TimeSlicer}. */
export interface TimeSlicerOptions {
  /** Longest run between pauses, ms (default 5). */
  readonly sliceMs?: number;
  /** Aborting it stops the work at the next check. */
  readonly signal?: AbortSignal;
  /** Wall-clock time (per `now`) after which the work stops, ms. */
  readonly deadline?: number;
  /** Clock of the deadline (default `Date.now`). */
  readonly now?: () => number;
  /** The error thrown when the signal aborted (default: the signal's reason). */
  readonly canceled?: () => Error;
  /** The error thrown past the deadline (default: a plain Error). */
  readonly timedOut?: () => Error;
  /** Called at every pause, after the checks; throws to stop the work (memory running out, say). */
  readonly atPause?: () => void;
}

/** A {@link Pacer} measuring slices with the monotonic clock. */
export class TimeSlicer implements Pacer {
  private sliceStart = performance.now();
  private readonly sliceMs: number;
  /** Number of pauses taken so far. */
  pauses = 0;

  constructor(private readonly o: TimeSlicerOptions) {
    this.sliceMs = o.sliceMs ?? 5;
  }

  check(): void {
    const signal = this.o.signal;
    if (signal?.aborted === true) throw this.o.canceled ? this.o.canceled() : (signal.reason as Error);
    if (this.o.deadline !== undefined && (this.o.now ?? Date.now)() > this.o.deadline) throw this.o.timedOut ? this.o.timedOut() : new Error('timed out');
  }

  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Lets the event loop run (I/O included: setImmediate runs after the poll phase), then checks. */
  async pause(): Promise<void> {
    await yieldToLoop();
    this.pauses++;
    this.sliceStart = performance.now();
    this.check();
    this.o.atPause?.();
  }

  /** Pauses if the slice is used up (for async loops that are not generators). */
  async tick(): Promise<void> {
    if (this.due()) await this.pause();
  }

  /** Starts a fresh slice (after waiting in a queue, for example). */
  restart(): void {
    this.sliceStart = performance.now();
  }
}

/** Resolves on the next turn of the event loop, after the poll phase: timers and I/O run first. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The slice of background jobs (store flushes, merges, checkpoints): longer than a query's, as they run less often. */
export const BACKGROUND_SLICE_MS = 10;

/** A slicer that never pauses: for start-up, shutdown and tests, where nothing else waits. */
export const NEVER_PAUSE = new TimeSlicer({ sliceMs: Infinity });

/** Runs `work` to the end without pausing. */
export function runSync<T>(work: Work<T>): T {
  for (;;) {
    const r = work.next();
    if (r.done === true) return r.value;
  }
}

/**
 * Runs `work`, pausing at a `yield` once the slice is used up. When a pause finds the work
 * canceled or timed out, the generator is closed (its `finally` blocks run: queriers are closed)
 * and the error is thrown.
 */
export async function runSliced<T>(work: Work<T>, slicer: TimeSlicer): Promise<T> {
  for (;;) {
    const r = work.next();
    if (r.done === true) return r.value;
    if (!slicer.due()) continue;
    try {
      await slicer.pause();
    } catch (err) {
      work.return(undefined as never);
      throw err;
    }
  }
}

/** Elements sorted natively per run, and merged per check of the pacer. */
const SORT_RUN = 2048;

/**
 * Sorts `items` (in place, and returns it) like `Array.prototype.sort` with `cmp`, stable, in
 * slices: runs of a few thousand are sorted natively, then merged pass by pass, yielding when the
 * pacer is due. Sorting a million series by labels takes about a second: too long to hold the
 * event loop at once.
 */
export function* pacedSort<T>(items: T[], cmp: (a: T, b: T) => number, pace: Pacer): Work<T[]> {
  const n = items.length;
  for (let lo = 0; lo < n; lo += SORT_RUN) {
    const hi = Math.min(n, lo + SORT_RUN);
    const run = items.slice(lo, hi).sort(cmp);
    for (let i = lo; i < hi; i++) items[i] = run[i - lo]!;
    if (pace.due()) {
      pace.check();
      yield;
    }
  }
  if (n <= SORT_RUN) return items;
  let src = items;
  let dst = new Array<T>(n);
  for (let width = SORT_RUN; width < n; width *= 2) {
    let done = 0;
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // `<=` keeps equal elements in order: the sort is stable, as the native one.
        dst[k++] = cmp(src[i]!, src[j]!) <= 0 ? src[i++]! : src[j++]!;
        if ((++done & 4095) === 0 && pace.due()) {
          pace.check();
          yield;
        }
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  if (src !== items) for (let i = 0; i < n; i++) items[i] = src[i]!;
  return items;
}
