/** Limits of trace ingest, checked while decoding, and the error a refused request raises. */
import { VigilError } from '../../core/errors.js';

/** Per-span and per-request limits of OTLP trace ingest. */
export interface TraceLimits {
  /** Most attributes on one span, its events and links counted apart (default 128, the OpenTelemetry SDKs' default). */
  readonly maxAttributesPerSpan: number;
  /** Longest attribute key or string value in bytes (default 2048, Tempo's max_attribute_bytes). */
  readonly maxAttributeValueBytes: number;
  /** Most events and links on one span (default 128). */
  readonly maxEventsPerSpan: number;
  /** Largest accepted (decompressed) request body (default 16 MiB). */
  readonly maxRequestBytes: number;
  /** Spans per second accepted, and the burst (default 200,000 and 400,000; 0: unlimited). */
  readonly rateSpansPerSec: number;
  readonly burstSpans: number;
  /** Most spans one trace may have (default 50,000; 0: unlimited); the store enforces it. */
  readonly maxSpansPerTrace: number;
}

export const DEFAULT_TRACE_LIMITS: TraceLimits = {
  maxAttributesPerSpan: 128,
  maxAttributeValueBytes: 2048,
  maxEventsPerSpan: 128,
  maxRequestBytes: 16 << 20,
  rateSpansPerSec: 200_000,
  burstSpans: 400_000,
  maxSpansPerTrace: 50_000,
};

/** A trace ingest request refused as a whole: `status` 400 (malformed, never retry), 413 or 429. */
export class TraceIngestError extends VigilError {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSec = 0,
  ) {
    super(status === 400 ? 'bad_data' : status === 413 ? 'too_large' : status === 429 ? 'rate_limited' : 'bad_request', message);
  }
}
