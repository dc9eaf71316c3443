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
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labelsKey, type Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import { ByteReader, ByteWriter } from '../util/bytes.js';
import { nopLogger, type Logger } from '../util/log.js';
import { Bloom, tokenHash } from './bloom.js';
import { openChunk } from './chunk.js';
import type { Codec } from './codec.js';
import { ColumnarEncoder, type ChunkView, type EncodedChunk } from './columnar.js';
import { Head } from './head.js';
import { FRAME_HEADER, frame, readFramesRepair, writeAll, writeFrameHeader } from './framing.js';
import type { Direction, LineFilterHint, LogEntry, PushResult, PushStream, RejectedEntry, StoreStats, StreamInfo } from './types.js';

const REC_STREAM = 1;
const REC_ENTRIES = 2;
const REC_CHUNK = 3;
/** A chunk that replaces others (compaction): REC_CHUNK's payload, then the replaced chunks. */
const REC_CHUNK_MERGED = 4;
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
  /** The clock (ms), for tests. */
  readonly now?: () => number;
  readonly log?: Logger;
}

interface ChunkMeta {
  readonly file: number;
  readonly offset: number;
  readonly length: number;
  readonly minT: bigint;
  readonly maxT: bigint;
  readonly count: number;
  readonly rawBytes: number;
  readonly bloom: Bloom;
}

class StreamState implements StreamInfo {
  readonly chunks: ChunkMeta[] = [];
  readonly head = new Head();
  minT = BigInt(Number.MAX_SAFE_INTEGER) * NS_PER_MS;
  maxT = -1n;
  /** A line older than a sealed chunk's end arrived: chunks overlap and reads must sort. */
  overlap = false;
  constructor(
    readonly id: number,
    readonly labels: Labels,
    readonly key: string,
  ) {}
}

/** Listener for newly accepted lines (live tail). */
export type TailListener = (stream: StreamInfo, entries: readonly LogEntry[]) => void;

function fileName(i: number, ext = ''): string {
  return String(i).padStart(8, '0') + ext;
}

