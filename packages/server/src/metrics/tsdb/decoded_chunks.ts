/**
 * A bounded cache of the decoded samples of immutable float chunks (the head's closed chunks and
 * block chunks), so a dashboard that repeats a range query copies typed arrays instead of
 * bit-decoding the same chunks again. It is an internal storage cache, not a result cache: it holds
 * exactly what decoding the chunk gives, and a chunk that can still change (the head's open chunk,
 * out-of-order samples) is never put in it.
 *
 * Memory: timestamps of a chunk whose samples are evenly spaced (a steady scrape) are kept as a
 * start and a step, other chunks' as 32-bit offsets from their first sample; values that are
 * decimals with at most {@link MAX_SCALE_DIGITS} fraction digits and fit 32 bits as scaled integers
 * (the division back gives the same double, checked when the chunk is decoded), others as doubles.
 * Entries are kept in least-recently-used order and the oldest dropped once the cache holds more
 * than its byte budget, unless even the oldest was read within the last {@link KEEP_RECENT_MS}:
 * then the newcomer is read without being kept, so a query over more chunks than fit cannot wash
 * out what repeated queries use (plain LRU would let every one of them miss). The owner of the chunk drops an entry when the chunk itself goes (head
 * truncation, a block closed by compaction or retention).
 */
import { isStaleNaN } from '../../core/model/value.js';
import { type FloatSink, reserveFloats, type SampleIterator } from '../storage/interface.js';
import { XorIterator } from './chunkenc/xor.js';

/** The cache's default budget in bytes (`storage.decoded_chunk_cache_size`). */
export const DEFAULT_DECODED_CHUNK_CACHE_BYTES = 32 * 1024 * 1024;

/** What an entry costs beyond its arrays: the entry object, a typed array and its buffer, the map slot. */
const ENTRY_OVERHEAD_BYTES = 240;

/** The most decimal fraction digits a value may have to be kept as a scaled 32-bit integer. */
const MAX_SCALE_DIGITS = 6;

/** An entry read this recently is not evicted to make room for a newcomer. */
export const KEEP_RECENT_MS = 30_000;

/** Hits between two readings of the clock (a power of two). */
const CLOCK_EVERY = 64;

/** Offsets are kept in 32 bits: a chunk spanning more (none that Vigil writes) is not cached. */
const MAX_OFFSET = 2 ** 31 - 1;

/** The decoded samples of one chunk; immutable once made, so readers share it freely. */
export class DecodedChunk {
  /** Least-recently-used list links (newer, older). */
  newer: DecodedChunk | undefined = undefined;
  older: DecodedChunk | undefined = undefined;
  /** Still in its cache (an entry let go stays readable by iterators that hold it). */
  linked = false;
  /** When it was last read (the cache's clock). */
  usedAt = 0;

  constructor(
    readonly n: number,
    /** The first sample's timestamp. */
    readonly t0: number,
    /** The spacing of evenly spaced samples (then `offsets` is undefined). */
    readonly step: number,
    /** Per sample, its timestamp minus `t0`, for samples not evenly spaced. */
    readonly offsets: Int32Array | undefined,
    /** Values as doubles, or undefined when they are `ints / scale`. */
    readonly floats: Float64Array | undefined,
    readonly ints: Int32Array | undefined,
    readonly scale: number,
    /** Staleness markers among the values (a read dropping them need not look when 0). */
    readonly stale: number,
    /** What the entry counts against the cache's budget. */
    readonly bytes: number,
    /** Where the owner keeps it, and under which key, so the cache can take it out again. */
    readonly home: Map<unknown, DecodedChunk>,
    readonly key: unknown,
  ) {}

  t(i: number): number {
    return this.offsets === undefined ? this.t0 + i * this.step : this.t0 + this.offsets[i]!;
  }

  v(i: number): number {
    return this.floats !== undefined ? this.floats[i]! : this.ints![i]! / this.scale;
  }

  /** The first index from `from` on whose timestamp is at least `t` (`n` when none is). */
  firstAtOrAfter(t: number, from: number): number {
    let lo = from;
    if (this.offsets === undefined) {
      if (this.step > 0) lo = Math.max(from, Math.ceil((t - this.t0) / this.step));
      else if (t > this.t0) lo = this.n;
      return Math.min(lo, this.n);
    }
    const rel = t - this.t0;
    let hi = this.n;
    const offs = this.offsets;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offs[mid]! < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Appends samples `[from, to)` to `sink`, staleness markers left out when `dropStale`. */
  copyTo(from: number, to: number, sink: FloatSink, dropStale: boolean): void {
    reserveFloats(sink, to - from);
    const outT = sink.ts;
    const outV = sink.vs;
    let k = sink.n;
    if (dropStale && this.stale > 0) {
      const floats = this.floats!;
      for (let i = from; i < to; i++) {
        const v = floats[i]!;
        if (isStaleNaN(v)) continue;
        outT[k] = this.t(i);
        outV[k++] = v;
      }
      sink.n = k;
      return;
    }
    const offs = this.offsets;
    if (offs === undefined) {
      const t0 = this.t0;
      const step = this.step;
      for (let i = from; i < to; i++) outT[k + i - from] = t0 + i * step;
    } else {
      const t0 = this.t0;
      for (let i = from; i < to; i++) outT[k + i - from] = t0 + offs[i]!;
    }
    if (this.floats !== undefined) outV.set(this.floats.subarray(from, to), k);
    else {
      const ints = this.ints!;
      const scale = this.scale;
      for (let i = from; i < to; i++) outV[k + i - from] = ints[i]! / scale;
    }
    sink.n = k + to - from;
  }
}

/** Iterates a {@link DecodedChunk} as a chunk iterator would iterate the chunk itself. */
export class DecodedIterator implements SampleIterator {
  /** The current sample (-1: before the first). */
  private i = -1;

