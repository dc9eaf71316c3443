/**
 * The translation's cache of series by a point's attributes: by resource, then by the point's
 * attributes, then (in the returned map) by series name and extra label, so a steady sender's
 * series are found without building a label set. Protobuf points are found by their raw attribute
 * bytes (hashed, then compared), without decoding them; JSON points by a key string. A sender
 * repeats its points in the same order in every request, so the entry the previous request found
 * at the same position is tried first: compared, not hashed or looked up.
 */
import type { Labels } from '../../core/model/labels.js';
import { hashBytes } from '../remotewrite/series_cache.js';
import type { Attr, DataPoint } from './model.js';

/** A series as the cache holds it: its labels, and the store's reference (0 until appended). */
export interface SeriesEntry {
  readonly labels: Labels;
  ref: number;
  /** The labels' key for delta totals (./delta.ts), made on the series' first delta point. */
  deltaKey: string | undefined;
}

/** Point attributes: decoded, or (protobuf) a raw byte range still to decode. */
export type AttrSource = Pick<DataPoint, 'attrs' | 'rawBuf' | 'rawStart' | 'rawEnd'>;

interface RawEntry {
  readonly raw: Buffer;
  readonly inner: Map<string, SeriesEntry>;
  readonly next: RawEntry | undefined;
}

/** How many series the cache holds before it starts over. */
const MAX_CACHED_SERIES = 1_000_000;
/** Positions of a request remembered for the next; a bigger request looks the rest up. */
const MAX_POSITIONS = 1 << 16;

export class AttrSeriesCache {
  private readonly byText = new Map<string, Map<string, SeriesEntry>>();
  private readonly byRaw = new Map<string, Map<number, RawEntry>>();
  private cached = 0;
  /** The raw entry (and its resource) found at each position of the last request's lookups. */
  private readonly lastAt: RawEntry[] = [];
  private readonly lastResAt: string[] = [];
  private position = 0;

  /** A request starts: positions count from its first lookup. */
  begin(): void {
    this.position = 0;
  }

  /** The series (by name and extra label) of the attributes of `p` under the resource `resKey`. */
  inner(p: AttrSource, resKey: string): Map<string, SeriesEntry> {
    if (this.cached >= MAX_CACHED_SERIES) {
      this.byText.clear();
      this.byRaw.clear();
      this.lastAt.length = 0;
      this.lastResAt.length = 0;
      this.cached = 0;
    }
    return p.rawBuf !== undefined ? this.rawInner(p.rawBuf, p.rawStart, p.rawEnd, resKey) : this.textInner(p.attrs, resKey);
  }

  /** Counts a series put in a map {@link inner} returned. */
  added(): void {
    this.cached++;
  }

  private textInner(attrs: readonly Attr[], resKey: string): Map<string, SeriesEntry> {
    let key = resKey + '\u0003';
    for (const a of attrs) key += `\u0001${a.key}\u0002${a.value}`;
    let inner = this.byText.get(key);
    if (inner === undefined) this.byText.set(key, (inner = new Map()));
    return inner;
  }

  private rawInner(buf: Buffer, start: number, end: number, resKey: string): Map<string, SeriesEntry> {
    const at = this.position++;
    const last = this.lastAt[at];
    if (last !== undefined && this.lastResAt[at] === resKey && sameBytes(last.raw, buf, start, end)) return last.inner;
    const e = this.rawLookup(buf, start, end, resKey);
    if (at < MAX_POSITIONS) {
      this.lastAt[at] = e;
      this.lastResAt[at] = resKey;
    }
    return e.inner;
  }

  private rawLookup(buf: Buffer, start: number, end: number, resKey: string): RawEntry {
    let byHash = this.byRaw.get(resKey);
    if (byHash === undefined) this.byRaw.set(resKey, (byHash = new Map()));
    const h = hashBytes(buf, start, end);
    let e = byHash.get(h);
    for (let x = e; x !== undefined; x = x.next) if (sameBytes(x.raw, buf, start, end)) return x;
    e = { raw: Buffer.from(buf.subarray(start, end)), inner: new Map(), next: e };
    byHash.set(h, e);
    return e;
  }
}

/** Whether `raw` equals `buf[start, end)`: compared four bytes at a time, cheaper than Buffer.compare for a few dozen bytes. */
function sameBytes(raw: Buffer, buf: Buffer, start: number, end: number): boolean {
  const n = raw.length;
  if (n !== end - start) return false;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const j = start + i;
    if (
      (raw[i]! | (raw[i + 1]! << 8) | (raw[i + 2]! << 16) | (raw[i + 3]! << 24)) !==
      (buf[j]! | (buf[j + 1]! << 8) | (buf[j + 2]! << 16) | (buf[j + 3]! << 24))
    )
      return false;
  }
  for (; i < n; i++) if (raw[i] !== buf[start + i]) return false;
  return true;
}
