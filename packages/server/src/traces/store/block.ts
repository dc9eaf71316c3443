/**
 * A block: one file `blocks/NNNNNNNN.vtb` of pages of whole traces (columnar, compressed: see
 * spancodec.ts), then an index, then a footer. Traces are laid out by earliest start, so a page
 * covers a narrow stretch of time; the index holds each page's summary (pagemeta.ts) and the trace
 * ids sorted, each with its time span, page and span count, so a trace by id reads one page.
 *
 * Footer (24 bytes): index offset (u64 LE), index length (u32), CRC-32C of the index (u32), "VTB1".
 * The index is deflated: version, sequence, the WAL segment it covers through, the blocks it
 * replaces (compaction), the pages' summaries (each with the CRC-32C of the page), then the traces.
 * A block is written to `.tmp`, synced and renamed into place, so it is whole or absent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { crc32c } from '../../core/util/crc32c.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { NO_PACE, pacedSort, type Pacer } from '../../core/util/pace.js';
import { summarize, type TraceSummary } from '../storage/match.js';
import type { Span } from '../storage/types.js';
import { pageMeta, readPageMeta, writePageMeta, type PageMeta } from './pagemeta.js';
import { runStraight, type BackgroundWork } from '../../core/util/background.js';
import { decodeSpans, encodeSpans } from './spancodec.js';

const MAGIC = Buffer.from('VTB1');
const FOOTER = 24;
const INDEX_VERSION = 1;

/** The file name of block `seq`. */
export const blockFile = (seq: number): string => `${String(seq).padStart(8, '0')}.vtb`;

/** What a block's index says; the trace columns are sorted by trace id. */
export interface BlockIndex {
  seq: number;
  /** Every WAL segment up to this one is in this block (or an older one). */
  walThrough: number;
  /** Blocks this one was compacted from (deleted once it is in place). */
  replaces: number[];
  minStart: bigint;
  maxEnd: bigint;
  spans: number;
  bytes: number;
  pages: PageMeta[];
  /** 16 bytes per trace, sorted. */
  ids: Buffer;
  starts: BigInt64Array;
  ends: BigInt64Array;
  pageOf: Uint32Array;
  counts: Uint32Array;
}

const byStart = (a: Span, b: Span): number => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0);

/** Writes a block of `spans` durably (tmp, fsync, rename); returns its index. Runs straight through. */
export function writeBlock(dir: string, seq: number, spans: readonly Span[], walThrough: number, replaces: number[], pageMaxSpans: number): BlockIndex {
  return runStraight(writeBlockSteps(dir, seq, spans, walThrough, replaces, pageMaxSpans, NO_PACE));
}

/** Spans grouped between two looks at the pacer. */
const GROUP_RUN = 4096;

/**
 * {@link writeBlock} in steps: it yields whenever `pace` is due (between pages, and every few
 * thousand spans while grouping), so a cut of 100,000 spans runs in slices between ingest acks
 * instead of holding the event loop for seconds. Each page is written as soon as it is encoded; the
 * fsyncs are asked of the driver (core/util/background.ts).
 * Closed early (`return()`), it closes and removes its `.tmp` file, as it does on an error.
 */
