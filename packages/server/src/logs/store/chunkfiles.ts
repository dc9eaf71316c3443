/**
 * Chunk files: `chunks/NNNNNNNN.dat` holds compressed chunks, `chunks/NNNNNNNN.idx` their framed
 * index records (metadata, bloom filter, CRC-32C, WAL mark), read at start instead of the data. A
 * merged chunk's record also names the chunks it replaces. This module writes chunks (cutting both
 * files back when a write fails), reads and decodes them through the cache, tracks damaged chunks
 * (queries skip them) and how many live chunks each file holds (a file with none is deleted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Labels } from '../../core/model/labels.js';
import { ByteWriter } from '../../core/util/bytes.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { crc32c } from '../../core/util/crc32c.js';
import type { Logger } from '../../core/util/log.js';
import type { ChunkCache } from './cache.js';
import { openChunk } from './chunk.js';
import { CHUNK_MAGIC, checkChunk, decodeChunkRecord, encodeChunkRecord, isChunkRecord, maxMark, type ChunkRecord, type WalMark } from './chunkindex.js';
import type { ChunkView, EncodedChunk } from './columnar.js';
import { frame, readFramesRepair } from './framing.js';
import type { StreamState } from './streams.js';
import { appendAll, syncFd, type LogIo } from '../../core/util/appendfile.js';

/** A sealed chunk: its index record, and which chunk file holds it. */
export interface ChunkMeta extends ChunkRecord {
  readonly file: number;
  /** CRC-32C of the bytes in the .dat file (undefined for chunks written before checksums). */
  readonly crc: number | undefined;
  /** WAL high-water mark of the lines it holds (undefined for old chunks). */
  readonly mark: WalMark | undefined;
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

/** The crash points around one chunk write (named for the kill -9 tests). */
export interface ChunkWritePoints {
  readonly afterDat: string;
  readonly afterIdx: string;
}

/** The store's counters this module moves. */
export interface ChunkCounters {
  chunksRead: number;
  chunksCorrupt: number;
}

export function fileName(i: number, ext = ''): string {
  return String(i).padStart(8, '0') + ext;
}

export class ChunkFiles {
  /** The file new chunks go to. */
  current = 0;
  private datFd = -1;
  private idxFd = -1;
  private datSize = 0;
  private idxSize = 0;
  /** Live chunks per file. */
  private readonly live = new Map<number, number>();
  private readonly corrupt = new Map<ChunkMeta, CorruptChunk>();

  constructor(
    readonly dir: string,
    private readonly io: LogIo,
    private readonly maxFileBytes: number,
    private readonly cache: ChunkCache<ChunkMeta>,
    private readonly counters: ChunkCounters,
    private readonly log: Logger,
    private readonly streamOf: (id: number) => StreamState | undefined,
  ) {}

