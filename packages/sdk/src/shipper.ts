/**
 * Ships log lines to a Loki-compatible push endpoint (`/loki/api/v1/push`, JSON, gzip).
 * `write()` only appends to a bounded buffer and never waits; batches leave by size or time, one
 * push at a time, retried with exponential backoff on network errors, 429 and 5xx. Lines that do
 * not fit the buffer or outlive their retries are counted, never silently lost.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Counter, Gauge, type Registry } from 'prom-client';

const gzip = promisify(gzipCb);

/** Where and how to ship logs. */
export interface LokiOptions {
  /** The push URL, or a base URL to which `/loki/api/v1/push` is appended. */
  readonly url: string;
  /** Extra stream labels; keep them few and constant (service, level and environment are added). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Extra request headers (`X-Scope-OrgID`, `Authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Lines per push (default 1000). */
  readonly batchSize?: number;
  /** Bytes of lines per push (default 1 MiB). */
  readonly batchBytes?: number;
  /** Longest a line waits before a push (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Lines held at most, in the buffer and in flight; more are dropped and counted (default 10000). */
  readonly maxBufferedLines?: number;
  /** Retries of a failed push before its lines are dropped (default 5). */
  readonly maxRetries?: number;
  /** First backoff (default 100 ms), doubled per retry up to `maxBackoffMs` (default 5000 ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Timeout of one push (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Gzip the body (default true). */
  readonly gzip?: boolean;
}

/** Why lines were dropped. */
export type DropReason = 'buffer_full' | 'rejected' | 'retries_exhausted' | 'shutdown';

interface Entry {
  readonly level: string;
  readonly ts: string;
  readonly line: string;
}

const LEVELS: Record<string, string> = { '10': 'trace', '20': 'debug', '30': 'info', '40': 'warn', '50': 'error', '60': 'fatal' };

/** The level name of a pino JSON line, read without parsing the line. */
export function levelOf(line: string): string {
  const i = line.indexOf('"level":');
  if (i === -1) return 'info';
  const j = i + 8;
  if (line.charCodeAt(j) === 34) {
    const k = line.indexOf('"', j + 1);
    return line.slice(j + 1, k);
  }
  return LEVELS[line.slice(j, j + 2)] ?? 'info';
}

/** A pino destination that ships to Loki. */
export class LokiShipper {
  private readonly url: string;
  private readonly baseLabels: Readonly<Record<string, string>>;
  private buffer: Entry[] = [];
  private bufferedBytes = 0;
  private inFlightLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private deadline = Infinity;
  private lastNs = 0n;
  private readonly shipped: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly retries: Counter;
  private readonly o: Required<Omit<LokiOptions, 'labels' | 'headers' | 'url'>>;

