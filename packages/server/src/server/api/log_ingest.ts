/**
 * The log ingest endpoints: `POST /loki/api/v1/push` (JSON or protobuf+snappy, optionally gzip),
 * `POST /v1/logs` (OTLP/HTTP, JSON or protobuf, optionally gzip) and `POST /api/v1/logs/jsonl`.
 * Limits are checked before anything is written; lines the store refuses (too old) are reported
 * with a 400 while the rest are kept, as Loki does (OTLP: a 200 with partial_success, as the OTLP
 * spec says). Loki's push answers 204. A store that cannot write refuses the whole push: 507 when
 * the disk is full (retrying soon does not help), 503 with Retry-After otherwise; nothing of a
 * refused push was kept, so the client's retry duplicates nothing.
 */
import type { ApiRequest, ApiResult, Router } from './http.js';
import { ApiError } from './errors.js';
import type { LogAppendable } from '../../logs/storage/interface.js';
import { StorageError } from '../../core/errors.js';
import type { PushStream } from '../../logs/storage/types.js';
import { SnappyDecoder } from '../../core/util/snappy.js';
import { decodeJsonl } from '../../logs/ingest/jsonl.js';
import { DEFAULT_LOG_LIMITS, LimitError, RateLimiter, type LogLimits } from '../../logs/ingest/limits.js';
import { LimitRefusals } from '../../core/limits/refusals.js';
import { streamLimitReason } from '../../logs/storage/admission.js';
import { decodeLokiJson, decodeLokiProto } from '../../logs/ingest/loki_push.js';
import { decodeOtlpLogsJson, decodeOtlpLogsProto } from '../../logs/ingest/otlp.js';
import { encodeExportLogsServiceResponse } from '../../logs/ingest/otlp_proto.js';
import { rpcCode } from '../../core/otlp/common.js';
import { encodeRpcStatus } from '../../core/otlp/protobuf.js';
import { otlpEncodingOf, type OtlpEncoding } from './body_types.js';
import { inflateRequestBody } from './body_encoding.js';

/** Options of {@link registerLogIngest}. */
export interface LogIngestOptions {
  readonly limits?: Partial<LogLimits>;
  readonly now?: () => number;
  /** Why pushes are refused for lack of memory now (core/util/heap), or undefined. */
  readonly memoryPressure?: () => string | undefined;
}

/** Ingest counters, for self metrics. */
export interface LogIngestStats {
  requests: number;
  lines: number;
  bytes: number;
  refused: Record<string, number>;
  /** Refusals by the configured limit that made them (lines for max_streams, requests otherwise). */
  limitRefusals: LimitRefusals;
}

/** How a push route answers; a route without `partial` or `fail` answers as Loki does. */
interface Reply {
  ok(): ApiResult;
  /** Some lines were refused by the store, the rest kept. */
  partial?(rejected: number, message: string): ApiResult;
  fail?(status: number, message: string, headers?: Record<string, string>): ApiResult;
}

/** The OTLP encoding a request's Content-Type names; anything else is a 415. */
function otlpEncoding(req: ApiRequest): OtlpEncoding {
  const { encoding, contentType } = otlpEncodingOf(req.headers);
  if (encoding) return encoding;
  throw new LimitError(415, `unsupported Content-Type ${JSON.stringify(contentType)} for OTLP logs: want application/x-protobuf or application/json`);
}

const OTLP_REPLIES: Record<OtlpEncoding, Reply> = {
  json: {
    ok: () => ({ kind: 'raw', status: 200, body: '{}', contentType: 'application/json' }),
    partial: (rejected, message) => ({
      kind: 'raw',
      status: 200,
      body: JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } }),
      contentType: 'application/json',
    }),
    fail: (status, message, headers) => ({
      kind: 'raw',
      status,
      body: JSON.stringify({ code: rpcCode(status), message }),
      contentType: 'application/json',
      ...(headers ? { headers } : {}),
    }),
  },
  protobuf: {
    ok: () => ({ kind: 'raw', status: 200, body: encodeExportLogsServiceResponse(), contentType: 'application/x-protobuf' }),
    partial: (rejected, message) => ({
      kind: 'raw',
      status: 200,
      body: encodeExportLogsServiceResponse({ rejectedLogRecords: rejected, errorMessage: message }),
      contentType: 'application/x-protobuf',
    }),
    fail: (status, message, headers) => ({
      kind: 'raw',
      status,
      body: encodeRpcStatus(rpcCode(status), message),
      contentType: 'application/x-protobuf',
      ...(headers ? { headers } : {}),
    }),
  },
};

