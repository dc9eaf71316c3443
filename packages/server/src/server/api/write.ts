/** `POST /api/v1/write`: the remote_write receiver behind HTTP. */
import { RemoteWriteError, type RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { ApiError } from './errors.js';
import { text, type Router } from './http.js';

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
    if (inflight >= maxInflight) {
      return { kind: 'raw', status: 503, body: 'too many concurrent writes; retry later\n', contentType: 'text/plain', headers: { 'retry-after': '1' } };
    }
    inflight++;
    try {
      const body = await req.body(maxBody);
      const enc = req.headers['content-encoding'];
      await receiver.write(body, typeof enc === 'string' ? enc.toLowerCase() : undefined);
      return { kind: 'raw', status: 204, body: '' };
    } catch (err) {
      if (err instanceof RemoteWriteError) {
        // Senders retry 5xx and drop 4xx, so only conditions that pass (overload, a full disk) are 5xx.
        if (err.kind === 'overloaded') return { kind: 'raw', status: 503, body: err.message + '\n', contentType: 'text/plain', headers: { 'retry-after': '1' } };
        if (err.kind === 'disk_full') return { kind: 'raw', status: 507, body: err.message + '\n', contentType: 'text/plain', headers: { 'retry-after': '10' } };
        return text(400, err.message + '\n');
      }
      if (err instanceof ApiError) return text(err.status, err.message + '\n');
      throw err;
    } finally {
      inflight--;
    }
  });
}
