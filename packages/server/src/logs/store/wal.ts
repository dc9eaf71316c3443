/**
 * The log WAL: numbered segment files `wal/NNNNNNNN` of framed entry records, and `wal/checkpoint`,
 * naming the last segment whose lines are all in chunks. An entry record holds, per line: stream id
 * (uvarint), time (i64 LE, ns), line (uvarint length, UTF-8), structured metadata (uvarint count,
 * then name/value strings). Appends are cut back when a write fails part-way (writes.ts), so no
 * record lands behind a torn one. Replay hands each entry with its position (segment, frame offset,
 * index in the record), which the stream marks compare against.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Labels } from '../../core/model/labels.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { crc32c } from '../../core/util/crc32c.js';
import type { LogEntry } from '../storage/types.js';
import { fileName } from './chunkfiles.js';
import { FRAME_HEADER, readFramesRepair, writeFrameHeader } from './framing.js';
import { appendAll, syncFd, type LogIo } from '../../core/util/appendfile.js';

export const REC_ENTRIES = 2;
/** Scratch for writing a timestamp's 8 little-endian bytes. */
const T64 = new BigInt64Array(1);
const T8 = new Uint8Array(T64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The checkpoint marker's text: the segment and the CRC-32C of its digits (a flipped digit must not delete live segments). */
/** The numbers of the segment files in the log WAL directory `dir`, ascending; throws when it cannot be read. */
export function walSegmentNumbers(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{8}$/.test(f))
    .map(Number)
    .sort((a, b) => a - b);
}

/** The file of segment `seg` in the log WAL directory `dir`. */
export function walSegmentPath(dir: string, seg: number): string {
  return path.join(dir, fileName(seg));
}

export function formatCheckpoint(seg: number): string {
  const n = String(seg);
  return `${n} ${crc32c(Buffer.from(n)).toString(16)}\n`;
}

/** The segment a marker names, or undefined when it is damaged. Old markers hold just the number. */
export function parseCheckpoint(text: string): number | undefined {
  const parts = text.trim().split(' ');
  if (!/^\d+$/.test(parts[0] ?? '')) return undefined;
  if (parts.length === 1) return Number(parts[0]);
  if (parts.length !== 2 || crc32c(Buffer.from(parts[0]!)).toString(16) !== parts[1]) return undefined;
  return Number(parts[0]);
}

/**
 * Writes one entry's stream id, time and line into a record being built; returns where the line's
 * UTF-8 bytes start (they end at `w.length`). {@link writeEntryMeta} must follow.
 */
function writeEntryLine(w: ByteWriter, streamId: number, t: bigint, line: string): number {
  w.uvarint(streamId);
  w.reserve(8);
  // Through a BigInt64Array: Buffer.writeBigInt64LE does BigInt arithmetic per call.
  if (LITTLE_ENDIAN) {
    T64[0] = t;
    const tb = w.buf;
    const o = w.length;
    for (let x = 0; x < 8; x++) tb[o + x] = T8[x]!;
  } else w.buf.writeBigInt64LE(t, w.length);
  w.length += 8;
  if (line.length < 1 << 19) {
    // Encode once, then fill in the length as a 3-byte (padded) varint before it.
    w.reserve(3 + line.length * 3);
    const at = w.length + 3;
    const len = w.buf.write(line, at);
    w.buf[at - 3] = (len & 0x7f) | 0x80;
    w.buf[at - 2] = ((len >>> 7) & 0x7f) | 0x80;
    w.buf[at - 1] = len >>> 14;
    w.length = at + len;
    return at;
  }
  w.str(line);
  return w.length - Buffer.byteLength(line);
}

/** Writes one entry's structured metadata (after {@link writeEntryLine}). */
function writeEntryMeta(w: ByteWriter, meta: Labels | undefined): void {
  w.uvarint(meta ? meta.length : 0);
  if (meta)
    for (const l of meta) {
      w.str(l.name);
      w.str(l.value);
    }
}

/**
 * The entry record of one push, built in place behind room for its frame header. It remembers
 * where each line's UTF-8 bytes are, so the heads copy them from here instead of encoding again.
 * One builder is reused for every push: nothing is allocated per line.
 */
export class EntryRecordBuilder {
  private readonly w = new ByteWriter(1 << 20);
  /** Line i's bytes are `buf[pos[2i], pos[2i + 1])`. */
  private pos = new Int32Array(2048);
  private n = 0;

  /** The record's bytes (valid until the next {@link begin}). */
  get buf(): Buffer {
    return this.w.buf;
  }

  /** Starts a new record. */
  begin(): void {
    this.w.reset();
    this.w.reserve(FRAME_HEADER);
    this.w.length = FRAME_HEADER;
    this.n = 0;
  }

  /** Appends an entry of stream `streamId`. */
  add(streamId: number, e: LogEntry): void {
    const at = writeEntryLine(this.w, streamId, e.t, e.line);
    const i = this.n++;
    if (2 * i + 2 > this.pos.length) {
      const grown = new Int32Array(this.pos.length * 2);
      grown.set(this.pos);
      this.pos = grown;
    }
    this.pos[2 * i] = at;
    this.pos[2 * i + 1] = this.w.length;
    writeEntryMeta(this.w, e.meta);
  }

  lineStart(i: number): number {
    return this.pos[2 * i]!;
  }

  lineEnd(i: number): number {
    return this.pos[2 * i + 1]!;
  }

  /** Writes the frame header; returns the framed record's length (from `buf[0]`). */
  finish(): number {
    writeFrameHeader(this.w.buf, 0, REC_ENTRIES, this.w.length - FRAME_HEADER);
    return this.w.length;
  }
}

