/**
 * Out-of-order float samples of a head series (Prometheus' `out_of_order_time_window`): a sample
 * older than its series' newest, but within the window of the head's newest time, is kept in a
 * small sorted buffer beside the series' in-order chunks. Queries see both as one time-ordered
 * series; a block cut re-encodes the in-order chunks it takes together with the buffer's samples
 * before the cut, so blocks never overlap and block compaction stays as it is.
 *
 * A timestamp is held once per series: one already stored (in order or not) with the same value
 * is a resend, with another value a conflict that is refused.
 */
import type { FloatHistogram } from '../../core/model/histogram.js';
import type { SampleIterator } from '../storage/interface.js';
import { ChunksIterator, type ChunkMeta } from './chunk_series.js';
import { XorEncoder } from './chunkenc/xor.js';
import { toBlockChunk } from './chunkenc/blockchunk.js';
import type { ChunkData } from './block_format.js';
import { sameValue } from './append_batch.js';

/** Prometheus' suggested window and Vigil's default for the server: 30 minutes. */
export const DEFAULT_OUT_OF_ORDER_WINDOW_MS = 30 * 60_000;

/** Time-sorted samples with distinct timestamps; values in a Float64Array so NaN payloads (staleness markers) survive. */
export class OooSamples {
  ts = new Float64Array(8);
  vs = new Float64Array(8);
  n = 0;

  /** The index of the first sample at or after `t`. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The value at `t`, or undefined when no sample has that timestamp. */
  valueAt(t: number): number | undefined {
    const i = this.lowerBound(t);
    return i < this.n && this.ts[i] === t ? this.vs[i] : undefined;
  }

  /** Inserts a sample whose timestamp the buffer does not hold (the caller checked). */
  insert(t: number, v: number): void {
    if (this.n === this.ts.length) {
      const ts = new Float64Array(this.n * 2);
      const vs = new Float64Array(this.n * 2);
      ts.set(this.ts);
      vs.set(this.vs);
      this.ts = ts;
      this.vs = vs;
    }
    const i = this.lowerBound(t);
    this.ts.copyWithin(i + 1, i, this.n);
    this.vs.copyWithin(i + 1, i, this.n);
    this.ts[i] = t;
    this.vs[i] = v;
    this.n++;
  }

  /** Drops the samples before `t`. */
  dropBefore(t: number): void {
    const k = this.lowerBound(t);
    if (k === 0) return;
    this.ts.copyWithin(0, k, this.n);
    this.vs.copyWithin(0, k, this.n);
    this.n -= k;
  }

  get mint(): number {
    return this.n > 0 ? this.ts[0]! : Infinity;
  }

  get maxt(): number {
    return this.n > 0 ? this.ts[this.n - 1]! : -Infinity;
  }

  /** A copy of the samples within [mint, maxt], so a query does not see later inserts shift them. */
  slice(mint: number, maxt: number): { ts: Float64Array; vs: Float64Array } {
    const a = this.lowerBound(mint);
    const b = this.lowerBound(maxt + 1);
    return { ts: this.ts.slice(a, b), vs: this.vs.slice(a, b) };
  }
}

/**
 * The value a series' in-order chunks hold at `t`, or undefined. `chunks` are those overlapping
 * [t, t]; each is decoded up to `t` (at most a chunk's worth of samples: out-of-order writes are rare).
 */
export function inOrderValueAt(chunks: readonly ChunkMeta[], t: number): number | undefined {
  for (const c of chunks) {
    const it = c.iterator();
    if (it.seek(t) && it.t() === t && it.h?.() === undefined) return it.v();
  }
  return undefined;
}

/** What an out-of-order sample meets in its series: nothing at its time, the same value, or another one. */
export function oooConflict(existing: number | undefined, v: number): 'none' | 'same' | 'conflict' {
  if (existing === undefined) return 'none';
  return sameValue(existing, v) ? 'same' : 'conflict';
}

