/**
 * Prometheus' own XOR chunk encoding, as remote_read's STREAMED_XOR_CHUNKS sends it. It differs
 * from Vigil's chunks only in its first two timestamps: the first is a zig-zag varint, the second a
 * plain varint delta (Vigil writes 64 bits, then a delta-of-delta). Everything after (delta-of-delta
 * classes, the value XOR with its leading/trailing window) is the same bit stream.
 */
import type { BitReader } from './bitstream.js';
import { chunkSampleCount, XorIterator } from './xor.js';

/** Reads a protobuf-style unsigned varint of up to 53 bits from a bit stream (a byte at a time). */
function readUvarint(r: BitReader): number {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = r.readBits(8);
    x += (b & 0x7f) * mul;
    if (b < 0x80) return x;
    mul *= 128;
  }
  throw new RangeError('varint longer than 10 bytes in a chunk');
}

/** Iterates the samples of a chunk in Prometheus' XOR encoding (2-byte count header included). */
export class PrometheusXorIterator extends XorIterator {
  constructor(bytes: Uint8Array) {
    if (bytes.length < 2) throw new RangeError('chunk shorter than its 2-byte header');
    super(bytes, chunkSampleCount(bytes));
  }

  protected override readTime(): void {
    if (this.read === 0) {
      const u = readUvarint(this.r);
      // Zig-zag: even numbers are the non-negative values, odd ones the negative.
      this.curT = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    } else if (this.read === 1) {
      this.delta = readUvarint(this.r);
      this.curT += this.delta;
    } else super.readTime();
  }
}
