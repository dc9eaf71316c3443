/**
 * The disk store: a head with its WAL in front of immutable blocks, with head compaction into
 * blocks, merging of small blocks into larger ones, and retention by time and size. Layout under
 * the data directory: `wal/` and `blocks/<ulid>/`.
 *
 * Every step that moves data writes the new copy completely (and renames it into place) before the
 * old copy is dropped, so a failed write or a kill at any point leaves the data in at least one place;
 * the start-up pass in {@link DB.start} removes what such an interruption leaves behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Appender, Querier, Storage } from '../storage/interface.js';
import { MergeQuerier } from '../storage/merge.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { BACKGROUND_SLICE_MS, TimeSlicer } from '../../core/util/pace.js';
import { Block } from './block.js';
import { DELETING_SUFFIX, isBlockName, quarantineBlockDir, removeBlockDir, removeBlockDirAsync } from './block_format.js';
import type { BlockWriteStep } from './block_writer.js';
import { BlockJobError, BlockWorker } from './block_worker_client.js';
import { histogramBlockChunk } from './chunkenc/blockchunk.js';
import { HeadImageWriter, type HeadImage } from './head_image.js';
import { DEFAULT_CHUNK_RANGE, Head, type HeadStats } from './head.js';
import type { SeriesLimits } from './series_limits.js';
import { Wal, type WalReplayStats } from './wal.js';
import { mergedBlockChunks } from './ooo.js';
import { DecodedChunkCache } from './decoded_chunks.js';

/** Options for {@link DB}. */
export interface DBOptions {
  /** The data directory. */
  dir: string;
  /** Delete blocks whose data all lies more than this many ms before the clock's now (0: keep). */
  retentionMs?: number;
  /** Delete the oldest blocks while blocks and WAL together exceed this many bytes (0: no limit). */
  retentionBytes?: number;
  /** Length of a head block in ms (2 h). */
  blockRange?: number;
  /** How often compaction and retention run, in ms. */
  maintenanceIntervalMs?: number;
  logger?: Logger;
  /** The clock, so tests can drive time. */
  now?: () => number;
  /** Refuse samples stamped more than this many ms ahead of the clock (default: an hour). */
  maxFutureMs?: number;
  /** Limits on new series in the head (default: none); WAL replay is exempt. */
  seriesLimits?: SeriesLimits;
  /** Accept float samples up to this many ms older than the head's newest (default 0: in order only; see ooo.ts). */
  outOfOrderWindowMs?: number;
  /** Background work gives the event loop a turn after this many ms (default 10). */
  sliceMs?: number;
  /** Byte budget of the cache of decoded immutable chunks (default 32 MiB; 0: no cache). See decoded_chunks.ts. */
  decodedChunkCacheBytes?: number;
  /** Awaited at each named step of background work, so a test can hold a flush or merge there. */
  hold?: (step: MaintenanceStep) => Promise<void> | void;
}

/** The steps of background work a test can hold (see {@link DBOptions.hold}). */
export type MaintenanceStep =
  BlockWriteStep | 'compactHead.chunksTaken' | 'compactHead.blockWritten' | 'compactHead.beforeWalTruncate' | 'mergeBlocks.inPlace' | 'retention.blockDeleted';

/** Counters for self-monitoring. */
export interface DBStats {
  head: HeadStats;
  blocks: number;
  blockBytes: number;
  walBytes: number;
  compactions: number;
  walReplay: WalReplayStats | undefined;
  /** Damaged chunks found by reads since start. */
  corruptChunks: number;
  /** Blocks moved aside at start because their meta.json or index failed their checks. */
  quarantinedBlocks: number;
}

/** The embedded TSDB. */
export class DB implements Storage {
  readonly dir: string;
  readonly head: Head;
  private readonly wal: Wal;
  private readonly blocksDir: string;
  private blocks: Block[] = [];
  private readonly blockRange: number;
  private readonly retentionMs: number;
  private readonly retentionBytes: number;
  private readonly interval: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private compactions = 0;
  private corruptChunks = 0;
  private quarantined = 0;
  private replayStats: WalReplayStats | undefined;
  private readonly sliceMs: number;
  private readonly holdAt: DBOptions['hold'];
  /** The tail of the queue of background work: one job at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private maintaining = false;
  /** Writes blocks (head cuts and merges) on its own thread. */
  private readonly writer = new BlockWorker();
  /** Decoded samples of the head's closed chunks and of block chunks, shared by both. */
  readonly decodedChunks: DecodedChunkCache;

