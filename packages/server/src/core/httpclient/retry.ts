/**
 * What every sender that pushes to a receiver and must not lose what it pushes decides the same
 * way (the remote_write queues, the log forwarder): which answers settle a request, which drop it
 * and which try again; how long to wait (Retry-After, doubling backoff); a wait a stop cuts short.
 */

/** What to do with a request after its answer (`status` 0: no answer at all). */
export type SendVerdict = 'sent' | 'drop' | 'retry';

/**
 * 2xx: sent. 4xx: the receiver refuses it for good, so retrying cannot help (drop), except 429
 * when `retryOn429`. 5xx, and no answer: the receiver may take it later (retry).
 */
export function sendVerdict(status: number, retryOn429: boolean): SendVerdict {
  if (status >= 200 && status < 300) return 'sent';
  if (status >= 400 && status < 500 && !(status === 429 && retryOn429)) return 'drop';
  return 'retry';
}

/** Doubling waits from `minMs` up to `maxMs`. */
export class Backoff {
  private current: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.current = minMs;
  }

  /** The wait before the next try (doubled for the one after). */
  next(): number {
    const ms = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return ms;
  }

  reset(): void {
    this.current = this.minMs;
  }
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(h: string | string[] | undefined): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
