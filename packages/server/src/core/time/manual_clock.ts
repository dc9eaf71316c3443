/**
 * A {@link Clock} that moves only when told, for tests of code that waits (alert grouping, rule
 * evaluation, retries): "30 seconds later" happens at once and in a fixed order. It lives beside
 * the real clock so that every layer's tests use the same one.
 */

import { sleepOn, type Clock, type Timer } from './clock.js';

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * {@link ManualClock.advance} fires due timers in time order and waits for the work they start
 * (including real network I/O) until it either finishes or blocks on a timer beyond the target
 * time, so a test sees the effects of "30 seconds later" at once.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: ManualTimer[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(start = Date.parse('2024-01-01T00:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void | Promise<void>, ms: number): Timer {
    const timer: ManualTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    this.wake?.();
    return { cancel: () => void (timer.cancelled = true) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /**
   * Moves time forward by `ms` without running timers: work that takes that long (a slow
   * evaluation), or a test that only reads the time.
   */
  jump(ms: number): void {
    this.t += ms;
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

  /** {@link advance} to the absolute time `t`. */
  advanceTo(t: number): Promise<void> {
    return this.advance(t - this.t);
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
