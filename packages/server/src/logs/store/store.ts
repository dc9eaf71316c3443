/**
 * The embedded log store. A stream is a label set; its lines go into an in-memory head (UTF-8
 * bytes copied from the WAL record, see head.ts) that is sealed into a compressed chunk (columnar
 * for JSON lines, see columnar.ts, with a token bloom filter) once it holds `chunkTargetBytes`.
 * Every accepted push is written to the WAL before it is acknowledged, so it survives kill -9.
 * When the WAL segment fills, all heads are sealed, the chunk files synced, and the covered
 * segments deleted behind a checkpoint marker. {@link LogStore.tick} (run by the store's own timer
 * between {@link LogStore.start} and {@link LogStore.stop}) seals old heads, applies retention and
 * compacts small chunks.
 *
 * This module coordinates; each concern has its own: the WAL (wal.ts), the stream registry and
 * `streams` file (streams.ts), chunk files (chunkfiles.ts) and their cache (cache.ts), reads
 * (reads.ts), compaction (compaction.ts) and retention (retention.ts).
 *
 * Nothing acknowledged is lost or duplicated across kill -9: each chunk's index record carries its
 * stream's WAL high-water mark and replay skips entries at or before it (see chunkindex.ts), so a
 * head sealed before the checkpoint marker moved is not replayed twice. A write that fails part-way
 * is cut back (writes.ts) and the push refused before any line reaches a head; a chunk that fails
 * its CRC-32C is skipped by queries and reported ({@link LogStore.corruptChunks}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { BackgroundJobs } from '../../core/util/background.js';
import { runSync } from '../../core/util/pace.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { StorageError, writeFailure } from '../../core/errors.js';
import { ChunkCache } from './cache.js';
import { ChunkFiles, type ChunkMeta, type CorruptChunk } from './chunkfiles.js';
import { maxMark } from './chunkindex.js';
import { ColumnarEncoder } from './columnar.js';
import { compactSteps } from './compaction.js';
import { resolveOptions, type LogStoreOptions, type ResolvedLogStoreOptions } from './options.js';
import { streamEntries, streamMatchTimes } from './reads.js';
import { retentionSteps } from './retention.js';
import { StreamRegistry, type StreamState } from './streams.js';
import { EntryRecordBuilder, forEachEntry, LogWal } from './wal.js';
import { nodeIo } from '../../core/util/appendfile.js';
import type { Direction, LineFilterHint, LogEntry, PushResult, PushStream, RejectedEntry, StoreStats, StreamInfo } from '../storage/types.js';
import type { LogStorage, TailListener } from '../storage/interface.js';
import { queryLines, type LineQuery } from '../storage/query.js';
import { admissionBounds, refusal, streamLimitReason } from '../storage/admission.js';

export { REC_STREAM, REC_STREAM_MARK } from './streams.js';
export { REC_ENTRIES, formatCheckpoint, parseCheckpoint } from './wal.js';
export type { CorruptChunk, LogStoreOptions, TailListener };

export { CRASH_POINTS } from './crashpoints.js';
const SEAL_POINTS = { afterDat: 'logs.seal.after-dat', afterIdx: 'logs.seal.after-idx' } as const;
const NS_PER_MS = 1_000_000n;

/** The log store. The constructor touches nothing: {@link start} before use, {@link stop} when done. */
export class LogStore implements LogStorage {
  readonly dir: string;
  private readonly o: ResolvedLogStoreOptions;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly streams: StreamRegistry;
  private readonly wal: LogWal;
  private readonly files: ChunkFiles;
  private readonly listeners = new Set<TailListener>();
  private ticker: NodeJS.Timeout | undefined;
  /** Lifecycle: a store starts once and stops once (its in-memory state is not reset for a second start). */
  private state: 'new' | 'running' | 'stopped' = 'new';
  /** WAL position of the record being applied (the heads' marks). */
  private recSeg = 0;
  private recOff = 0;
  private problem: string | undefined;
  private readonly record = new EntryRecordBuilder();
  private readonly enc = new ColumnarEncoder();
  /**
   * Background work in slices, one job at a time, while pushes and queries go on between slices. A
   * job still running when the store stops is left at its next pause; stop() seals and checkpoints
   * everything itself.
   */
  private readonly jobs: BackgroundJobs;
  private checkpointWanted = false;
  /** Counters for self-monitoring. */
  readonly counters = { linesIn: 0, bytesIn: 0, rejected: 0, chunksSealed: 0, chunksSkippedByBloom: 0, chunksRead: 0, chunksCorrupt: 0, writeFailures: 0 };

