/**
 * Chunks as stored in blocks: one byte naming the encoding, then the encoded chunk. Head chunks are
 * XOR (cheap to append to); when they are written into a block each is re-encoded as a decimal
 * chunk if that is smaller. Native-histogram chunks (held as objects in the head) are encoded as
 * histogram chunks.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import type { SampleIterator } from '../../storage/interface.js';
import { DecimalIterator, encodeDecimal } from './decimal.js';
import { encodeHistogramChunk, HistogramChunkDecoder } from './histogram.js';
import { XorIterator, chunkSampleCount } from './xor.js';

/** Block chunk encodings. */
export const BlockChunkEncoding = { xor: 0, decimal: 1, histogram: 2 } as const;

// Decoded samples of the chunk being converted; reused, since chunks are converted one at a time.
let ts = new Float64Array(128);
let vs = new Float64Array(128);

/** Converts a head (XOR) chunk into the smallest block chunk. */
export function toBlockChunk(xor: Uint8Array): Uint8Array {
  const n = chunkSampleCount(xor);
  if (ts.length < n) {
    ts = new Float64Array(n);
    vs = new Float64Array(n);
  }
  const it = new XorIterator(xor);
  for (let i = 0; it.next(); i++) {
    ts[i] = it.t();
    vs[i] = it.v();
  }
  const dec = encodeDecimal(ts, vs, n);
  const body = dec && dec.length < xor.length ? dec : xor;
  const out = new Uint8Array(body.length + 1);
  out[0] = body === xor ? BlockChunkEncoding.xor : BlockChunkEncoding.decimal;
  out.set(body, 1);
  return out;
}

/** A block chunk of the first `n` histogram samples. */
export function histogramBlockChunk(ts: readonly number[], hs: readonly FloatHistogram[], n: number): Uint8Array {
  const body = encodeHistogramChunk(ts, hs, n);
  const out = new Uint8Array(body.length + 1);
  out[0] = BlockChunkEncoding.histogram;
  out.set(body, 1);
  return out;
}

/** Iterates a block chunk of any encoding; throws on an unknown encoding byte. */
export function blockChunkIterator(bytes: Uint8Array): SampleIterator {
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case BlockChunkEncoding.xor:
      return new XorIterator(body);
    case BlockChunkEncoding.decimal:
      return new DecimalIterator(body);
    case BlockChunkEncoding.histogram:
      return new HistogramChunkDecoder(body);
    default:
      throw new Error(`unknown chunk encoding ${bytes[0]}`);
  }
}

/** Samples in a block chunk (every encoding starts with a 2-byte count). */
export function blockChunkSampleCount(bytes: Uint8Array): number {
  return (bytes[1]! << 8) | bytes[2]!;
}
