/**
 * `POST /api/v1/write`: the remote_write receiver behind HTTP. The Content-Type's `proto` parameter
 * picks the message: none or `prometheus.WriteRequest` is 1.0, `io.prometheus.write.v2.Request`
 * is 2.0 (answered with the X-Prometheus-Remote-Write-*-Written headers, on success and refusal
 * alike), anything else is a 415 as the 2.0 specification asks.
 */
import { RemoteWriteError, type RemoteWriteReceiver, type V2Written } from '../../metrics/remotewrite/receiver.js';
import { RW1_PROTO, RW2_PROTO } from '../../metrics/remotewrite/v2.js';
import { remoteWriteAnswer } from './errors.js';
import { text, type ApiResult, type Router } from './http.js';

/** Options for the write endpoint. */
export interface WriteApiOptions {
  /** Largest accepted compressed body. */
  maxBodyBytes?: number;
  /** Requests being read or decoded at once before new ones are told to retry later. */
  maxInflight?: number;
}

/** Registers the remote_write endpoint. */
export function registerWriteApi(router: Router, receiver: RemoteWriteReceiver, opts: WriteApiOptions = {}): void {
  const maxBody = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const maxInflight = opts.maxInflight ?? 64;
  let inflight = 0;
  router.on('POST', '/api/v1/write', async (req) => {
    if (inflight >= maxInflight) return refusal(new RemoteWriteError('overloaded', 'too many concurrent writes; retry later'));
    inflight++;
    try {
      const proto = protoOf(String(req.headers['content-type'] ?? ''));
      if (proto !== undefined && proto !== RW1_PROTO && proto !== RW2_PROTO)
        throw new RemoteWriteError('unsupported_media_type', `unsupported remote_write message proto=${proto}; want ${RW1_PROTO} (1.0) or ${RW2_PROTO} (2.0)`);
      const body = await req.body(maxBody);
      const enc = req.headers['content-encoding'];
      const encoding = typeof enc === 'string' ? enc.toLowerCase() : undefined;
      if (proto === RW2_PROTO) {
        try {
          return { kind: 'raw', status: 204, body: '', headers: writtenHeaders(await receiver.writeV2(body, encoding)) };
        } catch (err) {
          const res = refusal(err);
          if (res.kind === 'raw') res.headers = { ...res.headers, ...writtenHeaders(err instanceof RemoteWriteError ? err.written : undefined) };
          return res;
        }
      }
      await receiver.write(body, encoding);
      return { kind: 'raw', status: 204, body: '' };
    } catch (err) {
      return refusal(err);
    } finally {
      inflight--;
    }
  });
}

/** The `proto` parameter of a Content-Type, or undefined without one. */
export function protoOf(contentType: string): string | undefined {
  for (const part of contentType.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === 'proto')
      return part
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '');
  }
  return undefined;
}

/** The response headers remote_write 2.0 requires: what was written (all zero when nothing was). */
function writtenHeaders(w: V2Written | undefined): Record<string, string> {
  return {
    'x-prometheus-remote-write-samples-written': String(w?.samples ?? 0),
    'x-prometheus-remote-write-histograms-written': String(w?.histograms ?? 0),
    'x-prometheus-remote-write-exemplars-written': String(w?.exemplars ?? 0),
  };
}

/** The plain-text answer to a refused write; statuses come from the remote-write table in errors.ts. */
function refusal(err: unknown): ApiResult {
  const answer = remoteWriteAnswer(err);
  if (answer === undefined) throw err;
  const body = (err as Error).message + '\n';
  if (answer.retryAfterSec === undefined) return text(answer.status, body);
  return { kind: 'raw', status: answer.status, body, contentType: 'text/plain', headers: { 'retry-after': String(answer.retryAfterSec) } };
}
