/**
 * Snappy block format (the framing-free one remote_write uses), in TypeScript. Decoding writes into
 * a caller-owned, reusable buffer: a native binding allocates a fresh buffer per call outside the
 * JavaScript heap, which the garbage collector does not see, and the process grows by gigabytes.
 */

import { VigilError } from '../errors.js';

/** Malformed snappy input. */
export class SnappyError extends VigilError {
  override readonly code = 'bad_snappy' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('bad_snappy', message, options);
  }
}

/** Reads the uncompressed length from a block's header; throws {@link SnappyError} if malformed. */
export function snappyDecodedLength(src: Uint8Array): { length: number; headerBytes: number } {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) break;
    const b = src[i]!;
    x += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (x > 0xffffffff) break;
      return { length: x, headerBytes: i + 1 };
    }
    mul *= 128;
  }
  throw new SnappyError('corrupt input: bad length header');
}

/** A decoder that reuses one output buffer; the result is valid until the next call. */
export class SnappyDecoder {
  private scratch = new ArrayBuffer(1 << 16);

  /** Decompresses `input`, refusing outputs larger than `maxLength`. */
  decode(input: Buffer, maxLength = Infinity): Buffer {
    const out = decodeSnappyInto(input, this.scratch, maxLength);
    this.scratch = out.buffer as ArrayBuffer;
    return out;
  }
}

/**
 * Bytes past the decoded length that decoding may scribble on: copies move whole 4- and 8-byte
 * words, the last of which may run over the end of the copy (later ones overwrite what ran over).
 */
const SLACK = 8;

/**
 * Decompresses `input` into `into` when it is large enough, else into a new buffer; returns a view
 * of the decoded bytes. Throws {@link SnappyError} for malformed input or an output over `maxLength`.
 */
export function decodeSnappyInto(input: Buffer, into: ArrayBuffer | undefined, maxLength = Infinity): Buffer {
  const { length, headerBytes } = snappyDecodedLength(input);
  if (length > maxLength) throw new SnappyError(`decompressed length ${length} exceeds the limit of ${maxLength} bytes`);
  const target = into && into.byteLength >= length + SLACK ? into : new ArrayBuffer(Math.max(length + SLACK, (into?.byteLength ?? 0) * 2, 1 << 16));
  // Plain Uint8Array views: element access on them stays on V8's fastest path. The DataViews move
  // a word at a time: a remote_write body is mostly short copies (labels repeated from earlier
  // series), which byte by byte cost most of the decoding.
  const out = new Uint8Array(target);
  const outWords = new DataView(target);
  const src = new Uint8Array(input.buffer, input.byteOffset, input.length);
  const srcWords = new DataView(input.buffer, input.byteOffset, input.length);
  let s = headerBytes;
  let d = 0;
  const end = src.length;
  while (s < end) {
    const tag = src[s++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (s + extra > end) throw new SnappyError('corrupt input: truncated literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[s + i]! * 2 ** (8 * i);
        s += extra;
      }
      len += 1;
      if (s + len > end || d + len > length) throw new SnappyError('corrupt input: literal runs past the end');
      if (len <= 8 && s + 8 <= end) {
        // Eight bytes moved whatever the length: the ones past it land in the slack or are overwritten next.
        outWords.setUint32(d, srcWords.getUint32(s, true), true);
        if (len > 4) outWords.setUint32(d + 4, srcWords.getUint32(s + 4, true), true);
      } else if (len <= 32) for (let i = 0; i < len; i++) out[d + i] = src[s + i]!;
      else out.set(src.subarray(s, s + len), d);
      s += len;
      d += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (s >= end) throw new SnappyError('corrupt input: truncated copy');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag & 0xe0) << 3) | src[s++]!;
    } else if (kind === 2) {
      if (s + 2 > end) throw new SnappyError('corrupt input: truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[s]! | (src[s + 1]! << 8);
      s += 2;
    } else {
      if (s + 4 > end) throw new SnappyError('corrupt input: truncated copy');
      len = (tag >>> 2) + 1;
      offset = (src[s]! | (src[s + 1]! << 8) | (src[s + 2]! << 16)) + src[s + 3]! * 0x1000000;
      s += 4;
    }
    if (offset === 0 || offset > d || d + len > length) throw new SnappyError('corrupt input: copy out of range');
    const stop = d + len;
    let from = d - offset;
    // Each word read lies wholly before the write position (offset ≥ word size), so a copy that
    // overlaps its source (a run) repeats the pattern exactly as byte by byte would.
    if (offset >= 8) {
      for (; d < stop; d += 8, from += 8) {
        outWords.setUint32(d, outWords.getUint32(from, true), true);
        outWords.setUint32(d + 4, outWords.getUint32(from + 4, true), true);
      }
    } else if (offset >= 4) {
      for (; d < stop; d += 4, from += 4) outWords.setUint32(d, outWords.getUint32(from, true), true);
    } else for (; d < stop; d++, from++) out[d] = out[from]!;
    d = stop;
  }
  if (d !== length) throw new SnappyError(`corrupt input: decoded ${d} bytes, header said ${length}`);
  return Buffer.from(target, 0, length);
}

