/**
 * The one notion of time for everything that waits: alert grouping and repeat intervals, retry
 * backoff, rule evaluation ticks. Code takes a {@link Clock} instead of calling `Date.now()` and
 * `setTimeout` so that tests can drive time (see manual_clock.ts) instead of waiting for it.
 * Components that only read the time take a plain `now: () => number`, which is a Clock's `now`.
 */

/** A scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/** Wall-clock time and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds (a returned promise is awaited by manual clocks). */
  setTimer(fn: () => void | Promise<void>, ms: number): Timer;
  /** Resolves after `ms` milliseconds, or rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. Timers are unref'd so a forgotten one never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const h = setTimeout(() => void fn(), Math.max(0, ms));
    h.unref();
    return { cancel: () => clearTimeout(h) };
  },
  sleep(ms, signal) {
    return sleepOn(systemClock, ms, signal);
  },
};

/** {@link Clock.sleep} in terms of the clock's own timers, for any clock. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      t.cancel();
      reject(signal?.reason as Error);
    };
    const t = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
