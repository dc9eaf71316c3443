/**
 * A chunk of native-histogram samples held in the head as objects (time-ordered parallel arrays).
 * The head keeps histograms in memory only for now; an encoded form (Prometheus' histogram chunk
 * encoding) comes with their WAL record and block format.
 */
import type { FloatHistogram } from '../../core/model/histogram.js';
import type { SampleIterator } from '../storage/interface.js';
import type { ChunkMeta } from './chunk_series.js';

/** An open or full chunk of histogram samples. */
export class HistogramChunk {
  readonly ts: number[] = [];
  readonly hs: FloatHistogram[] = [];

  /** @param end exclusive upper time bound (the next multiple of the head's chunk range) */
  constructor(readonly end: number) {}

  get count(): number {
    return this.ts.length;
  }

  get mint(): number {
    return this.ts[0] ?? Infinity;
  }

  get maxt(): number {
    return this.ts[this.ts.length - 1] ?? -Infinity;
  }

  append(t: number, h: FloatHistogram): void {
    this.ts.push(t);
    this.hs.push(h);
  }

  /** What the chunk holds now: later appends are not seen by iterators made from it. */
  snapshot(): ChunkMeta {
    const n = this.ts.length;
    const ts = this.ts;
    const hs = this.hs;
    return { mint: ts[0]!, maxt: ts[n - 1]!, iterator: () => new HistogramChunkIterator(ts, hs, n) };
  }
}

/** Iterates the first `n` samples of a histogram chunk; `v()` is NaN, `h()` the histogram. */
export class HistogramChunkIterator implements SampleIterator {
  private i = -1;

  constructor(
    private readonly ts: readonly number[],
    private readonly hs: readonly FloatHistogram[],
    private readonly n: number,
  ) {}

  next(): boolean {
    if (this.i < this.n) this.i++;
    return this.i < this.n;
  }

  seek(t: number): boolean {
    if (this.i < 0) this.i = 0;
    while (this.i < this.n && this.ts[this.i]! < t) this.i++;
    return this.i < this.n;
  }

  t(): number {
    return this.ts[this.i]!;
  }

  v(): number {
    return NaN;
  }

  h(): FloatHistogram | undefined {
    return this.hs[this.i];
  }
}
