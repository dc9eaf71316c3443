/**
 * The disk store: a head with its WAL in front of immutable blocks, with head compaction into
 * blocks, merging of small blocks into larger ones, and retention by time and size. Layout under
 * the data directory: `wal/` and `blocks/<ulid>/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareLabels } from '../model/labels.js';
import type { Appender, Querier, Storage } from '../storage/interface.js';
import { MergeQuerier } from '../storage/merge.js';
import { nopLogger, type Logger } from '../util/log.js';
import { Block, writeBlock, type BlockSeries } from './block.js';
import { chunkSampleCount } from './chunkenc/xor.js';
import { toBlockChunk } from './chunkenc/blockchunk.js';
import { DEFAULT_CHUNK_RANGE, Head, type HeadStats } from './head.js';
import { Wal, type WalReplayStats } from './wal.js';

/** Options for {@link DB}. */
export interface DBOptions {
  /** The data directory. */
  dir: string;
  /** Delete blocks whose data is older than this many ms behind the newest sample (0: keep). */
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
}

/** Counters for self-monitoring. */
export interface DBStats {
  head: HeadStats;
  blocks: number;
  blockBytes: number;
  walBytes: number;
  compactions: number;
  walReplay: WalReplayStats | undefined;
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
  private replayStats: WalReplayStats | undefined;

  constructor(opts: DBOptions) {
    this.dir = opts.dir;
    this.blockRange = opts.blockRange ?? DEFAULT_CHUNK_RANGE;
    this.retentionMs = opts.retentionMs ?? 15 * 24 * 3600 * 1000;
    this.retentionBytes = opts.retentionBytes ?? 0;
    this.interval = opts.maintenanceIntervalMs ?? 60_000;
    this.log = opts.logger ?? nopLogger;
    this.now = opts.now ?? Date.now;
    this.blocksDir = path.join(this.dir, 'blocks');
    this.wal = new Wal(path.join(this.dir, 'wal'), { warn: (msg) => this.log.warn(msg) });
    this.head = new Head({ chunkRange: this.blockRange, wal: this.wal, now: this.now, ...(opts.maxFutureMs !== undefined ? { maxFutureMs: opts.maxFutureMs } : {}) });
  }

  /** Opens blocks, replays the WAL and starts periodic maintenance. Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    fs.mkdirSync(this.blocksDir, { recursive: true });
    this.openBlocks();
    const lastBlock = this.blocks.at(-1);
    if (lastBlock) this.head.minValidTime = lastBlock.maxTime;
    const began = performance.now();
    this.replayStats = this.wal.replay({
      series: (ref, labels) => this.head.replaySeries(ref, labels),
      sample: (ref, t, v) => this.head.replaySample(ref, t, v),
    });
    this.log.info('WAL replayed', {
      series: this.replayStats.series,
      samples: this.replayStats.samples,
      repairs: this.replayStats.repairs.length,
      ms: Math.round(performance.now() - began),
    });
    if (this.interval > 0) {
      this.timer = setInterval(() => this.maintain(), this.interval);
      this.timer.unref();
    }
  }

  private openBlocks(): void {
    const blocks: Block[] = [];
    for (const name of fs.readdirSync(this.blocksDir)) {
      const full = path.join(this.blocksDir, name);
      if (name.endsWith('.tmp')) {
        // A block whose write was interrupted: its data is still in the WAL.
        fs.rmSync(full, { recursive: true, force: true });
        continue;
      }
      if (!fs.statSync(full).isDirectory()) continue;
      try {
        blocks.push(new Block(full));
      } catch (err) {
        this.log.error('skipping unreadable block; moved aside', { block: name, err });
        fs.renameSync(full, `${full}.corrupt`);
      }
    }
    this.blocks = blocks.filter((b) => !b.dir.endsWith('.corrupt')).sort((a, b) => a.minTime - b.minTime);
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

  /** The blocks on disk, oldest first. */
  listBlocks(): readonly Block[] {
    return this.blocks;
  }

  /** Runs one round of compaction and retention; errors are logged, never thrown. */
  maintain(): void {
    try {
      this.compactHead(false);
      this.compactBlocks(false);
      this.applyRetention();
    } catch (err) {
      this.log.error('TSDB maintenance failed', { err });
    }
  }

  /** Cuts the whole head into blocks and merges them (for admin flush and benchmarks). */
  flush(): void {
    this.compactHead(true);
    this.compactBlocks(true);
    this.applyRetention();
  }

