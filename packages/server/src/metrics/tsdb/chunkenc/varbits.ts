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

/** Reads what {@link writeSigned} wrote: a class holds −2^(bits−1)+1 … 2^(bits−1) (see {@link fits}). */
function readSigned(r: BitReader, bits: number): number {
  const x = r.readBits(bits);
  return x > 2 ** (bits - 1) ? x - 2 ** bits : x;
}

/**
 * Writes a timestamp's delta-of-delta: `0`, or a 2–4 bit prefix and 14/17/20 bits, or `1111` and 64.
 * Prefix and value go out as one field of at most 24 bits, with the class bounds as constants: this
 * runs for every sample of every scrape, and a scrape whose timestamps jitter by a millisecond or
 * two (every real one) takes the 14-bit class each time.
 */
export function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) w.writeBit(0);
  else if (dod >= -8191 && dod <= 8192) w.writeBits((0b10 << 14) | (dod < 0 ? dod + 16384 : dod), 16);
  else if (dod >= -65535 && dod <= 65536) w.writeBits((0b110 << 17) | (dod < 0 ? dod + 131072 : dod), 20);
  else if (dod >= -524287 && dod <= 524288) w.writeBits((0b1110 << 20) | (dod < 0 ? dod + 1048576 : dod), 24);
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

/** Widths of {@link writeVarbit}'s classes after their prefix of 1 to 6 ones (7 ones: 64 bits). */
const VARBIT_WIDTHS = [3, 6, 9, 13, 20, 28];

/**
 * Writes a signed integer of up to 53 bits in a width class chosen by its size: `0` for zero, else
 * k ones and a zero followed by the value in the k-th width of {@link VARBIT_WIDTHS}, or seven ones
 * and 64 bits. Small counts and their changes (−3…4) cost five bits.
 */
export function writeVarbit(w: BitWriter, x: number): void {
  if (x === 0) {
    w.writeBit(0);
    return;
  }
  for (let k = 0; k < VARBIT_WIDTHS.length; k++) {
    const bits = VARBIT_WIDTHS[k]!;
    if (fits(x, bits)) {
      // k + 1 ones, then a zero.
      writeSigned(w, (2 ** (k + 1) - 1) * 2, k + 2, x, bits);
      return;
    }
  }
  w.writeBits(0x7f, 7);
  writeInt64(w, x);
}

/** Reads what {@link writeVarbit} wrote. */
export function readVarbit(r: BitReader): number {
  let ones = 0;
  while (ones <= VARBIT_WIDTHS.length && r.readBit() === 1) ones++;
  if (ones === 0) return 0;
  return ones > VARBIT_WIDTHS.length ? readInt64(r) : readSigned(r, VARBIT_WIDTHS[ones - 1]!);
}
