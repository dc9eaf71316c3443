/**
 * Gorilla-style XOR chunks: timestamps as delta-of-delta, values as XOR with the previous value.
 * Layout: a 2-byte big-endian sample count, then the bit stream. Typical scrape data costs about
 * 1–2 bytes per sample.
 */
import { ForwardChunkIterator } from './iterator.js';
import { BitReader, BitWriter } from './bitstream.js';
import { readDod, readInt64, writeDod, writeInt64 } from './varbits.js';

/** Bytes of the sample-count header in front of the bit stream. */
export const CHUNK_HEADER_BYTES = 2;

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer); // little-endian: [0] low word, [1] high word

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Encodes samples into a chunk; appends must be in increasing time order (the head checks). */
export class XorEncoder {
  private readonly w: BitWriter;
  /** Samples in the chunk. */
  count = 0;
  /** Timestamp of the first sample. */
  mint = 0;
  /** Timestamp of the last sample. */
  maxt = 0;
  private prevDelta = 0;
  private prevHi = 0;
  private prevLo = 0;
  private leading = -1;
  private trailing = 0;

  /** `sizeHint`: expected bytes, so a chunk like its predecessor is not reallocated as it grows. */
  constructor(sizeHint = 48) {
    this.w = new BitWriter(sizeHint);
    this.w.writeBits(0, CHUNK_HEADER_BYTES * 8);
  }

  /**
   * Starts a new, empty chunk in the same memory. Only for a chunk whose bytes were copied out and
   * that no iterator still reads: iterators of a live chunk share its buffer.
   */
  reset(): void {
    this.w.reset();
    this.w.writeBits(0, CHUNK_HEADER_BYTES * 8);
    this.count = 0;
    this.mint = 0;
    this.maxt = 0;
    this.prevDelta = 0;
    this.prevHi = 0;
    this.prevLo = 0;
    this.leading = -1;
    this.trailing = 0;
  }

  /** Adds one sample. */
  append(t: number, v: number): void {
    f64[0] = v;
    const hi = words[1]!;
    const lo = words[0]!;
    const w = this.w;
    if (this.count === 0) {
      writeInt64(w, t);
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
      this.mint = t;
    } else {
      const delta = t - this.maxt;
      writeDod(w, delta - this.prevDelta);
      this.prevDelta = delta;
      this.appendValue(hi, lo);
    }
    this.prevHi = hi;
    this.prevLo = lo;
    this.maxt = t;
    this.count++;
  }

  private appendValue(hi: number, lo: number): void {
    const w = this.w;
    const xh = (hi ^ this.prevHi) >>> 0;
    const xl = (lo ^ this.prevLo) >>> 0;
    if (xh === 0 && xl === 0) {
      w.writeBit(0);
      return;
    }
    w.writeBit(1);
    let leading = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const trailing = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
    // Five bits hold the leading-zero count, so cap it; the extra zeros are then written as data.
    if (leading > 31) leading = 31;
    if (this.leading !== -1 && leading >= this.leading && trailing >= this.trailing) {
      w.writeBit(0);
      writeShifted(w, xh, xl, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    this.leading = leading;
    this.trailing = trailing;
    const sig = 64 - leading - trailing;
    w.writeBit(1);
    w.writeBits(leading, 5);
    // 64 significant bits do not fit in 6 bits; 0 stands for 64 since 0 can never occur.
    w.writeBits(sig & 63, 6);
    writeShifted(w, xh, xl, trailing, sig);
  }

  /** The bytes of the chunk so far, with the count header filled in (shares the buffer). */
  bytesView(): Uint8Array {
    const b = this.w.bytes;
    b[0] = this.count >>> 8;
    b[1] = this.count & 0xff;
    return b;
  }

  /** Bits of stream written, including the header. */
  get bitLength(): number {
    return this.w.bitLength;
  }

  /** A compact copy of the finished chunk. */
  finish(): Uint8Array {
    this.bytesView();
    return this.w.finish();
  }

  /** Bytes in use by the chunk, header included. */
  get byteLength(): number {
    return this.w.byteLength;
  }

  /** An iterator over the samples appended so far; later appends are not seen by it. */
  iterator(): XorIterator {
    return new XorIterator(this.bytesView(), this.count, this.w.bitLength);
  }
}

/** Writes `n` bits of the 64-bit value (hi, lo) after shifting it right by `shift`. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  if (shift >= 32) {
    lo = hi >>> (shift - 32);
    hi = 0;
  } else if (shift > 0) {
    lo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    hi = hi >>> shift;
  }
  if (n > 32) {
    w.writeBits(hi, n - 32);
    w.writeBits(lo, 32);
  } else {
    w.writeBits(lo, n);
  }
}

/** Reads the sample count from a finished chunk's header. */
export function chunkSampleCount(chunk: Uint8Array): number {
  return (chunk[0]! << 8) | chunk[1]!;
}

/** Iterates the samples of a chunk. */
export class XorIterator extends ForwardChunkIterator {
  protected readonly r: BitReader;
  private readonly total: number;
  private curV = 0;
  /** The previous sample's timestamp delta (the base of the next delta-of-delta). */
  protected delta = 0;
  private hi = 0;
  private lo = 0;
  private leading = 0;
  private trailing = 0;

  /** Iterates `count` samples of `bytes`, reading no further than `endBit` (default: whole chunk). */
  constructor(bytes: Uint8Array, count = chunkSampleCount(bytes), endBit = bytes.length * 8) {
    super();
    this.r = new BitReader(bytes, CHUNK_HEADER_BYTES * 8, endBit);
    this.total = count;
  }

  next(): boolean {
    if (this.read >= this.total) return false;
    const r = this.r;
    this.readTime();
    if (this.read === 0) {
      this.hi = r.readBits(32);
      this.lo = r.readBits(32);
    } else {
      this.readValue();
    }
    words[1] = this.hi;
    words[0] = this.lo;
    this.curV = f64[0]!;
    this.read++;
    return true;
  }

  /** Reads the current sample's timestamp into `curT`: the first in 64 bits, later ones as delta-of-delta. */
  protected readTime(): void {
    if (this.read === 0) this.curT = readInt64(this.r);
    else {
      this.delta += readDod(this.r);
      this.curT += this.delta;
    }
  }

  private readValue(): void {
    const r = this.r;
    if (r.readBit() === 0) return;
    if (r.readBit() === 1) {
      this.leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
    }
    const n = 64 - this.leading - this.trailing;
    let hi = 0;
    let lo: number;
    if (n > 32) {
      hi = r.readBits(n - 32);
      lo = r.readBits(32);
    } else {
      lo = r.readBits(n);
    }
    // Shift (hi, lo) left by `trailing` back into place, then undo the XOR.
    const s = this.trailing;
    if (s >= 32) {
      hi = lo << (s - 32);
      lo = 0;
    } else if (s > 0) {
      hi = (hi << s) | (lo >>> (32 - s));
      lo = lo << s;
    }
    this.hi = (this.hi ^ hi) >>> 0;
    this.lo = (this.lo ^ lo) >>> 0;
  }

  v(): number {
    return this.curV;
  }
}
