/**
 * The traffic generator: shopper sessions arriving at a steady rate, each browsing the catalogue,
 * looking at a few products, sometimes adding to the cart and checking out (retrying once on a
 * server error, as impatient shoppers do), with think time between steps.
 */
import { PRODUCTS } from './main.js';

/** Options of {@link startTraffic}. */
export interface TrafficOptions {
  /** The shop's base URL. */
  readonly url: string;
  /** New sessions per second (default 10, about 50 requests/s). */
  readonly sessionsPerSecond?: number;
  /** At most this many sessions at once (default 300). */
  readonly maxSessions?: number;
  /** Think time between a session's steps, ms (default 100–600). */
  readonly thinkMs?: readonly [number, number];
  /** Share of sessions that add to the cart (default 0.5), and of those that check out (default 0.7). */
  readonly addToCartRate?: number;
  readonly checkoutRate?: number;
  /** Per-request timeout (default 15000 ms). */
  readonly timeoutMs?: number;
}

/** A running generator. */
export interface Traffic {
  /** Requests answered, by status code (0: network error or timeout). */
  stats(): { readonly requests: number; readonly byStatus: Readonly<Record<string, number>>; readonly sessions: number };
  /** Stops new sessions and waits for running ones (at most `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const between = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);
// Popular products get most views (a rough Zipf).
const weighted = PRODUCTS.flatMap((p, i) => Array<string>(Math.max(1, 12 - i)).fill(p.id));

/** Starts generating traffic. */
export function startTraffic(opts: TrafficOptions): Traffic {
  const rate = opts.sessionsPerSecond ?? 10;
  const maxSessions = opts.maxSessions ?? 300;
  const [thinkLo, thinkHi] = opts.thinkMs ?? [100, 600];
  const addRate = opts.addToCartRate ?? 0.5;
  const checkoutRate = opts.checkoutRate ?? 0.7;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const byStatus: Record<string, number> = {};
  let requests = 0;
  let sessions = 0;
  let stopped = false;
  const running = new Set<Promise<void>>();
  let nextUser = 0;

  const call = async (user: string, method: string, path: string, body?: unknown): Promise<number> => {
    let status = 0;
    try {
      const init: RequestInit = { method, headers: { 'x-user-id': user, 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await fetch(opts.url + path, init);
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = 0;
    }
    requests++;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    return status;
  };
  const think = (): Promise<void> => new Promise((r) => setTimeout(r, between(thinkLo, thinkHi)));

  const session = async (): Promise<void> => {
    const user = `user-${(nextUser++ % 5000).toString(36)}`;
    await call(user, 'GET', '/products');
    const views = 1 + Math.floor(Math.random() * 4);
    for (let i = 0; i < views && !stopped; i++) {
      await think();
      await call(user, 'GET', `/products/${pick(weighted)}`);
    }
    if (Math.random() < 0.02) await call(user, 'GET', '/products/discontinued-item');
    if (stopped || Math.random() >= addRate) return;
    const items = 1 + Math.floor(Math.random() * 2);
    for (let i = 0; i < items; i++) {
      await think();
      await call(user, 'POST', '/cart/items', { productId: pick(weighted), quantity: 1 + Math.floor(Math.random() * 2) });
    }
    if (Math.random() < 0.3) await call(user, 'GET', '/cart');
    if (stopped || Math.random() >= checkoutRate) return;
    await think();
    const s = await call(user, 'POST', '/checkout');
    if (s >= 500 || s === 0) {
      await think();
      await call(user, 'POST', '/checkout');
    }
  };

  let credit = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    credit += ((now - last) / 1000) * rate;
    last = now;
    while (credit >= 1 && !stopped) {
      credit--;
      if (running.size >= maxSessions) continue;
      sessions++;
      const p: Promise<void> = session().finally(() => running.delete(p));
      running.add(p);
    }
  }, 50);

  return {
    stats: () => ({ requests, byStatus: { ...byStatus }, sessions }),
    async stop(stopTimeoutMs = 20_000) {
      stopped = true;
      clearInterval(tick);
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, stopTimeoutMs).unref())]);
    },
  };
}