/** Called per entry of a replayed record: its index `k` in the record, its line at `buf[a, b)`. */
export type ReplayedEntryFn = (k: number, streamId: number, t: bigint, buf: Buffer, a: number, b: number, meta: Labels | undefined) => void;

/** Decodes an entry record's payload `buf[start, end)`; throws on a malformed one. */
export function forEachEntry(buf: Buffer, start: number, end: number, fn: ReplayedEntryFn): void {
  const r = new ByteReader(buf, start, end);
  for (let k = 0; r.pos < end; k++) {
    const id = r.uvarint();
    if (r.pos + 8 > end) throw new RangeError('unexpected end of record');
    const t = buf.readBigInt64LE(r.pos);
    r.pos += 8;
    const len = r.uvarint();
    const a = r.pos;
    if (a + len > end) throw new RangeError('unexpected end of record');
    r.pos += len;
    const nm = r.uvarint();
    let meta: { name: string; value: string }[] | undefined;
    if (nm > 0) {
      meta = [];
      for (let i = 0; i < nm; i++) meta.push({ name: r.str(), value: r.str() });
    }
    fn(k, id, t, buf, a, a + len, meta);
  }
}

/** The WAL's files. */
export class LogWal {
  /** The segment being written, and its size (the offset of the next record). */
  segment = 0;
  size = 0;
  private fd = -1;
  /** The last segment a checkpoint marker covers (-1: none); segments up to it are in chunks. */
  covered = -1;
  /**
   * The first segment a reader of the WAL (the log forwarder) still needs, or undefined: covered
   * segments from it on are kept, at start and at checkpoints, until it moves past them.
   */
  retainFrom: (() => number | undefined) | undefined;

  constructor(
    readonly dir: string,
    private readonly io: LogIo,
    private readonly fsync: boolean,
  ) {}

  /** Covered segments below this one may be deleted. */
  private deletableBelow(): number {
    const hold = this.retainFrom?.();
    return hold === undefined ? this.covered + 1 : Math.min(hold, this.covered + 1);
  }

  /**
   * Deletes the segments the checkpoint covers (but those {@link retainFrom} holds) and hands every record of the rest to `fn` (segment
   * and frame offset with the record), cutting torn tails. Returns the repairs and the highest
   * segment number seen (the checkpoint's when none is left).
   */
  replay(fn: (seg: number, buf: Buffer, start: number, end: number, frameOff: number) => void): { repairs: string[]; lastSeg: number } {
    fs.mkdirSync(this.dir, { recursive: true });
    const repairs: string[] = [];
    const { checkpoint, repair } = this.readCheckpoint();
    if (repair) repairs.push(repair);
    const segs = walSegmentNumbers(this.dir);
    let lastSeg = checkpoint;
    this.covered = checkpoint;
    const below = this.deletableBelow();
    for (const seg of segs) {
      lastSeg = Math.max(lastSeg, seg);
      if (seg <= checkpoint) {
        if (seg < below) fs.rmSync(walSegmentPath(this.dir, seg), { force: true });
        continue;
      }
      repairs.push(
        ...readFramesRepair(walSegmentPath(this.dir, seg), (type, buf, start, end, frameOff) => {
          if (type !== REC_ENTRIES) throw new Error(`unknown record type ${type}`);
          fn(seg, buf, start, end, frameOff);
        }),
      );
    }
    return { repairs, lastSeg };
  }

  /** The checkpoint marker: "N crc" (or "N" from older versions); -1 and a repair note when damaged. */
  private readCheckpoint(): { checkpoint: number; repair?: string } {
    const cpFile = path.join(this.dir, 'checkpoint');
    if (!fs.existsSync(cpFile)) return { checkpoint: -1 };
    const parsed = parseCheckpoint(fs.readFileSync(cpFile, 'utf8'));
    if (parsed !== undefined) return { checkpoint: parsed };
    // Every segment still present is replayed; the chunks' marks keep sealed lines from coming back twice.
    return { checkpoint: -1, repair: `${cpFile}: damaged checkpoint marker; replaying every WAL segment present` };
  }

  /** Starts segment `i` (the current one stays open if this fails). */
  openSegment(i: number): void {
    const fd = fs.openSync(walSegmentPath(this.dir, i), 'a');
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.segment = i;
    this.fd = fd;
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Appends `buf[0, len)` (whole records); on failure the segment is cut back and the error thrown. */
  append(buf: Buffer, len: number): void {
    appendAll(this.io, this.fd, buf, this.size, len);
    if (this.fsync) syncFd(this.fd);
    this.size += len;
  }

  /** Durably records that every segment up to `covered` is in chunks (write, fsync, rename). */
  writeCheckpoint(covered: number): void {
    const cp = path.join(this.dir, 'checkpoint');
    fs.writeFileSync(cp + '.tmp', formatCheckpoint(covered));
    const fd = fs.openSync(cp + '.tmp', 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(cp + '.tmp', cp);
  }

  /** Deletes the segments up to `covered` (after the checkpoint marker names it), but those {@link retainFrom} holds. */
  removeCovered(covered: number): void {
    this.covered = Math.max(this.covered, covered);
    const below = this.deletableBelow();
    for (const seg of walSegmentNumbers(this.dir)) if (seg < below) fs.rmSync(walSegmentPath(this.dir, seg), { force: true });
  }

  /** Deletes covered segments a reader held and has let go of since (run on the store's tick). */
  removeReleased(): void {
    if (this.covered >= 0) this.removeCovered(this.covered);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
