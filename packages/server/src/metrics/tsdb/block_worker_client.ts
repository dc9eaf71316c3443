/**
 * Block writing on a worker thread. A head cut of a million series, or a merge of two such blocks,
 * is seconds of CPU and hundreds of MiB of short-lived objects; on the thread that acknowledges
 * writes, even in slices, the garbage collector then stopped that thread for hundreds of ms at a
 * time (marking a head of that size), so the whole job runs on its own thread and heap instead.
 * The event loop's thread only lists what to write ({@link HeadImageWriter}, in slices, without an
 * object per series) and opens the finished block in slices.
 *
 * One thread per store, made for a job and ended once no job has come for {@link IDLE_EXIT_MS}: its
 * heap and isolate (tens of MiB after a head cut) are not kept between flushes two hours apart,
 * while a flush's head cut and the merges after it share one thread (crash points count their
 * passes within its life). It holds the process open only while a job runs. Jobs are one at a time
 * (the store's background queue already runs one job at a time).
 */
import { Worker } from 'node:worker_threads';
import { StorageError, type StorageErrorCode } from '../../core/errors.js';
import type { BlockMeta } from './block_format.js';
import type { BlockWriteStep } from './block_writer.js';
import type { BlockJob, BlockJobReply, ChunkDamage } from './block_worker.js';
import type { HeadImage } from './head_image.js';

/** A block job as the store gives it (the id is added here). */
export type BlockJobSpec = DistributiveOmit<Exclude<BlockJob, { type: 'go' }>, 'id' | 'relaySteps'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A failed job: the error, and damaged chunks a merge met in its sources. */
export class BlockJobError extends Error {
  constructor(
    readonly error: Error,
    readonly damage: ChunkDamage[],
  ) {
    super(error.message);
  }
}

/**
 * The thread's young generation, MiB (V8 makes it three semi-spaces). V8's default lets it grow to
 * three 16 MiB semi-spaces, and converting a head's chunks makes enough short-lived garbage to fill
 * them: about 50 MiB more peak RSS in a flush. Few objects survive here, so small ones cost little.
 * (The snappy decoder's thread is left at the default: the same limit there cut remote_write
 * throughput by a quarter at equal CPU.)
 */
const YOUNG_GENERATION_MB = 6;

/** How long the thread waits for another job before it ends. */
export const IDLE_EXIT_MS = 10_000;

interface Pending {
  resolve: (meta: BlockMeta) => void;
  reject: (err: Error) => void;
  hold: ((step: BlockWriteStep) => Promise<void> | void) | undefined;
}

/** Runs block jobs on a worker thread. */
export class BlockWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Threads ended for idleness: they had no job, and the next one's jobs are not theirs to fail. */
  private readonly retired = new WeakSet<Worker>();

  constructor(
    /** How long the thread waits for another job before it ends. */
    private readonly idleExitMs = IDLE_EXIT_MS,
  ) {}

  /** True while a thread is alive (running a job, or waiting for the next). */
  get threadAlive(): boolean {
    return this.worker !== undefined;
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./block_worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    w.unref();
    w.on('message', (m: BlockJobReply) => this.onReply(w, m));
    w.on('error', (err) => {
      if (!this.retired.has(w)) this.failAll(err);
    });
    w.on('exit', (code) => {
      if (this.retired.has(w)) return;
      if (this.worker === w) this.worker = undefined;
      this.failAll(new Error(`block writer thread exited (code ${code})`));
    });
    this.worker = w;
    return w;
  }

  private onReply(w: Worker, m: BlockJobReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'step') {
      void Promise.resolve(p.hold?.(m.step)).then(() => w.postMessage({ type: 'go', id: m.id } satisfies BlockJob));
      return;
    }
    this.pending.delete(m.id);
    if (this.pending.size === 0) {
      w.unref();
      this.endWhenIdle(w);
    }
    if (m.type === 'done') p.resolve(m.meta);
    else {
      const cause = m.code !== undefined ? new StorageError(m.code as StorageErrorCode, m.message) : new Error(m.message);
      p.reject(new BlockJobError(cause, m.damage));
    }
  }

  /** Ends `w` unless a job comes within `idleExitMs`. */
  private endWhenIdle(w: Worker): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.worker !== w || this.pending.size > 0) return;
      this.worker = undefined;
      this.retired.add(w);
      void w.terminate();
    }, this.idleExitMs);
    this.idleTimer.unref();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /**
   * Writes a block on the worker and returns its meta. A head image's pages are handed over
   * (transferred: unusable here afterwards). `hold` is awaited at each step of the write.
   */
  write(spec: BlockJobSpec, hold?: (step: BlockWriteStep) => Promise<void> | void): Promise<BlockMeta> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const w = this.worker ?? this.spawn();
    const id = this.nextId++;
    const job = { ...spec, id, relaySteps: hold !== undefined } as BlockJob;
    const transfer = spec.type === 'head' ? (spec.image as HeadImage).pages : [];
    return new Promise<BlockMeta>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, hold });
      // Held open while a job runs: an awaited flush must not see the process exit under it.
      w.ref();
      w.postMessage(job, transfer);
    });
  }

  /** Ends the thread. Idempotent. */
  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