  constructor(private readonly d: DecodedChunk) {}

  next(): boolean {
    if (this.i + 1 >= this.d.n) return false;
    this.i++;
    return true;
  }

  seek(t: number): boolean {
    if (this.i >= 0 && this.d.t(this.i) >= t) return true;
    const j = this.d.firstAtOrAfter(t, Math.max(this.i, 0));
    if (j >= this.d.n) {
      this.i = this.d.n - 1;
      return false;
    }
    this.i = j;
    return true;
  }

  t(): number {
    return this.d.t(this.i);
  }

  v(): number {
    return this.d.v(this.i);
  }

  readFloats(maxt: number, sink: FloatSink, dropStale: boolean): boolean {
    this.readRun(maxt, sink, dropStale);
    return true;
  }

  /** As {@link XorIterator.readFloatRun}: true when it stopped on a sample past `maxt`, false at the chunk's end. */
  readRun(maxt: number, sink: FloatSink, dropStale: boolean): boolean {
    const d = this.d;
    const i = Math.max(this.i, 0);
    if (d.n === 0) return false;
    this.i = i;
    if (d.t(i) > maxt) return true;
    const end = d.firstAtOrAfter(Math.floor(maxt) + 1, i);
    d.copyTo(i, end, sink, dropStale);
    if (end < d.n) {
      this.i = end;
      return true;
    }
    this.i = d.n - 1;
    return false;
  }
}

/** Where {@link decodeChunk} decodes (one chunk at a time). */
const scratch: FloatSink = { ts: new Float64Array(256), vs: new Float64Array(256), n: 0, start: 0 };

/**
 * Decodes every sample of a fresh float chunk iterator into the compact form; undefined for a
 * chunk with native histograms, none at all, timestamps not increasing, or a span beyond 32-bit
 * offsets. Throws what the iterator throws (a damaged chunk).
 */
export function decodeChunk(it: SampleIterator, home: Map<unknown, DecodedChunk>, key: unknown): DecodedChunk | undefined {
  scratch.n = 0;
  scratch.start = 0;
  if (it instanceof XorIterator && it.constructor === XorIterator) it.readFloatRun(Infinity, scratch, false);
  else {
    while (it.next()) {
      if (it.h?.() !== undefined) return undefined;
      reserveFloats(scratch, 1);
      scratch.ts[scratch.n] = it.t();
      scratch.vs[scratch.n++] = it.v();
    }
  }
  const n = scratch.n;
  if (n === 0) return undefined;
  const ts = scratch.ts;
  const vs = scratch.vs;
  const t0 = ts[0]!;
  if (ts[n - 1]! - t0 > MAX_OFFSET) return undefined;
  const step = n > 1 ? ts[1]! - t0 : 0;
  let even = true;
  for (let i = 2; i < n && even; i++) even = ts[i]! - ts[i - 1]! === step;
  let offsets: Int32Array | undefined;
  if (!even) {
    offsets = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      offsets[i] = ts[i]! - t0;
      // Searches assume increasing timestamps; a damaged chunk without them is read as it is.
      if (i > 0 && offsets[i]! <= offsets[i - 1]!) return undefined;
    }
  } else if (n > 1 && !(step > 0)) return undefined;
  let stale = 0;
  for (let i = 0; i < n; i++) if (vs[i] !== vs[i] && isStaleNaN(vs[i]!)) stale++;
  const scale = stale === 0 ? decimalScale(vs, n) : 0;
  let floats: Float64Array | undefined;
  let ints: Int32Array | undefined;
  if (scale > 0) {
    ints = new Int32Array(n);
    for (let i = 0; i < n; i++) ints[i] = Math.round(vs[i]! * scale);
  } else floats = vs.slice(0, n);
  const bytes = ENTRY_OVERHEAD_BYTES + (offsets?.byteLength ?? 0) + (floats?.byteLength ?? ints!.byteLength);
  return new DecodedChunk(n, t0, even ? step : 0, offsets, floats, ints, scale, stale, bytes, home, key);
}

