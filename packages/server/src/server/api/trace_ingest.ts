/**
 * OTLP/HTTP trace ingest, `POST /v1/traces`, as the OTLP specification has it: protobuf or JSON by
 * Content-Type (gzip or deflate by Content-Encoding), the reply in the request's encoding. A
 * malformed body is a 400 (never to be retried) naming the field and byte offset, and nothing of it
 * is written; well-formed spans the decoder or the store refuse are reported in partial_success
 * (rejected_spans and a message) in a 200, the rest kept. 413 over the size limit; 429 with
 * Retry-After over the span rate; 503 with Retry-After when the store cannot write (507 when the
 * disk is full). A failure's body is a google.rpc.Status.
 */
import { TokenBucket } from '../../core/limits/token_bucket.js';
import { rpcCode } from '../../core/otlp/common.js';
import { encodeRpcStatus } from '../../core/otlp/protobuf.js';
import type { TraceAppendable, TraceSource } from '../../traces/storage/interface.js';
import { DEFAULT_TRACE_LIMITS, TraceIngestError, type TraceLimits } from '../../traces/ingest/limits.js';
import { decodeOtlpTracesJson, decodeOtlpTracesProto, type DecodedTraces } from '../../traces/ingest/otlp.js';
import { encodeExportTraceServiceResponse } from '../../traces/ingest/otlp_proto.js';
import { otlpEncodingOf, type OtlpEncoding } from './body_types.js';
import { ApiError } from './errors.js';
import type { ApiRequest, ApiResult, Router } from './http.js';
import { storageFailure } from './log_ingest.js';
import { inflateRequestBody } from './body_encoding.js';

/** Counters for self-metrics. */
export interface TraceIngestStats {
  requests: number;
  spans: number;
  rejectedSpans: number;
  bytes: number;
  /** Requests refused as a whole, by reason. */
  refused: Record<string, number>;
}

function encodingOf(req: ApiRequest): OtlpEncoding {
  const { encoding, contentType } = otlpEncodingOf(req.headers);
  if (encoding) return encoding;
  throw new TraceIngestError(415, `unsupported Content-Type ${JSON.stringify(contentType)} for OTLP traces: want application/x-protobuf or application/json`);
}

function reply(enc: OtlpEncoding, status: number, partial?: { rejectedSpans: number; errorMessage: string }, headers?: Record<string, string>): ApiResult {
  if (status !== 200) {
    const message = partial?.errorMessage ?? '';
    return enc === 'json'
      ? { kind: 'raw', status, body: JSON.stringify({ code: rpcCode(status), message }), contentType: 'application/json', ...(headers ? { headers } : {}) }
      : { kind: 'raw', status, body: encodeRpcStatus(rpcCode(status), message), contentType: 'application/x-protobuf', ...(headers ? { headers } : {}) };
  }
  if (enc === 'protobuf') return { kind: 'raw', status, body: encodeExportTraceServiceResponse(partial), contentType: 'application/x-protobuf' };
  const body =
    partial && partial.rejectedSpans > 0 ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {};
  return { kind: 'raw', status, body: JSON.stringify(body), contentType: 'application/json' };
}

/** Decoded OTLP traces into the store, with the rate limit and counters, shared by OTLP/HTTP and OTLP/gRPC. */
export interface TraceIngestor {
  readonly stats: TraceIngestStats;
  readonly limits: TraceLimits;
  /**
   * Decodes an ExportTraceServiceRequest (protobuf or JSON) and appends its spans; returns how many
   * were refused and why. Throws a TraceIngestError (malformed, over the rate) or a StorageError.
   */
  ingest(body: Buffer, enc: 'json' | 'protobuf'): { rejected: number; message: string };
  /** The same for spans another decoder produced (Zipkin). */
  ingestDecoded(decoded: DecodedTraces): { rejected: number; message: string };
  /** Counts a request refused as a whole. */
  refuse(reason: string): void;
}