  constructor(opts: DBOptions) {
    this.dir = opts.dir;
    this.blockRange = opts.blockRange ?? DEFAULT_CHUNK_RANGE;
    this.retentionMs = opts.retentionMs ?? 15 * 24 * 3600 * 1000;
    this.retentionBytes = opts.retentionBytes ?? 0;
    this.interval = opts.maintenanceIntervalMs ?? 60_000;
    this.log = opts.logger ?? nopLogger;
    this.now = opts.now ?? Date.now;
    this.blocksDir = path.join(this.dir, 'blocks');
    this.sliceMs = opts.sliceMs ?? BACKGROUND_SLICE_MS;
    this.holdAt = opts.hold;
    this.wal = new Wal(path.join(this.dir, 'wal'), { warn: (msg) => this.log.warn(msg) });
    this.decodedChunks = new DecodedChunkCache(opts.decodedChunkCacheBytes);
    this.head = new Head({
      decodedChunks: this.decodedChunks,
      chunkRange: this.blockRange,
      wal: this.wal,
      now: this.now,
      ...(opts.maxFutureMs !== undefined ? { maxFutureMs: opts.maxFutureMs } : {}),
      ...(opts.seriesLimits ? { limits: opts.seriesLimits } : {}),
      ...(opts.outOfOrderWindowMs !== undefined ? { outOfOrderWindowMs: opts.outOfOrderWindowMs } : {}),
    });
  }

  /** The WAL's directory, for readers beside the writer (the remote_write sender). */
  get walDir(): string {
    return this.wal.dir;
  }

  /** The WAL's current segment number. */
  get walSegment(): number {
    return this.wal.currentSegment;
  }

  /**
   * Keeps WAL segments from the one `retainFrom` returns onwards out of checkpoints (a reader such
   * as the remote_write sender still needs them); undefined from it holds nothing.
   */
  holdWal(retainFrom: (() => number | undefined) | undefined): void {
    this.wal.retainFrom = retainFrom;
  }

  /** Opens blocks, replays the WAL and starts periodic maintenance. Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    fs.mkdirSync(this.blocksDir, { recursive: true });
    this.openBlocks();
    // Samples the blocks already hold are skipped on replay (a kill between writing a block and
    // checkpointing the WAL leaves them in both).
    if (this.blocks.length > 0) this.head.minValidTime = Math.max(...this.blocks.map((b) => b.maxTime));
    const began = performance.now();
    this.replayStats = this.wal.replay({
      series: (ref, labels) => this.head.replaySeries(ref, labels),
      sample: (ref, t, v) => this.head.replaySample(ref, t, v),
      histogram: (ref, t, h) => this.head.replayHistogram(ref, t, h),
    });
    this.log.info('WAL replayed', {
      series: this.replayStats.series,
      samples: this.replayStats.samples,
      repairs: this.replayStats.repairs.length,
      ms: Math.round(performance.now() - began),
    });
    if (this.interval > 0) {
      this.timer = setInterval(() => {
        // A round that outlasts the interval is not queued again behind itself.
        if (!this.maintaining) void this.maintain();
      }, this.interval);
      this.timer.unref();
    }
  }

  private newBlock(dir: string): Block {
    return new Block(dir, { onCorruptChunk: (msg) => this.noteCorruptChunk(msg), decodedChunks: this.decodedChunks });
  }

  private noteCorruptChunk(msg: string): void {
    this.corruptChunks++;
    this.log.error('corrupt chunk; queries answer without it', { problem: msg });
  }

  /**
   * Opens every block, finishing what an interrupted run left: `.tmp` (a write that never got
   * renamed; its data is still in its sources) and `.deleting` directories are removed, blocks
   * that fail their checks are quarantined, and source blocks of a merge that completed are deleted.
   */
  private openBlocks(): void {
    const blocks: Block[] = [];
    for (const name of fs.readdirSync(this.blocksDir)) {
      const full = path.join(this.blocksDir, name);
      if (name.endsWith('.tmp') || name.endsWith(DELETING_SUFFIX)) {
        fs.rmSync(full, { recursive: true, force: true });
        continue;
      }
      // Quarantined (`.corrupt`) and foreign entries are left alone: never opened, counted or merged.
      if (!isBlockName(name) || !fs.statSync(full).isDirectory()) continue;
      try {
        blocks.push(this.newBlock(full));
      } catch (err) {
        this.quarantined++;
        try {
          const aside = quarantineBlockDir(full);
          this.log.error('block failed its checks; quarantined', { block: name, movedTo: aside, reason: (err as Error).message });
        } catch (renameErr) {
          this.log.error('block failed its checks and could not be moved aside; skipped', { block: name, reason: (err as Error).message, err: renameErr });
        }
      }
    }
    this.blocks = this.dropMergedSources(blocks).sort((a, b) => a.minTime - b.minTime);
  }