/** How a line refused by the store's max_streams starts (the rest of the reason varies with the limit). */
const STREAM_LIMIT_PREFIX = streamLimitReason(0).slice(0, streamLimitReason(0).indexOf('('));

/** Seconds a client should wait before retrying a push the store could not write. */
const WRITE_RETRY_AFTER_SEC = 5;

/** HTTP status and headers for a store write failure (undefined: not one, let it through). */
export function storageFailure(err: unknown): { status: number; headers?: Record<string, string> } | undefined {
  if (!(err instanceof StorageError)) return undefined;
  if (err.code === 'disk_full') return { status: 507 };
  if (err.code === 'closed') return { status: 503, headers: { 'retry-after': String(WRITE_RETRY_AFTER_SEC) } };
  return undefined;
}

function text(status: number, body: string, headers?: Record<string, string>): ApiResult {
  return headers
    ? { kind: 'raw', status, body, contentType: 'text/plain; charset=utf-8', headers }
    : { kind: 'raw', status, body, contentType: 'text/plain; charset=utf-8' };
}

/** Registers the ingest routes; returns live counters. */
export function registerLogIngest(router: Router, store: LogAppendable, opts: LogIngestOptions = {}): LogIngestStats {
  const limits: LogLimits = { ...DEFAULT_LOG_LIMITS, ...opts.limits };
  const rate = new RateLimiter(limits, opts.now);
  const snappy = new SnappyDecoder();
  const stats: LogIngestStats = { requests: 0, lines: 0, bytes: 0, refused: {}, limitRefusals: new LimitRefusals() };

  const readBody = async (req: ApiRequest): Promise<Buffer> => {
    let body: Buffer;
    try {
      body = await req.body(limits.maxRequestBytes);
    } catch (err) {
      if (err instanceof ApiError && err.type === 'too_large') throw new LimitError(413, err.message);
      throw err;
    }
    const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
    // Loki's push also takes snappy (not a standard HTTP coding); the rest as every receiver.
    if (enc !== 'snappy')
      return inflateRequestBody(body, enc, limits.maxRequestBytes, 'max_request_bytes', (status, message) => new LimitError(status, message));
    try {
      return Buffer.from(snappy.decode(body, limits.maxRequestBytes));
    } catch (err) {
      throw new LimitError(400, `cannot decompress the snappy body: ${(err as Error).message}`);
    }
  };

  /**
   * A push handler: `decode` turns the body into streams (throwing {@link LimitError}s), `reply`
   * says how the route answers; Loki's plain-text refusals unless it says otherwise. The reply is
   * chosen from the request before the body is read, so a wrong Content-Type is a 415 at once.
   */
  const handle =
    (decode: (req: ApiRequest, body: Buffer) => PushStream[], reply: (req: ApiRequest) => Reply) =>
    async (req: ApiRequest): Promise<ApiResult> => {
      stats.requests++;
      let answer: Reply | undefined;
      try {
        answer = reply(req);
        const body = await readBody(req);
        const streams = decode(req, body);
        let bytes = 0;
        for (const s of streams) for (const e of s.entries) bytes += e.line.length;
        rate.take(String(req.headers['x-scope-orgid'] ?? 'fake'), bytes);
        // Near the heap limit a push is refused whole (503, retryable) rather than risk the process.
        const pressure = opts.memoryPressure?.();
        if (pressure !== undefined) throw new LimitError(503, `push refused: ${pressure}`, 5);
        const res = store.push(streams);
        stats.lines += res.accepted;
        stats.bytes += res.acceptedBytes;
        if (res.rejected.length) {
          for (const r of res.rejected) {
            const reason = r.reason.startsWith('entry too far in the future')
              ? 'too_new'
              : r.reason.startsWith(STREAM_LIMIT_PREFIX)
                ? 'max_streams'
                : 'out_of_order';
            if (reason === 'max_streams') stats.limitRefusals.add('max_streams');
            stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
          }
          const shown = res.rejected
            .slice(0, 10)
            .map(
              (r) =>
                `entry for stream '${JSON.stringify(Object.fromEntries(r.labels.map((l) => [l.name, l.value])))}' has timestamp ${r.t} ignored, reason: '${r.reason}'`,
            );
          const message = `${shown.join('\n')}${res.rejected.length > 10 ? `\n(and ${res.rejected.length - 10} more)` : ''}\ntotal ignored: ${res.rejected.length} out of ${res.accepted + res.rejected.length}`;
          return answer.partial ? answer.partial(res.rejected.length, message) : text(400, message);
        }
        return answer.ok();
      } catch (err) {
        if (err instanceof LimitError) {
          const reason = err.status === 429 ? 'rate_limited' : err.status === 413 ? 'too_large' : 'invalid';
          if (err.limit) stats.limitRefusals.add(err.limit);
          stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
          const headers = err.status === 429 || err.status === 503 ? { 'retry-after': String(err.retryAfterSec) } : undefined;
          return answer?.fail ? answer.fail(err.status, err.message, headers) : text(err.status, err.message + '\n', headers);
        }
        const sf = storageFailure(err);
        if (sf) {
          const reason = sf.status === 507 ? 'disk_full' : 'unavailable';
          stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
          const message = (err as Error).message;
          return answer?.fail ? answer.fail(sf.status, message, sf.headers) : text(sf.status, message + '\n', sf.headers);
        }
        throw err;
      }
    };

  const noContent = (): Reply => ({ ok: () => ({ kind: 'raw', status: 204, body: '' }) });
  router.on(
    'POST',
    '/loki/api/v1/push',
    handle((req, body) => {
      const ct = String(req.headers['content-type'] ?? 'application/x-protobuf');
      if (ct.startsWith('application/json')) return decodeLokiJson(body.toString('utf8'), limits);
      // Protobuf bodies are snappy-compressed unless a Content-Encoding said otherwise.
      const enc = String(req.headers['content-encoding'] ?? '');
      let raw = body;
      if (!enc) {
        try {
          raw = Buffer.from(snappy.decode(body, limits.maxRequestBytes));
        } catch (err) {
          throw new LimitError(400, `cannot decode snappy body: ${(err as Error).message}`);
        }
      }
      return decodeLokiProto(raw, limits);
    }, noContent),
  );
  // OTLP/HTTP: JSON or binary protobuf by Content-Type (gzip by Content-Encoding, in readBody). The
  // reply is in the request's encoding: an ExportLogsServiceResponse (with partial_success when the
  // store refused some records), or for a failure a google.rpc.Status.
  router.on(
    'POST',
    '/v1/logs',
    handle(
      (req, body) =>
        otlpEncoding(req) === 'protobuf' ? decodeOtlpLogsProto(body, limits, opts.now) : decodeOtlpLogsJson(body.toString('utf8'), limits, opts.now),
      (req) => OTLP_REPLIES[otlpEncoding(req)],
    ),
  );
  router.on(
    'POST',
    '/api/v1/logs/jsonl',
    handle((req, body) => {
      const q = req.query;
      const list = (k: string): string[] | undefined =>
        q.get(k)
          ? q
              .get(k)!
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined;
      const sf = list('stream_fields');
      const staticLabels = list('labels')?.map((p) => {
        const i = p.indexOf('=');
        return { name: p.slice(0, i), value: p.slice(i + 1) };
      });
      return decodeJsonl(
        body.toString('utf8'),
        {
          ...(q.get('time_field') ? { timeField: q.get('time_field')! } : {}),
          ...(q.get('level_field') ? { levelField: q.get('level_field')! } : {}),
          ...(q.get('msg_field') ? { msgField: q.get('msg_field')! } : {}),
          ...(sf ? { streamFields: sf } : {}),
          ...(staticLabels ? { staticLabels } : {}),
        },
        limits,
        (opts.now ?? Date.now)(),
      );
    }, noContent),
  );
  return stats;
}
