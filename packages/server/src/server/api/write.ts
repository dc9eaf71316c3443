/** `POST /api/v1/write`: the remote_write receiver behind HTTP. */
import { RemoteWriteError, type RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
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
      const body = await req.body(maxBody);
      const enc = req.headers['content-encoding'];
      await receiver.write(body, typeof enc === 'string' ? enc.toLowerCase() : undefined);
      return { kind: 'raw', status: 204, body: '' };
    } catch (err) {
      return refusal(err);
    } finally {
      inflight--;
    }
  });
}

/** The plain-text answer to a refused write; statuses come from the remote-write table in errors.ts. */
function refusal(err: unknown): ApiResult {
  const answer = remoteWriteAnswer(err);
  if (answer === undefined) throw err;
  const body = (err as Error).message + '\n';
  if (answer.retryAfterSec === undefined) return text(answer.status, body);
  return { kind: 'raw', status: answer.status, body, contentType: 'text/plain', headers: { 'retry-after': String(answer.retryAfterSec) } };
}
