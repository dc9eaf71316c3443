/**
 * Series found by the raw bytes of their encoded labels. A sender repeats the same label bytes in
 * every request, so hashing those bytes finds a known series without decoding a single string or
 * allocating anything per series per request.
 */
import type { Labels } from '../../core/model/labels.js';

/** A known series: its labels and the store's ref for it. */
export interface CachedSeries {
  ref: number;
  readonly labels: Labels;
  /** The encoded label bytes this entry was found by. */
  readonly raw: Buffer;
  /** The next entry whose bytes hash the same. */
  next: CachedSeries | undefined;
  /**
   * The known series that came right after this one the last time it was sent. A sender repeats
   * its series in the same order request after request, so this is usually the next one again,
   * found with one comparison instead of a hash and a table lookup ({@link RawSeriesCache.after}).
   */
  follow: CachedSeries | undefined;
}

/** Whether `raw` holds exactly the bytes `buf[start, end)`. */
function sameBytes(raw: Buffer, buf: Buffer, start: number, end: number): boolean {
  return raw.length === end - start && buf.compare(raw, 0, raw.length, start, end) === 0;
}

/** A 32-bit hash of `buf[start, end)` (murmur3's mixing over little-endian words). */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x9747b28c ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let shift = 0; i < end; i++, shift += 8) k |= buf[i]! << shift;
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Maps raw label bytes to series, bounded in size. */
export class RawSeriesCache {
  private readonly byHash = new Map<number, CachedSeries>();
  private count = 0;

  constructor(private readonly maxEntries = 4_000_000) {}

  /** The entry for `buf[start, end)` with hash `h`, if known. */
  get(buf: Buffer, start: number, end: number, h: number): CachedSeries | undefined {
    for (let e = this.byHash.get(h); e !== undefined; e = e.next) if (sameBytes(e.raw, buf, start, end)) return e;
    return undefined;
  }

  /**
   * The entry for `buf[start, end)`, the series that comes after `prev` in the request (undefined:
   * it is the first, or the one before is not known), if known. Remembers what came after `prev`
   * for the next request.
   */
  after(prev: CachedSeries | undefined, buf: Buffer, start: number, end: number): CachedSeries | undefined {
    const guess = prev?.follow;
    if (guess !== undefined && sameBytes(guess.raw, buf, start, end)) return guess;
    const found = this.get(buf, start, end, hashBytes(buf, start, end));
    // Only entries found in the table are linked, so a clear leaves no chain to what it dropped.
    if (prev !== undefined) prev.follow = found;
    return found;
  }

  /** Remembers a series under a copy of `buf[start, end)`. */
  add(buf: Buffer, start: number, end: number, h: number, labels: Labels, ref: number): void {
    if (this.count >= this.maxEntries) {
      // Series churn past the bound: forget everything rather than grow without limit.
      this.byHash.clear();
      this.count = 0;
    }
    const raw = Buffer.from(buf.subarray(start, end));
    this.byHash.set(h, { ref, labels, raw, next: this.byHash.get(h), follow: undefined });
    this.count++;
  }

  get size(): number {
    return this.count;
  }
}
