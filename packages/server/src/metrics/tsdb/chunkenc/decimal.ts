/**
 * Decimal chunks, for blocks: when every value of a chunk is a decimal number with at most a few
 * fraction digits (counters, byte sizes, rounded gauges), the values are stored as integers scaled
 * by 10^k, as the differences between neighbours minus their minimum, in a fixed bit width chosen
 * per chunk. A constant series costs nothing beyond its timestamps; a counter a handful of bits.
 * Decoding gives back exactly the same float64 values (k is only used where division by 10^k
 * reproduces every value bit for bit); other chunks stay XOR-encoded.
 */
import { ForwardChunkIterator } from './iterator.js';
import { BitReader, BitWriter } from './bitstream.js';
import { readDod, readInt64, readWide, writeDod, writeInt64, writeWide } from './varbits.js';

/** Most fraction digits tried. */
const MAX_SCALE = 9;
/** Bytes before the bit stream: count (2), scale k (1), width (1). */
const HEADER = 4;

/** The smallest k ≤ 9 such that v is exactly round(v·10^k)/10^k with a safe integer, else -1. */
function scaleOf(v: number): number {
  if (!Number.isFinite(v) || Object.is(v, -0)) return -1;
  for (let k = 0, p = 1; k <= MAX_SCALE; k++, p *= 10) {
    const n = Math.round(v * p);
    if (Math.abs(n) > Number.MAX_SAFE_INTEGER) return -1;
    if (n / p === v) return k;
  }
  return -1;
}

/** The width in bits of an unsigned integer below 2^53. */
function widthOf(x: number): number {
  let w = 0;
  while (x >= 1) {
    x = Math.floor(x / 2);
    w++;
  }
  return w;
}

/**
 * Encodes the samples as a decimal chunk, or returns undefined when some value is not a short
 * decimal (NaN, ±Inf, -0, the staleness marker, or too many digits) or the integers would overflow.
 */
export function encodeDecimal(ts: ArrayLike<number>, vs: ArrayLike<number>, n: number): Uint8Array | undefined {
  if (n === 0 || n > 0xffff) return undefined;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const s = scaleOf(vs[i]!);
    if (s < 0) return undefined;
    if (s > k) k = s;
  }
  const p = 10 ** k;
  const ints = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = Math.round(vs[i]! * p);
    // The common scale must still reproduce each value exactly.
    if (x / p !== vs[i] || Math.abs(x) > Number.MAX_SAFE_INTEGER) return undefined;
    ints[i] = x;
  }
  let minDelta = Infinity;
  let maxDelta = -Infinity;
  for (let i = 1; i < n; i++) {
    const d = ints[i]! - ints[i - 1]!;
    if (d < minDelta) minDelta = d;
    if (d > maxDelta) maxDelta = d;
  }
  if (n === 1) minDelta = maxDelta = 0;
  if (!Number.isSafeInteger(minDelta) || !Number.isSafeInteger(maxDelta - minDelta)) return undefined;
  const width = widthOf(maxDelta - minDelta);
  const w = new BitWriter(HEADER + 24 + Math.ceil(((width + 1) * n) / 8));
  w.writeBits(n, 16);
  w.writeBits(k, 8);
  w.writeBits(width, 8);
  writeInt64(w, ts[0]!);
  writeInt64(w, ints[0]!);
  writeInt64(w, minDelta);
  let prevT = ts[0]!;
  let prevDelta = 0;
  for (let i = 1; i < n; i++) {
    const delta = ts[i]! - prevT;
    writeDod(w, delta - prevDelta);
    prevDelta = delta;
    prevT = ts[i]!;
    writeWide(w, ints[i]! - ints[i - 1]! - minDelta, width);
  }
  return w.finish();
}

/** Iterates a decimal chunk. */
export class DecimalIterator extends ForwardChunkIterator {
  private readonly r: BitReader;
  private readonly total: number;
  private readonly scale: number;
  private readonly width: number;
  private curInt = 0;
  private delta = 0;
  private minDelta = 0;

  constructor(bytes: Uint8Array) {
    super();
    this.total = (bytes[0]! << 8) | bytes[1]!;
    this.scale = 10 ** bytes[2]!;
    this.width = bytes[3]!;
    this.r = new BitReader(bytes, HEADER * 8);
  }

  next(): boolean {
    if (this.read >= this.total) return false;
    const r = this.r;
    if (this.read === 0) {
      this.curT = readInt64(r);
      this.curInt = readInt64(r);
      this.minDelta = readInt64(r);
    } else {
      this.delta += readDod(r);
      this.curT += this.delta;
      this.curInt += readWide(r, this.width) + this.minDelta;
    }
    this.read++;
    return true;
  }

  v(): number {
    return this.curInt / this.scale;
  }
}
