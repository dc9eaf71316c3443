/** The time column of a columnar chunk (see columnar.ts): first time and byte-planed deltas. */
import { ByteReader } from '../../core/util/bytes.js';

const TWO53 = 2 ** 53;
export const TWO53N = 1n << 53n;

/**
 * Offsets from a non-negative first timestamp are kept as they are; before the epoch, where the
 * fast paths assume non-negative times, the absolute timestamps are kept instead.
 */
function offsetsOrAbsolute(t0: bigint, off: Float64Array): { off: Float64Array | undefined; big: BigInt64Array | undefined } {
  if (t0 >= 0n) return { off, big: undefined };
  const big = new BigInt64Array(off.length);
  for (let i = 0; i < off.length; i++) big[i] = t0 + BigInt(off[i]!);
  return { off: undefined, big };
}

/** Timestamps of a chunk as offsets from the first (exact when the chunk spans < 2^53 ns). */
export class TimeColumn {
  private readonly t0: bigint;
  private readonly off: Float64Array | undefined;
  private readonly big: BigInt64Array | undefined;
  private readonly q0: number;
  private readonly r0: number;

  constructor(r: ByteReader, n: number) {
    const mode = r.u8();
    if (mode === 2) {
      const t0 = r.buf.readBigInt64LE(r.pos);
      r.pos += 8;
      const width = r.u8();
      const m = Math.max(0, n - 1);
      const b = r.bytes(width * m);
      const off = new Float64Array(n);
      let x = 0;
      if (width <= 4) {
        for (let i = 0; i < m; i++) {
          let d = b[i]!;
          if (width > 1) d |= b[m + i]! << 8;
          if (width > 2) d |= b[2 * m + i]! << 16;
          if (width > 3) d += b[3 * m + i]! * 16777216;
          x += d;
          off[i + 1] = x;
        }
      } else
        for (let i = 0; i < m; i++) {
          let d = 0;
          for (let k = width - 1; k >= 0; k--) d = d * 256 + b[k * m + i]!;
          x += d;
          off[i + 1] = x;
        }
      this.t0 = t0;
      ({ off: this.off, big: this.big } = offsetsOrAbsolute(t0, off));
    } else if (mode === 1) {
      const big = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        big[i] = r.buf.readBigInt64LE(r.pos);
        r.pos += 8;
      }
      this.t0 = big[0] ?? 0n;
      this.off = undefined;
      this.big = big;
    } else {
      const t0 = r.buf.readBigInt64LE(r.pos);
      r.pos += 8;
      this.t0 = t0;
      const off = new Float64Array(n);
      // Varints decoded inline (this runs for every chunk a query opens).
      const b = r.buf;
      let p = r.pos;
      const end = r.end;
      let x = 0;
      for (let i = 1; i < n; i++) {
        let v = 0;
        let mul = 1;
        for (;;) {
          if (p >= end) throw new RangeError('unexpected end of record');
          const c = b[p++]!;
          v += (c & 0x7f) * mul;
          if (c < 0x80) break;
          mul *= 128;
        }
        x += v;
        off[i] = x;
      }
      r.pos = p;
      ({ off: this.off, big: this.big } = offsetsOrAbsolute(t0, off));
    }
    this.q0 = Number(this.t0 / 1000n);
    this.r0 = Number(this.t0 % 1000n);
  }

  t(i: number): bigint {
    return this.off ? this.t0 + BigInt(this.off[i]!) : this.big![i]!;
  }

  timeMs(i: number): number {
    if (!this.off) return Number(this.big![i]! / 1000n) / 1000;
    return (this.q0 + Math.floor((this.r0 + this.off[i]!) / 1000)) / 1000;
  }

  /** Appends {@link timeMs} of lines `idx` (or lo..hi-1) to `out`. */
  pushTimesMs(idx: Int32Array | undefined, lo: number, hi: number, out: number[]): void {
    const off = this.off;
    if (!off) {
      if (idx) for (let j = 0; j < idx.length; j++) out.push(this.timeMs(idx[j]!));
      else for (let i = lo; i < hi; i++) out.push(this.timeMs(i));
      return;
    }
    const q0 = this.q0;
    const r0 = this.r0;
    if (idx) for (let j = 0; j < idx.length; j++) out.push((q0 + Math.floor((r0 + off[idx[j]!]!) / 1000)) / 1000);
    else for (let i = lo; i < hi; i++) out.push((q0 + Math.floor((r0 + off[i]!) / 1000)) / 1000);
  }

  lowerBound(t: bigint): number {
    const off = this.off;
    const n = off ? off.length : this.big!.length;
    let lo = 0;
    let hi = n;
    if (off) {
      const d = t - this.t0;
      if (d <= 0n) return 0;
      if (d >= BigInt(TWO53)) return n;
      const x = Number(d);
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (off[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    const big = this.big!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (big[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