/** The smallest power of ten that turns every value into a 32-bit integer exactly (0: none does). */
function decimalScale(vs: Float64Array, n: number): number {
  let scale = 1;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    while (!fitsScaled(vs[i]!, scale)) {
      if (++digits > MAX_SCALE_DIGITS) return 0;
      scale *= 10;
    }
  }
  // A value that fitted a smaller scale is checked again at the final one.
  for (let i = 0; i < n; i++) if (!fitsScaled(vs[i]!, scale)) return 0;
  return scale;
}

function fitsScaled(v: number, scale: number): boolean {
  const x = Math.round(v * scale);
  // `x | 0` is what the Int32Array will hold: a -0 comes back as 0 and is refused here.
  return x >= -2147483648 && x <= 2147483647 && Object.is((x | 0) / scale, v);
}

/** A chunk's iterator through `cache`: its decoded samples, decoded into the cache on a miss. */
export function openCached(cache: DecodedChunkCache, home: Map<unknown, DecodedChunk>, key: unknown, chunk: { iterator(): SampleIterator }): SampleIterator {
  return cache.cached(home, key) ?? cache.admit(home, key, chunk.iterator()) ?? chunk.iterator();
}

/** The cache: a byte budget over entries that live in their owners' maps, in LRU order. */
export class DecodedChunkCache {
  /** Bytes the entries held count for. */
  bytes = 0;
  entries = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  /** The clock as last read: hits read it only every {@link CLOCK_EVERY} (an entry's use time may lag that many hits). */
  private tick = 0;
  private newest: DecodedChunk | undefined;
  private oldest: DecodedChunk | undefined;

  /** `maxBytes` 0 disables the cache; `now` is the clock in ms (tests drive it). */
  constructor(
    readonly maxBytes: number = DEFAULT_DECODED_CHUNK_CACHE_BYTES,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** An iterator over the decoded samples `home` keeps under `key`, if it keeps them. */
  cached(home: Map<unknown, DecodedChunk>, key: unknown): DecodedIterator | undefined {
    const hit = home.get(key);
    if (hit === undefined) return undefined;
    if ((this.hits++ & (CLOCK_EVERY - 1)) === 0) this.tick = this.now();
    hit.usedAt = this.tick;
    this.touch(hit);
    return new DecodedIterator(hit);
  }

  /**
   * Decodes the chunk that `it` (fresh) iterates into the cache, kept in `home` under `key`, and
   * iterates the result. Undefined when the chunk is not cached: the cache is disabled, the chunk
   * holds native histograms, or it fails to decode (the caller's own iterator then fails as before).
   */
  admit(home: Map<unknown, DecodedChunk>, key: unknown, it: SampleIterator): DecodedIterator | undefined {
    if (!this.enabled) return undefined;
    this.misses++;
    let d: DecodedChunk | undefined;
    try {
      d = decodeChunk(it, home, key);
    } catch {
      return undefined;
    }
    if (d === undefined) return undefined;
    this.link(d);
    return new DecodedIterator(d);
  }

  /** Takes the entry that `home` keeps under `key` out (its chunk is gone). */
  drop(home: Map<unknown, DecodedChunk>, key: unknown): void {
    const d = home.get(key);
    if (d !== undefined) this.unlink(d);
  }

  /** Takes every entry of `home` out (its owner is gone). */
  dropAll(home: Map<unknown, DecodedChunk>): void {
    for (const d of home.values()) this.unlink(d);
  }

  private link(d: DecodedChunk): void {
    // An entry bigger than an eighth of the budget would push out too much to be worth keeping.
    if (d.bytes > this.maxBytes / 8) return;
    const now = (this.tick = this.now());
    while (this.bytes + d.bytes > this.maxBytes && this.oldest !== undefined) {
      if (now - this.oldest.usedAt < KEEP_RECENT_MS) return;
      this.unlink(this.oldest);
      this.evictions++;
    }
    d.usedAt = now;
    d.home.set(d.key, d);
    d.linked = true;
    this.pushNewest(d);
    this.bytes += d.bytes;
    this.entries++;
  }

  private touch(d: DecodedChunk): void {
    if (this.newest === d) return;
    this.detach(d);
    this.pushNewest(d);
  }

  private unlink(d: DecodedChunk): void {
    if (!d.linked) return;
    d.linked = false;
    this.detach(d);
    d.home.delete(d.key);
    this.bytes -= d.bytes;
    this.entries--;
  }

  private pushNewest(d: DecodedChunk): void {
    d.older = this.newest;
    d.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = d;
    this.newest = d;
    if (this.oldest === undefined) this.oldest = d;
  }

  private detach(d: DecodedChunk): void {
    if (d.newer !== undefined) d.newer.older = d.older;
    else this.newest = d.older;
    if (d.older !== undefined) d.older.newer = d.newer;
    else this.oldest = d.newer;
    d.newer = undefined;
    d.older = undefined;
  }
}