export function* writeBlockSteps(
  dir: string,
  seq: number,
  spans: readonly Span[],
  walThrough: number,
  replaces: number[],
  pageMaxSpans: number,
  pace: Pacer,
): BackgroundWork<BlockIndex> {
  const byId = new Map<string, Span[]>();
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    let l = byId.get(s.traceId);
    if (!l) byId.set(s.traceId, (l = []));
    l.push(s);
    if (i % GROUP_RUN === GROUP_RUN - 1 && pace.due()) yield;
  }
  const traces = [...byId.values()].map((l) => ({ spans: l, sum: summarize(l) }));
  yield* pacedSort(traces, (a, b) => (a.sum.start < b.sum.start ? -1 : a.sum.start > b.sum.start ? 1 : 0), pace);
  const pages: PageMeta[] = [];
  const pageOfTrace = new Map<string, number>();
  const file = path.join(dir, blockFile(seq));
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let idx: BlockIndex | undefined;
  try {
    fs.writeSync(fd, MAGIC);
    let offset = MAGIC.length;
    for (let i = 0; i < traces.length;) {
      const group: Span[] = [];
      const members: (typeof traces)[number][] = [];
      for (; i < traces.length && (group.length === 0 || group.length + traces[i]!.spans.length <= pageMaxSpans); i++) {
        pageOfTrace.set(traces[i]!.sum.traceId, pages.length);
        group.push(...traces[i]!.spans);
        members.push(traces[i]!);
      }
      // The order byTrace gives (by trace id, then start, stable), sorting a page's traces and each
      // trace's spans rather than all its spans with string comparisons.
      members.sort((a, b) => (a.sum.traceId < b.sum.traceId ? -1 : a.sum.traceId > b.sum.traceId ? 1 : 0));
      const ordered: Span[] = [];
      for (const t of members) ordered.push(...[...t.spans].sort(byStart));
      const body = encodeSpans(ordered, true);
      const meta = pageMeta(group);
      meta.offset = offset;
      meta.length = body.length;
      meta.crc = crc32c(body);
      offset += body.length;
      pages.push(meta);
      fs.writeSync(fd, body);
      if (pace.due()) yield;
    }
    const sums: TraceSummary[] = traces.map((t) => t.sum);
    yield* pacedSort(sums, (a, b) => (a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0), pace);
    const ids = Buffer.from(sums.map((t) => t.traceId).join(''), 'hex');
    if (pace.due()) yield;
    idx = {
      seq,
      walThrough,
      replaces,
      minStart: pages.reduce((m, p) => (p.minStart < m ? p.minStart : m), pages[0]?.minStart ?? 0n),
      maxEnd: pages.reduce((m, p) => (p.maxEnd > m ? p.maxEnd : m), pages[0]?.maxEnd ?? 0n),
      spans: spans.length,
      bytes: 0,
      pages,
      ids,
      starts: BigInt64Array.from(sums.map((t) => t.start)),
      ends: BigInt64Array.from(sums.map((t) => t.end)),
      pageOf: Uint32Array.from(sums.map((t) => pageOfTrace.get(t.traceId)!)),
      counts: Uint32Array.from(sums.map((t) => byId.get(t.traceId)!.length)),
    };
    if (pace.due()) yield;
    const encoded = encodeIndex(idx);
    if (pace.due()) yield;
    // Level 1: the index is mostly random trace ids, which no level compresses.
    const index = deflateRawSync(encoded, { level: 1 });
    const footer = Buffer.alloc(FOOTER);
    footer.writeBigUInt64LE(BigInt(offset), 0);
    footer.writeUInt32LE(index.length, 8);
    footer.writeUInt32LE(crc32c(index), 12);
    MAGIC.copy(footer, 20);
    fs.writeSync(fd, index);
    fs.writeSync(fd, footer);
    yield { fsync: fd };
    idx.bytes = offset + index.length + FOOTER;
  } finally {
    fs.closeSync(fd);
    // Failed or closed early: no half-written block stays behind.
    if (!idx?.bytes) fs.rmSync(tmp, { force: true });
  }
  crashPoint('traces.block.before-rename');
  fs.renameSync(tmp, file);
  yield* syncDirSteps(dir);
  return idx;
}

/** fsyncs a directory, so a rename in it is durable (not supported everywhere: best effort). */
function* syncDirSteps(dir: string): BackgroundWork<void> {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    yield { fsync: fd };
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    fs.closeSync(fd);
  }
}

