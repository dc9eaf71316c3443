/**
 * Snappy decompression on a worker thread. Buffers travel between the threads by transfer, not
 * copy, and are recycled, so a stream of requests makes no garbage; replies come back in order.
 */
import { Worker } from 'node:worker_threads';
import { decodeSnappyInto, SnappyError, snappyDecodedLength } from '../../core/util/snappy.js';
import type { DecompressRequest, DecompressResponse } from './decompress_worker.js';

interface Pending {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/**
 * Bodies that decode to at most this many bytes are decoded inline. The trip to the worker costs
 * one more turn of the event loop, which a running query (5 ms slices plus garbage collection)
 * makes the slowest step of a small write's acknowledgement; and it costs CPU: with the worker, the
 * in-process ingest bench (testkit/bench/ingest_inproc.ts) spent about 40% more CPU per sample.
 * A MiB decodes in about 2.5 ms, a quarter of what appending its samples then takes on this thread
 * anyway (a 2,000-series request from Prometheus is about 350 KiB).
 */
export const INLINE_MAX_BYTES = 1024 * 1024;

/** How long the worker waits for another body before it ends (made again for the next large one). */
export const IDLE_EXIT_MS = 30_000;

/** At most this many bytes of decoded buffers are kept for reuse, however many bodies were in flight. */
const FREE_OUT_BYTES = 32 * 1024 * 1024;

/**
 * Decodes snappy bodies off the main thread once started; decodes inline small bodies
 * ({@link INLINE_MAX_BYTES}), and any body before {@link start}, after {@link stop}, or if the worker dies.
 */
export class DecompressPool {
  constructor(
    /** How long the worker waits for another body before it ends. */
    private readonly idleExitMs = IDLE_EXIT_MS,
  ) {}

  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly freeBodies: ArrayBuffer[] = [];
  private readonly freeOuts: ArrayBuffer[] = [];
  private freeOutBytes = 0;
  /** Decoded buffers lent out now (decoded, not yet released), inline or by the worker. */
  private lent = 0;
  /**
   * The most decoded buffers lent at once. As many are kept for reuse: with fewer, each concurrent
   * request past them decoded into a new buffer that lived until a full collection, tens of MiB of
   * garbage outside the heap under eight senders.
   */
  private peakLent = 4;

  private started = false;
  /** The worker was made (it is not made again if it dies, only after it ended for idleness). */
  private spawned = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Workers ended for idleness: they had no body, and the next one's bodies are not theirs to fail. */
  private readonly retired = new WeakSet<Worker>();
  /** Bodies sent to the worker so far. */
  offThread = 0;

  /** True while the worker thread is alive. */
  get workerAlive(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Lets the pool use a worker thread. Idempotent; until then (and after stop) bodies are decoded
   * inline. The thread is made for the first body too large to decode inline: an idle one costs
   * about 10 MiB, which a process that only ever gets small bodies (or none: an agent that only
   * scrapes) need not pay.
   */
  start(): void {
    this.started = true;
  }

  private spawn(): void {
    const w = new Worker(new URL('./decompress_worker.js', import.meta.url));
    w.unref();
    w.on('message', (res: DecompressResponse) => this.onReply(res));
    w.on('error', (err) => {
      if (!this.retired.has(w)) this.failAll(err);
    });
    w.on('exit', () => {
      if (this.retired.has(w)) return;
      if (this.worker === w) this.worker = undefined;
      this.failAll(new Error('decompression worker exited'));
    });
    this.worker = w;
  }

  private onReply(res: DecompressResponse): void {
    const p = this.pending.get(res.id);
    this.pending.delete(res.id);
    this.freeBodies.push(res.body);
    if (this.pending.size === 0) this.endWhenIdle();
    if (!p) return;
    if (res.error !== undefined) {
      if (res.out) this.keepOut(res.out);
      p.reject(new SnappyError(res.error));
      return;
    }
    this.lend();
    p.resolve(Buffer.from(res.out!, 0, res.length));
  }

  /** Ends the worker, and lets go of the buffers kept for it, unless a body comes within `idleExitMs`. */
  private endWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const w = this.worker;
      if (!w || this.pending.size > 0) return;
      this.worker = undefined;
      this.spawned = false;
      this.retired.add(w);
      void w.terminate();
      this.freeBodies.length = 0;
      this.freeOuts.length = 0;
      this.freeOutBytes = 0;
    }, this.idleExitMs);
    this.idleTimer.unref();
  }

  /** Keeps a decoded buffer for reuse if there is room. */
  private keepOut(out: ArrayBuffer): void {
    if (this.freeOuts.length >= this.peakLent || this.freeOutBytes + out.byteLength > FREE_OUT_BYTES) return;
    this.freeOuts.push(out);
    this.freeOutBytes += out.byteLength;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /**
   * Decompresses `body`. The result's memory is lent: hand it back with {@link release} when done.
   * Throws {@link SnappyError} for malformed input or an output above `maxLength`.
   */
  decode(body: Buffer, maxLength: number): Promise<Buffer> {
    const { length } = snappyDecodedLength(body);
    if (length > maxLength) return Promise.reject(new SnappyError(`decompressed length ${length} exceeds the limit of ${maxLength} bytes`));
    // Messages wait for a worker that is still starting, so the first large body can go to it.
    if (this.started && !this.spawned && length > INLINE_MAX_BYTES) {
      this.spawned = true;
      this.spawn();
    }
    const w = this.worker;
    if (!w || length <= INLINE_MAX_BYTES) {
      // Into a buffer of the pool's own, not one scratch buffer: requests decoded one after
      // another before the first is appended each need theirs, and a copy would cost as much as
      // decoding again.
      const into = this.takeOut();
      try {
        const decoded = decodeSnappyInto(body, into, maxLength);
        this.lend();
        return Promise.resolve(decoded);
      } catch (err) {
        // A malformed body does not cost the pool its buffer.
        if (into) this.keepOut(into);
        return Promise.reject(err as Error);
      }
    }
    this.offThread++;
    let ab = this.freeBodies.pop();
    if (!ab || ab.byteLength < body.length) ab = new ArrayBuffer(Math.max(body.length, 64 * 1024));
    new Uint8Array(ab).set(body);
    clearTimeout(this.idleTimer);
    const out = this.takeOut();
    const id = this.nextId++;
    const req: DecompressRequest = { id, body: ab, bodyLength: body.length, out, maxLength };
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage(req, out ? [ab, out] : [ab]);
    });
  }

  /** Returns a decoded buffer's memory for reuse. */
  release(decoded: Buffer): void {
    if (this.lent > 0) this.lent--;
    if (decoded.byteOffset === 0) this.keepOut(decoded.buffer as ArrayBuffer);
  }

  private lend(): void {
    if (++this.lent > this.peakLent) this.peakLent = this.lent;
  }

  /** A kept decoded buffer, if any. */
  private takeOut(): ArrayBuffer | undefined {
    const out = this.freeOuts.pop();
    if (out) this.freeOutBytes -= out.byteLength;
    return out;
  }

  /** Stops the worker. Idempotent. */
  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.started = false;
    this.spawned = false;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
