/**
 * Sends a pre-encoded {@link Dataset} to a remote_write endpoint with a fixed number of concurrent
 * senders, keeping each group's requests in time order.
 */
import http from 'node:http';
import type { Dataset } from './datagen.js';

/** How to send. */
export interface SendOptions {
  /** Full URL of the remote_write endpoint, e.g. `http://127.0.0.1:9090/api/v1/write`. */
  readonly url: string;
  /** Concurrent requests in flight (at most one per group, so effectively min(senders, groups)). */
  readonly senders: number;
  /** Give up on the whole send phase after this long; what was sent so far is reported. */
  readonly deadlineMs: number;
  /** Per-request timeout. */
  readonly requestTimeoutMs?: number;
  /** Attempts per request for retryable failures (429, 5xx, connection errors). */
  readonly maxAttempts?: number;
}

/** What happened during the send phase. */
export interface SendResult {
  readonly wallMs: number;
  /** Requests acknowledged with 2xx. */
  readonly okRequests: number;
  /** Samples in acknowledged requests. */
  readonly okSamples: number;
  /** Requests that failed for good (4xx, or retries exhausted). */
  readonly failedRequests: number;
  /** Responses with a 4xx status (a correct run has none). */
  readonly status4xx: number;
  /** Retries made after 429, 5xx or connection errors. */
  readonly retries: number;
  /** True when the deadline cut the phase short. */
  readonly timedOut: boolean;
  /** The first few distinct error messages, for the report. */
  readonly errorSamples: readonly string[];
}

const HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'User-Agent': 'vigil-bench/0.1',
} as const;

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** One POST; resolves with the status and (truncated) body, rejects on connection errors. */
function post(agent: http.Agent, url: URL, body: Buffer, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        method: 'POST',
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: { ...HEADERS, 'Content-Length': body.length },
        timeout: timeoutMs,
      },
      (res) => {
        // The body must be read in full or the keep-alive socket cannot be reused; keep only a
        // prefix, which is all an error report needs.
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 512) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.slice(0, 512) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Sends every request of `data`. Each sender repeatedly takes the next request of the group that is
 * furthest behind among those with nothing in flight. Taking the laggard keeps all groups close in
 * time, as a real remote_write queue does: a server with an out-of-order window relative to its
 * newest sample (Prometheus' head accepts about an hour behind) would otherwise drop a slow group.
 */
export async function sendDataset(data: Dataset, opts: SendOptions): Promise<SendResult> {
  const url = new URL(opts.url);
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.senders, maxFreeSockets: opts.senders });
  const nGroups = data.groups.length;
  const next = new Int32Array(nGroups);
  const inFlight = new Uint8Array(nGroups);
  let remaining = data.totalRequests;
  let okRequests = 0;
  let okSamples = 0;
  let failedRequests = 0;
  let status4xx = 0;
  let retries = 0;
  let timedOut = false;
  const errors = new Set<string>();
  const note = (msg: string): void => {
    if (errors.size < 8) errors.add(msg);
  };
  // Senders with nothing to take wait here until some request finishes and frees its group.
  let waiters: Array<() => void> = [];
  const wake = (): void => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };

  const start = performance.now();
  const deadline = start + opts.deadlineMs;

  const take = (): number => {
    let best = -1;
    for (let g = 0; g < nGroups; g++) {
      if (inFlight[g] || next[g]! >= data.groups[g]!.requests.length) continue;
      if (best < 0 || next[g]! < next[best]!) best = g;
    }
    return best;
  };

  /** Delivers one request, retrying what is worth retrying; true when acknowledged. */
  const deliver = async (body: Buffer): Promise<boolean> => {
    let backoff = 50;
    for (let attempt = 1; ; attempt++) {
      let retryable: string;
      try {
        const r = await post(agent, url, body, timeoutMs);
        if (r.status >= 200 && r.status < 300) return true;
        if (r.status !== 429 && r.status < 500) {
          status4xx++;
          note(`HTTP ${r.status}: ${r.body.trim()}`);
          return false;
        }
        retryable = `HTTP ${r.status}: ${r.body.trim()}`;
      } catch (err) {
        retryable = err instanceof Error ? err.message : String(err);
      }
      if (attempt >= maxAttempts || performance.now() + backoff > deadline) {
        note(`gave up after ${attempt} attempts: ${retryable}`);
        return false;
      }
      retries++;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 2000);
    }
  };

  const worker = async (): Promise<void> => {
    while (remaining > 0) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const g = take();
      if (g < 0) {
        await new Promise<void>((r) => waiters.push(r));
        continue;
      }
      const group = data.groups[g]!;
      const body = group.requests[next[g]!]!;
      next[g] = next[g]! + 1;
      inFlight[g] = 1;
      try {
        if (await deliver(body)) {
          okRequests++;
          okSamples += group.seriesCount;
        } else failedRequests++;
      } finally {
        remaining--;
        inFlight[g] = 0;
        wake();
      }
    }
    wake();
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.senders) }, worker));
  } finally {
    agent.destroy();
  }
  return {
    wallMs: performance.now() - start,
    okRequests,
    okSamples,
    failedRequests,
    status4xx,
    retries,
    timedOut,
    errorSamples: [...errors],
  };
}
