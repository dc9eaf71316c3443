/** Ingest limits, checked before anything is written, with messages that say which limit and by how much. */
import { isValidLabelName, sortLabels, type Label, type Labels } from '../../core/model/labels.js';

/** Limits of the log ingest paths. */
export interface LogLimits {
  /** Longest accepted line in bytes (default 256 KiB). */
  readonly maxLineBytes: number;
  /** Largest accepted (decompressed) request body (default 64 MiB). */
  readonly maxRequestBytes: number;
  /** Most labels per stream (default 15). */
  readonly maxLabelNames: number;
  /** Longest label value (default 2048) and name (1024). */
  readonly maxLabelValueLength: number;
  readonly maxLabelNameLength: number;
  /** Ingestion rate per tenant in bytes/s, and the burst (default 64 MiB/s, 128 MiB). 0: unlimited. */
  readonly rateBytesPerSec: number;
  readonly burstBytes: number;
}

/** The defaults. */
export const DEFAULT_LOG_LIMITS: LogLimits = {
  maxLineBytes: 256 * 1024,
  maxRequestBytes: 64 << 20,
  maxLabelNames: 15,
  maxLabelValueLength: 2048,
  maxLabelNameLength: 1024,
  rateBytesPerSec: 64 << 20,
  burstBytes: 128 << 20,
};

/** A request the limits refuse: `status` 400, 413 or 429 (with `retryAfterSec`). */
export class LimitError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSec = 0,
  ) {
    super(message);
  }
}

/** Validates and sorts a stream's labels. */
export function checkLabels(pairs: Label[], limits: LogLimits): Labels {
  if (pairs.length === 0) throw new LimitError(400, 'error at least one label pair is required per stream');
  if (pairs.length > limits.maxLabelNames) throw new LimitError(400, `stream '${fmt(pairs)}' has ${pairs.length} label names; limit ${limits.maxLabelNames}`);
  for (const l of pairs) {
    if (!isValidLabelName(l.name)) throw new LimitError(400, `invalid label name '${l.name}' in stream '${fmt(pairs)}'`);
    if (l.name.length > limits.maxLabelNameLength) throw new LimitError(400, `label name too long: '${l.name}'`);
    if (l.value.length > limits.maxLabelValueLength) throw new LimitError(400, `label value too long: ${l.value.length} characters for label '${l.name}' (limit ${limits.maxLabelValueLength})`);
  }
  const sorted = sortLabels(pairs);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.name === sorted[i - 1]!.name) throw new LimitError(400, `duplicate label name '${sorted[i]!.name}' in stream '${fmt(pairs)}'`);
  return sorted;
}

function fmt(pairs: readonly Label[]): string {
  return `{${pairs.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/** Checks one line's size. */
export function checkLine(line: string, labels: Labels, limits: LogLimits): void {
  if (line.length > limits.maxLineBytes || (line.length * 3 > limits.maxLineBytes && Buffer.byteLength(line) > limits.maxLineBytes))
    throw new LimitError(400, `max entry size '${limits.maxLineBytes}' bytes exceeded for stream '${fmt(labels)}' while adding an entry with length '${Buffer.byteLength(line)}' bytes`);
}

/** A token bucket per tenant. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly limits: LogLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `bytes` for `tenant` or throws a 429 {@link LimitError}. */
  take(tenant: string, bytes: number): void {
    const { rateBytesPerSec: rate, burstBytes: burst } = this.limits;
    if (rate <= 0) return;
    const now = this.now();
    let b = this.buckets.get(tenant);
    if (!b) this.buckets.set(tenant, (b = { tokens: burst, at: now }));
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (bytes > b.tokens) {
      const wait = Math.max(1, Math.ceil((bytes - b.tokens) / rate));
      throw new LimitError(429, `ingestion rate limit exceeded for tenant ${tenant} (limit: ${rate} bytes/sec) while attempting to ingest ${bytes} bytes; reduce log volume or retry later`, wait);
    }
    b.tokens -= bytes;
  }
}
