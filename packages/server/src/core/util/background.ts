/**
 * Background jobs of a store (flushes, merges, checkpoints, retention) on the thread that
 * acknowledges writes. A job is a generator: it pauses (plain `yield`) where the pacer says its
 * slice is used up, and it asks its driver for each fsync (`yield { fsync: fd }`; a failure is
 * thrown back into it). Driven in slices ({@link SteppedJob.run}), an fsync waits in the thread
 * pool while acks go on; straight through (stop, an explicit flush, tests), it is `fsyncSync`.
 * Syncing a 100,000-span trace block held the event loop for tens of milliseconds on its own.
 *
 * {@link BackgroundJobs} runs a store's jobs one at a time, in the order they were queued.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { BACKGROUND_SLICE_MS, TimeSlicer, type Pacer } from './pace.js';

/** A file descriptor the work needs synced before it goes on. */
export interface FsyncRequest {
  readonly fsync: number;
}

/** Work that pauses (`yield`) or asks for an fsync (`yield { fsync: fd }`). */
export type BackgroundWork<T> = Generator<void | FsyncRequest, T, void>;

const fsyncInPool = promisify(fs.fsync);

/** One run of background work, in slices or (from wherever it paused) straight through. */
export class SteppedJob<T> {
  /** The fsync the sliced driver waits for, to redo synchronously if the job is finished meanwhile. */
  private pendingFsync: number | undefined;
  private taken = false;
  /** Where the work is: what its last step yielded (undefined before the first). */
  private current: IteratorResult<void | FsyncRequest, T> | undefined;

  constructor(private readonly work: BackgroundWork<T>) {}

  /**
   * Drives the work in slices; resolves with its result, or undefined when finishNow() or
   * abandon() took it over, or `goOn` said no at a pause (the work is then left where it is).
   */
  async run(slicer: TimeSlicer, goOn: () => boolean = () => true): Promise<T | undefined> {
    if (this.taken) return undefined;
    this.current = this.work.next();
    while (this.current.done !== true) {
      const request = this.current.value;
      if (request) {
        let failure: unknown;
        this.pendingFsync = request.fsync;
        try {
          await fsyncInPool(request.fsync);
        } catch (err) {
          failure = err;
        }
        if (this.taken || !goOn()) return undefined;
        this.pendingFsync = undefined;
        this.current = failure === undefined ? this.work.next() : this.work.throw(failure);
        continue;
      }
      if (slicer.due()) await slicer.pause();
      if (this.taken || !goOn()) return undefined;
      // stepFor() may have moved the work on meanwhile, to an fsync request or to its end.
      const moved = this.current as IteratorResult<void | FsyncRequest, T>;
      if (moved.done === true || moved.value) continue;
      this.current = this.work.next();
    }
    this.taken = true;
    return this.current.value;
  }

  /**
   * Moves the work on synchronously for about `ms` (a caller paying for a backlog, such as an
   * append while blocks wait to be written). Stops at an fsync request or the end, left for the
   * sliced driver; does nothing while that driver waits for an fsync or before it started.
   */
  stepFor(ms: number): void {
    const at = this.current;
    if (this.taken || this.pendingFsync !== undefined || at === undefined || at.done === true || at.value) return;
    const end = performance.now() + ms;
    do this.current = this.work.next();
    while (this.current.done !== true && !this.current.value && performance.now() < end);
  }

  /** Runs the rest of the work now, without pausing; the sliced driver then stops. */
  finishNow(): T {
    this.taken = true;
    const pending = this.pendingFsync;
    this.pendingFsync = undefined;
    const at = this.current;
    let r: IteratorResult<void | FsyncRequest, T>;
    if (pending !== undefined) r = this.stepAfterFsync(pending);
    // Already at an fsync request or the end (stepFor() got there), or at a plain pause.
    else if (at !== undefined && (at.done === true || at.value)) r = at;
    else r = this.work.next();
    while (r.done !== true) r = r.value ? this.stepAfterFsync(r.value.fsync) : this.work.next();
    this.current = r;
    return r.value;
  }

  /** Stops the work where it paused (its `finally` blocks run), as a crash would leave it. */
  abandon(): void {
    this.taken = true;
    this.work.return(undefined as never);
  }

  private stepAfterFsync(fd: number): IteratorResult<void | FsyncRequest, T> {
    try {
      fs.fsyncSync(fd);
    } catch (err) {
      return this.work.throw(err);
    }
    return this.work.next();
  }
}

/** Runs background work straight through. */
export function runStraight<T>(work: BackgroundWork<T>): T {
  return new SteppedJob(work).finishNow();
}

/** Options of a {@link BackgroundJobs} queue. */
export interface BackgroundJobsOptions {
  /** False once the store stopped: a queued job does not start, a running one stops at its next pause. */
  readonly isOpen: () => boolean;
  /** Where a job's error goes (it never rejects the queue). */
  readonly onError: (err: unknown) => void;
  /** The slice, ms (default {@link BACKGROUND_SLICE_MS}). */
  readonly sliceMs?: number;
}

/** A store's background jobs, run one at a time in slices, while appends and queries go on between slices. */
export class BackgroundJobs {
  private tail: Promise<void> = Promise.resolve();
  private running: SteppedJob<unknown> | undefined;
  /** Names of jobs queued with {@link once} that have not finished. */
  private readonly pending = new Set<string>();

  constructor(private readonly o: BackgroundJobsOptions) {}

  /** Queues `work` (made when its turn comes, with the pacer of its slices); resolves once it ran or failed. */
  add(work: (pace: Pacer) => BackgroundWork<unknown>): Promise<void> {
    const run = this.tail.then(async () => {
      if (!this.o.isOpen()) return;
      const slicer = new TimeSlicer({ sliceMs: this.o.sliceMs ?? BACKGROUND_SLICE_MS });
      const job = new SteppedJob(work(slicer));
      this.running = job;
      try {
        await job.run(slicer, this.o.isOpen);
      } finally {
        if (this.running === job) this.running = undefined;
      }
    });
    this.tail = run.catch((err: unknown) => this.o.onError(err));
    return this.tail;
  }

  /** {@link add}, unless a job of this name is queued or running: then that one's turn is awaited. */
  once(name: string, work: (pace: Pacer) => BackgroundWork<unknown>): Promise<void> {
    if (this.pending.has(name)) return this.tail;
    this.pending.add(name);
    return this.add(work).finally(() => this.pending.delete(name));
  }

  /** Resolves once the jobs queued so far are done. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Moves the running job on for about `ms`, synchronously (see {@link SteppedJob.stepFor}). */
  stepRunning(ms: number): void {
    this.running?.stepFor(ms);
  }

  /** Finishes the running job now, straight through (its driver then finds it done). */
  finishRunning(): void {
    const job = this.running;
    this.running = undefined;
    job?.finishNow();
  }

  /** Stops the running job where it paused, as a crash would. */
  abandonRunning(): void {
    const job = this.running;
    this.running = undefined;
    job?.abandon();
  }
}
