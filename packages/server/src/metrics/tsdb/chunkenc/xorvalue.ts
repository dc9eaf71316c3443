/**
 * Gorilla's XOR coding of one float64 against the previous value of the same stream: `0` when
 * equal, else the XOR's meaningful bits inside a window of leading and trailing zeros that is
 * reused while it fits. Shared by the float chunks and the histogram chunks (one stream per bucket).
 */
import type { BitReader, BitWriter } from './bitstream.js';

/** The state of one stream: the previous value's words and the current window (leading -1: none yet). */
export interface XorWindow {
  hi: number;
  lo: number;
  leading: number;
  trailing: number;
}

/** A stream whose previous value is 0 and that has no window yet. */
export function newXorWindow(): XorWindow {
  return { hi: 0, lo: 0, leading: -1, trailing: 0 };
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
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

/** Writes the float64 whose words are (hi, lo) against the stream's previous value, and makes it the previous value. */
export function writeXorValue(w: BitWriter, s: XorWindow, hi: number, lo: number): void {
  const xh = (hi ^ s.hi) >>> 0;
  const xl = (lo ^ s.lo) >>> 0;
  s.hi = hi;
  s.lo = lo;
  if (xh === 0 && xl === 0) {
    w.writeBit(0);
    return;
  }
  w.writeBit(1);
  let leading = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
  const trailing = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
  // Five bits hold the leading-zero count, so cap it; the extra zeros are then written as data.
  if (leading > 31) leading = 31;
  if (s.leading !== -1 && leading >= s.leading && trailing >= s.trailing) {
    w.writeBit(0);
    writeShifted(w, xh, xl, s.trailing, 64 - s.leading - s.trailing);
    return;
  }
  s.leading = leading;
  s.trailing = trailing;
  const sig = 64 - leading - trailing;
  w.writeBit(1);
  w.writeBits(leading, 5);
  // 64 significant bits do not fit in 6 bits; 0 stands for 64 since 0 can never occur.
  w.writeBits(sig & 63, 6);
  writeShifted(w, xh, xl, trailing, sig);
}

/** Reads what {@link writeXorValue} wrote into the stream's (hi, lo). */
export function readXorValue(r: BitReader, s: XorWindow): void {
  if (r.readBit() === 0) return;
  if (r.readBit() === 1) {
    s.leading = r.readBits(5);
    let sig = r.readBits(6);
    if (sig === 0) sig = 64;
    s.trailing = 64 - s.leading - sig;
  }
  const n = 64 - s.leading - s.trailing;
  let hi = 0;
  let lo: number;
  if (n > 32) {
    hi = r.readBits(n - 32);
    lo = r.readBits(32);
  } else {
    lo = r.readBits(n);
  }
  // Shift (hi, lo) left by `trailing` back into place, then undo the XOR.
  const sh = s.trailing;
  if (sh >= 32) {
    hi = lo << (sh - 32);
    lo = 0;
  } else if (sh > 0) {
    hi = (hi << sh) | (lo >>> (32 - sh));
    lo = lo << sh;
  }
  s.hi = (s.hi ^ hi) >>> 0;
  s.lo = (s.lo ^ lo) >>> 0;
}
