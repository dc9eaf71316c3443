/**
 * Per-receiver notification rate limits (Vigil's `rate_limit` on a receiver): at most `max`
 * notifications in a window of `interval` that opens with the first notification. Notifications
 * over the limit are held back and counted by alert name; when the window closes the receiver gets
 * one summary of what was held back instead of each of them.
 */
import type { Clock, Timer } from '../../core/time/clock.js';
import type { RateLimit } from './config.js';

/** What a closed window held back. */
export interface HeldBack {
  receiver: string;
  /** Notifications held back. */
  total: number;
  /** Held-back notifications per alert name, most first (a notification counts once for each alert name it carried). */
  byAlertname: Array<[string, number]>;
  /** The window: epoch ms it opened and closed. */
  from: number;
  until: number;
}

interface Window {
  limit: RateLimit;
  start: number;
  sent: number;
  held: number;
  byAlertname: Map<string, number>;
  timer: Timer;
}

/** The text of a summary: "12 more notifications suppressed: HighErrorRate (8), DiskFull (4)". */
export function heldBackText(h: HeldBack): string {
  const noun = h.total === 1 ? 'notification' : 'notifications';
  return `${h.total} more ${noun} suppressed: ${h.byAlertname.map(([n, c]) => `${n} (${c})`).join(', ')}`;
}

/** The rate limits of every limited receiver. */
export class RateLimiter {
  private limits = new Map<string, RateLimit>();
  private windows = new Map<string, Window>();
  private readonly limitedTotal = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly onWindowEnd: (h: HeldBack) => Promise<void>,
  ) {}

  /** Takes a configuration's limits; a receiver whose limit changed or went away starts afresh (its held-back count is still summarised). */
  configure(limits: Map<string, RateLimit>): void {
    this.limits = limits;
    for (const [receiver, w] of this.windows) {
      const l = limits.get(receiver);
      if (l && l.max === w.limit.max && l.intervalMs === w.limit.intervalMs) continue;
      w.timer.cancel();
      // Not awaited: a reload does not wait for a send; the summary records its own outcome.
      void this.close(receiver, w);
    }
  }

  /**
   * Asks to send one notification to `receiver` carrying alerts named `alertnames`: true when it
   * may go out; false when it is held back (and counted for the summary).
   */
  take(receiver: string, alertnames: readonly string[]): boolean {
    const limit = this.limits.get(receiver);
    if (!limit) return true;
    let w = this.windows.get(receiver);
    if (!w) {
      const start = this.clock.now();
      const timer = this.clock.setTimer(() => {
        const cur = this.windows.get(receiver);
        return cur ? this.close(receiver, cur) : undefined;
      }, limit.intervalMs);
      w = { limit, start, sent: 0, held: 0, byAlertname: new Map(), timer };
      this.windows.set(receiver, w);
    }
    if (w.sent < limit.max) {
      w.sent++;
      return true;
    }
    w.held++;
    for (const n of new Set(alertnames)) w.byAlertname.set(n, (w.byAlertname.get(n) ?? 0) + 1);
    this.limitedTotal.set(receiver, (this.limitedTotal.get(receiver) ?? 0) + 1);
    return false;
  }

  private close(receiver: string, w: Window): Promise<void> {
    this.windows.delete(receiver);
    if (w.held === 0) return Promise.resolve();
    const byAlertname = [...w.byAlertname].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return this.onWindowEnd({ receiver, total: w.held, byAlertname, from: w.start, until: this.clock.now() });
  }

  /** Notifications held back so far, per receiver (every configured limited receiver, zero included). */
  counts(): Array<{ receiver: string; value: number }> {
    const names = new Set([...this.limits.keys(), ...this.limitedTotal.keys()]);
    return [...names].sort().map((receiver) => ({ receiver, value: this.limitedTotal.get(receiver) ?? 0 }));
  }

  /** Cancels the window timers (what was held back in open windows is not summarised). */
  stop(): void {
    for (const w of this.windows.values()) w.timer.cancel();
    this.windows.clear();
  }
}