/** Builds the ingest path both transports share, so one rate limit and one set of counters cover them. */
export function createTraceIngestor(store: TraceAppendable, opts: { limits?: Partial<TraceLimits>; now?: () => number } = {}): TraceIngestor {
  const limits: TraceLimits = { ...DEFAULT_TRACE_LIMITS, ...opts.limits };
  const bucket = limits.rateSpansPerSec > 0 ? new TokenBucket(limits.rateSpansPerSec, limits.burstSpans, opts.now) : undefined;
  const stats: TraceIngestStats = { requests: 0, spans: 0, rejectedSpans: 0, bytes: 0, refused: {} };
  return {
    stats,
    limits,
    refuse: (reason) => {
      stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
    },
    ingest: (body, enc) => {
      const decoded = enc === 'protobuf' ? decodeOtlpTracesProto(body, limits) : decodeOtlpTracesJson(body.toString('utf8'), limits);
      // With no span refused, the body decodes to exactly these spans: the store may log it as it came.
      return ingestDecoded(decoded, decoded.rejected === 0 ? { encoding: enc === 'protobuf' ? 'otlp-protobuf' : 'otlp-json', bytes: body } : undefined);
    },
    ingestDecoded: (decoded) => ingestDecoded(decoded),
  };

  function ingestDecoded(decoded: DecodedTraces, source?: TraceSource): { rejected: number; message: string } {
    if (bucket && decoded.spans.length > 0) {
      const wait = bucket.take(decoded.spans.length);
      if (wait === Infinity)
        throw new TraceIngestError(
          400,
          `a request of ${decoded.spans.length} spans is larger than the burst (${limits.burstSpans} spans); send smaller batches`,
        );
      if (wait > 0)
        throw new TraceIngestError(
          429,
          `trace ingest rate limit exceeded (${limits.rateSpansPerSec} spans/s, burst ${limits.burstSpans}); retry in ${wait}s`,
          wait,
        );
    }
    const res = decoded.spans.length ? store.append(decoded.spans, source) : { accepted: 0, rejected: 0, reasons: [] };
    stats.spans += res.accepted;
    const rejected = decoded.rejected + res.rejected;
    stats.rejectedSpans += rejected;
    return { rejected, message: [...decoded.reasons, ...res.reasons].join('; ') };
  }
}

/** Registers `POST /v1/traces`; returns live counters. */
export function registerTraceIngest(
  router: Router,
  store: TraceAppendable,
  opts: { limits?: Partial<TraceLimits>; now?: () => number; ingestor?: TraceIngestor } = {},
): TraceIngestStats {
  const ingestor = opts.ingestor ?? createTraceIngestor(store, opts);
  const { stats, limits, refuse } = ingestor;

  const readBody = async (req: ApiRequest): Promise<Buffer> => {
    let body: Buffer;
    try {
      body = await req.body(limits.maxRequestBytes);
    } catch (err) {
      if (err instanceof ApiError && err.type === 'too_large') throw new TraceIngestError(413, `${err.message} (max_request_bytes ${limits.maxRequestBytes})`);
      throw err;
    }
    stats.bytes += body.length;
    return inflateRequestBody(
      body,
      req.headers['content-encoding'],
      limits.maxRequestBytes,
      'max_request_bytes',
      (status, message) => new TraceIngestError(status, message),
    );
  };

  router.on('POST', '/v1/traces', async (req) => {
    stats.requests++;
    let enc: OtlpEncoding = 'protobuf';
    try {
      enc = encodingOf(req);
      const body = await readBody(req);
      const { rejected, message } = ingestor.ingest(body, enc);
      if (rejected === 0) return reply(enc, 200);
      return reply(enc, 200, { rejectedSpans: rejected, errorMessage: message });
    } catch (err) {
      if (err instanceof TraceIngestError) {
        refuse(err.status === 429 ? 'rate_limited' : err.status === 413 ? 'too_large' : err.status === 415 ? 'unsupported_media_type' : 'invalid');
        return reply(
          enc,
          err.status,
          { rejectedSpans: 0, errorMessage: err.message },
          err.status === 429 ? { 'retry-after': String(err.retryAfterSec) } : undefined,
        );
      }
      const sf = storageFailure(err);
      if (sf) {
        refuse(sf.status === 507 ? 'disk_full' : 'unavailable');
        return reply(enc, sf.status, { rejectedSpans: 0, errorMessage: (err as Error).message }, sf.headers);
      }
      throw err;
    }
  });
  return stats;
}
