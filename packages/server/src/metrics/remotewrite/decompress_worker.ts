/**
 * The worker side of {@link DecompressPool}: decodes snappy bodies into buffers handed to it, so
 * decompression runs on another core than the one appending to storage.
 */
import { parentPort } from 'node:worker_threads';
import { decodeSnappyInto, SnappyError } from '../../core/util/snappy.js';

/** A request to the worker: `body` holds `bodyLength` compressed bytes; `out` is a buffer to reuse. */
export interface DecompressRequest {
  id: number;
  body: ArrayBuffer;
  bodyLength: number;
  out: ArrayBuffer | undefined;
  maxLength: number;
}

/** The worker's answer: `out[0, length)` holds the decoded bytes, or `error` says why not. */
export interface DecompressResponse {
  id: number;
  body: ArrayBuffer;
  out: ArrayBuffer | undefined;
  length: number;
  error: string | undefined;
}

parentPort?.on('message', (req: DecompressRequest) => {
  const body = Buffer.from(req.body, 0, req.bodyLength);
  let res: DecompressResponse;
  try {
    const decoded = decodeSnappyInto(body, req.out, req.maxLength);
    res = { id: req.id, body: req.body, out: decoded.buffer as ArrayBuffer, length: decoded.length, error: undefined };
  } catch (err) {
    res = { id: req.id, body: req.body, out: req.out, length: 0, error: err instanceof SnappyError ? err.message : String(err) };
  }
  const transfer = [res.body, ...(res.out ? [res.out] : [])];
  parentPort!.postMessage(res, transfer);
});
