/**
 * Chunk encoding. New chunks use the columnar layout ({@link ./columnar.ts}); this module keeps
 * the row layout of earlier versions, which is still read, and opens either. A row-layout chunk
 * holds a stream's lines in time order:
 *
 *   uvarint count | i64 first t | (count-1) uvarint t deltas | count uvarint line lengths
 *   | uvarint metaCount, then per entry with metadata: uvarint index, uvarint pairs, strings
 *   | the lines joined by '\n'
 *
 * and is compressed whole. Lines are contiguous at the end so a substring filter runs as one
 * `Buffer.indexOf` over the decompressed bytes, decoding only the lines that match.
 */
import type { Labels } from '../../core/model/labels.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { compressBody, decompressBody, CODEC_ID, type Codec } from './codec.js';
import { COLUMNAR_FLAG, ColumnarChunk, type ChunkView } from './columnar.js';
import { readMetas, writeMetas } from './metas.js';
import type { LogEntry } from '../storage/types.js';

export { CODECS, type Codec } from './codec.js';

/** Encodes sorted entries into the raw (uncompressed) chunk layout. */
export function encodeChunk(ts: readonly bigint[], lines: readonly string[], metas: readonly (Labels | undefined)[], w = new ByteWriter(1 << 16)): Buffer {
  w.reset();
  const n = ts.length;
  w.uvarint(n);
  w.reserve(8);
  w.buf.writeBigInt64LE(ts[0] ?? 0n, w.length);
  w.length += 8;
  for (let i = 1; i < n; i++) w.uvarint(Number(ts[i]! - ts[i - 1]!));
  for (let i = 0; i < n; i++) w.uvarint(Buffer.byteLength(lines[i]!));
  writeMetas(w, metas);
  for (let i = 0; i < n; i++) {
    if (i > 0) w.u8(10);
    const s = lines[i]!;
    w.reserve(s.length * 3);
    w.length += w.buf.write(s, w.length, 'utf8');
  }
  return Buffer.from(w.view());
}

/** Compresses raw chunk bytes; the first byte names the codec. */
export function compressChunk(raw: Buffer, codec: Codec, level: number): Buffer {
  const body = compressBody(raw, codec, level);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = CODEC_ID[codec];
  body.copy(out, 1);
  return out;
}

/** Reverses {@link compressChunk}. */
export function decompressChunk(data: Buffer): Buffer {
  return decompressBody(data.subarray(1), data[0]!);
}

/** Opens a sealed chunk of either layout (row layout from older versions, or columnar). */
export function openChunk(data: Buffer): ChunkView {
  return (data[0]! & COLUMNAR_FLAG) !== 0 ? new ColumnarChunk(data) : new DecodedChunk(decompressChunk(data));
}

/** A decoded chunk: timestamps and line offsets, lines decoded on demand. */
export class DecodedChunk implements ChunkView {
  readonly ts: BigInt64Array;
  /** Line i is blob[starts[i], starts[i] + lens[i]). */
  readonly starts: Int32Array;
  readonly lens: Int32Array;
  readonly metas: Map<number, Labels>;
  readonly blob: Buffer;

  constructor(raw: Buffer) {
    const r = new ByteReader(raw);
    const n = r.uvarint();
    this.ts = new BigInt64Array(n);
    if (n > 0) {
      let t = raw.readBigInt64LE(r.pos);
      r.pos += 8;
      this.ts[0] = t;
      for (let i = 1; i < n; i++) {
        t += BigInt(r.uvarint());
        this.ts[i] = t;
      }
    } else r.pos += 8;
    this.lens = new Int32Array(n);
    for (let i = 0; i < n; i++) this.lens[i] = r.uvarint();
    this.metas = readMetas(r);
    this.blob = raw.subarray(r.pos);
    this.starts = new Int32Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      this.starts[i] = off;
      off += this.lens[i]! + 1;
    }
  }

  get length(): number {
    return this.ts.length;
  }

  get memBytes(): number {
    return this.blob.length + this.ts.length * 24;
  }

  line(i: number): string {
    const s = this.starts[i]!;
    return this.blob.toString('utf8', s, s + this.lens[i]!);
  }

  entry(i: number): LogEntry {
    const meta = this.metas.get(i);
    return meta ? { t: this.ts[i]!, line: this.line(i), meta } : { t: this.ts[i]!, line: this.line(i) };
  }

  t(i: number): bigint {
    return this.ts[i]!;
  }

  timeMs(i: number): number {
    return Number(this.ts[i]! / 1000n) / 1000;
  }

  pushTimesMs(idx: Int32Array | undefined, lo: number, hi: number, out: number[]): void {
    if (idx) for (const i of idx) out.push(this.timeMs(i));
    else for (let i = lo; i < hi; i++) out.push(this.timeMs(i));
  }

  lineBytes(i: number): number {
    return this.lens[i]!;
  }

  match(needles: readonly Buffer[], lo: number, hi: number): Int32Array {
    const out: number[] = [];
    for (let i = lo; i < hi; i++) {
      const line = this.blob.subarray(this.starts[i]!, this.starts[i]! + this.lens[i]!);
      if (needles.every((n) => line.indexOf(n) >= 0)) out.push(i);
    }
    return Int32Array.from(out);
  }

  /** Index of the line containing blob offset `off` (binary search). */
  lineAt(off: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** First index with t >= `t`. */
  lowerBound(t: bigint): number {
    let lo = 0;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