  /** Deletes blocks whose sources a higher-level block holds (a kill came before they were deleted). */
  private dropMergedSources(blocks: Block[]): Block[] {
    const keep: Block[] = [];
    for (const b of blocks) {
      const covered = blocks.some(
        (a) => a !== b && a.meta.compaction.level > b.meta.compaction.level && b.meta.compaction.sources.every((s) => a.meta.compaction.sources.includes(s)),
      );
      if (!covered) {
        keep.push(b);
        continue;
      }
      b.close();
      removeBlockDir(b.dir);
      this.log.info('deleted a block already merged into a larger one', { block: b.ulid });
    }
    return keep;
  }

  appender(): Appender {
    return this.head.appender();
  }

  querier(mint: number, maxt: number): Querier {
    const qs: Querier[] = [];
    for (const b of this.blocks) if (b.maxTime > mint && b.minTime <= maxt) qs.push(b.querier(mint, maxt));
    qs.push(this.head.querier(mint, maxt));
    return new MergeQuerier(qs);
  }

  /**
   * The time of the oldest sample this store may hold (the oldest block's start, else the head's
   * oldest sample; Infinity when empty), as Prometheus' `DB.StartTime`: remote_read without
   * `read_recent` asks its remote only for what lies before it.
   */
  startTime(): number {
    return this.blocks.length > 0 ? Math.min(this.blocks[0]!.minTime, this.head.mint) : this.head.mint;
  }

  /** The blocks on disk, oldest first. */
  listBlocks(): readonly Block[] {
    return this.blocks;
  }

