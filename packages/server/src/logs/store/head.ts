/**
 * A stream's head: the lines not yet sealed into a chunk, kept as UTF-8 bytes (copied from the WAL
 * record they arrived in) with BigInt64Array timestamps, in arrival order. No string or object per
 * line outlives the push, so the garbage collector has little to copy; strings are made only for
 * lines a query returns. A line older than the newest makes the head unsorted; readers then visit
 * it through a time-ordered permutation (stable: equal timestamps keep their arrival order).
 */
import type { Labels } from '../../core/model/labels.js';

/** Lines in arrival order; line i is `buf[offs[i], offs[i + 1])`. */
export class Head {
  n = 0;
  ts = new BigInt64Array(8);
  buf = Buffer.allocUnsafe(512);
  offs = new Int32Array(9);
  /** Structured metadata by line, when any line has some. */
  metas: (Labels | undefined)[] | undefined;
  /** Line bytes plus one per line (the seal threshold counts these). */
  bytes = 0;
  /** When the first line arrived (ms, the store's clock). */
  since = 0;
  /** Index of the newest line (the latest to arrive among those with the greatest timestamp). */
  private newest = -1;
  private sorted = true;
  private order: Int32Array | undefined;

  /**
   * Appends a line (`src[a, b)`, UTF-8). Returns false, keeping nothing, for an exact duplicate
   * (same timestamp and bytes) of the newest line, as Loki drops those.
   */
  add(t: bigint, src: Buffer, a: number, b: number, meta: Labels | undefined): boolean {
    const n = this.n;
    const len = b - a;
    if (this.newest >= 0) {
      const top = this.ts[this.newest]!;
      if (t === top) {
        const s = this.offs[this.newest]!;
        if (this.offs[this.newest + 1]! - s === len) {
          let eq = true;
          for (let i = 0; i < len; i++)
            if (this.buf[s + i] !== src[a + i]) {
              eq = false;
              break;
            }
          if (eq) return false;
        }
      }
      if (t < top) this.sorted = false;
    }
    if (n >= this.ts.length) {
      const ts = new BigInt64Array(this.ts.length * 2);
      ts.set(this.ts);
      this.ts = ts;
      const offs = new Int32Array(ts.length + 1);
      offs.set(this.offs);
      this.offs = offs;
    }
    const at = this.offs[n]!;
    if (at + len > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(at + len, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    if (len > 32) this.buf.set(new Uint8Array(src.buffer, src.byteOffset + a, len), at);
    else for (let i = 0; i < len; i++) this.buf[at + i] = src[a + i]!;
    this.offs[n + 1] = at + len;
    this.ts[n] = t;
    if (meta && meta.length) (this.metas ??= [])[n] = meta;
    if (this.newest < 0 || t >= this.ts[this.newest]!) this.newest = n;
    this.n = n + 1;
    this.bytes += len + 1;
    this.order = undefined;
    return true;
  }

  /** The time-ordered permutation of the lines, or undefined when arrival order is time order. */
  sortedOrder(): Int32Array | undefined {
    if (this.sorted) return undefined;
    if (!this.order) {
      const idx = Array.from({ length: this.n }, (_, i) => i);
      const ts = this.ts;
      idx.sort((x, y) => (ts[x]! < ts[y]! ? -1 : ts[x]! > ts[y]! ? 1 : x - y));
      this.order = Int32Array.from(idx);
    }
    return this.order;
  }

  /** Oldest and newest timestamps. */
  get minT(): bigint {
    const o = this.sortedOrder();
    return this.ts[o ? o[0]! : 0]!;
  }
  get maxT(): bigint {
    return this.ts[this.newest]!;
  }

  line(i: number): string {
    return this.buf.toString('utf8', this.offs[i]!, this.offs[i + 1]!);
  }

  /** True when line i contains `needle` (UTF-8 bytes). */
  contains(i: number, needle: Buffer): boolean {
    return this.buf.subarray(this.offs[i]!, this.offs[i + 1]!).indexOf(needle) >= 0;
  }

  lineBytes(i: number): number {
    return this.offs[i + 1]! - this.offs[i]!;
  }

  meta(i: number): Labels | undefined {
    return this.metas?.[i];
  }

  /**
   * A consistent view of the lines present now. Later appends do not change lines below `n` and
   * {@link clear} allocates fresh buffers, so a reader may hold a snapshot across pushes.
   */
  snapshot(): HeadSnapshot {
    return { n: this.n, ts: this.ts, buf: this.buf, offs: this.offs, order: this.sortedOrder(), metas: this.metas };
  }

  /**
   * Empties the head into fresh buffers (readers may hold the old ones). A head sealed because it
   * was full (`keep`) gets buffers of the same size for the next lines; otherwise small ones, so
   * quiet streams hold little memory.
   */
  clear(keep = false): void {
    this.n = 0;
    this.bytes = 0;
    this.newest = -1;
    this.sorted = true;
    this.order = undefined;
    this.metas = undefined;
    this.buf = Buffer.allocUnsafe(keep ? this.buf.length : 512);
    this.ts = new BigInt64Array(keep ? this.ts.length : 8);
    this.offs = new Int32Array(keep ? this.offs.length : 9);
  }
}

/** What {@link Head.snapshot} returns; also a chunk encoder's input. */
export interface HeadSnapshot {
  readonly n: number;
  readonly ts: BigInt64Array;
  readonly buf: Buffer;
  readonly offs: Int32Array;
  readonly order: Int32Array | undefined;
  readonly metas: readonly (Labels | undefined)[] | undefined;
}
