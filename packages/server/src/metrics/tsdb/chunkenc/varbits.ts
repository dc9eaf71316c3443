/**
 * Bit-stream pieces shared by the chunk encodings: 64-bit integers, and timestamps as
 * delta-of-delta in Gorilla's prefix classes (a regular scrape interval costs one bit a sample).
 */
import type { BitReader, BitWriter } from './bitstream.js';

const TWO_32 = 4294967296;

/** Writes a signed integer of up to 53 bits as 64 bits. */
export function writeInt64(w: BitWriter, x: number): void {
  const hi = Math.floor(x / TWO_32);
  w.writeBits(hi | 0, 32);
  w.writeBits((x - hi * TWO_32) >>> 0, 32);
}

/** Reads what {@link writeInt64} wrote. */
export function readInt64(r: BitReader): number {
  const hi = r.readBits(32) | 0;
  return hi * TWO_32 + r.readBits(32);
}

/** Whether a signed value fits the `bits`-wide class. */
function fits(x: number, bits: number): boolean {
  const half = 2 ** (bits - 1);
  return x >= -half + 1 && x <= half;
}

function writeSigned(w: BitWriter, prefix: number, prefixBits: number, x: number, bits: number): void {
  w.writeBits(prefix, prefixBits);
  w.writeBits(x < 0 ? x + 2 ** bits : x, bits);
}

function readSigned(r: BitReader, bits: number): number {
  const x = r.readBits(bits);
  // The class holds -half+1 … half ({@link fits}), so `half` itself is positive, as in Prometheus.
  return x > 2 ** (bits - 1) ? x - 2 ** bits : x;
}

/** Writes a timestamp's delta-of-delta: `0`, or a 2–4 bit prefix and 14/17/20 bits, or `1111` and 64. */
export function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) w.writeBit(0);
  else if (fits(dod, 14)) writeSigned(w, 0b10, 2, dod, 14);
  else if (fits(dod, 17)) writeSigned(w, 0b110, 3, dod, 17);
  else if (fits(dod, 20)) writeSigned(w, 0b1110, 4, dod, 20);
  else {
    w.writeBits(0b1111, 4);
    writeInt64(w, dod);
  }
}

/** Reads what {@link writeDod} wrote. */
export function readDod(r: BitReader): number {
  // The prefix is up to four 1-bits ended by a 0; their count selects the width.
  let ones = 0;
  while (ones < 4 && r.readBit() === 1) ones++;
  return ones === 0 ? 0 : ones === 1 ? readSigned(r, 14) : ones === 2 ? readSigned(r, 17) : ones === 3 ? readSigned(r, 20) : readInt64(r);
}

/** Writes an unsigned integer of up to 53 bits in exactly `n` bits. */
export function writeWide(w: BitWriter, x: number, n: number): void {
  if (n > 32) {
    const hi = Math.floor(x / TWO_32);
    w.writeBits(hi, n - 32);
    w.writeBits((x - hi * TWO_32) >>> 0, 32);
  } else w.writeBits(x, n);
}

/** Reads what {@link writeWide} wrote. */
export function readWide(r: BitReader, n: number): number {
  if (n > 32) {
    const hi = r.readBits(n - 32);
    return hi * TWO_32 + r.readBits(32);
  }
  return r.readBits(n);
}
