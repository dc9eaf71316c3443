/**
 * Zipkin v2 JSON ingest, `POST /api/v2/spans`, as a Zipkin server takes it from zipkin-js, Brave
 * or the OpenTelemetry Zipkin exporter: a JSON array of spans (gzip allowed), answered 202 with an
 * empty body. Spans go through the same ingestor as OTLP (one rate limit, one set of counters). A
 * malformed body is a 400 naming the span and field, nothing written; 413 over the size limit; 429
 * with Retry-After over the rate; 503 or 507 when the store cannot write. Zipkin has no partial
 * success, so spans refused alone are counted in the self-metrics and named in a `Warning` header.
 */
import { TraceIngestError } from '../../traces/ingest/limits.js';
import { decodeZipkinJson } from '../../traces/ingest/zipkin.js';
import { ApiError } from './errors.js';
import type { ApiResult, Router } from './http.js';
import { storageFailure } from './log_ingest.js';
import type { TraceIngestor } from './trace_ingest.js';
import { inflateRequestBody } from './body_encoding.js';

function text(status: number, body: string, headers?: Record<string, string>): ApiResult {
  return { kind: 'raw', status, body: body + '\n', contentType: 'text/plain; charset=utf-8', ...(headers ? { headers } : {}) };
}

/** Registers `POST /api/v2/spans`. */
export function registerZipkinIngest(router: Router, ingestor: TraceIngestor): void {
  const { limits, stats } = ingestor;
  router.on('POST', '/api/v2/spans', async (req) => {
    stats.requests++;
    try {
      let body: Buffer;
      try {
        body = await req.body(limits.maxRequestBytes);
      } catch (err) {
        if (err instanceof ApiError && err.type === 'too_large')
          throw new TraceIngestError(413, `${err.message} (max_request_bytes ${limits.maxRequestBytes})`);
        throw err;
      }
      stats.bytes += body.length;
      body = inflateRequestBody(
        body,
        req.headers['content-encoding'],
        limits.maxRequestBytes,
        'max_request_bytes',
        (status, message) => new TraceIngestError(status, message),
      );
      const { rejected, message } = ingestor.ingestDecoded(decodeZipkinJson(body.toString('utf8'), limits));
      // Header values must be one line of visible ASCII.
      const warning =
        rejected > 0
          ? {
              warning: `199 vigil "${message
                .replace(/[^\x20-\x7e]/g, '?')
                .replace(/"/g, "'")
                .slice(0, 500)}"`,
            }
          : undefined;
      return { kind: 'raw', status: 202, body: '', ...(warning ? { headers: warning } : {}) };
    } catch (err) {
      if (err instanceof TraceIngestError) {
        ingestor.refuse(err.status === 429 ? 'rate_limited' : err.status === 413 ? 'too_large' : err.status === 415 ? 'unsupported_media_type' : 'invalid');
        return text(err.status, err.message, err.status === 429 ? { 'retry-after': String(err.retryAfterSec) } : undefined);
      }
      const sf = storageFailure(err);
      if (sf) {
        ingestor.refuse(sf.status === 507 ? 'disk_full' : 'unavailable');
        return text(sf.status, (err as Error).message, sf.headers);
      }
      throw err;
    }
  });
}