/** Two time-ordered iterators as one; they never share a timestamp (see the module comment). */
class MergeIterator implements SampleIterator {
  /** The next buffered sample not yet handed out. */
  private ai: number;
  /** Whether the chunk iterator sits on a sample not yet handed out. */
  private bHas = false;
  private started = false;
  private cur: 'chunks' | 'ooo' | undefined;

  constructor(
    private readonly chunks: SampleIterator,
    private readonly ts: Float64Array,
    private readonly vs: Float64Array,
    private readonly maxt: number,
  ) {
    // The buffer was sliced to the query's range already.
    this.ai = 0;
  }

  next(): boolean {
    if (!this.started) {
      this.started = true;
      this.bHas = this.chunks.next();
    } else if (this.cur === 'chunks') this.bHas = this.chunks.next();
    else if (this.cur === 'ooo') this.ai++;
    else return false;
    const aHas = this.ai < this.ts.length && this.ts[this.ai]! <= this.maxt;
    if (aHas && (!this.bHas || this.ts[this.ai]! < this.chunks.t())) this.cur = 'ooo';
    else if (this.bHas) this.cur = 'chunks';
    else this.cur = undefined;
    return this.cur !== undefined;
  }

  seek(t: number): boolean {
    if (this.cur !== undefined && this.t() >= t) return true;
    while (this.next()) if (this.t() >= t) return true;
    return false;
  }

  t(): number {
    return this.cur === 'ooo' ? this.ts[this.ai]! : this.chunks.t();
  }

  v(): number {
    return this.cur === 'ooo' ? this.vs[this.ai]! : this.chunks.v();
  }

  h(): FloatHistogram | undefined {
    return this.cur === 'ooo' ? undefined : this.chunks.h?.();
  }
}

/**
 * One chunk standing for a series' in-order chunks and its buffered samples within [mint, maxt],
 * merged in time order (what the head querier hands out for a series with out-of-order samples).
 */
export function mergedChunk(inOrder: readonly ChunkMeta[], ooo: OooSamples, mint: number, maxt: number): ChunkMeta | undefined {
  const { ts, vs } = ooo.slice(mint, maxt);
  if (ts.length === 0) return undefined;
  const lo = Math.min(ts[0]!, inOrder[0]?.mint ?? Infinity);
  const hi = Math.max(ts[ts.length - 1]!, inOrder[inOrder.length - 1]?.maxt ?? -Infinity);
  return {
    mint: lo,
    maxt: hi,
    iterator: () => new MergeIterator(new ChunksIterator(inOrder, mint, maxt), ts, vs, maxt),
  };
}

/**
 * Block chunks for a series' in-order float chunks before `end` merged with its buffered samples
 * before `end`, re-encoded `samplesPerChunk` at a time. A chunk also ends before each of `breaks`
 * (the starts of the series' histogram chunks), so float and histogram chunks never overlap.
 */
export function mergedBlockChunks(
  inOrder: readonly ChunkMeta[],
  ooo: OooSamples,
  end: number,
  samplesPerChunk: number,
  breaks: readonly number[] = [],
): ChunkData[] {
  const out: ChunkData[] = [];
  const merged = mergedChunk(inOrder, ooo, -Infinity, end - 1);
  const it = merged ? merged.iterator() : new ChunksIterator(inOrder, -Infinity, end - 1);
  let enc = new XorEncoder();
  const seal = (): void => {
    if (enc.count === 0) return;
    out.push({ mint: enc.mint, maxt: enc.maxt, count: enc.count, bytes: toBlockChunk(enc.finish()) });
    enc = new XorEncoder();
  };
  let next = 0;
  while (it.next()) {
    const t = it.t();
    if (enc.count >= samplesPerChunk) seal();
    if (next < breaks.length && breaks[next]! < t) {
      seal();
      while (next < breaks.length && breaks[next]! < t) next++;
    }
    enc.append(t, it.v());
  }
  seal();
  return out;
}