  constructor(opts: LogStoreOptions) {
    this.dir = opts.dir;
    this.o = resolveOptions(opts);
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? nopLogger;
    this.jobs = new BackgroundJobs({
      isOpen: () => this.state === 'running',
      onError: (err) => this.log.error('log store background work failed', { err }),
      sliceMs: this.o.sliceMs,
    });
    const io = opts.io ?? nodeIo;
    this.streams = new StreamRegistry(path.join(this.dir, 'streams'), io, this.o.fsync);
    this.wal = new LogWal(path.join(this.dir, 'wal'), io, this.o.fsync);
    const cache = new ChunkCache<ChunkMeta>(this.o.chunkCacheBytes);
    this.files = new ChunkFiles(path.join(this.dir, 'chunks'), io, this.o.chunkFileBytes, cache, this.counters, this.log, (id) => this.streams.byId[id]);
  }

  /** Why the last write failed (for the readiness endpoint), or undefined when it succeeded. */
  writeProblem(): string | undefined {
    return this.problem;
  }

  /** Chunks found damaged so far (queries answer without them). */
  corruptChunks(): CorruptChunk[] {
    return this.files.corruptChunks();
  }

  /** Records a failed write and returns the error to refuse the push with. */
  private fail(what: string, err: unknown): StorageError {
    const e = err instanceof StorageError ? err : writeFailure(what, err);
    this.problem = e.message;
    this.counters.writeFailures++;
    this.log.error('log store write failed', { what, err: e.message });
    return e;
  }

  /**
   * Loads streams and chunk indexes, replays the WAL into the heads and starts the periodic
   * {@link tick}. Returns the repairs made. Idempotent: a second call does nothing and returns [].
   */
  start(): string[] {
    if (this.state === 'running') return [];
    if (this.state === 'stopped') throw new Error('a stopped log store cannot start again; make a new one');
    const repairs = this.load();
    this.state = 'running';
    if (this.o.tickIntervalMs > 0) {
      this.ticker = setInterval(() => void this.tickInBackground(), this.o.tickIntervalMs);
      // Housekeeping must not keep a process alive that has nothing else to do.
      this.ticker.unref();
    }
    return repairs;
  }

  private load(): string[] {
    fs.mkdirSync(this.dir, { recursive: true });
    const loaded = this.streams.load();
    const repairs = [...loaded.repairs];
    let maxId = loaded.maxId;
    const chunks = this.files.load();
    repairs.push(...chunks.repairs);
    maxId = Math.max(maxId, chunks.maxId);
    for (const [id, m] of loaded.droppedMarks) {
      const s = this.streams.byId[id];
      if (s) s.mark = maxMark(s.mark, m);
    }
    const floor = this.o.retentionMs > 0 ? BigInt(Math.floor(this.now() - this.o.retentionMs)) * NS_PER_MS : -1n;
    const replayed = this.wal.replay((seg, buf, start, end, frameOff) => {
      this.recSeg = seg;
      this.recOff = frameOff;
      forEachEntry(buf, start, end, (k, id, t, src, a, b, meta) => {
        if (id > maxId) maxId = id;
        const s = this.streams.byId[id];
        // Skipped: entries a chunk already holds (at or before the stream's mark) and those past retention.
        if (!s || t < floor) return;
        const m = s.mark;
        if (m && (seg < m.seg || (seg === m.seg && (frameOff < m.off || (frameOff === m.off && k <= m.idx))))) return;
        this.applyEntry(s, t, src, a, b, meta, k);
      });
    });
    repairs.push(...replayed.repairs);
    this.streams.reserveIdsThrough(maxId);
    // A new segment after every position any mark names, even if the checkpoint marker was lost:
    // entries at a reused position would be skipped as already sealed.
    let lastSeg = replayed.lastSeg;
    for (const s of this.streams.byId) if (s?.mark && s.mark.seg > lastSeg) lastSeg = s.mark.seg;
    this.wal.openSegment(lastSeg + 1);
    for (const r of repairs) this.log.warn('log store repaired a damaged file', { repair: r });
    return repairs;
  }

  /**
   * Keeps covered WAL segments from `retainFrom()` on (a reader that has not sent them yet: the
   * log forwarder) out of checkpoints and start-up cleanup; set before {@link start}.
   */
  holdWal(retainFrom: (() => number | undefined) | undefined): void {
    this.wal.retainFrom = retainFrom;
  }

  /** The WAL's directory and the position past its last record (where a new reader starts). */
  get walDir(): string {
    return this.wal.dir;
  }
  walEnd(): { segment: number; offset: number } {
    return { segment: this.wal.segment, offset: this.wal.size };
  }

  /** The labels of stream `id` as the WAL's records name it (undefined: unknown). */
  streamLabels(id: number): Labels | undefined {
    return this.streams.byId[id]?.labels;
  }

