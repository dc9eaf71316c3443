/**
 * Chunk index records (`chunks/NNNNNNNN.idx`). Old records (types 3 and 4) carry no checksum and no
 * WAL mark and are still read. New records (5 and 6) add the CRC-32C of the chunk's bytes in the
 * .dat file (which start with {@link CHUNK_MAGIC}) and the chunk's WAL high-water mark: the
 * position of the newest WAL entry of its stream that it holds. Replay skips entries at or before
 * a stream's mark, so a head sealed before a crash is not replayed into a second copy.
 */
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { crc32c } from '../../core/util/crc32c.js';
import { Bloom } from '../../core/util/bloom.js';

export const REC_CHUNK = 3;
/** A chunk that replaces others (compaction): REC_CHUNK's payload, then the replaced chunks. */
export const REC_CHUNK_MERGED = 4;
export const REC_CHUNK_V2 = 5;
export const REC_CHUNK_MERGED_V2 = 6;
/** "VLC" and a format version: chunk bytes under a v2 record start with this. */
export const CHUNK_MAGIC = Buffer.from([0x56, 0x4c, 0x43, 0x01]);

/**
 * A WAL position: segment, byte offset of the record's frame, index of the entry in the record
 * (a head can be sealed half-way through a record, as sealing happens per entry).
 */
export interface WalMark {
  readonly seg: number;
  readonly off: number;
  readonly idx: number;
}

/** Negative, zero or positive as `a` is before, at or after `b`; no mark is before every mark. */
export function compareMarks(a: WalMark | undefined, b: WalMark | undefined): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  return a.seg - b.seg || a.off - b.off || a.idx - b.idx;
}

/** The later of two marks. */
export function maxMark(a: WalMark | undefined, b: WalMark | undefined): WalMark | undefined {
  return compareMarks(a, b) >= 0 ? a : b;
}

/** A chunk's index record. `crc` and `mark` are absent in old records. */
export interface ChunkRecord {
  readonly streamId: number;
  readonly offset: number;
  readonly length: number;
  readonly minT: bigint;
  readonly maxT: bigint;
  readonly count: number;
  readonly rawBytes: number;
  readonly bloom: Bloom;
  readonly crc?: number | undefined;
  readonly mark?: WalMark | undefined;
  /** Chunks this one replaces (file, offset), for merged records. */
  readonly replaces?: readonly { readonly file: number; readonly offset: number }[] | undefined;
}

/** True for the record types that describe a chunk. */
export function isChunkRecord(type: number): boolean {
  return type === REC_CHUNK || type === REC_CHUNK_MERGED || type === REC_CHUNK_V2 || type === REC_CHUNK_MERGED_V2;
}

/** Writes a v2 record's payload; returns its type. */
export function encodeChunkRecord(w: ByteWriter, r: ChunkRecord): number {
  w.uvarint(r.streamId);
  w.uvarint(r.offset);
  w.uvarint(r.length);
  w.reserve(16);
  w.buf.writeBigInt64LE(r.minT, w.length);
  w.buf.writeBigInt64LE(r.maxT, w.length + 8);
  w.length += 16;
  w.uvarint(r.count);
  w.uvarint(r.rawBytes);
  w.u32(r.crc ?? 0);
  // Segment + 1, so 0 can say "no mark" (a merge of old chunks).
  w.uvarint(r.mark ? r.mark.seg + 1 : 0);
  if (r.mark) {
    w.uvarint(r.mark.off);
    w.uvarint(r.mark.idx);
  }
  w.uvarint(r.bloom.k);
  w.uvarint(r.bloom.bits.length);
  for (const x of r.bloom.bits) w.u32(x);
  if (!r.replaces) return REC_CHUNK_V2;
  w.uvarint(r.replaces.length);
  for (const c of r.replaces) {
    w.uvarint(c.file);
    w.uvarint(c.offset);
  }
  return REC_CHUNK_MERGED_V2;
}

/** Reads a chunk record of any version (throws on a malformed one). */
export function decodeChunkRecord(type: number, buf: Buffer, start: number, end: number): ChunkRecord {
  const v2 = type === REC_CHUNK_V2 || type === REC_CHUNK_MERGED_V2;
  const rd = new ByteReader(buf, start, end);
  const streamId = rd.uvarint();
  const offset = rd.uvarint();
  const length = rd.uvarint();
  if (rd.pos + 16 > end) throw new RangeError('unexpected end of record');
  const minT = buf.readBigInt64LE(rd.pos);
  const maxT = buf.readBigInt64LE(rd.pos + 8);
  rd.pos += 16;
  const count = rd.uvarint();
  const rawBytes = rd.uvarint();
  let crc: number | undefined;
  let mark: WalMark | undefined;
  if (v2) {
    crc = rd.u32();
    const seg1 = rd.uvarint();
    if (seg1 > 0) mark = { seg: seg1 - 1, off: rd.uvarint(), idx: rd.uvarint() };
  }
  const k = rd.uvarint();
  const words = rd.uvarint();
  if (rd.pos + words * 4 > end) throw new RangeError('unexpected end of record');
  const bits = new Uint32Array(words);
  for (let i = 0; i < words; i++) bits[i] = rd.u32();
  let replaces: { file: number; offset: number }[] | undefined;
  if (type === REC_CHUNK_MERGED || type === REC_CHUNK_MERGED_V2) {
    const n = rd.uvarint();
    replaces = [];
    for (let i = 0; i < n; i++) replaces.push({ file: rd.uvarint(), offset: rd.uvarint() });
  }
  if (rd.pos !== end) throw new RangeError('trailing bytes in record');
  return { streamId, offset, length, minT, maxT, count, rawBytes, bloom: new Bloom(bits, k), crc, mark, replaces };
}

/**
 * The chunk bytes (for the decoder) of a chunk read from its .dat file, or the reason it is damaged:
 * a checksum mismatch or a missing magic. Old chunks (no checksum) are taken as they are.
 */
export function checkChunk(r: Pick<ChunkRecord, 'crc'>, data: Buffer): Buffer | string {
  if (r.crc === undefined) return data;
  const got = crc32c(data);
  if (got !== r.crc) return `chunk checksum mismatch (CRC-32C ${got.toString(16)}, index says ${r.crc.toString(16)})`;
  if (data.length < CHUNK_MAGIC.length || !data.subarray(0, CHUNK_MAGIC.length).equals(CHUNK_MAGIC)) return 'chunk magic missing';
  return data.subarray(CHUNK_MAGIC.length);
}
