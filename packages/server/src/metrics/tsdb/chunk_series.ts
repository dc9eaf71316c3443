/** Series assembled from chunks, shared by the head and blocks. */
import type { Labels } from '../../core/model/labels.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { isStaleNaN } from '../../core/model/value.js';
import { type FloatSink, reserveFloats, type SampleIterator, type Series, type SeriesSet } from '../storage/interface.js';
import { XorIterator } from './chunkenc/xor.js';
import { DecodedIterator } from './decoded_chunks.js';

/** A chunk that can be iterated, with its time bounds. */
export interface ChunkMeta {
  readonly mint: number;
  readonly maxt: number;
  iterator(): SampleIterator;
  /**
   * Called when decoding the chunk fails part-way (damaged bytes); the rest of the chunk is then
   * skipped. Without it the error propagates (head chunks cannot be damaged on disk).
   */
  onError?(err: unknown): void;
}

/** Opens chunks for a read: the head's opener serves immutable chunks from the decoded-chunk cache. */
export type ChunkOpener = (c: ChunkMeta) => SampleIterator;

/** An iterator with no samples (what a damaged chunk yields). */
export const EMPTY_ITERATOR: SampleIterator = {
  next: () => false,
  seek: () => false,
  t: () => NaN,
  v: () => NaN,
};

/** Iterates consecutive, time-ordered chunks, yielding only samples within [mint, maxt]. */
export class ChunksIterator implements SampleIterator {
  private readonly chunks: readonly ChunkMeta[];
  private readonly mint: number;
  private readonly maxt: number;
  private idx = -1;
  private cur: SampleIterator | undefined;
  private readonly open: ChunkOpener | undefined;

  constructor(chunks: readonly ChunkMeta[], mint: number, maxt: number, open?: ChunkOpener) {
    this.chunks = chunks;
    this.mint = mint;
    this.maxt = maxt;
    this.open = open;
  }

  private nextChunk(): boolean {
    while (++this.idx < this.chunks.length) {
      const c = this.chunks[this.idx]!;
      if (c.maxt < this.mint) continue;
      if (c.mint > this.maxt) break;
      this.cur = this.open !== undefined ? this.open(c) : c.iterator();
      return true;
    }
    this.cur = undefined;
    this.idx = this.chunks.length;
    return false;
  }

  next(): boolean {
    for (;;) {
      if (this.cur === undefined && !this.nextChunk()) return false;
      const it = this.cur!;
      // A try block costs nothing in optimised code until something throws.
      try {
        while (it.next()) {
          const t = it.t();
          if (t < this.mint) continue;
          if (t > this.maxt) {
            this.idx = this.chunks.length;
            this.cur = undefined;
            return false;
          }
          return true;
        }
      } catch (err) {
        const onError = this.chunks[this.idx]?.onError;
        if (!onError) throw err;
        onError(err);
      }
      this.cur = undefined;
    }
  }

  seek(t: number): boolean {
    if (this.cur !== undefined && this.cur.t() >= t && this.cur.t() >= this.mint) return true;
    // Skip whole chunks that end before t.
    while (this.idx + 1 < this.chunks.length && this.chunks[this.idx + 1]!.maxt < t) {
      this.idx++;
      this.cur = undefined;
    }
    // Within a chunk, its own seek (the XOR one decodes in bulk).
    const target = Math.max(t, this.mint);
    for (;;) {
      if (this.cur === undefined && !this.nextChunk()) return false;
      const it = this.cur!;
      try {
        if (it.seek(target)) {
          if (it.t() <= this.maxt) return true;
          this.spent();
          return false;
        }
      } catch (err) {
        const onError = this.chunks[this.idx]?.onError;
        if (!onError) throw err;
        onError(err);
      }
      this.cur = undefined;
    }
  }