  /** Streams held (the usage of max_streams), without walking them as stats() does. */
  get streamCount(): number {
    return this.streams.count;
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
    const rec = this.record;
    rec.begin();
    const bounds = admissionBounds(this.now(), this.o.outOfOrderWindowMs, this.o.maxFutureMs, this.o.retentionMs);
    let count = 0;
    let bytes = 0;
    for (const ps of batch) {
      if (ps.entries.length === 0) continue;
      let s = this.streams.find(ps.labels);
      if (!s) {
        if (this.o.maxStreams > 0 && this.streams.count >= this.o.maxStreams) {
          const reason = streamLimitReason(this.o.maxStreams);
          for (const e of ps.entries) rejected.push({ labels: ps.labels, t: e.t, reason });
          continue;
        }
        try {
          s = this.streams.create(ps.labels);
        } catch (err) {
          throw this.fail('log stream index write', err);
        }
      }
      const ok: LogEntry[] = [];
      let maxT = s.maxT;
      for (const e of ps.entries) {
        const reason = refusal(e.t, maxT, bounds);
        if (reason !== undefined) {
          rejected.push({ labels: ps.labels, t: e.t, reason });
          continue;
        }
        if (e.t > maxT) maxT = e.t;
        ok.push(e);
        rec.add(s.id, e);
        bytes += e.line.length;
      }
      count += ok.length;
      if (ok.length) accepted.push({ s, entries: ok });
    }
    if (count > 0) {
      const length = rec.finish();
      const recOff = this.wal.size;
      try {
        this.wal.append(rec.buf, length);
      } catch (err) {
        // Cut back already (appendAll); nothing reached a head, so refusing the whole push is exact.
        throw this.fail('log WAL write', err);
      }
      this.problem = undefined;
      this.recSeg = this.wal.segment;
      this.recOff = recOff;
      crashPoint('logs.wal.after-write');
    }
    // The heads copy the lines' bytes from the WAL record.
    let k = 0;
    // After a failed seal the lines stay in the head (and WAL); the next push retries, not every line of this one.
    let sealing = true;
    for (const { s, entries } of accepted) {
      for (const e of entries) {
        this.applyEntry(s, e.t, rec.buf, rec.lineStart(k), rec.lineEnd(k), e.meta, k);
        k++;
        if (sealing && s.head.bytes >= this.o.chunkTargetBytes) sealing = this.seal(s, true);
      }
    }
    this.counters.linesIn += count;
    this.counters.bytesIn += bytes;
    this.counters.rejected += rejected.length;
    if (this.listeners.size) for (const { s, entries } of accepted) for (const l of this.listeners) l(s, entries);
    // In the background: sealing every head at once would hold this push (and all others) for as
    // long as there are streams.
    if (this.wal.size >= this.o.walSegmentBytes) this.wantCheckpoint();
    return { accepted: count, acceptedBytes: bytes, rejected };
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
      meta = this.files.write(s.id, enc, snap.ts[first]!, snap.ts[lastIdx]!, snap.n, mark, SEAL_POINTS);
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

  /** Merges small adjacent chunks (compaction.ts); returns the number of chunks merged away. */
  compact(): number {
    return runSync(this.compactSteps());
  }

  private compactSteps(): Generator<void, number> {
    const { codec, level, chunkTargetBytes } = this.o;
    return compactSteps({
      streams: this.streams.byId,
      files: this.files,
      encoder: this.enc,
      codec,
      level,
      chunkTargetBytes,
      fail: (what, err) => this.fail(what, err),
    });
  }

  /**
   * Seals every head, syncs the chunk files and drops the WAL segments they cover. Called when a
   * WAL segment fills and on stop. Returns false when a write failed: then no marker is written
   * and no segment deleted (the heads still hold the lines), but a new segment is started so the
   * next attempt waits for another segment's worth of lines. A later checkpoint covers them all.
   */
  checkpoint(): boolean {
    return runSync(this.checkpointSteps());
  }

  /**
   * The checkpoint in steps, one stream each. A fresh segment is opened first: lines pushed while a
   * sliced checkpoint runs go there, and the marker names only segments whose lines were all in
   * heads when it began (each of them sealed on its stream's turn).
   */
  private *checkpointSteps(): Generator<void, boolean> {
    const covered = this.wal.segment;
    try {
      this.wal.openSegment(covered + 1);
    } catch (err) {
      this.fail('log WAL segment creation', err);
      return false;
    } finally {
      this.checkpointWanted = false;
    }
    let ok = true;
    for (const s of this.streams.byId) {
      if (!s || !s.head.n) continue;
      ok = this.seal(s);
      if (!ok) break;
      yield;
    }
    if (ok) {
      try {
        this.files.sync();
        crashPoint('logs.checkpoint.before-marker');
        this.wal.writeCheckpoint(covered);
      } catch (err) {
        this.fail('log checkpoint', err);
        ok = false;
      }
    }
    if (ok) crashPoint('logs.checkpoint.after-marker');
    if (ok) this.wal.removeCovered(covered);
    return ok;
  }

  /** Periodic work: seal heads older than `maxChunkAgeMs`, apply retention, compact small chunks. Runs every `tickIntervalMs` once started. */
  tick(): void {
    runSync(this.tickSteps());
  }

  private *tickSteps(): Generator<void, void> {
    const now = this.now();
    for (const s of this.streams.byId) {
      if (!s || !s.head.n || now - s.head.since < this.o.maxChunkAgeMs) continue;
      if (!this.seal(s)) break;
      yield;
    }
    yield* this.retentionSteps();
    yield* this.compactSteps();
    this.wal.removeReleased();
  }

  /** Checkpoints in the background once the WAL segment is full (queued once, however many pushes see it full). */
  private wantCheckpoint(): void {
    if (this.checkpointWanted) return;
    this.checkpointWanted = true;
    void this.jobs.add(() => this.checkpointSteps());
  }

  /** A checkpoint in slices (as a full WAL segment starts one); resolves when it is done. */
  checkpointInBackground(): Promise<void> {
    this.wantCheckpoint();
    return this.jobs.idle();
  }

  /** The timer's tick, in slices; a tick still running when the next is due is not queued twice. */
  tickInBackground(): Promise<void> {
    return this.jobs.once('tick', () => this.tickSteps());
  }

  /** Resolves once the background work queued so far is done (for tests and shutdown). */
  idle(): Promise<void> {
    return this.jobs.idle();
  }

  /** Drops chunks past the retention time or size (retention.ts). */
  enforceRetention(): void {
    runSync(this.retentionSteps());
  }

  private retentionSteps(): Generator<void, void> {
    const { retentionMs, retentionBytes } = this.o;
    return retentionSteps({
      streams: this.streams,
      files: this.files,
      retentionMs,
      retentionBytes,
      now: this.now,
      diskBytes: () => this.diskBytes(),
      fail: (what, err) => this.fail(what, err),
    });
  }

  /** Bytes on disk: chunk files, WAL and stream index. */
  diskBytes(): number {
    let n = 0;
    for (const d of [this.files.dir, this.wal.dir]) for (const f of fs.readdirSync(d)) n += fs.statSync(path.join(d, f)).size;
    try {
      n += fs.statSync(path.join(this.dir, 'streams')).size;
    } catch {
      // no streams yet
    }
    return n;
  }

  selectStreams(matchers: readonly Matcher[], start?: bigint, end?: bigint): StreamInfo[] {
    return this.streams.select(matchers, start, end);
  }

  labelNames(start?: bigint, end?: bigint): string[] {
    return this.streams.labelNames(start, end);
  }

  labelValues(name: string, matchers: readonly Matcher[] = [], start?: bigint, end?: bigint): string[] {
    return this.streams.labelValues(name, matchers, start, end);
  }

  /**
   * The lines of one stream in [start, end) in `direction`, skipping chunks whose bloom filter
   * rules out `hint.tokens` and lines without `hint.needle`. A pull iterator: stop early freely.
   */
  *entries(stream: StreamInfo, start: bigint, end: bigint, direction: Direction = 'forward', hint?: LineFilterHint): Generator<LogEntry> {
    const s = this.streams.byId[stream.id];
    if (s) yield* streamEntries(this.files, this.counters, s, start, end, direction, hint);
  }

  /** Times (ms) and bytes of the lines containing every needle (reads.ts); sealed chunks answer from their columns. */
  matchTimes(
    stream: StreamInfo,
    start: bigint,
    end: bigint,
    needles: readonly string[],
    tokens: readonly string[] = [],
    withBytes = true,
  ): { times: number[]; bytes: number } {
    const s = this.streams.byId[stream.id];
    if (!s) return { times: [], bytes: 0 };
    return streamMatchTimes(this.files, this.counters, s, start, end, needles, tokens, withBytes);
  }

  /** Up to `limit` lines across the matching streams (storage/query.ts). */
  query(q: LineQuery): { stream: StreamInfo; entries: LogEntry[] }[] {
    return queryLines(this, q);
  }

  /** Store statistics (for `/index/stats` and self metrics). */
  stats(matchers?: readonly Matcher[], start?: bigint, end?: bigint): StoreStats {
    const st: StoreStats = { streams: 0, chunks: 0, entries: 0, bytes: 0, diskBytes: 0 };
    const streams = matchers ? this.streams.select(matchers, start, end) : this.streams.byId;
    for (const s of streams) {
      if (!s) continue;
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
    this.wal.close();
    this.files.close();
    this.streams.close();
    this.listeners.clear();
  }
}