function encodeIndex(idx: BlockIndex): Buffer {
  const w = new ByteWriter(64 * 1024);
  w.u8(INDEX_VERSION);
  w.uvarint(idx.seq);
  w.svarint(idx.walThrough);
  w.uvarint(idx.replaces.length);
  for (const r of idx.replaces) w.uvarint(r);
  w.uvarint(idx.spans);
  w.uvarint(idx.pages.length);
  for (const p of idx.pages) writePageMeta(w, p);
  const n = idx.counts.length;
  w.uvarint(n);
  w.bytes(idx.ids);
  for (let i = 0; i < n; i++) {
    w.reserve(16);
    w.buf.writeBigInt64LE(idx.starts[i]!, w.length);
    w.buf.writeBigInt64LE(idx.ends[i]!, w.length + 8);
    w.length += 16;
    w.uvarint(idx.pageOf[i]!);
    w.uvarint(idx.counts[i]!);
  }
  return Buffer.from(w.view());
}

function decodeIndex(buf: Buffer, bytes: number): BlockIndex {
  const r = new ByteReader(buf);
  const version = r.u8();
  if (version !== INDEX_VERSION) throw new RangeError(`block index version ${version} is not supported`);
  const seq = r.uvarint();
  const walThrough = r.svarint();
  const replaces: number[] = [];
  for (let n = r.uvarint(); n > 0; n--) replaces.push(r.uvarint());
  const spans = r.uvarint();
  const pages: PageMeta[] = [];
  for (let n = r.uvarint(); n > 0; n--) pages.push(readPageMeta(r));
  const n = r.uvarint();
  const ids = Buffer.from(r.bytes(16 * n));
  const starts = new BigInt64Array(n);
  const ends = new BigInt64Array(n);
  const pageOf = new Uint32Array(n);
  const counts = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const b = r.bytes(16);
    starts[i] = b.readBigInt64LE(0);
    ends[i] = b.readBigInt64LE(8);
    pageOf[i] = r.uvarint();
    counts[i] = r.uvarint();
    if (pageOf[i]! >= pages.length) throw new RangeError(`trace ${i} names page ${pageOf[i]} of ${pages.length}`);
  }
  const minStart = pages.reduce((m, p) => (p.minStart < m ? p.minStart : m), pages[0]?.minStart ?? 0n);
  const maxEnd = pages.reduce((m, p) => (p.maxEnd > m ? p.maxEnd : m), pages[0]?.maxEnd ?? 0n);
  return { seq, walThrough, replaces, minStart, maxEnd, spans, bytes, pages, ids, starts, ends, pageOf, counts };
}

/** Reads `len` bytes at `pos` of an open file. */
function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new RangeError(`file ends at ${pos + got}, want ${pos + len}`);
    got += n;
  }
  return buf;
}

/** murmur3's 32-bit finalizer. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Tests (or, with `set`, adds) the 16-byte trace id held as the four 32-bit words `w[at..at+3]` in
 * a bloom filter of `mask + 1` bits: three probes by double hashing over all four words (ids are
 * random in practice, but one made of a counter must not put every trace on the same bits). The
 * words are read in the platform's order, the same for adding and testing (the filter lives in
 * memory only).
 */
function idFilter(f: Uint32Array, mask: number, w: Uint32Array, at: number, set: boolean): boolean {
  const a = fmix(w[at + 3]! ^ Math.imul(w[at + 1]!, 0x9e3779b1));
  const b = fmix(w[at + 2]! ^ Math.imul(w[at]!, 0x85ebca77));
  const h1 = fmix(a ^ Math.imul(b, 0xc2b2ae3d));
  const h2 = fmix(h1 ^ 0x5bd1e995) | 1;
  for (let k = 0; k < 3; k++) {
    const bit = (h1 + k * h2) & mask;
    const word = bit >>> 5;
    const m = 1 << (bit & 31);
    if (set) f[word]! |= m;
    else if ((f[word]! & m) === 0) return false;
  }
  return true;
}

/** `bytes` as 32-bit words: a view when aligned, else a copy. */
function wordsOf(bytes: Buffer): Uint32Array {
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const copy = new Uint32Array(bytes.length >>> 2);
  new Uint8Array(copy.buffer).set(bytes.subarray(0, copy.length * 4));
  return copy;
}

