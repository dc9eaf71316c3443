/**
 * The embedded log store. A stream is a label set; its lines go into an in-memory head (UTF-8
 * bytes copied from the WAL record, see head.ts) that is sealed into a compressed chunk (columnar
 * for JSON lines, see columnar.ts, with a token bloom filter) once it holds `chunkTargetBytes`.
 * Every accepted push is written to the WAL before it is acknowledged, so it survives kill -9.
 * When the WAL segment fills, all heads are sealed, the chunk files synced, and the covered
 * segments deleted behind a checkpoint marker. Compaction ({@link LogStore.compact}, from
 * {@link LogStore.tick}) merges a stream's adjacent small chunks.
 *
 * Layout under `dir`: `streams` (framed stream records), `wal/NNNNNNNN` (entries), `wal/checkpoint`
 * (last segment whose lines are all in chunks), `chunks/NNNNNNNN.dat` (compressed chunks) and
 * `chunks/NNNNNNNN.idx` (their metadata and bloom filters, read at start instead of the data; a
 * merged chunk's record also names the chunks it replaces).
 *
 * Nothing acknowledged is lost or duplicated across kill -9: each chunk's index record carries its
 * stream's WAL high-water mark and replay skips entries at or before it (see chunkindex.ts), so a
 * head sealed before the checkpoint marker moved is not replayed twice. A write that fails part-way
 * is cut back (writes.ts) and the push refused before any line reaches a head; a chunk that fails
 * its CRC-32C is skipped by queries and reported ({@link LogStore.corruptChunks}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labelsKey, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { crc32c } from '../../core/util/crc32c.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { StorageError, writeFailure } from '../../core/errors.js';
import { tokenHash, type Bloom } from './bloom.js';
import { openChunk } from './chunk.js';
import { CHUNK_MAGIC, checkChunk, decodeChunkRecord, encodeChunkRecord, isChunkRecord, maxMark, type WalMark } from './chunkindex.js';
import type { Codec } from './codec.js';
import { ColumnarEncoder, type ChunkView, type EncodedChunk } from './columnar.js';
import { Head } from './head.js';
import { FRAME_HEADER, frame, readFramesRepair, writeFrameHeader } from './framing.js';
import { appendAll, nodeIo, syncFd, type LogIo } from './writes.js';
import type { Direction, LineFilterHint, LogEntry, PushResult, PushStream, RejectedEntry, StoreStats, StreamInfo } from '../storage/types.js';
import type { LogStorage, TailListener } from '../storage/interface.js';

export const REC_STREAM = 1;
export const REC_ENTRIES = 2;
/** Streams file: a stream's WAL mark, written when retention drops chunks that carried it (so replay cannot resurrect their lines). */
export const REC_STREAM_MARK = 7;
/** Crash points (see util/crashpoint.ts), named for the kill -9 tests. */
export const CRASH_POINTS = [
  'logs.wal.after-write',
  'logs.stream.after-write',
  'logs.seal.after-dat',
  'logs.seal.after-idx',
  'logs.checkpoint.before-marker',
  'logs.checkpoint.after-marker',
  'logs.compact.after-dat',
  'logs.compact.after-idx',
  'logs.compact.before-remove',
  'logs.retention.after-mark',
  'logs.retention.after-remove',
] as const;
const SEAL_POINTS = { afterDat: 'logs.seal.after-dat', afterIdx: 'logs.seal.after-idx' } as const;
const COMPACT_POINTS = { afterDat: 'logs.compact.after-dat', afterIdx: 'logs.compact.after-idx' } as const;
const NS_PER_MS = 1_000_000n;
/** Scratch for writing a timestamp's 8 little-endian bytes. */
const T64 = new BigInt64Array(1);
const T8 = new Uint8Array(T64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Options of {@link LogStore}. */
export interface LogStoreOptions {
  /** The log store's directory (for example `<data>/logs`). */
  readonly dir: string;
  /** Chunk compression (default brotli, quality `level` 2; deflate level 6 when `deflate`). */
  readonly codec?: Codec;
  readonly level?: number;
  /** Seal a head once it holds this many line bytes (default 2 MiB). */
  readonly chunkTargetBytes?: number;
  /** Seal a head whose first line arrived this long ago, on {@link LogStore.tick} (default 1 h). */
  readonly maxChunkAgeMs?: number;
  /** Accept lines up to this far behind the newest line of their stream (default 1 h). */
  readonly outOfOrderWindowMs?: number;
  /** Drop chunks whose newest line is older than this (0: keep forever). */
  readonly retentionMs?: number;
  /** Drop the oldest chunk files while the store exceeds this many bytes (0: no limit). */
  readonly retentionBytes?: number;
  /** Seal every head and start a new WAL segment past this size (default 64 MiB). */
  readonly walSegmentBytes?: number;
  /** Start a new chunk file past this size (default 256 MiB). */
  readonly chunkFileBytes?: number;
  /** fsync the WAL on every push (default false: written to the kernel, which survives kill -9). */
  readonly fsync?: boolean;
  /** Bytes of decoded chunks kept in memory (default 256 MiB). */
  readonly chunkCacheBytes?: number;
  /** Most streams (0: no limit). */
  readonly maxStreams?: number;
  /** Refuse lines stamped more than this far ahead of the clock (default 10 min, Loki's creation grace period). */
  readonly maxFutureMs?: number;
  /** The clock (ms), for tests. */
  readonly now?: () => number;
  readonly log?: Logger;
  /** The write call (default node:fs); tests replace it to fail a write part-way, as a full disk does. */
  readonly io?: LogIo;
  /** How often {@link LogStore.start} runs {@link LogStore.tick} (default 10 s; 0: never, the owner calls tick). */
  readonly tickIntervalMs?: number;
}

/** A chunk that failed its checksum or did not decode; queries skip it. */
export interface CorruptChunk {
  /** `chunks/NNNNNNNN.dat`. */
  readonly file: string;
  readonly offset: number;
  readonly length: number;
  readonly labels: Labels;
  readonly reason: string;
}

interface ChunkMeta {
  readonly streamId: number;
  readonly file: number;
  readonly offset: number;
  readonly length: number;
  readonly minT: bigint;
  readonly maxT: bigint;
  readonly count: number;
  readonly rawBytes: number;
  readonly bloom: Bloom;
  /** CRC-32C of the bytes in the .dat file (undefined for chunks written before checksums). */
  readonly crc: number | undefined;
  /** WAL high-water mark of the lines it holds (undefined for old chunks). */
  readonly mark: WalMark | undefined;
}

class StreamState implements StreamInfo {
  readonly chunks: ChunkMeta[] = [];
  readonly head = new Head();
  minT = BigInt(Number.MAX_SAFE_INTEGER) * NS_PER_MS;
  maxT = -1n;
  /** A line older than a sealed chunk's end arrived: chunks overlap and reads must sort. */
  overlap = false;
  /** Entries at or before this WAL position are in chunks (or were dropped by retention): replay skips them. */
  mark: WalMark | undefined;
  /** WAL position of the newest entry applied to the head (segment -1: none); a seal's mark. */
  headSeg = -1;
  headOff = 0;
  headIdx = 0;
  constructor(
    readonly id: number,
    readonly labels: Labels,
    readonly key: string,
  ) {}
}

export type { TailListener };

function fileName(i: number, ext = ''): string {
  return String(i).padStart(8, '0') + ext;
}

/** The checkpoint marker's text: the segment and the CRC-32C of its digits (a flipped digit must not delete live segments). */
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

/** The log store. The constructor touches nothing: {@link start} before use, {@link stop} when done. */
export class LogStore implements LogStorage {
  readonly dir: string;
  private readonly o: Required<Omit<LogStoreOptions, 'log' | 'now' | 'dir' | 'io' | 'tickIntervalMs'>>;
  private readonly tickIntervalMs: number;
  private ticker: NodeJS.Timeout | undefined;
  /** Lifecycle: a store starts once and stops once (its in-memory state is not reset for a second start). */
  private state: 'new' | 'running' | 'stopped' = 'new';
  private readonly io: LogIo;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly streams: StreamState[] = [];
  private readonly byKey = new Map<string, StreamState>();
  private readonly postings = new Map<string, Map<string, number[]>>();
  private readonly listeners = new Set<TailListener>();
  private readonly cache = new Map<ChunkMeta, ChunkView>();
  private cacheBytes = 0;
  private readonly fileLive = new Map<number, number>();
  private streamsFd = -1;
  private streamsSize = 0;
  /** Ids are never reused, even of streams whose record was lost: chunks and WAL entries may still name them. */
  private nextStreamId = 0;
  private walFd = -1;
  private walSegment = 0;
  private walSize = 0;
  private datFd = -1;
  private idxFd = -1;
  private chunkFile = 0;
  private chunkFileSize = 0;
  private idxSize = 0;
  /** WAL position of the record being applied (the heads' marks). */
  private recSeg = 0;
  private recOff = 0;
  private problem: string | undefined;
  private readonly corrupt = new Map<ChunkMeta, CorruptChunk>();
  private readonly w = new ByteWriter(1 << 20);
  private readonly enc = new ColumnarEncoder();
  /** Where each accepted line's bytes are in the WAL record being written. */
  private pos = new Int32Array(2048);
  /** Counters for self-monitoring. */
  readonly counters = { linesIn: 0, bytesIn: 0, rejected: 0, chunksSealed: 0, chunksSkippedByBloom: 0, chunksRead: 0, chunksCorrupt: 0, writeFailures: 0 };

  constructor(opts: LogStoreOptions) {
    this.dir = opts.dir;
    const codec = opts.codec ?? 'brotli';
    this.o = {
      codec,
      level: opts.level ?? (codec === 'brotli' ? 2 : 6),
      chunkTargetBytes: opts.chunkTargetBytes ?? 2 << 20,
      maxChunkAgeMs: opts.maxChunkAgeMs ?? 3_600_000,
      outOfOrderWindowMs: opts.outOfOrderWindowMs ?? 3_600_000,
      retentionMs: opts.retentionMs ?? 0,
      retentionBytes: opts.retentionBytes ?? 0,
      walSegmentBytes: opts.walSegmentBytes ?? 64 << 20,
      chunkFileBytes: opts.chunkFileBytes ?? 256 << 20,
      fsync: opts.fsync ?? false,
      chunkCacheBytes: opts.chunkCacheBytes ?? 256 << 20,
      maxStreams: opts.maxStreams ?? 0,
      maxFutureMs: opts.maxFutureMs ?? 600_000,
    };
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? nopLogger;
    this.io = opts.io ?? nodeIo;
    this.tickIntervalMs = opts.tickIntervalMs ?? 10_000;
  }

  /** Why the last write failed (for the readiness endpoint), or undefined when it succeeded. */
  writeProblem(): string | undefined {
    return this.problem;
  }

  /** Chunks found damaged so far (queries answer without them). */
  corruptChunks(): CorruptChunk[] {
    return [...this.corrupt.values()];
  }

  /** Records a failed write and returns the error to refuse the push with. */
  private fail(what: string, err: unknown): StorageError {
    const e = err instanceof StorageError ? err : writeFailure(what, err);
    this.problem = e.message;
    this.counters.writeFailures++;
    this.log.error('log store write failed', { what, err: e.message });
    return e;
  }

  private get walDir(): string {
    return path.join(this.dir, 'wal');
  }
  private get chunkDir(): string {
    return path.join(this.dir, 'chunks');
  }

  /**
   * Loads streams and chunk indexes, replays the WAL into the heads and starts the periodic
   * {@link tick}. Returns the repairs made. Idempotent: a second call does nothing and returns [].
   */
  start(): string[] {
    if (this.state === 'running') return [];
    if (this.state === 'stopped') throw new Error('a stopped log store cannot start again; make a new one');
    const repairs = this.loadFromDisk();
    this.state = 'running';
    if (this.tickIntervalMs > 0) {
      this.ticker = setInterval(() => this.tick(), this.tickIntervalMs);
      // Housekeeping must not keep a process alive that has nothing else to do.
      this.ticker.unref();
    }
    return repairs;
  }

  private loadFromDisk(): string[] {
    const repairs: string[] = [];
    fs.mkdirSync(this.walDir, { recursive: true });
    fs.mkdirSync(this.chunkDir, { recursive: true });
    let maxId = -1;
    const streamsFile = path.join(this.dir, 'streams');
    const droppedMarks = new Map<number, WalMark>();
    repairs.push(
      ...readFramesRepair(streamsFile, (type, buf, start, end) => {
        const r = new ByteReader(buf, start, end);
        const id = r.uvarint();
        if (type === REC_STREAM_MARK) {
          droppedMarks.set(id, maxMark(droppedMarks.get(id), { seg: r.uvarint(), off: r.uvarint(), idx: r.uvarint() })!);
        } else if (type === REC_STREAM) {
          const n = r.uvarint();
          const labels: { name: string; value: string }[] = [];
          for (let i = 0; i < n; i++) labels.push({ name: r.str(), value: r.str() });
          this.addStream(id, labels);
        } else throw new Error(`unknown record type ${type}`);
        if (id > maxId) maxId = id;
      }),
    );
    this.streamsFd = fs.openSync(streamsFile, 'a');
    this.streamsSize = fs.fstatSync(this.streamsFd).size;

    const idxFiles = fs.readdirSync(this.chunkDir).filter((f) => /^\d{8}\.idx$/.test(f)).map((f) => Number(f.slice(0, 8))).sort((a, b) => a - b);
    const replaced = new Set<string>();
    for (const fi of idxFiles) {
      const datFile = path.join(this.chunkDir, fileName(fi, '.dat'));
      const datSize = fs.existsSync(datFile) ? fs.statSync(datFile).size : 0;
      const r = readFramesRepair(path.join(this.chunkDir, fileName(fi, '.idx')), (type, buf, start, end) => {
        if (!isChunkRecord(type)) throw new Error(`unknown record type ${type}`);
        const rec = decodeChunkRecord(type, buf, start, end);
        if (rec.streamId > maxId) maxId = rec.streamId;
        const s = this.streams[rec.streamId];
        if (!s || rec.offset + rec.length > datSize) return; // data never made it to disk: the WAL or the replaced chunks still have it
        for (const c of rec.replaces ?? []) replaced.add(`${c.file}:${c.offset}`);
        s.mark = maxMark(s.mark, rec.mark);
        const { offset, length, minT, maxT, count, rawBytes, bloom, crc, mark } = rec;
        this.attachChunk(s, { streamId: s.id, file: fi, offset, length, minT, maxT, count, rawBytes, bloom, crc, mark });
      });
      repairs.push(...r);
      this.chunkFile = fi;
    }
    if (replaced.size)
      for (const s of this.streams) {
        if (!s) continue;
        const keep = s.chunks.filter((c) => !replaced.has(`${c.file}:${c.offset}`));
        for (const c of s.chunks) if (replaced.has(`${c.file}:${c.offset}`)) this.fileLive.set(c.file, this.fileLive.get(c.file)! - 1);
        s.chunks.length = 0;
        s.chunks.push(...keep);
      }
    // Files left without live chunks (compacted away before a crash) go.
    for (const fi of idxFiles) if ((this.fileLive.get(fi) ?? 0) <= 0 && replaced.size) this.removeChunkFile(fi);
    for (const s of this.streams) if (s) s.chunks.sort((a, b) => (a.minT < b.minT ? -1 : a.minT > b.minT ? 1 : 0));
    for (const [id, m] of droppedMarks) {
      const s = this.streams[id];
      if (s) s.mark = maxMark(s.mark, m);
    }

    const { checkpoint, repair } = this.readCheckpoint();
    if (repair) repairs.push(repair);
    const segs = fs.readdirSync(this.walDir).filter((f) => /^\d{8}$/.test(f)).map(Number).sort((a, b) => a - b);
    let lastSeg = checkpoint;
    for (const seg of segs) {
      lastSeg = Math.max(lastSeg, seg);
      if (seg <= checkpoint) {
        fs.rmSync(path.join(this.walDir, fileName(seg)), { force: true });
        continue;
      }
      const r = readFramesRepair(path.join(this.walDir, fileName(seg)), (type, buf, start, end, frameOff) => {
        if (type !== REC_ENTRIES) throw new Error(`unknown record type ${type}`);
        const id = this.replayEntries(buf, start, end, seg, frameOff);
        if (id > maxId) maxId = id;
      });
      repairs.push(...r);
    }
    this.nextStreamId = Math.max(maxId + 1, this.streams.length);
    // A new segment after every position any mark names, even if the checkpoint marker was lost:
    // entries at a reused position would be skipped as already sealed.
    for (const s of this.streams) if (s?.mark && s.mark.seg > lastSeg) lastSeg = s.mark.seg;
    this.openWalSegment(lastSeg + 1);
    this.openChunkFile(this.chunkFile + (idxFiles.length ? 1 : 0));
    for (const r of repairs) this.log.warn('log store repaired a damaged file', { repair: r });
    return repairs;
  }

  /** The checkpoint marker: "N crc" (or "N" from older versions); -1 and a repair note when damaged. */
  private readCheckpoint(): { checkpoint: number; repair?: string } {
    const cpFile = path.join(this.walDir, 'checkpoint');
    if (!fs.existsSync(cpFile)) return { checkpoint: -1 };
    const parsed = parseCheckpoint(fs.readFileSync(cpFile, 'utf8'));
    if (parsed !== undefined) return { checkpoint: parsed };
    // Every segment still present is replayed; the chunks' marks keep sealed lines from coming back twice.
    return { checkpoint: -1, repair: `${cpFile}: damaged checkpoint marker; replaying every WAL segment present` };
  }

  private openWalSegment(i: number): void {
    const fd = fs.openSync(path.join(this.walDir, fileName(i)), 'a');
    if (this.walFd >= 0) fs.closeSync(this.walFd);
    this.walSegment = i;
    this.walFd = fd;
    this.walSize = fs.fstatSync(this.walFd).size;
  }

  /** Starts chunk file `i`; the previous one is synced and closed (it is left as is if this fails). */
  private openChunkFile(i: number): void {
    const dat = fs.openSync(path.join(this.chunkDir, fileName(i, '.dat')), 'a+');
    let idx: number;
    try {
      idx = fs.openSync(path.join(this.chunkDir, fileName(i, '.idx')), 'a');
      if (this.datFd >= 0) {
        syncFd(this.datFd);
        syncFd(this.idxFd);
      }
    } catch (err) {
      fs.closeSync(dat);
      throw err;
    }
    if (this.datFd >= 0) {
      fs.closeSync(this.datFd);
      fs.closeSync(this.idxFd);
    }
    this.chunkFile = i;
    this.datFd = dat;
    this.idxFd = idx;
    this.chunkFileSize = fs.fstatSync(dat).size;
    this.idxSize = fs.fstatSync(idx).size;
  }

  private addStream(id: number, labels: Labels): StreamState {
    const key = labelsKey(labels);
    const s = new StreamState(id, labels, key);
    this.streams[id] = s;
    this.byKey.set(key, s);
    for (const l of labels) {
      let byValue = this.postings.get(l.name);
      if (!byValue) this.postings.set(l.name, (byValue = new Map()));
      let ids = byValue.get(l.value);
      if (!ids) byValue.set(l.value, (ids = []));
      ids.push(id);
    }
    return s;
  }

  private attachChunk(s: StreamState, c: ChunkMeta): void {
    s.chunks.push(c);
    if (c.minT < s.minT) s.minT = c.minT;
    if (c.maxT > s.maxT) s.maxT = c.maxT;
    this.fileLive.set(c.file, (this.fileLive.get(c.file) ?? 0) + 1);
  }

  /**
   * Applies a WAL record's entries to the heads, skipping those a chunk already holds (at or before
   * their stream's mark) and those older than retention. Returns the highest stream id named.
   */
  private replayEntries(buf: Buffer, start: number, end: number, seg: number, frameOff: number): number {
    const r = new ByteReader(buf, start, end);
    const floor = this.o.retentionMs > 0 ? BigInt(Math.floor(this.now() - this.o.retentionMs)) * NS_PER_MS : -1n;
    this.recSeg = seg;
    this.recOff = frameOff;
    let maxId = -1;
    for (let k = 0; r.pos < end; k++) {
      const id = r.uvarint();
      if (id > maxId) maxId = id;
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
      const s = this.streams[id];
      if (!s || t < floor) continue;
      const m = s.mark;
      if (m && (seg < m.seg || (seg === m.seg && (frameOff < m.off || (frameOff === m.off && k <= m.idx))))) continue;
      this.applyEntry(s, t, buf, a, a + len, meta, k);
    }
    return maxId;
  }

  /** Registers a listener for accepted lines; returns the unsubscribe function. */
  subscribe(fn: TailListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Appends lines. Label sets must be valid and sorted (the ingest layer checks them). Lines too far
   * behind their stream, too far ahead of the clock, or beyond retention, are refused and
   * reported; the rest are durable when this returns. A failed write throws a StorageError
   * (`disk_full` or `closed`) and applies nothing; the next push tries again.
   */
  push(batch: readonly PushStream[]): PushResult {
    const rejected: RejectedEntry[] = [];
    const accepted: { s: StreamState; entries: LogEntry[] }[] = [];
    const w = this.w;
    w.reset();
    w.reserve(FRAME_HEADER);
    w.length = FRAME_HEADER;
    const nowNs = BigInt(Math.floor(this.now())) * NS_PER_MS;
    const windowNs = BigInt(this.o.outOfOrderWindowMs) * NS_PER_MS;
    const futureNs = nowNs + BigInt(this.o.maxFutureMs) * NS_PER_MS;
    const retentionFloor = this.o.retentionMs > 0 ? nowNs - BigInt(this.o.retentionMs) * NS_PER_MS : -1n;
    let count = 0;
    let bytes = 0;
    let np = 0;
    for (const ps of batch) {
      if (ps.entries.length === 0) continue;
      let s = this.byKey.get(labelsKey(ps.labels));
      if (!s) {
        if (this.o.maxStreams > 0 && this.byKey.size >= this.o.maxStreams) {
          for (const e of ps.entries) rejected.push({ labels: ps.labels, t: e.t, reason: `stream limit of ${this.o.maxStreams} streams reached` });
          continue;
        }
        s = this.createStream(ps.labels);
      }
      const ok: LogEntry[] = [];
      let maxT = s.maxT;
      for (const e of ps.entries) {
        // Before the window check: a line from a wrong clock must not become the stream's newest and refuse current lines.
        if (e.t > futureNs) {
          rejected.push({ labels: ps.labels, t: e.t, reason: `entry too far in the future, newest acceptable timestamp is ${futureNs}` });
          continue;
        }
        if (maxT >= 0n && e.t < maxT - windowNs) {
          rejected.push({ labels: ps.labels, t: e.t, reason: `entry too far behind, oldest acceptable timestamp is ${maxT - windowNs}` });
          continue;
        }
        if (e.t < retentionFloor) {
          rejected.push({ labels: ps.labels, t: e.t, reason: 'entry older than the retention period' });
          continue;
        }
        if (e.t > maxT) maxT = e.t;
        ok.push(e);
        w.uvarint(s.id);
        w.reserve(8);
        // Through a BigInt64Array: Buffer.writeBigInt64LE does BigInt arithmetic per call.
        if (LITTLE_ENDIAN) {
          T64[0] = e.t;
          const tb = w.buf;
          const o = w.length;
          for (let x = 0; x < 8; x++) tb[o + x] = T8[x]!;
        } else w.buf.writeBigInt64LE(e.t, w.length);
        w.length += 8;
        const line = e.line;
        let at: number;
        if (line.length < 1 << 19) {
          // Encode once, then fill in the length as a 3-byte (padded) varint before it.
          w.reserve(3 + line.length * 3);
          at = w.length + 3;
          const len = w.buf.write(line, at);
          w.buf[at - 3] = (len & 0x7f) | 0x80;
          w.buf[at - 2] = ((len >>> 7) & 0x7f) | 0x80;
          w.buf[at - 1] = len >>> 14;
          w.length = at + len;
        } else {
          w.str(line);
          at = w.length - Buffer.byteLength(line);
        }
        if (2 * np + 2 > this.pos.length) {
          const grown = new Int32Array(this.pos.length * 2);
          grown.set(this.pos);
          this.pos = grown;
        }
        this.pos[2 * np] = at;
        this.pos[2 * np + 1] = w.length;
        np++;
        const m = e.meta;
        w.uvarint(m ? m.length : 0);
        if (m)
          for (const l of m) {
            w.str(l.name);
            w.str(l.value);
          }
        bytes += e.line.length;
      }
      count += ok.length;
      if (ok.length) accepted.push({ s, entries: ok });
    }
    if (count > 0) {
      writeFrameHeader(w.buf, 0, REC_ENTRIES, w.length - FRAME_HEADER);
      try {
        appendAll(this.io, this.walFd, w.buf, this.walSize, w.length);
        if (this.o.fsync) syncFd(this.walFd);
      } catch (err) {
        // Cut back already (appendAll); nothing reached a head, so refusing the whole push is exact.
        throw this.fail('log WAL write', err);
      }
      this.problem = undefined;
      this.recSeg = this.walSegment;
      this.recOff = this.walSize;
      this.walSize += w.length;
      crashPoint('logs.wal.after-write');
    }
    // The heads copy the lines' bytes from the WAL record.
    let k = 0;
    // After a failed seal the lines stay in the head (and WAL); the next push retries, not every line of this one.
    let sealing = true;
    for (const { s, entries } of accepted) {
      for (const e of entries) {
        this.applyEntry(s, e.t, w.buf, this.pos[k]!, this.pos[k + 1]!, e.meta, k >>> 1);
        k += 2;
        if (sealing && s.head.bytes >= this.o.chunkTargetBytes) sealing = this.seal(s, true);
      }
    }
    this.counters.linesIn += count;
    this.counters.bytesIn += bytes;
    this.counters.rejected += rejected.length;
    if (this.listeners.size) for (const { s, entries } of accepted) for (const l of this.listeners) l(s, entries);
    if (this.walSize >= this.o.walSegmentBytes) this.checkpoint();
    return { accepted: count, acceptedBytes: bytes, rejected };
  }

  /** Writes the stream's record, then registers it (a failed write leaves no stream behind). */
  private createStream(labels: Labels): StreamState {
    const id = this.nextStreamId;
    const w = new ByteWriter(256);
    w.uvarint(id);
    w.uvarint(labels.length);
    for (const l of labels) {
      w.str(l.name);
      w.str(l.value);
    }
    this.appendStreams(frame(REC_STREAM, w.view()), 'log stream index write');
    this.nextStreamId++;
    crashPoint('logs.stream.after-write');
    return this.addStream(id, labels);
  }

  /** Appends records to the streams file, or throws the write failure (the file cut back). */
  private appendStreams(data: Buffer, what: string): void {
    try {
      appendAll(this.io, this.streamsFd, data, this.streamsSize);
      if (this.o.fsync) syncFd(this.streamsFd);
    } catch (err) {
      throw this.fail(what, err);
    }
    this.streamsSize += data.length;
  }

  /** Adds a line to the head; `idx` is its entry index in the WAL record at recSeg/recOff. */
  private applyEntry(s: StreamState, t: bigint, src: Buffer, a: number, b: number, meta: Labels | undefined, idx: number): void {
    s.headSeg = this.recSeg;
    s.headOff = this.recOff;
    s.headIdx = idx;
    const h = s.head;
    if (h.n === 0) h.since = this.now();
    if (!h.add(t, src, a, b, meta)) return;
    const last = s.chunks.at(-1);
    if (last && t < last.maxT) s.overlap = true;
    if (t < s.minT) s.minT = t;
    if (t > s.maxT) s.maxT = t;
  }

  /**
   * Seals a stream's head into a chunk file record (`full`: sealed for its size). Returns false when
   * the write failed: the files are cut back and the lines stay in the head (and the WAL) for a retry.
   */
  private seal(s: StreamState, full = false): boolean {
    const h = s.head;
    if (h.n === 0) return true;
    const snap = h.snapshot();
    const enc = this.enc.encode(snap, this.o.codec, this.o.level);
    const first = snap.order ? snap.order[0]! : 0;
    const lastIdx = snap.order ? snap.order[snap.n - 1]! : snap.n - 1;
    const mark = s.headSeg >= 0 ? { seg: s.headSeg, off: s.headOff, idx: s.headIdx } : undefined;
    let meta: ChunkMeta;
    try {
      meta = this.writeChunk(s, enc, snap.ts[first]!, snap.ts[lastIdx]!, snap.n, mark, SEAL_POINTS);
    } catch (err) {
      this.fail('log chunk write', err);
      return false;
    }
    s.mark = maxMark(s.mark, mark);
    // Keep the chunk list sorted by start; an out-of-order head may start before the last chunk.
    let i = s.chunks.length;
    while (i > 0 && s.chunks[i - 1]!.minT > meta.minT) i--;
    s.chunks.splice(i, 0, meta);
    h.clear(full);
    this.counters.chunksSealed++;
    return true;
  }

  /**
   * Encodes sorted entries into a chunk, appends it to the chunk file and its record to the index
   * (a merged record naming `replaces` when compacting). The caller places the returned meta. On a
   * failed write both files are cut back to where they were and the error is thrown.
   */
  private writeChunk(s: StreamState, enc: EncodedChunk, minT: bigint, maxT: bigint, n: number, mark: WalMark | undefined, points: { readonly afterDat: string; readonly afterIdx: string }, replaces?: readonly ChunkMeta[]): ChunkMeta {
    const { data, rawBytes, bloom } = enc;
    const length = CHUNK_MAGIC.length + data.length;
    if (this.chunkFileSize > 0 && this.chunkFileSize + length > this.o.chunkFileBytes) this.openChunkFile(this.chunkFile + 1);
    const offset = this.chunkFileSize;
    const crc = crc32c(data, crc32c(CHUNK_MAGIC));
    // Both appends cut back to `offset` on failure.
    appendAll(this.io, this.datFd, CHUNK_MAGIC, offset);
    appendAll(this.io, this.datFd, data, offset);
    crashPoint(points.afterDat);
    const meta: ChunkMeta = { streamId: s.id, file: this.chunkFile, offset, length, minT, maxT, count: n, rawBytes, bloom, crc, mark };
    const w = new ByteWriter(80 + bloom.bits.length * 4 + (replaces?.length ?? 0) * 8);
    const type = encodeChunkRecord(w, { ...meta, streamId: s.id, replaces });
    const rec = frame(type, w.view());
    try {
      // The data must be durable before a record that makes the replaced chunks obsolete.
      if (replaces) syncFd(this.datFd);
      appendAll(this.io, this.idxFd, rec, this.idxSize);
      if (replaces) syncFd(this.idxFd);
    } catch (err) {
      try {
        fs.ftruncateSync(this.datFd, offset);
        fs.ftruncateSync(this.idxFd, this.idxSize);
      } catch {
        // A record beyond the data is ignored at start; orphan data bytes are never referenced.
      }
      throw err;
    }
    this.chunkFileSize = offset + length;
    this.idxSize += rec.length;
    crashPoint(points.afterIdx);
    this.fileLive.set(meta.file, (this.fileLive.get(meta.file) ?? 0) + 1);
    return meta;
  }

  /**
   * Compaction: merges each stream's runs of adjacent small chunks (each under a quarter of
   * `chunkTargetBytes`, together at most `chunkTargetBytes`) into one chunk. The merged chunk and
   * its index record (naming the chunks it replaces) are written and synced first; a restart
   * ignores replaced chunks, so a crash at any point loses nothing and duplicates nothing. Chunk
   * files left without live chunks are deleted. Returns the number of chunks merged away.
   */
  compact(): number {
    const small = this.o.chunkTargetBytes / 4;
    const dropFiles = new Set<number>();
    let merged = 0;
    for (const s of this.streams) {
      if (!s || s.overlap || s.chunks.length < 2) continue;
      let i = 0;
      while (i < s.chunks.length) {
        let j = i;
        let bytes = 0;
        while (j < s.chunks.length && s.chunks[j]!.rawBytes < small && bytes + s.chunks[j]!.rawBytes <= this.o.chunkTargetBytes) bytes += s.chunks[j++]!.rawBytes;
        if (j - i < 2) {
          i = Math.max(j, i + 1);
          continue;
        }
        const run = s.chunks.slice(i, j);
        const ts: bigint[] = [];
        const lines: string[] = [];
        const metas: (Labels | undefined)[] = [];
        const views = run.map((c) => this.load(c));
        if (views.some((d) => d === undefined)) {
          // A damaged chunk stays as it is (reported); merging would drop it silently.
          i = j;
          continue;
        }
        let mark: WalMark | undefined;
        for (const c of run) mark = maxMark(mark, c.mark);
        for (const d of views as ChunkView[]) {
          for (let x = 0; x < d.length; x++) {
            const e = d.entry(x);
            ts.push(e.t);
            lines.push(e.line);
            metas.push(e.meta);
          }
        }
        const enc = this.enc.encodeLines(ts, lines, metas, this.o.codec, this.o.level);
        let meta: ChunkMeta;
        try {
          meta = this.writeChunk(s, enc, ts[0]!, ts[ts.length - 1]!, ts.length, mark, COMPACT_POINTS, run);
        } catch (err) {
          // The originals stay; compaction tries again on a later tick.
          this.fail('log compaction write', err);
          this.dropFiles(dropFiles);
          return merged;
        }
        s.chunks.splice(i, run.length, meta);
        for (const c of run) {
          this.evict(c);
          this.unref(c, dropFiles);
        }
        merged += run.length - 1;
        i++;
      }
    }
    crashPoint('logs.compact.before-remove');
    this.dropFiles(dropFiles);
    return merged;
  }

  private dropFiles(files: Set<number>): void {
    for (const f of files) if (f !== this.chunkFile) this.removeChunkFile(f);
  }

  private removeChunkFile(f: number): void {
    this.fileLive.delete(f);
    for (const [c] of this.cache) if (c.file === f) this.evict(c);
    for (const [c] of this.corrupt) if (c.file === f) this.corrupt.delete(c);
    fs.rmSync(path.join(this.chunkDir, fileName(f, '.dat')), { force: true });
    fs.rmSync(path.join(this.chunkDir, fileName(f, '.idx')), { force: true });
  }

  /**
   * Seals every head, syncs the chunk files and drops the WAL segments they cover. Called when a
   * WAL segment fills and on close. Returns false when a write failed: then no marker is written
   * and no segment deleted (the heads still hold the lines), but a new segment is started so the
   * next attempt waits for another segment's worth of lines. A later checkpoint covers them all.
   */
  checkpoint(): boolean {
    const covered = this.walSegment;
    let ok = true;
    for (const s of this.streams) if (s && ok) ok = this.seal(s);
    if (ok) {
      try {
        syncFd(this.datFd);
        syncFd(this.idxFd);
        crashPoint('logs.checkpoint.before-marker');
        const cp = path.join(this.walDir, 'checkpoint');
        fs.writeFileSync(cp + '.tmp', formatCheckpoint(covered));
        const fd = fs.openSync(cp + '.tmp', 'r');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fs.renameSync(cp + '.tmp', cp);
      } catch (err) {
        this.fail('log checkpoint', err);
        ok = false;
      }
    }
    if (ok) crashPoint('logs.checkpoint.after-marker');
    try {
      this.openWalSegment(covered + 1);
    } catch (err) {
      this.fail('log WAL segment creation', err);
      return false;
    }
    if (ok) for (const f of fs.readdirSync(this.walDir)) if (/^\d{8}$/.test(f) && Number(f) <= covered) fs.rmSync(path.join(this.walDir, f), { force: true });
    return ok;
  }

  /** Periodic work: seal heads older than `maxChunkAgeMs`, apply retention, compact small chunks. Call every ~10 s. */
  tick(): void {
    const now = this.now();
    let ok = true;
    for (const s of this.streams) if (ok && s && s.head.n && now - s.head.since >= this.o.maxChunkAgeMs) ok = this.seal(s);
    this.enforceRetention();
    this.compact();
  }

  /**
   * Drops chunks past the retention time, then the oldest chunk files past the size limit. The
   * dropped chunks' WAL marks go to the streams file first: their lines may still be in the WAL,
   * and replay must not bring them back.
   */
  enforceRetention(): void {
    const drop = new Set<ChunkMeta>();
    if (this.o.retentionMs > 0) {
      const floor = BigInt(Math.floor(this.now() - this.o.retentionMs)) * NS_PER_MS;
      for (const s of this.streams) if (s) for (const c of s.chunks) if (c.maxT < floor) drop.add(c);
    }
    if (this.o.retentionBytes > 0) {
      let size = this.diskBytes();
      const files = new Set<number>();
      for (const f of [...this.fileLive.keys()].filter((f) => f !== this.chunkFile).sort((a, b) => a - b)) {
        if (size <= this.o.retentionBytes) break;
        size -= this.fileSize(f);
        files.add(f);
      }
      if (files.size) for (const s of this.streams) if (s) for (const c of s.chunks) if (files.has(c.file)) drop.add(c);
    }
    if (!drop.size) return;
    const w = new ByteWriter(256);
    const marks: Buffer[] = [];
    for (const s of this.streams) {
      if (!s) continue;
      let m: WalMark | undefined;
      for (const c of s.chunks) if (drop.has(c)) m = maxMark(m, c.mark);
      if (!m) continue;
      w.reset();
      w.uvarint(s.id);
      w.uvarint(m.seg);
      w.uvarint(m.off);
      w.uvarint(m.idx);
      marks.push(frame(REC_STREAM_MARK, w.view()));
    }
    if (marks.length) {
      try {
        this.appendStreams(Buffer.concat(marks), 'log retention mark write');
      } catch {
        return; // nothing dropped; the next tick tries again
      }
    }
    crashPoint('logs.retention.after-mark');
    const dropFiles = new Set<number>();
    for (const s of this.streams) {
      if (!s) continue;
      const keep: ChunkMeta[] = [];
      for (const c of s.chunks) {
        if (!drop.has(c)) {
          keep.push(c);
          continue;
        }
        this.evict(c);
        this.corrupt.delete(c);
        this.unref(c, dropFiles);
      }
      s.chunks.length = 0;
      s.chunks.push(...keep);
    }
    this.dropFiles(dropFiles);
    crashPoint('logs.retention.after-remove');
  }

  private unref(c: ChunkMeta, dropFiles: Set<number>): void {
    const live = (this.fileLive.get(c.file) ?? 1) - 1;
    this.fileLive.set(c.file, live);
    if (live <= 0) dropFiles.add(c.file);
  }

  private fileSize(f: number): number {
    let n = 0;
    for (const ext of ['.dat', '.idx']) {
      try {
        n += fs.statSync(path.join(this.chunkDir, fileName(f, ext))).size;
      } catch {
        // already gone
      }
    }
    return n;
  }

  /** Bytes on disk: chunk files, WAL and stream index. */
  diskBytes(): number {
    let n = 0;
    for (const d of [this.chunkDir, this.walDir]) for (const f of fs.readdirSync(d)) n += fs.statSync(path.join(d, f)).size;
    try {
      n += fs.statSync(path.join(this.dir, 'streams')).size;
    } catch {
      // no streams yet
    }
    return n;
  }

  /** Streams whose labels match all matchers and whose lines may overlap [start, end). */
  selectStreams(matchers: readonly Matcher[], start?: bigint, end?: bigint): StreamInfo[] {
    let candidates: Iterable<number> | undefined;
    let best = Infinity;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const ids = this.postings.get(m.name)?.get(m.value) ?? [];
      if (ids.length < best) {
        best = ids.length;
        candidates = ids;
      }
    }
    const out: StreamInfo[] = [];
    const consider = (s: StreamState | undefined): void => {
      if (!s) return;
      if (start !== undefined && s.maxT < start) return;
      if (end !== undefined && s.minT >= end) return;
      for (const m of matchers) {
        let v = '';
        for (const l of s.labels) if (l.name === m.name) v = l.value;
        if (!m.matches(v)) return;
      }
      out.push(s);
    };
    if (candidates) for (const id of candidates) consider(this.streams[id]);
    else for (const s of this.streams) consider(s);
    return out;
  }

  /** Sorted label names over all streams (or those in the time range). */
  labelNames(start?: bigint, end?: bigint): string[] {
    if (start === undefined) return [...this.postings.keys()].sort();
    const names = new Set<string>();
    for (const s of this.selectStreams([], start, end)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  /** Sorted values of label `name` over streams matching `matchers` in the range. */
  labelValues(name: string, matchers: readonly Matcher[] = [], start?: bigint, end?: bigint): string[] {
    if (!matchers.length && start === undefined) return [...(this.postings.get(name)?.keys() ?? [])].sort();
    const vals = new Set<string>();
    for (const s of this.selectStreams(matchers, start, end)) for (const l of s.labels) if (l.name === name) vals.add(l.value);
    return [...vals].sort();
  }

  /** A chunk's decoded view, or undefined when it is damaged (reported once, then skipped). */
  private load(c: ChunkMeta): ChunkView | undefined {
    const hit = this.cache.get(c);
    if (hit) {
      this.cache.delete(c);
      this.cache.set(c, hit);
      return hit;
    }
    if (this.corrupt.has(c)) return undefined;
    let d: ChunkView;
    try {
      const body = checkChunk(c, this.readChunk(c));
      if (typeof body === 'string') throw new Error(body);
      d = openChunk(body);
    } catch (err) {
      this.markCorrupt(c, (err as Error).message);
      return undefined;
    }
    this.counters.chunksRead++;
    this.cache.set(c, d);
    this.cacheBytes += d.memBytes;
    while (this.cacheBytes > this.o.chunkCacheBytes && this.cache.size > 1) {
      const first = this.cache.keys().next().value as ChunkMeta;
      this.evict(first);
    }
    return d;
  }

  private readChunk(c: ChunkMeta): Buffer {
    const buf = Buffer.allocUnsafe(c.length);
    const fd = c.file === this.chunkFile ? this.datFd : fs.openSync(path.join(this.chunkDir, fileName(c.file, '.dat')), 'r');
    try {
      let got = 0;
      while (got < c.length) {
        const n = fs.readSync(fd, buf, got, c.length - got, c.offset + got);
        if (n === 0) throw new Error(`chunk file ${fileName(c.file, '.dat')} is shorter than its index says`);
        got += n;
      }
    } finally {
      if (fd !== this.datFd) fs.closeSync(fd);
    }
    return buf;
  }

  private markCorrupt(c: ChunkMeta, reason: string): void {
    const s = this.streams[c.streamId]!;
    const info: CorruptChunk = { file: path.join('chunks', fileName(c.file, '.dat')), offset: c.offset, length: c.length, labels: s.labels, reason };
    this.corrupt.set(c, info);
    this.counters.chunksCorrupt++;
    this.log.error('log chunk is damaged; queries skip it', { file: info.file, offset: c.offset, stream: s.key, reason });
  }

  private evict(c: ChunkMeta): void {
    const d = this.cache.get(c);
    if (d && this.cache.delete(c)) this.cacheBytes -= d.memBytes;
  }

  /**
   * The lines of one stream in [start, end) in `direction`, skipping chunks whose bloom filter
   * rules out `hint.tokens` and lines without `hint.needle`. A pull iterator: stop early freely.
   */
  *entries(stream: StreamInfo, start: bigint, end: bigint, direction: Direction = 'forward', hint?: LineFilterHint): Generator<LogEntry> {
    const s = this.streams[stream.id];
    if (!s) return;
    if (s.overlap) {
      // Rare (late lines older than a sealed chunk): merge by sorting everything in range.
      const all = [...this.entriesOrdered(s, start, end, 'forward', hint)].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
      if (direction === 'backward') all.reverse();
      yield* all;
      return;
    }
    yield* this.entriesOrdered(s, start, end, direction, hint);
  }

  private *entriesOrdered(s: StreamState, start: bigint, end: bigint, direction: Direction, hint?: LineFilterHint): Generator<LogEntry> {
    const hashes = hint?.tokens?.map(tokenHash) ?? [];
    const needles = hint?.needle ? [Buffer.from(hint.needle)] : [];
    const chunks = s.chunks.filter((c) => c.maxT >= start && c.minT < end);
    const fromChunk = function* (this: LogStore, c: ChunkMeta): Generator<LogEntry> {
      if (hashes.length && !c.bloom.hasAll(hashes)) {
        this.counters.chunksSkippedByBloom++;
        return;
      }
      const d = this.load(c);
      if (!d) return;
      const lo = d.lowerBound(start);
      const hi = d.lowerBound(end);
      if (needles.length) {
        // Only the matching lines are rebuilt.
        const hits = d.match(needles, lo, hi);
        if (direction === 'forward') for (const i of hits) yield d.entry(i);
        else for (let j = hits.length - 1; j >= 0; j--) yield d.entry(hits[j]!);
      } else if (direction === 'forward') for (let i = lo; i < hi; i++) yield d.entry(i);
      else for (let i = hi - 1; i >= lo; i--) yield d.entry(i);
    };
    const needleB = needles[0];
    const fromHead = function* (): Generator<LogEntry> {
      const h = s.head.snapshot();
      const n = h.n;
      for (let k = 0; k < n; k++) {
        const j = direction === 'forward' ? k : n - 1 - k;
        const i = h.order ? h.order[j]! : j;
        const t = h.ts[i]!;
        if (t < start || t >= end) continue;
        const a = h.offs[i]!;
        const b = h.offs[i + 1]!;
        if (needleB && h.buf.subarray(a, b).indexOf(needleB) < 0) continue;
        const line = h.buf.toString('utf8', a, b);
        const meta = h.metas?.[i];
        yield meta ? { t, line, meta } : { t, line };
      }
    };
    if (direction === 'forward') {
      for (const c of chunks) yield* fromChunk.call(this, c);
      yield* fromHead();
    } else {
      yield* fromHead();
      for (let i = chunks.length - 1; i >= 0; i--) yield* fromChunk.call(this, chunks[i]!);
    }
  }

  /**
   * For metric queries that only count lines: the times (ms, as `Number(t / 1000n) / 1000`) of the
   * lines of `stream` in [start, end) that contain every needle, in time order, and (`withBytes`)
   * their total UTF-8 bytes. No line is rebuilt: sealed chunks answer from their columns.
   */
  matchTimes(stream: StreamInfo, start: bigint, end: bigint, needles: readonly string[], tokens: readonly string[] = [], withBytes = true): { times: number[]; bytes: number } {
    const times: number[] = [];
    let bytes = 0;
    const s = this.streams[stream.id];
    if (!s) return { times, bytes };
    const hashes = tokens.map(tokenHash);
    const nb = needles.map((x) => Buffer.from(x));
    for (const c of s.chunks) {
      if (c.maxT < start || c.minT >= end) continue;
      if (hashes.length && !c.bloom.hasAll(hashes)) {
        this.counters.chunksSkippedByBloom++;
        continue;
      }
      const d = this.load(c);
      if (!d) continue;
      const lo = d.lowerBound(start);
      const hi = d.lowerBound(end);
      if (nb.length) {
        const hits = d.match(nb, lo, hi);
        d.pushTimesMs(hits, lo, hi, times);
        if (withBytes) for (let j = 0; j < hits.length; j++) bytes += d.lineBytes(hits[j]!);
      } else {
        d.pushTimesMs(undefined, lo, hi, times);
        if (withBytes) for (let i = lo; i < hi; i++) bytes += d.lineBytes(i);
      }
    }
    const h = s.head.snapshot();
    for (let k = 0; k < h.n; k++) {
      const i = h.order ? h.order[k]! : k;
      const t = h.ts[i]!;
      if (t < start || t >= end) continue;
      const line = h.buf.subarray(h.offs[i]!, h.offs[i + 1]!);
      if (!nb.every((x) => line.indexOf(x) >= 0)) continue;
      times.push(Number(t / 1000n) / 1000);
      bytes += line.length;
    }
    if (s.overlap) times.sort((a, b) => a - b);
    return { times, bytes };
  }

  /**
   * Convenience pull API: up to `limit` lines per the direction across all matching streams,
   * grouped by stream, each stream's lines in `direction` order.
   */
  query(q: { matchers: readonly Matcher[]; start: bigint; end: bigint; direction?: Direction; limit?: number; filter?: LineFilterHint & { test?: (line: string) => boolean } }): { stream: StreamInfo; entries: LogEntry[] }[] {
    const direction = q.direction ?? 'backward';
    const limit = q.limit ?? 100;
    const all: { s: StreamInfo; e: LogEntry }[] = [];
    for (const s of this.selectStreams(q.matchers, q.start, q.end)) {
      let n = 0;
      for (const e of this.entries(s, q.start, q.end, direction, q.filter)) {
        if (q.filter?.test && !q.filter.test(e.line)) continue;
        all.push({ s, e });
        if (++n >= limit) break;
      }
    }
    all.sort((a, b) => (a.e.t < b.e.t ? -1 : a.e.t > b.e.t ? 1 : 0) * (direction === 'forward' ? 1 : -1));
    const out = new Map<number, { stream: StreamInfo; entries: LogEntry[] }>();
    for (const { s, e } of all.slice(0, limit)) {
      let g = out.get(s.id);
      if (!g) out.set(s.id, (g = { stream: s, entries: [] }));
      g.entries.push(e);
    }
    return [...out.values()];
  }

  /** Store statistics (for `/index/stats` and self metrics). */
  stats(matchers?: readonly Matcher[], start?: bigint, end?: bigint): StoreStats {
    const st: StoreStats = { streams: 0, chunks: 0, entries: 0, bytes: 0, diskBytes: 0 };
    const streams = matchers ? this.selectStreams(matchers, start, end) : this.streams.filter(Boolean);
    for (const si of streams) {
      const s = this.streams[si.id]!;
      st.streams++;
      for (const c of s.chunks) {
        if (start !== undefined && (c.maxT < start || (end !== undefined && c.minT >= end))) continue;
        st.chunks++;
        st.entries += c.count;
        st.bytes += c.rawBytes;
      }
      if (s.head.n) {
        st.chunks++;
        st.entries += s.head.n;
        st.bytes += s.head.bytes;
      }
    }
    st.diskBytes = this.diskBytes();
    return st;
  }

  /** Stops the periodic tick, seals all heads, syncs and closes the files. Idempotent. */
  stop(): void {
    if (this.state !== 'running') return;
    this.state = 'stopped';
    clearInterval(this.ticker);
    this.ticker = undefined;
    // A failed checkpoint leaves the lines in the WAL for the next start.
    this.checkpoint();
    for (const fd of [this.walFd, this.datFd, this.idxFd, this.streamsFd]) fs.closeSync(fd);
    this.walFd = this.datFd = this.idxFd = this.streamsFd = -1;
    this.listeners.clear();
  }
}