  /**
   * @param opts the endpoint and batching
   * @param streamLabels service and environment, added to every stream
   * @param registry where the shipper's own counters go
   */
  constructor(
    private readonly opts: LokiOptions,
    streamLabels: Readonly<Record<string, string>>,
    registry: Registry,
  ) {
    this.url = /\/loki\/api\/v1\/push\/?$/.test(opts.url) ? opts.url : opts.url.replace(/\/+$/, '') + '/loki/api/v1/push';
    this.baseLabels = { ...streamLabels, ...opts.labels };
    this.o = {
      batchSize: opts.batchSize ?? 1000,
      batchBytes: opts.batchBytes ?? 1 << 20,
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      maxBufferedLines: opts.maxBufferedLines ?? 10_000,
      maxRetries: opts.maxRetries ?? 5,
      minBackoffMs: opts.minBackoffMs ?? 100,
      maxBackoffMs: opts.maxBackoffMs ?? 5000,
      timeoutMs: opts.timeoutMs ?? 5000,
      gzip: opts.gzip ?? true,
    };
    this.shipped = new Counter({ name: 'vigil_log_lines_shipped_total', help: 'Log lines accepted by the push endpoint.', registers: [registry] });
    this.dropped = new Counter({
      name: 'vigil_log_lines_dropped_total',
      help: 'Log lines not shipped, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.retries = new Counter({ name: 'vigil_log_push_retries_total', help: 'Pushes retried after a failure.', registers: [registry] });
    const buffered: Gauge = new Gauge({
      name: 'vigil_log_buffered_lines',
      help: 'Log lines waiting to be shipped.',
      registers: [registry],
      collect: () => buffered.set(this.buffer.length + this.inFlightLines),
    });
  }

  /** Appends a pino line (pino's destination interface). Never blocks, never throws. */
  write(line: string): void {
    if (this.closing !== undefined && Date.now() > this.deadline) {
      this.dropped.inc({ reason: 'shutdown' });
      return;
    }
    if (this.buffer.length + this.inFlightLines >= this.o.maxBufferedLines) {
      this.dropped.inc({ reason: 'buffer_full' });
      return;
    }
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    this.buffer.push({ level: levelOf(text), ts: this.nowNs(), line: text });
    this.bufferedBytes += text.length;
    if (this.buffer.length >= this.o.batchSize || this.bufferedBytes >= this.o.batchBytes) {
      this.kick();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.o.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Ships everything buffered now; resolves when the buffer is empty (or its lines dropped). */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.sending !== undefined) {
      if (this.sending === undefined) this.kick();
      await this.sending;
    }
  }

  /** Flushes, waiting at most `timeoutMs` (default 5 s); then drops what is left. Idempotent. */
  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      this.deadline = Date.now() + timeoutMs;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      await this.flush();
    })();
    return this.closing;
  }

  private nowNs(): string {
    // Strictly increasing nanosecond timestamps keep lines in order within a stream.
    let ns = BigInt(Date.now()) * 1_000_000n;
    if (ns <= this.lastNs) ns = this.lastNs + 1n;
    this.lastNs = ns;
    return ns.toString();
  }

  private kick(): void {
    if (this.sending !== undefined || this.buffer.length === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sending = this.sendLoop().finally(() => {
      this.sending = undefined;
      // More arrived while sending: ship it too, or wait for the timer.
      if (this.buffer.length >= this.o.batchSize || this.bufferedBytes >= this.o.batchBytes || this.closing !== undefined) this.kick();
      else if (this.buffer.length > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, this.o.flushIntervalMs);
        this.timer.unref();
      }
    });
  }

  private async sendLoop(): Promise<void> {
    while (this.buffer.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < this.buffer.length && n < this.o.batchSize && bytes < this.o.batchBytes) {
        bytes += (this.buffer[n] as Entry).line.length;
        n++;
      }
      const batch = this.buffer.splice(0, n);
      this.bufferedBytes -= bytes;
      this.inFlightLines = batch.length;
      try {
        await this.push(batch);
      } finally {
        this.inFlightLines = 0;
      }
      if (this.closing === undefined && this.buffer.length < this.o.batchSize && this.bufferedBytes < this.o.batchBytes) return;
    }
  }

  private body(batch: readonly Entry[]): string {
    const byLevel = new Map<string, Array<[string, string]>>();
    for (const e of batch) {
      let v = byLevel.get(e.level);
      if (!v) byLevel.set(e.level, (v = []));
      v.push([e.ts, e.line]);
    }
    const streams = [...byLevel].map(([level, values]) => ({ stream: { ...this.baseLabels, level }, values }));
    return JSON.stringify({ streams });
  }

  private async push(batch: readonly Entry[]): Promise<void> {
    const json = this.body(batch);
    const body = this.o.gzip ? await gzip(json) : Buffer.from(json);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.opts.headers };
    if (this.o.gzip) headers['content-encoding'] = 'gzip';
    for (let attempt = 0; ; attempt++) {
      let retryable = true;
      try {
        const remaining = this.deadline - Date.now();
        const res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(Math.max(1, Math.min(this.o.timeoutMs, remaining))) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.shipped.inc(batch.length);
          return;
        }
        retryable = res.status === 429 || res.status >= 500;
      } catch {
        // Network error or timeout: retry.
      }
      if (!retryable) {
        this.dropped.inc({ reason: 'rejected' }, batch.length);
        return;
      }
      const backoff = Math.min(this.o.maxBackoffMs, this.o.minBackoffMs * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      if (attempt >= this.o.maxRetries || Date.now() + backoff > this.deadline) {
        this.dropped.inc({ reason: this.closing !== undefined ? 'shutdown' : 'retries_exhausted' }, batch.length);
        return;
      }
      this.retries.inc();
      await new Promise<void>((r) => {
        const t = setTimeout(r, backoff);
        // While closing, the backoff keeps the process alive so the flush can finish.
        if (this.closing === undefined) t.unref();
      });
    }
  }
}