/** The probed id's words (one id at a time). */
const probe = new Uint32Array(4);
const probeBytes = new Uint8Array(probe.buffer);

/** An open block: its index in memory, its pages read on demand. */
export class Block {
  /**
   * A bloom filter over the trace ids (about 10 bits per trace, built on first use): a new trace's
   * span count is asked of every block (the per-trace limit) and most hold none of it; three bit
   * tests are cheaper than a binary search over 16-byte ids, and the blocks add up (100 at 10
   * million spans).
   */
  private filter: Uint32Array | undefined;
  private filterMask = 0;

  private constructor(
    readonly file: string,
    readonly index: BlockIndex,
    private fd: number,
  ) {}

  /** Opens and checks a block's footer and index; throws (RangeError) when they are damaged. */
  static open(file: string): Block {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size < MAGIC.length + FOOTER) throw new RangeError(`block is ${size} bytes, too short`);
      if (!readAt(fd, 0, MAGIC.length).equals(MAGIC)) throw new RangeError('bad magic at the start');
      const footer = readAt(fd, size - FOOTER, FOOTER);
      if (!footer.subarray(20).equals(MAGIC)) throw new RangeError('bad magic in the footer');
      const off = Number(footer.readBigUInt64LE(0));
      const len = footer.readUInt32LE(8);
      if (off + len + FOOTER !== size) throw new RangeError(`index at ${off}+${len} does not end at the footer (${size - FOOTER})`);
      const raw = readAt(fd, off, len);
      if (crc32c(raw) !== footer.readUInt32LE(12)) throw new RangeError('index checksum mismatch');
      return new Block(file, decodeIndex(inflateRawSync(raw), size), fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Opens a block just written, with the index its writer returned (no need to read and inflate it back). */
  static openWritten(file: string, index: BlockIndex): Block {
    return new Block(file, index, fs.openSync(file, 'r'));
  }

  /** False when the trace (its 16 bytes) is surely not in this block; true when it may be. */
  mayHold(id: Buffer): boolean {
    if (!this.filter) {
      const n = this.index.counts.length;
      let bits = 64;
      while (bits < n * 10) bits *= 2;
      this.filter = new Uint32Array(bits / 32);
      this.filterMask = bits - 1;
      const words = wordsOf(this.index.ids);
      for (let i = 0; i < n; i++) idFilter(this.filter, this.filterMask, words, i * 4, true);
    }
    for (let i = 0; i < 16; i++) probeBytes[i] = id[i]!;
    return idFilter(this.filter, this.filterMask, probe, 0, false);
  }

  /** The position of `traceId` (hex, or its 16 bytes) in the index, or -1. */
  find(traceId: string | Buffer): number {
    // A caller looking in many blocks passes the bytes, converted once: per block, the hex
    // conversion cost as much as the binary search.
    const want = typeof traceId === 'string' ? Buffer.from(traceId, 'hex') : traceId;
    if (want.length !== 16) return -1;
    if (!this.mayHold(want)) return -1;
    const ids = this.index.ids;
    let lo = 0;
    let hi = this.index.counts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = ids.compare(want, 0, 16, mid * 16, mid * 16 + 16);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Spans stored for `traceId` here. */
  countOf(traceId: string | Buffer): number {
    const i = this.find(traceId);
    return i < 0 ? 0 : this.index.counts[i]!;
  }

  /** The raw bytes of page `p`, checked against its CRC-32C (RangeError when damaged). */
  pageBytes(p: number): Buffer {
    const meta = this.index.pages[p]!;
    const buf = readAt(this.fd, meta.offset, meta.length);
    if (crc32c(buf) !== meta.crc) throw new RangeError(`${this.file}: page ${p} checksum mismatch`);
    return buf;
  }

  /** The spans of page `p` (optionally only trace `want`'s). */
  readPage(p: number, want?: string): Span[] {
    return decodeSpans(this.pageBytes(p), want);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