  /**
   * Runs one round of compaction and retention; errors are logged, never thrown. Each step runs on
   * its own, so a full disk that stops compaction does not also stop retention from freeing space.
   */
  async maintain(): Promise<void> {
    this.maintaining = true;
    try {
      await this.exclusive(async () => {
        const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
          try {
            await fn();
          } catch (err) {
            this.log.error(`TSDB ${what} failed; retried at the next maintenance`, { err });
          }
        };
        await step('head compaction', () => this.compactHeadNow(false));
        await step('block compaction', () => this.compactBlocksNow(false));
        await step('retention', () => this.applyRetentionNow());
      });
    } finally {
      this.maintaining = false;
    }
  }

  /**
   * Cuts the whole head, as it is when the flush starts, into a block and merges blocks (for admin
   * flush and benchmarks). Retention is left to maintenance: a flush saves data and must never be
   * what deletes it.
   */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      await this.compactHeadNow(true);
      await this.compactBlocksNow(true);
    });
  }

  /** See {@link compactHeadNow}; waits for background work already running. */
  compactHead(all: boolean): Promise<number> {
    return this.exclusive(() => this.compactHeadNow(all));
  }

  /** See {@link compactBlocksNow}; waits for background work already running. */
  compactBlocks(all: boolean): Promise<number> {
    return this.exclusive(() => this.compactBlocksNow(all));
  }

  /** See {@link applyRetentionNow}; waits for background work already running. */
  applyRetention(): Promise<void> {
    return this.exclusive(() => this.applyRetentionNow());
  }

  /**
   * Runs background jobs one at a time: each is sliced, so without this a merge could start on
   * blocks a flush is still writing, or two WAL checkpoints could overlap.
   */
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A fresh slicer per job: each job's first slice starts when it does. */
  private slicer(): TimeSlicer {
    return new TimeSlicer({ sliceMs: this.sliceMs });
  }

  private async hold(step: MaintenanceStep): Promise<void> {
    await this.holdAt?.(step);
  }

  /**
   * The head's series with chunks that end before `end`, listed for the block writer's thread
   * (in ref order: the thread sorts them), without taking anything out. An active chunk wholly
   * before `end` is copied into the image: the fence keeps new samples out of it from now on, so it
   * no longer changes. (Sealing it into the arena instead made two objects per series, which at a
   * million series filled the old generation and set off a full collection of the whole head on
   * this thread mid-flush.)
   */
  private async headImage(end: number, slicer: TimeSlicer): Promise<HeadImage> {
    const w = new HeadImageWriter();
    for (const s of this.head.allSeries()) {
      const late = s.ooo !== undefined && s.ooo.mint < end ? s.ooo : undefined;
      // The merge with out-of-order samples below reads the in-order chunks from the closed list.
      if (late !== undefined) this.head.sealBefore(s, end);
      const a = s.active;
      const active = a !== undefined && a.count > 0 && a.maxt < end ? a : undefined;
      // Chunks are in time order: the first one of each kind tells whether any ends before `end`.
      if (
        (s.closed.length > 0 && s.closed[0]!.maxt < end) ||
        (s.histChunks.length > 0 && s.histChunks[0]!.maxt < end) ||
        late !== undefined ||
        active !== undefined
      ) {
        w.beginSeries(s.labels);
        if (late !== undefined) {
          // Out-of-order samples are merged into the block's chunks (blocks never overlap): those
          // chunks are encoded here, the rest stay in the arena for the thread to read in place.
          let n = 0;
          while (n < s.closed.length && s.closed[n]!.maxt < end) n++;
          const breaks = s.histChunks.map((c) => c.mint);
          for (const c of mergedBlockChunks(s.closed.slice(0, n), late, end, this.head.samplesPerChunk, breaks))
            w.addBlockChunk(c.mint, c.maxt, c.count, c.bytes);
        } else {
          for (const c of s.closed) {
            if (c.maxt >= end) break;
            w.addXor(c.mint, c.maxt, c.page, c.offset, c.length);
          }
          if (active !== undefined) w.copyXor(active.mint, active.maxt, active.bytesView(), 0, active.byteLength);
        }
        // The fence keeps the last of them from taking more samples once it lies before `end`.
        for (const c of s.histChunks) {
          if (c.maxt >= end) break;
          w.addBlockChunk(c.mint, c.maxt, c.count, histogramBlockChunk(c.ts, c.hs, c.count));
        }
        w.endSeries();
      }
      crashPoint('compactHead.seriesListed');
      if (slicer.due()) await slicer.tick();
    }
    return w.finish();
  }

  /**
   * Cuts the oldest block-range window of the head into a block while the head spans more than
   * 1.5 windows (or, with `all`, the whole head as it is now). The block is written from the head's
   * chunks; only once it is in place are they taken out of the head, and only then is the WAL
   * checkpointed. A failed write leaves the head as it was and throws.
   *
   * The work runs in slices while appends and queries go on. The cut is fenced first: the head
   * refuses samples before the window's end from then on (as it would once the cut is done), and
   * chunks wholly before the end take no more samples, so what the block gets is exactly what the
   * head gives up; newer samples land in new chunks and stay.
   */
  private async compactHeadNow(all: boolean): Promise<number> {
    let cut = 0;
    const h = this.head;
    const slicer = this.slicer();
    try {
      // A flush takes one pass: under steady ingest the head never empties.
      for (let pass = 0; h.maxt >= h.mint && (all ? pass === 0 : h.maxt - h.mint > this.blockRange * 1.5); pass++) {
        // A flush writes the whole head as one block, as Prometheus' snapshot does; routine cuts
        // take one aligned window at a time.
        const start = all ? h.mint : Math.floor(h.mint / this.blockRange) * this.blockRange;
        const end = all ? h.maxt + 1 : start + this.blockRange;
        const fenceBefore = h.minValidTime;
        h.minValidTime = Math.max(h.minValidTime, end);
        let meta;
        let block: Block;
        try {
          const image = await this.headImage(end, slicer);
          if (image.series === 0) {
            const before = h.mint;
            await h.truncateBeforeSliced(end, slicer);
            if (h.mint === before) break; // nothing to cut and nothing moved: do not spin
            continue;
          }
          await this.hold('compactHead.chunksTaken');
          meta = await this.writer.write(
            { type: 'head', image, parent: this.blocksDir, range: { minTime: start, maxTime: end }, compaction: { level: 1 }, now: this.now() },
            this.holdAt,
          );
          block = await this.openWritten(meta.ulid, slicer);
        } catch (err) {
          // Nothing was taken out of the head: it takes samples in the window again.
          h.minValidTime = fenceBefore;
          throw err;
        }
        crashPoint('compactHead.blockWritten');
        await this.hold('compactHead.blockWritten');
        // The block first, then the head gives the chunks up: a query in between finds the samples
        // in both, and the merge drops the duplicates.
        this.addBlock(block);
        await h.truncateBeforeSliced(end, slicer);
        this.log.info('head compacted into a block', {
          block: meta.ulid,
          minTime: start,
          maxTime: end,
          series: meta.stats.numSeries,
          samples: meta.stats.numSamples,
        });
        cut++;
        this.compactions++;
      }
    } finally {
      // One checkpoint after all cuts (it rereads the whole log), also when a later cut failed.
      if (cut > 0) {
        crashPoint('compactHead.beforeWalTruncate');
        await this.hold('compactHead.beforeWalTruncate');
        await this.wal.truncate(h.minValidTime, (ref) => h.series(ref) !== undefined, slicer);
      }
    }
    return cut;
  }

  /** Opens a block just written; if that fails, removes it again, since its sources still hold the data. */
  private async openWritten(ulid: string, slicer: TimeSlicer): Promise<Block> {
    const dir = path.join(this.blocksDir, ulid);
    try {
      return await Block.open(dir, { onCorruptChunk: (msg) => this.noteCorruptChunk(msg), decodedChunks: this.decodedChunks }, slicer);
    } catch (err) {
      await removeBlockDirAsync(dir);
      throw err;
    }
  }

  private addBlock(b: Block): void {
    this.blocks.push(b);
    this.blocks.sort((x, y) => x.minTime - y.minTime);
  }

  /** The ranges blocks are merged into: 3×, 9×, … the head block range, up to 31 days. */
  private ranges(): number[] {
    const out: number[] = [];
    const cap = Math.min(31 * 24 * 3600 * 1000, this.retentionMs > 0 ? this.retentionMs / 10 : Infinity);
    for (let r = this.blockRange * 3; r <= cap; r *= 3) out.push(r);
    return out;
  }

  /**
   * Merges blocks that fall in the same window of a larger range. Windows not yet over by the clock
   * (or still partly in the head) are left alone unless `all` is set; so are blocks with damaged
   * chunks, whose merge would drop what cannot be read.
   */
  private async compactBlocksNow(all: boolean): Promise<number> {
    const slicer = this.slicer();
    let merged = 0;
    // The clock, not the newest sample: one sample from the future must not close every window.
    const done = Math.min(this.now(), this.head.mint);
    for (const r of this.ranges()) {
      const groups = new Map<number, Block[]>();
      for (const b of this.blocks) {
        if (b.damaged) continue;
        const w = Math.floor(b.minTime / r);
        if (Math.floor((b.maxTime - 1) / r) !== w) continue; // spans windows: already larger
        const g = groups.get(w);
        if (g) g.push(b);
        else groups.set(w, [b]);
      }
      for (const [w, group] of groups) {
        if (group.length < 2) continue;
        if (!all && (w + 1) * r > done) continue;
        try {
          await this.mergeBlocks(group, slicer);
          merged++;
        } catch (err) {
          // The sources are untouched; a damaged chunk marks its block so it is not tried again.
          this.log.error('merging blocks failed; sources kept', { blocks: group.map((b) => b.ulid), err });
          if (all) throw err;
        }
      }
    }
    return merged;
  }

  /** Merges `group` into one block, written and opened in slices; queries use the sources meanwhile. */
  private async mergeBlocks(group: Block[], slicer: TimeSlicer): Promise<void> {
    group.sort((a, b) => a.minTime - b.minTime);
    const minTime = group[0]!.minTime;
    const maxTime = Math.max(...group.map((b) => b.maxTime));
    const level = Math.max(...group.map((b) => b.meta.compaction.level)) + 1;
    const sources = group.flatMap((b) => b.meta.compaction.sources);
    let meta;
    try {
      meta = await this.writer.write(
        { type: 'merge', dirs: group.map((b) => b.dir), parent: this.blocksDir, range: { minTime, maxTime }, compaction: { level, sources }, now: this.now() },
        this.holdAt,
      );
    } catch (err) {
      if (!(err instanceof BlockJobError)) throw err;
      // Damage the writer's thread met is marked here, so the block is not merged again.
      for (const d of err.damage) group[d.source]!.noteDamage(d.id, d.offset, d.message);
      throw err.error;
    }
    const merged = await this.openWritten(meta.ulid, slicer);
    // From here the merged block holds everything; a kill before the sources are gone is finished
    // at the next start, which deletes blocks whose sources a higher level holds.
    crashPoint('mergeBlocks.inPlace');
    await this.hold('mergeBlocks.inPlace');
    this.blocks = this.blocks.filter((b) => !group.includes(b));
    this.addBlock(merged);
    for (const b of group) {
      b.close();
      await removeBlockDirAsync(b.dir);
      crashPoint('mergeBlocks.sourceDeleted');
    }
    this.compactions++;
    this.log.info('blocks compacted', { block: meta.ulid, sources: group.length, minTime, maxTime });
  }

  /**
   * Deletes blocks whose data all lies more than the retention before the clock's now, then the
   * oldest ones while over the size limit. Anchored to the clock, a sample from the future can
   * never age the rest of the data out.
   */
  private async applyRetentionNow(): Promise<void> {
    const drop = new Set<Block>();
    if (this.retentionMs > 0) {
      const cutoff = this.now() - this.retentionMs;
      for (const b of this.blocks) if (b.maxTime <= cutoff) drop.add(b);
    }
    if (this.retentionBytes > 0) {
      let total = this.wal.size() + this.blocks.reduce((n, b) => n + b.sizeBytes, 0);
      for (const b of this.blocks) {
        if (total <= this.retentionBytes) break;
        drop.add(b);
        total -= b.sizeBytes;
      }
    }
    // Oldest first, each gone from disk before the next: a kill in between leaves a consistent set.
    for (const b of this.blocks.filter((x) => drop.has(x))) {
      try {
        await removeBlockDirAsync(b.dir);
      } catch (err) {
        // Not renamed aside: the block is whole and stays in use. Renamed but not removed: it is
        // gone, and the next start removes the rest.
        if (fs.existsSync(b.dir)) {
          this.log.error('retention could not delete a block; kept', { block: b.ulid, err });
          continue;
        }
      }
      b.close();
      this.blocks = this.blocks.filter((x) => x !== b);
      this.log.info('block deleted by retention', { block: b.ulid, minTime: b.minTime, maxTime: b.maxTime });
      crashPoint('retention.blockDeleted');
      await this.hold('retention.blockDeleted');
    }
  }

  /** Why writes are being refused (disk full, I/O error), or undefined while they succeed. */
  writeProblem(): string | undefined {
    return this.wal.writeProblem();
  }

  stats(): DBStats {
    return {
      head: this.head.stats(),
      blocks: this.blocks.length,
      blockBytes: this.blocks.reduce((n, b) => n + b.sizeBytes, 0),
      walBytes: this.wal.bytesWritten,
      compactions: this.compactions,
      walReplay: this.replayStats,
      corruptChunks: this.corruptChunks,
      quarantinedBlocks: this.quarantined,
    };
  }

  /** Stops maintenance, closes the WAL and blocks. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // Background work in flight finishes first: it holds the WAL and blocks open.
    await this.queue;
    await this.writer.stop();
    this.wal.close();
    for (const b of this.blocks) b.close();
  }
}