/** The log store. Create, then {@link open} before use; {@link close} when done. */
export class LogStore {
  readonly dir: string;
  private readonly o: Required<Omit<LogStoreOptions, 'log' | 'now' | 'dir'>>;
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
  private walFd = -1;
  private walSegment = 0;
  private walSize = 0;
  private datFd = -1;
  private idxFd = -1;
  private chunkFile = 0;
  private chunkFileSize = 0;
  private readonly w = new ByteWriter(1 << 20);
  private readonly enc = new ColumnarEncoder();
  /** Where each accepted line's bytes are in the WAL record being written. */
  private pos = new Int32Array(2048);
  /** Counters for self-monitoring. */
  readonly counters = { linesIn: 0, bytesIn: 0, rejected: 0, chunksSealed: 0, chunksSkippedByBloom: 0, chunksRead: 0 };

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
    };
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? nopLogger;
  }

  private get walDir(): string {
    return path.join(this.dir, 'wal');
  }
  private get chunkDir(): string {
    return path.join(this.dir, 'chunks');
  }

  /** Loads streams and chunk indexes and replays the WAL into the heads. Returns repairs made. */
  open(): string[] {
    const repairs: string[] = [];
    fs.mkdirSync(this.walDir, { recursive: true });
    fs.mkdirSync(this.chunkDir, { recursive: true });
    const streamsFile = path.join(this.dir, 'streams');
    const r1 = readFramesRepair(streamsFile, (type, buf, start, end) => {
      if (type !== REC_STREAM) return;
      const r = new ByteReader(buf, start, end);
      const id = r.uvarint();
      const n = r.uvarint();
      const labels: { name: string; value: string }[] = [];
      for (let i = 0; i < n; i++) labels.push({ name: r.str(), value: r.str() });
      this.addStream(id, labels);
    });
    if (r1) repairs.push(r1);
    this.streamsFd = fs.openSync(streamsFile, 'a');

    const idxFiles = fs.readdirSync(this.chunkDir).filter((f) => /^\d{8}\.idx$/.test(f)).map((f) => Number(f.slice(0, 8))).sort((a, b) => a - b);
    const replaced = new Set<string>();
    for (const fi of idxFiles) {
      const datSize = fs.existsSync(path.join(this.chunkDir, fileName(fi, '.dat'))) ? fs.statSync(path.join(this.chunkDir, fileName(fi, '.dat'))).size : 0;
      const r = readFramesRepair(path.join(this.chunkDir, fileName(fi, '.idx')), (type, buf, start, end) => {
        if (type !== REC_CHUNK && type !== REC_CHUNK_MERGED) return;
        const rd = new ByteReader(buf, start, end);
        const streamId = rd.uvarint();
        const offset = rd.uvarint();
        const length = rd.uvarint();
        const minT = buf.readBigInt64LE(rd.pos);
        const maxT = buf.readBigInt64LE(rd.pos + 8);
        rd.pos += 16;
        const count = rd.uvarint();
        const rawBytes = rd.uvarint();
        const k = rd.uvarint();
        const words = rd.uvarint();
        const bits = new Uint32Array(words);
        for (let i = 0; i < words; i++) bits[i] = rd.u32();
        const s = this.streams[streamId];
        if (!s || offset + length > datSize) return; // data never made it to disk: the WAL or the replaced chunks still have it
        if (type === REC_CHUNK_MERGED) {
          const n = rd.uvarint();
          for (let i = 0; i < n; i++) replaced.add(`${rd.uvarint()}:${rd.uvarint()}`);
        }
        this.attachChunk(s, { file: fi, offset, length, minT, maxT, count, rawBytes, bloom: new Bloom(bits, k) });
      });
      if (r) repairs.push(r);
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

    const cpFile = path.join(this.walDir, 'checkpoint');
    const checkpoint = fs.existsSync(cpFile) ? Number(fs.readFileSync(cpFile, 'utf8').trim()) : -1;
    const segs = fs.readdirSync(this.walDir).filter((f) => /^\d{8}$/.test(f)).map(Number).sort((a, b) => a - b);
    for (const seg of segs) {
      if (seg <= checkpoint) {
        fs.rmSync(path.join(this.walDir, fileName(seg)), { force: true });
        continue;
      }
      const r = readFramesRepair(path.join(this.walDir, fileName(seg)), (type, buf, start, end) => {
        if (type === REC_ENTRIES) this.replayEntries(buf, start, end);
      });
      if (r) repairs.push(r);
      this.walSegment = seg;
    }
    this.openWalSegment(Math.max(this.walSegment + 1, checkpoint + 1));
    this.openChunkFile(this.chunkFile + (idxFiles.length ? 1 : 0));
    for (const r of repairs) this.log.warn('log store repaired a damaged file', { repair: r });
    return repairs;
  }

  private openWalSegment(i: number): void {
    if (this.walFd >= 0) fs.closeSync(this.walFd);
    this.walSegment = i;
    this.walFd = fs.openSync(path.join(this.walDir, fileName(i)), 'a');
    this.walSize = fs.fstatSync(this.walFd).size;
  }

  private openChunkFile(i: number): void {
    if (this.datFd >= 0) {
      fs.fsyncSync(this.datFd);
      fs.closeSync(this.datFd);
      fs.fsyncSync(this.idxFd);
      fs.closeSync(this.idxFd);
    }
    this.chunkFile = i;
    this.datFd = fs.openSync(path.join(this.chunkDir, fileName(i, '.dat')), 'a+');
    this.idxFd = fs.openSync(path.join(this.chunkDir, fileName(i, '.idx')), 'a');
    this.chunkFileSize = fs.fstatSync(this.datFd).size;
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

  private replayEntries(buf: Buffer, start: number, end: number): void {
    const r = new ByteReader(buf, start, end);
    while (r.pos < end) {
      const id = r.uvarint();
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
      if (s) this.applyEntry(s, t, buf, a, a + len, meta);
    }
  }

  /** Registers a listener for accepted lines; returns the unsubscribe function. */
  subscribe(fn: TailListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Appends lines. Label sets must be valid and sorted (the ingest layer checks them). Lines too far
   * behind their stream, or beyond retention, are refused and reported; the rest are durable when
   * this returns.
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
      writeAll(this.walFd, w.view());
      if (this.o.fsync) fs.fsyncSync(this.walFd);
      this.walSize += w.length;
    }
    // The heads copy the lines' bytes from the WAL record.
    let k = 0;
    for (const { s, entries } of accepted) {
      for (const e of entries) {
        this.applyEntry(s, e.t, w.buf, this.pos[k]!, this.pos[k + 1]!, e.meta);
        k += 2;
        if (s.head.bytes >= this.o.chunkTargetBytes) this.seal(s, true);
      }
    }
    this.counters.linesIn += count;
    this.counters.bytesIn += bytes;
    this.counters.rejected += rejected.length;
    if (this.listeners.size) for (const { s, entries } of accepted) for (const l of this.listeners) l(s, entries);
    if (this.walSize >= this.o.walSegmentBytes) this.checkpoint();
    return { accepted: count, acceptedBytes: bytes, rejected };
  }

  private createStream(labels: Labels): StreamState {
    const s = this.addStream(this.streams.length, labels);
    const w = new ByteWriter(256);
    w.uvarint(s.id);
    w.uvarint(labels.length);
    for (const l of labels) {
      w.str(l.name);
      w.str(l.value);
    }
    writeAll(this.streamsFd, frame(REC_STREAM, w.view()));
    if (this.o.fsync) fs.fsyncSync(this.streamsFd);
    return s;
  }

  private applyEntry(s: StreamState, t: bigint, src: Buffer, a: number, b: number, meta: Labels | undefined): void {
    const h = s.head;
    if (h.n === 0) h.since = this.now();
    if (!h.add(t, src, a, b, meta)) return;
    const last = s.chunks.at(-1);
    if (last && t < last.maxT) s.overlap = true;
    if (t < s.minT) s.minT = t;
    if (t > s.maxT) s.maxT = t;
  }

  /** Seals a stream's head into a chunk file record (`full`: sealed for its size). */
  private seal(s: StreamState, full = false): void {
    const h = s.head;
    if (h.n === 0) return;
    const snap = h.snapshot();
    const enc = this.enc.encode(snap, this.o.codec, this.o.level);
    const first = snap.order ? snap.order[0]! : 0;
    const lastIdx = snap.order ? snap.order[snap.n - 1]! : snap.n - 1;
    const meta = this.writeChunk(s, enc, snap.ts[first]!, snap.ts[lastIdx]!, snap.n);
    // Keep the chunk list sorted by start; an out-of-order head may start before the last chunk.
    let i = s.chunks.length;
    while (i > 0 && s.chunks[i - 1]!.minT > meta.minT) i--;
    s.chunks.splice(i, 0, meta);
    h.clear(full);
    this.counters.chunksSealed++;
  }

  /**
   * Encodes sorted entries into a chunk, appends it to the chunk file and its record to the index
   * (a merged record naming `replaces` when compacting). The caller places the returned meta.
   */
  private writeChunk(s: StreamState, enc: EncodedChunk, minT: bigint, maxT: bigint, n: number, replaces?: readonly ChunkMeta[]): ChunkMeta {
    const { data, rawBytes, bloom } = enc;
    if (this.chunkFileSize > 0 && this.chunkFileSize + data.length > this.o.chunkFileBytes) this.openChunkFile(this.chunkFile + 1);
    const offset = this.chunkFileSize;
    writeAll(this.datFd, data);
    this.chunkFileSize += data.length;
    const meta: ChunkMeta = { file: this.chunkFile, offset, length: data.length, minT, maxT, count: n, rawBytes, bloom };
    const w = new ByteWriter(64 + bloom.bits.length * 4 + (replaces?.length ?? 0) * 8);
    w.uvarint(s.id);
    w.uvarint(offset);
    w.uvarint(data.length);
    w.reserve(16);
    w.buf.writeBigInt64LE(meta.minT, w.length);
    w.buf.writeBigInt64LE(meta.maxT, w.length + 8);
    w.length += 16;
    w.uvarint(n);
    w.uvarint(rawBytes);
    w.uvarint(bloom.k);
    w.uvarint(bloom.bits.length);
    for (const x of bloom.bits) w.u32(x);
    if (replaces) {
      // The data must be durable before a record that makes the replaced chunks obsolete.
      fs.fsyncSync(this.datFd);
      w.uvarint(replaces.length);
      for (const c of replaces) {
        w.uvarint(c.file);
        w.uvarint(c.offset);
      }
    }
    writeAll(this.idxFd, frame(replaces ? REC_CHUNK_MERGED : REC_CHUNK, w.view()));
    if (replaces) fs.fsyncSync(this.idxFd);
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
        for (const c of run) {
          const d = this.load(c);
          for (let x = 0; x < d.length; x++) {
            const e = d.entry(x);
            ts.push(e.t);
            lines.push(e.line);
            metas.push(e.meta);
          }
        }
        const enc = this.enc.encodeLines(ts, lines, metas, this.o.codec, this.o.level);
        const meta = this.writeChunk(s, enc, ts[0]!, ts[ts.length - 1]!, ts.length, run);
        s.chunks.splice(i, run.length, meta);
        for (const c of run) {
          this.evict(c);
          this.unref(c, dropFiles);
        }
        merged += run.length - 1;
        i++;
      }
    }
    for (const f of dropFiles) if (f !== this.chunkFile) this.removeChunkFile(f);
    return merged;
  }

  private removeChunkFile(f: number): void {
    this.fileLive.delete(f);
    for (const [c] of this.cache) if (c.file === f) this.evict(c);
    fs.rmSync(path.join(this.chunkDir, fileName(f, '.dat')), { force: true });
    fs.rmSync(path.join(this.chunkDir, fileName(f, '.idx')), { force: true });
  }

  /**
   * Seals every head, syncs the chunk files and drops the WAL segments they cover. Called when a
   * WAL segment fills and on close.
   */
  checkpoint(): void {
    const covered = this.walSegment;
    for (const s of this.streams) if (s) this.seal(s);
    fs.fsyncSync(this.datFd);
    fs.fsyncSync(this.idxFd);
    const cp = path.join(this.walDir, 'checkpoint');
    fs.writeFileSync(cp + '.tmp', String(covered));
    const fd = fs.openSync(cp + '.tmp', 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(cp + '.tmp', cp);
    this.openWalSegment(covered + 1);
    for (const f of fs.readdirSync(this.walDir)) if (/^\d{8}$/.test(f) && Number(f) <= covered) fs.rmSync(path.join(this.walDir, f), { force: true });
  }

  /** Periodic work: seal heads older than `maxChunkAgeMs`, apply retention, compact small chunks. Call every ~10 s. */
  tick(): void {
    const now = this.now();
    for (const s of this.streams) if (s && s.head.n && now - s.head.since >= this.o.maxChunkAgeMs) this.seal(s);
    this.enforceRetention();
    this.compact();
  }

  /** Drops chunks past the retention time, then the oldest chunk files past the size limit. */
  enforceRetention(): void {
    const dropFiles = new Set<number>();
    if (this.o.retentionMs > 0) {
      const floor = BigInt(Math.floor(this.now() - this.o.retentionMs)) * NS_PER_MS;
      for (const s of this.streams) {
        if (!s) continue;
        const keep = s.chunks.filter((c) => c.maxT >= floor);
        for (const c of s.chunks) if (c.maxT < floor) this.unref(c, dropFiles);
        s.chunks.length = 0;
        s.chunks.push(...keep);
      }
    }
    if (this.o.retentionBytes > 0) {
      let size = this.diskBytes();
      const files = [...this.fileLive.keys()].filter((f) => f !== this.chunkFile).sort((a, b) => a - b);
      for (const f of files) {
        if (size <= this.o.retentionBytes) break;
        size -= this.fileSize(f);
        dropFiles.add(f);
      }
      if (dropFiles.size)
        for (const s of this.streams) {
          if (!s) continue;
          const keep = s.chunks.filter((c) => !dropFiles.has(c.file));
          s.chunks.length = 0;
          s.chunks.push(...keep);
        }
    }
    for (const f of dropFiles) if (f !== this.chunkFile) this.removeChunkFile(f);
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

  private load(c: ChunkMeta): ChunkView {
    const hit = this.cache.get(c);
    if (hit) {
      this.cache.delete(c);
      this.cache.set(c, hit);
      return hit;
    }
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
    this.counters.chunksRead++;
    const d = openChunk(buf);
    this.cache.set(c, d);
    this.cacheBytes += d.memBytes;
    while (this.cacheBytes > this.o.chunkCacheBytes && this.cache.size > 1) {
      const first = this.cache.keys().next().value as ChunkMeta;
      this.evict(first);
    }
    return d;
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

  /** Seals all heads, syncs and closes the files. Idempotent. */
  close(): void {
    if (this.walFd < 0) return;
    this.checkpoint();
    for (const fd of [this.walFd, this.datFd, this.idxFd, this.streamsFd]) fs.closeSync(fd);
    this.walFd = this.datFd = this.idxFd = this.streamsFd = -1;
    this.listeners.clear();
  }
}
