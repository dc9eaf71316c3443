/**
 * Bit-level writer and reader over byte arrays, most significant bit first. Values wider than 32
 * bits are written as two halves by the caller, because JavaScript bit operators work on 32 bits.
 */

/** Appends bits to a growable byte buffer. */
export class BitWriter {
  /** The bytes written so far (may be longer than used; see {@link byteLength}). */
  bytes: Uint8Array;
  /** Number of bits written. */
  bitLength = 0;

  constructor(initialBytes = 32) {
    this.bytes = new Uint8Array(initialBytes);
  }

  /** Empties the writer for reuse, keeping its memory (bits are OR-ed in, so used bytes are zeroed). */
  reset(): void {
    this.bytes.fill(0, 0, this.byteLength);
    this.bitLength = 0;
  }

  /** Bytes in use, counting a partly filled last byte. */
  get byteLength(): number {
    return (this.bitLength + 7) >>> 3;
  }

  private ensure(extraBits: number): void {
    const need = (this.bitLength + extraBits + 7) >>> 3;
    if (need <= this.bytes.length) return;
    // Grow by half again rather than double: a head chunk holds about 120 samples, so most stop small.
    const grown = new Uint8Array(Math.max(need, this.bytes.length + (this.bytes.length >>> 1) + 8));
    grown.set(this.bytes.subarray(0, this.byteLength));
    this.bytes = grown;
  }

  /** Writes the low `n` bits of `value` (0 ≤ n ≤ 32). */
  writeBits(value: number, n: number): void {
    if (n === 0) return;
    this.ensure(n);
    const bytes = this.bytes;
    let pos = this.bitLength;
    let remaining = n;
    while (remaining > 0) {
      const byteIndex = pos >>> 3;
      const free = 8 - (pos & 7);
      const take = remaining < free ? remaining : free;
      // The next `take` bits of value, from its top end.
      const chunk = (value >>> (remaining - take)) & ((1 << take) - 1);
      bytes[byteIndex] = bytes[byteIndex]! | (chunk << (free - take));
      pos += take;
      remaining -= take;
    }
    this.bitLength = pos;
  }

  /** Writes one bit. */
  writeBit(bit: number): void {
    this.ensure(1);
    if (bit) {
      const i = this.bitLength >>> 3;
      this.bytes[i] = this.bytes[i]! | (0x80 >>> (this.bitLength & 7));
    }
    this.bitLength++;
  }

  /** A copy of exactly the bytes in use. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.byteLength);
  }
}

/** Reads bits written by {@link BitWriter}. */
export class BitReader {
  // Public for the bulk decoders (xor.ts), which read the bits with local copies of these.
  readonly bytes: Uint8Array;
  /** The next bit to read. */
  pos: number;
  /** The bit the stream ends at. */
  readonly end: number;

  /** Reads `bytes` from bit `startBit` up to bit `endBit`. */
  constructor(bytes: Uint8Array, startBit = 0, endBit = bytes.length * 8) {
    this.bytes = bytes;
    this.pos = startBit;
    this.end = endBit;
  }

  /** Bits left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
  readBits(n: number): number {
    if (n > 25) {
      // A 32-bit window starting anywhere within a byte holds at least 25 bits; take the rest next.
      const hi = this.readBits(n - 16);
      return hi * 65536 + this.readBits(16);
    }
    if (n === 0) return 0;
    const pos = this.pos;
    if (pos + n > this.end) throw new RangeError('read past the end of a chunk');
    const bytes = this.bytes;
    const i = pos >>> 3;
    let w: number;
    if (i + 3 < bytes.length) w = (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!;
    else {
      // Near the end of the array: missing bytes read as zero (they lie beyond `end` anyway).
      w = 0;
      for (let k = 0; k < 4; k++) w = (w << 8) | (i + k < bytes.length ? bytes[i + k]! : 0);
    }
    this.pos = pos + n;
    return (w << (pos & 7)) >>> (32 - n);
  }

  /** Reads one bit. */
  readBit(): number {
    if (this.pos >= this.end) throw new RangeError('read past the end of a chunk');
    const bit = (this.bytes[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }
}

/** The 32 bits starting at byte `i` of `bytes`, big-endian; bytes past the end read as zero. */
export function wordAt(bytes: Uint8Array, i: number): number {
  if (i + 3 < bytes.length) return (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!;
  let w = 0;
  for (let k = 0; k < 4; k++) w = (w << 8) | (i + k < bytes.length ? bytes[i + k]! : 0);
  return w;
}

/** `n` bits (1 ≤ n ≤ 25) of `bytes` from bit `pos`, unsigned: {@link BitReader.readBits} without the reader. */
export function bitsAt(bytes: Uint8Array, pos: number, n: number): number {
  return (wordAt(bytes, pos >>> 3) << (pos & 7)) >>> (32 - n);
}

/** `n` bits (0 ≤ n ≤ 32) of `bytes` from bit `pos`, unsigned. */
export function wideBitsAt(bytes: Uint8Array, pos: number, n: number): number {
  if (n <= 25) return n === 0 ? 0 : bitsAt(bytes, pos, n);
  return bitsAt(bytes, pos, n - 16) * 65536 + bitsAt(bytes, pos + n - 16, 16);
}
