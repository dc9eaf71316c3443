/** Ingest limits, checked before anything is written, with messages that say which limit and by how much. */
import { VigilError } from '../../core/errors.js';
import { TokenBucket } from '../../core/limits/token_bucket.js';
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

/**
 * A request the limits refuse: `status` 400, 413 or 429 (with `retryAfterSec`); `limit` names the
 * configured limit it ran into, when one did (for the refusal counters).
 */
export class LimitError extends VigilError {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSec = 0,
    readonly limit?: string,
  ) {
    super(LIMIT_CODES[status] ?? 'bad_data', message);
  }
}

/**
 * String(v) for a value taken from a parsed JSON body. String() throws a TypeError for an object whose
 * `toString` key is not a function (`{"toString":1}`), which would escape a push handler as a 500;
 * that object is shown as its JSON text instead. Every other value converts exactly as String() does.
 */
export function textOf(v: unknown): string {
  try {
    return String(v);
  } catch {
    return JSON.stringify(v) ?? '';
  }
}

/** Number(v) for a value from a parsed JSON body; NaN where Number() would throw (see {@link textOf}). */
export function numberOf(v: unknown): number {
  try {
    return Number(v);
  } catch {
    return NaN;
  }
}

/** The error code for each status a push refusal carries (the push API answers with the status). */
const LIMIT_CODES: Readonly<Record<number, string>> = { 400: 'bad_data', 413: 'too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };

/** Validates and sorts a stream's labels. */
export function checkLabels(pairs: Label[], limits: LogLimits): Labels {
  if (pairs.length === 0) throw new LimitError(400, 'error at least one label pair is required per stream');
  if (pairs.length > limits.maxLabelNames)
    throw new LimitError(
      400,
      `stream '${fmt(pairs)}' has ${pairs.length} label names, more than max_label_names_per_series (${limits.maxLabelNames})`,
      0,
      'max_label_names_per_series',
    );
  for (const l of pairs) {
    if (!isValidLabelName(l.name)) throw new LimitError(400, `invalid label name '${l.name}' in stream '${fmt(pairs)}'`);
    if (l.name.length > limits.maxLabelNameLength)
      throw new LimitError(400, `label name too long: '${l.name}' (max_label_name_length ${limits.maxLabelNameLength})`, 0, 'max_label_name_length');
    if (l.value.length > limits.maxLabelValueLength)
      throw new LimitError(
        400,
        `label value too long: ${l.value.length} characters for label '${l.name}' (max_label_value_length ${limits.maxLabelValueLength})`,
        0,
        'max_label_value_length',
      );
  }
  const sorted = sortLabels(pairs);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.name === sorted[i - 1]!.name) throw new LimitError(400, `duplicate label name '${sorted[i]!.name}' in stream '${fmt(pairs)}'`);
  return sorted;
}

function fmt(pairs: readonly Label[]): string {
  return `{${pairs.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/** Checks one line's size. */
export function checkLine(line: string, labels: Labels, limits: LogLimits): void {
  if (line.length > limits.maxLineBytes || (line.length * 3 > limits.maxLineBytes && Buffer.byteLength(line) > limits.maxLineBytes))
    throw new LimitError(
      400,
      `max entry size '${limits.maxLineBytes}' bytes (max_line_size) exceeded for stream '${fmt(labels)}' while adding an entry with length '${Buffer.byteLength(line)}' bytes`,
      0,
      'max_line_size',
    );
}

/** The ingestion rate limit (`ingestion_rate_mb`, `ingestion_burst_size_mb`): a token bucket of bytes per tenant. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(
    private readonly limits: LogLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `bytes` for `tenant` or throws a {@link LimitError}: 429 to retry later, 400 for a push larger than the burst. */
  take(tenant: string, bytes: number): void {
    const { rateBytesPerSec: rate, burstBytes: burst } = this.limits;
    if (rate <= 0) return;
    let b = this.buckets.get(tenant);
    if (!b) this.buckets.set(tenant, (b = new TokenBucket(rate, burst, this.now)));
    const wait = b.take(bytes);
    if (wait === 0) return;
    if (wait === Infinity) {
      throw new LimitError(
        400,
        `push of ${bytes} bytes is larger than ingestion_burst_size_mb (${burst} bytes) for tenant ${tenant}; send smaller pushes or raise the limit`,
        0,
        'ingestion_burst_size_mb',
      );
    }
    throw new LimitError(
      429,
      `ingestion rate limit ingestion_rate_mb exceeded for tenant ${tenant} (limit: ${rate} bytes/sec) while attempting to ingest ${bytes} bytes; reduce log volume or retry later`,
      wait,
      'ingestion_rate_mb',
    );
  }
}