  /** {@link SampleIterator.readFloats}: cached and XOR chunks in bulk, other chunks sample by sample. */
  readFloats(maxt: number, sink: FloatSink, dropStale: boolean): boolean {
    if (maxt > this.maxt) maxt = this.maxt;
    for (;;) {
      const it = this.cur;
      if (it === undefined) return true;
      try {
        if (it instanceof DecodedIterator) {
          if (it.readRun(maxt, sink, dropStale)) return this.spent();
        } else if (it instanceof XorIterator && it.constructor === XorIterator) {
          if (it.readFloatRun(maxt, sink, dropStale)) return this.spent();
        } else {
          // Asked how it stopped, not by t(): an iterator that ran out has no current sample.
          const stop = readFloatsOneByOne(it, maxt, sink, dropStale);
          if (stop === 'histogram') return false;
          if (stop === 'past') return this.spent();
        }
      } catch (err) {
        const onError = this.chunks[this.idx]?.onError;
        if (!onError) throw err;
        onError(err);
        this.cur = undefined;
      }
      // The chunk is read: on to the first sample of the next one (next() skips spent chunks).
      if (!this.next()) return true;
    }
  }

  private spent(): true {
    this.idx = this.chunks.length;
    this.cur = undefined;
    return true;
  }

  t(): number {
    return this.cur!.t();
  }

  v(): number {
    return this.cur!.v();
  }

  h(): FloatHistogram | undefined {
    return this.cur!.h?.();
  }
}

/**
 * Appends `it`'s float samples from the current one on up to `maxt`, and says where it stopped: on
 * a histogram sample, on the first sample past `maxt`, or at the end of the iterator.
 */
function readFloatsOneByOne(it: SampleIterator, maxt: number, sink: FloatSink, dropStale: boolean): 'histogram' | 'past' | 'end' {
  do {
    if (it.t() > maxt) return 'past';
    if (it.h?.() !== undefined) return 'histogram';
    const v = it.v();
    if (dropStale && isStaleNaN(v)) continue;
    reserveFloats(sink, 1);
    sink.ts[sink.n] = it.t();
    sink.vs[sink.n] = v;
    sink.n++;
  } while (it.next());
  return 'end';
}

/** A series backed by chunks, limited to a time range. */
export class ChunkSeries implements Series {
  readonly labels: Labels;
  private readonly chunks: readonly ChunkMeta[];
  private readonly mint: number;
  private readonly maxt: number;
  private readonly open: ChunkOpener | undefined;

  constructor(labels: Labels, chunks: readonly ChunkMeta[], mint: number, maxt: number, open?: ChunkOpener) {
    this.labels = labels;
    this.chunks = chunks;
    this.mint = mint;
    this.maxt = maxt;
    this.open = open;
  }

  iterator(): SampleIterator {
    return new ChunksIterator(this.chunks, this.mint, this.maxt, this.open);
  }
}

/** A series read as one sample: its newest, for a selection with the `latestOnly` hint. */
export class LatestSampleSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly t: number,
    private readonly v: number,
  ) {}

  iterator(): SampleIterator {
    return new OneSampleIterator(this.t, this.v);
  }
}

/** Iterates a single float sample. */
class OneSampleIterator implements SampleIterator {
  /** Before the sample (0), on it (1), past it (2). */
  private at = 0;

  constructor(
    private readonly ts: number,
    private readonly val: number,
  ) {}

  next(): boolean {
    if (this.at < 2) this.at++;
    return this.at === 1;
  }

  seek(t: number): boolean {
    if (this.at === 0) this.at = 1;
    if (this.at === 1 && this.ts < t) this.at = 2;
    return this.at === 1;
  }

  t(): number {
    return this.ts;
  }

  v(): number {
    return this.val;
  }
}

/** A series set over an array of series, already sorted. */
export class ArraySeriesSet implements SeriesSet {
  private readonly list: readonly Series[];
  private readonly warns: readonly string[];
  private i = -1;

  constructor(list: readonly Series[], warnings: readonly string[] = []) {
    this.list = list;
    this.warns = warnings;
  }

  next(): boolean {
    return ++this.i < this.list.length;
  }

  at(): Series {
    return this.list[this.i]!;
  }

  warnings(): readonly string[] {
    return this.warns;
  }
}
