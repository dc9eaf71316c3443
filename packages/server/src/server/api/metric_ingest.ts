/**
 * OTLP/HTTP metrics: `POST /v1/metrics` and Prometheus' path `POST /api/v1/otlp/v1/metrics`, as
 * the OTLP specification has them: protobuf or JSON by Content-Type, gzip or deflate by
 * Content-Encoding, the reply in the request's encoding. A malformed body is a 400 and nothing of
 * it is written; data points refused alone are counted in partial_success (rejected_data_points
 * and a message) in a 200. 413 over the size limit, 429 with Retry-After over the sample rate
 * (remote_write's bucket), 503/507 when the store cannot write. A failure's body is a google.rpc.Status.
 */
import { StorageError } from '../../core/errors.js';
import { rpcCode } from '../../core/otlp/common.js';
import { encodePartialSuccess, encodeRpcStatus } from '../../core/otlp/protobuf.js';
import { OtlpMetricsError } from '../../metrics/otlp/errors.js';
import type { OtlpMetricsIngestor } from '../../metrics/otlp/ingest.js';
import { otlpEncodingOf, type OtlpEncoding } from './body_types.js';
import { ApiError } from './errors.js';
import type { ApiRequest, ApiResult, Router } from './http.js';
import { storageFailure } from './log_ingest.js';
import { inflateRequestBody } from './body_encoding.js';

/** The default largest body, compressed or inflated (Prometheus' OTLP receiver has no smaller one). */
export const DEFAULT_OTLP_METRICS_MAX_BYTES = 32 * 1024 * 1024;

export const OTLP_METRICS_PATHS = ['/v1/metrics', '/api/v1/otlp/v1/metrics'] as const;

function reply(enc: OtlpEncoding, status: number, message: string, rejected = 0, headers?: Record<string, string>): ApiResult {
  const extra = headers ? { headers } : {};
  if (status !== 200) {
    return enc === 'json'
      ? { kind: 'raw', status, body: JSON.stringify({ code: rpcCode(status), message }), contentType: 'application/json', ...extra }
      : { kind: 'raw', status, body: encodeRpcStatus(rpcCode(status), message), contentType: 'application/x-protobuf', ...extra };
  }
  const partial = rejected > 0 || message ? { rejected, errorMessage: message } : undefined;
  // An empty message as an empty string, not an empty Buffer: Node then writes the head and body in
  // one write instead of a writev of two, per request.
  if (enc === 'protobuf') return { kind: 'raw', status, body: partial ? encodePartialSuccess(partial) : '', contentType: 'application/x-protobuf' };
  const body = partial ? { partialSuccess: { rejectedDataPoints: String(rejected), errorMessage: message } } : {};
  return { kind: 'raw', status, body: JSON.stringify(body), contentType: 'application/json' };
}

/** Registers both OTLP metrics paths. */
export function registerMetricIngest(router: Router, ingestor: OtlpMetricsIngestor, opts: { maxBytes?: number } = {}): void {
  const max = opts.maxBytes ?? DEFAULT_OTLP_METRICS_MAX_BYTES;
  const { stats } = ingestor;
  const refuse = (reason: string): void => {
    stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
  };
  const handle = async (req: ApiRequest): Promise<ApiResult> => {
    stats.requests++;
    const { encoding, contentType } = otlpEncodingOf(req.headers);
    const enc: OtlpEncoding = encoding ?? 'protobuf';
    try {
      if (!encoding)
        throw new OtlpMetricsError(
          415,
          `unsupported Content-Type ${JSON.stringify(contentType)} for OTLP metrics: want application/x-protobuf or application/json`,
        );
      let body: Buffer;
      try {
        body = await req.body(max);
      } catch (err) {
        if (err instanceof ApiError && err.type === 'too_large') throw new OtlpMetricsError(413, `${err.message} (the OTLP metrics limit is ${max} bytes)`);
        throw err;
      }
      body = inflateRequestBody(
        body,
        req.headers['content-encoding'],
        max,
        'the OTLP metrics body limit',
        (status, message) => new OtlpMetricsError(status, message),
      );
      const res = ingestor.ingest(body, encoding);
      return reply(enc, 200, res.message, res.rejected);
    } catch (err) {
      if (err instanceof OtlpMetricsError) {
        refuse({ 400: 'invalid', 413: 'too_large', 415: 'unsupported_media_type', 429: 'rate_limited' }[err.status]);
        return reply(enc, err.status, err.message, 0, err.status === 429 ? { 'retry-after': String(err.retryAfterSec) } : undefined);
      }
      const sf = storageFailure(err);
      if (sf) {
        refuse(sf.status === 507 ? 'disk_full' : 'unavailable');
        return reply(enc, sf.status, (err as Error).message, 0, sf.headers);
      }
      if (err instanceof StorageError && err.code === 'overloaded') {
        refuse('unavailable');
        return reply(enc, 503, err.message, 0, { 'retry-after': '5' });
      }
      throw err;
    }
  };
  for (const path of OTLP_METRICS_PATHS) router.on('POST', path, handle);
}