const HASH_BITS = 14;

function emitLiteral(dst: Buffer, d: number, src: Uint8Array, from: number, to: number): number {
  const len = to - from;
  if (len === 0) return d;
  const n = len - 1;
  if (n < 60) dst[d++] = n << 2;
  else if (n < 0x100) {
    dst[d++] = 60 << 2;
    dst[d++] = n;
  } else if (n < 0x10000) {
    dst[d++] = 61 << 2;
    dst[d++] = n & 0xff;
    dst[d++] = n >>> 8;
  } else {
    dst[d++] = 63 << 2;
    dst.writeUInt32LE(n, d);
    d += 4;
  }
  dst.set(src.subarray(from, to), d);
  d += len;
  return d;
}

function emitCopy(dst: Buffer, d: number, offset: number, len: number): number {
  // Copies of up to 64 bytes with a 2-byte offset; blocks are 64 KiB, so offsets always fit.
  while (len > 0) {
    const n = Math.min(len, 64);
    // Never leave a remainder under 4: split 65..67 as 60 + the rest.
    const take = len > 64 && len - n < 4 ? 60 : n;
    dst[d++] = ((take - 1) << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    len -= take;
  }
  return d;
}

/** Compresses `src` into a snappy block (greedy matching over 64 KiB blocks, as the reference does). */
export function snappyEncode(src: Uint8Array): Buffer {
  // Compressed into scratch space sized for the worst case, then copied out at its size: a sender
  // keeps each body until the receiver takes it, and a buffer of the worst-case size each time
  // was mostly empty room held outside the V8 heap until a major collection.
  const need = 32 + src.length + Math.ceil(src.length / 6);
  if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(need);
  const dst = scratch;
  let d = 0;
  let x = src.length;
  while (x >= 0x80) {
    dst[d++] = (x & 0x7f) | 0x80;
    x = Math.floor(x / 128);
  }
  dst[d++] = x;
  const table = hashTable;
  for (let blockStart = 0; blockStart < src.length; blockStart += 65536) {
    const blockEnd = Math.min(blockStart + 65536, src.length);
    table.fill(-1);
    let lit = blockStart;
    let i = blockStart;
    while (i + 4 <= blockEnd) {
      const word = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
      const h = Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS);
      const cand = table[h]!;
      table[h] = i;
      if (cand >= blockStart && src[cand] === src[i] && src[cand + 1] === src[i + 1] && src[cand + 2] === src[i + 2] && src[cand + 3] === src[i + 3]) {
        let len = 4;
        while (i + len < blockEnd && src[cand + len] === src[i + len]) len++;
        d = emitLiteral(dst, d, src, lit, i);
        d = emitCopy(dst, d, i - cand, len);
        i += len;
        lit = i;
      } else i++;
    }
    d = emitLiteral(dst, d, src, lit, blockEnd);
  }
  return Buffer.from(dst.subarray(0, d));
}

/** Scratch space of {@link snappyEncode}, which runs to completion: one per thread serves every call. */
let scratch = Buffer.allocUnsafeSlow(0);
const hashTable = new Int32Array(1 << HASH_BITS);
