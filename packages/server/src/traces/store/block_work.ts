/**
 * Block writes and merges as resumable steps. They pause where the pacer says the slice is used up,
 * and they hand their fsyncs to whoever drives them: run in the background (a {@link BlockJob}
 * driven by {@link BlockJob.run}), an fsync waits in the thread pool while ingest acks go on;
 * straight through (stop, a cut on request, tests), it is `fsyncSync`. Syncing a 100,000-span
 * block held the event loop for tens of milliseconds on its own.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { TimeSlicer } from '../../core/util/pace.js';

/** A file descriptor the work needs synced before it goes on. */
export interface FsyncRequest {
  readonly fsync: number;
}

/** Work that pauses (plain `yield`) or asks for an fsync (`yield { fsync: fd }`; a failure is thrown back into it). */
export type BlockWork<T> = Generator<void | FsyncRequest, T, void>;

const fsyncInPool = promisify(fs.fsync);

/** One run of block work, in slices or (from wherever it paused) straight through. */
export class BlockJob<T> {
  /** The fsync the sliced driver is waiting for, to redo synchronously if the job is finished meanwhile. */
  private pendingFsync: number | undefined;
  private taken = false;

  constructor(private readonly work: BlockWork<T>) {}

  /** Drives the work in slices; resolves with its result, or undefined when finishNow() or abandon() took it over. */
  async run(slicer: TimeSlicer): Promise<T | undefined> {
    if (this.taken) return undefined;
    let r = this.work.next();
    while (r.done !== true) {
      const request = r.value;
      let failure: unknown;
      if (request) {
        this.pendingFsync = request.fsync;
        try {
          await fsyncInPool(request.fsync);
        } catch (err) {
          failure = err;
        }
      } else if (slicer.due()) await slicer.pause();
      if (this.taken) return undefined;
      this.pendingFsync = undefined;
      r = failure === undefined ? this.work.next() : this.work.throw(failure);
    }
    this.taken = true;
    return r.value;
  }

  /** Runs the rest of the work now, without pausing; the sliced driver then stops. */
  finishNow(): T {
    this.taken = true;
    let r: IteratorResult<void | FsyncRequest, T>;
    const pending = this.pendingFsync;
    this.pendingFsync = undefined;
    r = pending === undefined ? this.work.next() : this.stepAfterFsync(pending);
    while (r.done !== true) r = r.value ? this.stepAfterFsync(r.value.fsync) : this.work.next();
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

/** Runs block work straight through. */
export function runBlockWork<T>(work: BlockWork<T>): T {
  return new BlockJob(work).finishNow();
}