  /**
   * Reads every chunk index, attaching the chunks to their streams (sorted by start) and raising
   * their marks. Chunks a merged record replaces are dropped, as are files left without live
   * chunks; records whose data never reached the .dat file are ignored (the WAL or the replaced
   * chunks still hold the lines). Then opens a new file for writes. Returns repairs and the highest
   * stream id named.
   */
  load(): { repairs: string[]; maxId: number } {
    fs.mkdirSync(this.dir, { recursive: true });
    const repairs: string[] = [];
    let maxId = -1;
    const idxFiles = fs
      .readdirSync(this.dir)
      .filter((f) => /^\d{8}\.idx$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .sort((a, b) => a - b);
    const replaced = new Set<string>();
    const touched = new Set<StreamState>();
    for (const fi of idxFiles) {
      const datFile = path.join(this.dir, fileName(fi, '.dat'));
      const datSize = fs.existsSync(datFile) ? fs.statSync(datFile).size : 0;
      const r = readFramesRepair(path.join(this.dir, fileName(fi, '.idx')), (type, buf, start, end) => {
        if (!isChunkRecord(type)) throw new Error(`unknown record type ${type}`);
        const rec = decodeChunkRecord(type, buf, start, end);
        if (rec.streamId > maxId) maxId = rec.streamId;
        const s = this.streamOf(rec.streamId);
        if (!s || rec.offset + rec.length > datSize) return;
        for (const c of rec.replaces ?? []) replaced.add(`${c.file}:${c.offset}`);
        s.mark = maxMark(s.mark, rec.mark);
        const { offset, length, minT, maxT, count, rawBytes, bloom, crc, mark } = rec;
        this.attach(s, { streamId: s.id, file: fi, offset, length, minT, maxT, count, rawBytes, bloom, crc, mark });
        touched.add(s);
      });
      repairs.push(...r);
      this.current = fi;
    }
    if (replaced.size)
      for (const s of touched) {
        const keep = s.chunks.filter((c) => !replaced.has(`${c.file}:${c.offset}`));
        for (const c of s.chunks) if (replaced.has(`${c.file}:${c.offset}`)) this.live.set(c.file, this.live.get(c.file)! - 1);
        s.chunks.length = 0;
        s.chunks.push(...keep);
      }
    // Files left without live chunks (compacted away before a crash) go.
    for (const fi of idxFiles) if ((this.live.get(fi) ?? 0) <= 0 && replaced.size) this.removeFile(fi);
    for (const s of touched) s.chunks.sort((a, b) => (a.minT < b.minT ? -1 : a.minT > b.minT ? 1 : 0));
    this.openFile(this.current + (idxFiles.length ? 1 : 0));
    return { repairs, maxId };
  }

  private attach(s: StreamState, c: ChunkMeta): void {
    s.chunks.push(c);
    if (c.minT < s.minT) s.minT = c.minT;
    if (c.maxT > s.maxT) s.maxT = c.maxT;
    this.live.set(c.file, (this.live.get(c.file) ?? 0) + 1);
  }

  /** Starts chunk file `i`; the previous one is synced and closed (it is left as is if this fails). */
  private openFile(i: number): void {
    const dat = fs.openSync(path.join(this.dir, fileName(i, '.dat')), 'a+');
    let idx: number;
    try {
      idx = fs.openSync(path.join(this.dir, fileName(i, '.idx')), 'a');
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
    this.current = i;
    this.datFd = dat;
    this.idxFd = idx;
    this.datSize = fs.fstatSync(dat).size;
    this.idxSize = fs.fstatSync(idx).size;
  }

  /**
   * Appends an encoded chunk to the data file and its record to the index (a merged record naming
   * `replaces` when compacting). The caller places the returned meta in its stream. On a failed
   * write both files are cut back to where they were and the error is thrown.
   */
  write(
    streamId: number,
    enc: EncodedChunk,
    minT: bigint,
    maxT: bigint,
    n: number,
    mark: WalMark | undefined,
    points: ChunkWritePoints,
    replaces?: readonly ChunkMeta[],
  ): ChunkMeta {
    const { data, rawBytes, bloom } = enc;
    const length = CHUNK_MAGIC.length + data.length;
    if (this.datSize > 0 && this.datSize + length > this.maxFileBytes) this.openFile(this.current + 1);
    const offset = this.datSize;
    const crc = crc32c(data, crc32c(CHUNK_MAGIC));
    // Both appends cut back to `offset` on failure.
    appendAll(this.io, this.datFd, CHUNK_MAGIC, offset);
    appendAll(this.io, this.datFd, data, offset);
    crashPoint(points.afterDat);
    const meta: ChunkMeta = { streamId, file: this.current, offset, length, minT, maxT, count: n, rawBytes, bloom, crc, mark };
    const w = new ByteWriter(80 + bloom.bits.length * 4 + (replaces?.length ?? 0) * 8);
    const type = encodeChunkRecord(w, { ...meta, replaces });
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
    this.datSize = offset + length;
    this.idxSize += rec.length;
    crashPoint(points.afterIdx);
    this.live.set(meta.file, (this.live.get(meta.file) ?? 0) + 1);
    return meta;
  }

  /** Makes the current files durable (before a checkpoint lets the WAL go). */
  sync(): void {
    syncFd(this.datFd);
    syncFd(this.idxFd);
  }

  /** A chunk's decoded view, or undefined when it is damaged (reported once, then skipped). */
  view(c: ChunkMeta): ChunkView | undefined {
    const hit = this.cache.get(c);
    if (hit) return hit;
    if (this.corrupt.has(c)) return undefined;
    let d: ChunkView;
    try {
      const body = checkChunk(c, this.read(c));
      if (typeof body === 'string') throw new Error(body);
      d = openChunk(body);
    } catch (err) {
      this.markCorrupt(c, (err as Error).message);
      return undefined;
    }
    this.counters.chunksRead++;
    this.cache.add(c, d);
    return d;
  }

  private read(c: ChunkMeta): Buffer {
    const buf = Buffer.allocUnsafe(c.length);
    const fd = c.file === this.current ? this.datFd : fs.openSync(path.join(this.dir, fileName(c.file, '.dat')), 'r');
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
    const s = this.streamOf(c.streamId)!;
    const info: CorruptChunk = { file: path.join('chunks', fileName(c.file, '.dat')), offset: c.offset, length: c.length, labels: s.labels, reason };
    this.corrupt.set(c, info);
    this.counters.chunksCorrupt++;
    this.log.error('log chunk is damaged; queries skip it', { file: info.file, offset: c.offset, stream: s.key, reason });
  }

  /** Chunks found damaged so far. */
  corruptChunks(): CorruptChunk[] {
    return [...this.corrupt.values()];
  }

  /** Forgets a chunk that left its stream (merged or dropped); a file left without live chunks is added to `dropFiles`. */
  release(c: ChunkMeta, dropFiles: Set<number>): void {
    this.cache.evict(c);
    this.corrupt.delete(c);
    const live = (this.live.get(c.file) ?? 1) - 1;
    this.live.set(c.file, live);
    if (live <= 0) dropFiles.add(c.file);
  }

  /**
   * Deletes the given files, except the one being written and any that took a chunk since they were
   * released (compaction and retention run in slices, and a seal may land in between).
   */
  dropFiles(files: Set<number>): void {
    for (const f of files) if (f !== this.current && (this.live.get(f) ?? 0) <= 0) this.removeFile(f);
  }

  private removeFile(f: number): void {
    this.live.delete(f);
    this.cache.evictFile(f);
    for (const [c] of this.corrupt) if (c.file === f) this.corrupt.delete(c);
    fs.rmSync(path.join(this.dir, fileName(f, '.dat')), { force: true });
    fs.rmSync(path.join(this.dir, fileName(f, '.idx')), { force: true });
  }

  /** Files holding live chunks other than the one being written, oldest first. */
  sealedFiles(): number[] {
    return [...this.live.keys()].filter((f) => f !== this.current).sort((a, b) => a - b);
  }

  /** Bytes of a chunk file and its index. */
  fileBytes(f: number): number {
    let n = 0;
    for (const ext of ['.dat', '.idx']) {
      try {
        n += fs.statSync(path.join(this.dir, fileName(f, ext))).size;
      } catch {
        // already gone
      }
    }
    return n;
  }

  close(): void {
    if (this.datFd < 0) return;
    fs.closeSync(this.datFd);
    fs.closeSync(this.idxFd);
    this.datFd = this.idxFd = -1;
  }
}