  /**
   * Cuts the oldest block-range window of the head into a block while the head spans more than
   * 1.5 windows (or, with `all`, until the head is empty).
   */
  compactHead(all: boolean): number {
    let cut = 0;
    const h = this.head;
    while (h.maxt >= h.mint && (all || h.maxt - h.mint > this.blockRange * 1.5)) {
      // A flush writes the whole head as one block, as Prometheus' snapshot does; routine cuts
      // take one aligned window at a time.
      const start = all ? h.mint : Math.floor(h.mint / this.blockRange) * this.blockRange;
      const end = all ? h.maxt + 1 : start + this.blockRange;
      const taken = h.truncateBefore(end);
      taken.sort((a, b) => compareLabels(a.series.labels, b.series.labels));
      // Re-encoded one series at a time as the block is written, so a flush of the whole head never
      // holds a second copy of it in memory.
      const series = (function* (): IterableIterator<BlockSeries> {
        for (const { series: s, chunks } of taken) {
          yield { labels: s.labels, chunks: chunks.map((c) => ({ mint: c.mint, maxt: c.maxt, count: chunkSampleCount(c.bytes), bytes: toBlockChunk(c.bytes) })) };
        }
      })();
      const meta = writeBlock(this.blocksDir, series, { minTime: start, maxTime: end }, { level: 1 }, this.now());
      this.addBlock(new Block(path.join(this.blocksDir, meta.ulid)));
      this.log.info('head compacted into a block', { block: meta.ulid, minTime: start, maxTime: end, series: meta.stats.numSeries, samples: meta.stats.numSamples });
      cut++;
      this.compactions++;
    }
    // One checkpoint after all cuts: it rereads the whole log, so once is enough.
    if (cut > 0) this.wal.truncate(h.minValidTime, (ref) => h.series(ref) !== undefined);
    return cut;
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
   * Merges blocks that fall in the same window of a larger range. Windows still being filled are
   * left alone unless `all` is set.
   */
  compactBlocks(all: boolean): number {
    let merged = 0;
    for (const r of this.ranges()) {
      const groups = new Map<number, Block[]>();
      for (const b of this.blocks) {
        const w = Math.floor(b.minTime / r);
        if (Math.floor((b.maxTime - 1) / r) !== w) continue; // spans windows: already larger
        const g = groups.get(w);
        if (g) g.push(b);
        else groups.set(w, [b]);
      }
      const newest = Math.max(this.head.mint, ...this.blocks.map((b) => b.maxTime));
      for (const [w, group] of groups) {
        if (group.length < 2) continue;
        if (!all && (w + 1) * r > newest) continue;
        this.mergeBlocks(group);
        merged++;
      }
    }
    return merged;
  }

  private mergeBlocks(group: Block[]): void {
    group.sort((a, b) => a.minTime - b.minTime);
    const minTime = group[0]!.minTime;
    const maxTime = Math.max(...group.map((b) => b.maxTime));
    const level = Math.max(...group.map((b) => b.meta.compaction.level)) + 1;
    const sources = group.flatMap((b) => b.meta.compaction.sources);
    const meta = writeBlock(this.blocksDir, mergeSeries(group), { minTime, maxTime }, { level, sources }, this.now());
    this.blocks = this.blocks.filter((b) => !group.includes(b));
    this.addBlock(new Block(path.join(this.blocksDir, meta.ulid)));
    for (const b of group) {
      b.close();
      fs.rmSync(b.dir, { recursive: true, force: true });
    }
    this.compactions++;
    this.log.info('blocks compacted', { block: meta.ulid, sources: group.length, minTime, maxTime });
  }

  /** Deletes blocks past the time retention, then the oldest ones while over the size limit. */
  applyRetention(): void {
    const newest = Math.max(this.head.maxt, ...this.blocks.map((b) => b.maxTime - 1));
    const drop = new Set<Block>();
    if (this.retentionMs > 0 && Number.isFinite(newest)) {
      for (const b of this.blocks) if (b.maxTime <= newest - this.retentionMs) drop.add(b);
    }
    if (this.retentionBytes > 0) {
      let total = this.wal.size() + this.blocks.reduce((n, b) => n + b.sizeBytes, 0);
      for (const b of this.blocks) {
        if (total <= this.retentionBytes) break;
        if (!drop.has(b)) drop.add(b);
        total -= b.sizeBytes;
      }
    }
    if (drop.size === 0) return;
    this.blocks = this.blocks.filter((b) => !drop.has(b));
    for (const b of drop) {
      b.close();
      fs.rmSync(b.dir, { recursive: true, force: true });
      this.log.info('block deleted by retention', { block: b.meta.ulid, minTime: b.minTime, maxTime: b.maxTime });
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
    };
  }

  /** Stops maintenance, closes the WAL and blocks. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.wal.close();
    for (const b of this.blocks) b.close();
  }
}

/** Merges the series of time-ordered blocks by labels, concatenating their chunks. */
function* mergeSeries(blocks: Block[]): IterableIterator<BlockSeries> {
  const its = blocks.map((b) => b.allSeries());
  const heads = its.map((it) => it.next());
  for (;;) {
    let min: BlockSeries | undefined;
    for (const h of heads) if (!h.done && (!min || compareLabels(h.value.labels, min.labels) < 0)) min = h.value;
    if (!min) return;
    const labels = min.labels;
    const chunks: BlockSeries['chunks'] = [];
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && compareLabels(h.value.labels, labels) === 0) {
        chunks.push(...h.value.chunks);
        heads[i] = its[i]!.next();
      }
    }
    chunks.sort((a, b) => a.mint - b.mint);
    yield { labels, chunks };
  }
}
