/**
 * Time for the alert pipeline: a clock with timers, so that group_wait, group_interval,
 * repeat_interval and retry backoff can be driven by tests instead of waited for.
 */

/** A scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/** Wall-clock time and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds (a returned promise is awaited by fake clocks). */
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

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
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

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. {@link FakeClock.advance} fires due timers in time order and
 * waits for the work they start (including real network I/O) until it either finishes or blocks on
 * a timer beyond the target time, so a test sees the effects of "30 seconds later" at once.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(start = Date.parse('2024-01-01T00:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void | Promise<void>, ms: number): Timer {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    this.wake?.();
    return { cancel: () => void (timer.cancelled = true) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves time forward by `ms`, running everything that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      const due = this.timers.filter((x) => x.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due) {
        this.timers.splice(this.timers.indexOf(due), 1);
        this.t = Math.max(this.t, due.at);
        this.track(due.fn());
        await this.settle();
        continue;
      }
      // Work still running is either doing I/O (wait for it) or sleeping on a timer past the target.
      if (this.inflight.size === 0 || !(await this.settle())) break;
    }
    this.t = target;
  }

  /** Runs pending work until it ends or a timer is set, up to a short real-time idle limit; true on progress. */
  async settle(idleMs = 100): Promise<boolean> {
    await new Promise((r) => setImmediate(r));
    if (this.inflight.size === 0) return true;
    let timeout: NodeJS.Timeout | undefined;
    const progressed = await new Promise<boolean>((resolve) => {
      this.wake = () => resolve(true);
      void Promise.all([...this.inflight]).then(() => resolve(true));
      timeout = setTimeout(() => resolve(false), idleMs);
    });
    clearTimeout(timeout);
    this.wake = undefined;
    return progressed;
  }

  private track(r: void | Promise<void>): void {
    if (!(r instanceof Promise)) return;
    const p: Promise<void> = r.catch(() => {}).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }
}
