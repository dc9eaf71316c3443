/**
 * The disk trace store (`<data>/traces/`): appended spans go to the WAL (wal.ts) and only then to
 * the head (an in-memory SpanTable) and are acknowledged; the head is cut into a block (block.ts)
 * when it is large or old enough, in slices between acks (a fresh head takes the appends meanwhile,
 * and queries read both until the block is in place); small neighbouring blocks are merged and old ones dropped
 * (maintenance.ts). Queries read the head and the blocks; a search skips whole pages and blocks
 * whose time span or bloom filter rules them out, and reads a trace only when the caller asks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageError, writeFailure } from '../../core/errors.js';
import { nodeIo } from '../../core/util/appendfile.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { BackgroundJobs, runStraight, type BackgroundWork } from '../../core/util/background.js';
import { NO_PACE, type Pacer } from '../../core/util/pace.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { TraceAdmission } from '../storage/admission.js';
import type { ScalarValue, TagScope, TraceAppendResult, TraceSearch, TraceSource, TraceStorage } from '../storage/interface.js';
import { newestFirst, overlaps, summarize, traceMatches, type TraceSummary } from '../storage/match.js';
import { SpanTable, sortedValues } from '../storage/table.js';
import type { Span } from '../storage/types.js';
import { Block, writeBlockSteps } from './block.js';
import { BlockSet } from './blockset.js';
import { compactSteps, dropExpired } from './maintenance.js';
import { resolveOptions, type ResolvedTraceStoreOptions, type TraceStoreOptions } from './options.js';
import { hintHashes } from './pagemeta.js';
import { TraceWal } from './wal.js';

/** Every crash point the trace store passes, for the kill -9 tests. */
export const TRACE_CRASH_POINTS = [
  'traces.wal.after-write',
  'traces.block.before-rename',
  'traces.cut.before-wal-remove',
  'traces.compact.before-remove',
] as const;

/** Counts for self-metrics. */
export interface TraceStoreStats {
  headSpans: number;
  headTraces: number;
  blocks: number;
  blockBytes: number;
  blockSpans: number;
  walBytes: number;
  pagesRead: number;
}

/** The most an append spends moving a running cut on (see payForBacklog). */
const BACKLOG_STEP_MS = 10;

export class TraceStore implements TraceStorage {
  readonly opts: ResolvedTraceStoreOptions;
  private readonly admission: TraceAdmission;
  private head = new SpanTable();
  /** Heads cut but not yet in a block, oldest first, each with the last WAL segment it came from. */
  private readonly frozen: { table: SpanTable; covered: number }[] = [];
  /** Cuts and maintenance in slices, one at a time; stop() and cut() finish the running one straight through. */
  private readonly jobs = new BackgroundJobs({
    isOpen: () => this.started,
    onError: (err) => this.logger.error('trace store background work failed', { err: (err as Error).message }),
  });
  private readonly blocks: BlockSet;
  private readonly wal: TraceWal;
  private readonly logger: Logger;
  private headSinceMs = 0;
  private nextSeq = 0;
  private problem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private readonly listeners: ((spans: readonly Span[]) => void)[] = [];
  /** What start() repaired (torn WAL tails, damaged blocks), for logs and tests. */
  repairs: string[] = [];

  constructor(options: TraceStoreOptions) {
    this.opts = resolveOptions(options);
    this.admission = new TraceAdmission(options);
    this.blocks = new BlockSet(path.join(this.opts.dir, 'blocks'));
    this.wal = new TraceWal(path.join(this.opts.dir, 'wal'), options.io ?? nodeIo, this.opts.fsync);
    this.logger = options.logger ?? nopLogger;
  }

  /** Opens blocks, replays the WAL into the head, and starts the maintenance timer. Idempotent. */
  start(): void {
    if (this.started) return;
    fs.mkdirSync(this.opts.dir, { recursive: true });
    this.repairs = this.blocks.open();
    const covered = this.blocks.blocks.reduce((m, b) => Math.max(m, b.index.walThrough), -1);
    this.nextSeq = this.blocks.blocks.reduce((m, b) => Math.max(m, b.index.seq, ...b.index.replaces), -1) + 1;
    // Replay is never limited: what was acknowledged comes back.
    const { repairs, last } = this.wal.replay(covered, (spans) => this.head.add(spans));
    this.repairs.push(...repairs);
    for (const r of this.repairs) this.logger.warn('trace store repair', { repair: r });
    this.wal.open(last + 1);
    this.headSinceMs = this.opts.now();
    this.started = true;
    if (this.opts.tickIntervalMs > 0) {
      this.timer = setInterval(() => void this.tickInBackground(), this.opts.tickIntervalMs);
      this.timer.unref();
    }
  }

  /** Cuts the head into a block and closes everything. Idempotent. */
  stop(): void {
    if (!this.started) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      this.cut();
    } catch (err) {
      // The WAL still has the head: the next start replays it.
      this.logger.warn('trace store: cannot cut the head at stop', { err: (err as Error).message });
    }
    this.close();
  }

  /** Closes files without cutting the head, as a crash would leave them (tests of WAL replay). */
  close(): void {
    // As a crash would: a background job's block stays unwritten (its WAL segments are replayed).
    this.jobs.abandonRunning();
    this.wal.close();
    this.blocks.close();
    this.head.clear();
    this.frozen.length = 0;
    this.started = false;
  }

  append(spans: readonly Span[], source?: TraceSource): TraceAppendResult {
    if (!this.started) throw new StorageError('closed', 'the trace store is not started');
    const began = performance.now();
    const { kept, rejected, reasons } = this.admission.admit(spans, (id) => this.inMemory(id).length + this.blocks.countOf(id));
    if (kept.length) {
      try {
        // The body as it came when all of it is kept (replay decodes it into the same spans); else the kept spans, encoded.
        if (source && rejected === 0) this.wal.appendSource(source);
        else this.wal.append(kept);
      } catch (err) {
        const e = writeFailure('trace WAL append', err);
        this.problem = e.message;
        throw e;
      }
      this.problem = undefined;
      crashPoint('traces.wal.after-write');
      if (this.head.spanCount === 0) this.headSinceMs = this.opts.now();
      this.head.add(kept);
      if (this.frozen.length > 0) this.payForBacklog(performance.now() - began);
      if (this.head.spanCount >= this.opts.blockMaxSpans) {
        // A head filled again before the last one is a block: ingest outruns the sliced cut, and
        // frozen heads would pile up in memory. Finish that cut now (a stall, but only then).
        if (this.frozen.length > 0) this.writeFrozenNow(false);
        void this.cutInBackground();
      }
      this.notify(kept);
    }
    return { accepted: kept.length, rejected, reasons };
  }

  /**
   * Calls `fn` with every batch of spans accepted from now on, after they are in the WAL (not with
   * spans replayed at start). The metrics generator listens here. A listener's error is logged and
   * never fails the append: the spans are stored either way.
   */
  onAccepted(fn: (spans: readonly Span[]) => void): void {
    this.listeners.push(fn);
  }

  private notify(spans: readonly Span[]): void {
    for (const fn of this.listeners) {
      try {
        fn(spans);
      } catch (err) {
        this.logger.error('trace append listener failed', { err: (err as Error).message });
      }
    }
  }

  writeProblem(): string | undefined {
    return this.problem;
  }

  /** Cuts when due, merges small blocks, applies retention, straight through. Errors are logged: the WAL keeps the head. */
  tick(): void {
    if (!this.started) return;
    this.jobs.finishRunning();
    runStraight(this.tickSteps(NO_PACE));
  }

  /** {@link tick} as a background job in slices; a tick still queued or running is not queued twice. */
  tickInBackground(): Promise<void> {
    return this.jobs.once('tick', (pace) => this.tickSteps(pace));
  }

  private *tickSteps(pace: Pacer): BackgroundWork<void> {
    if (this.head.spanCount > 0 && this.opts.now() - this.headSinceMs >= this.opts.blockMaxAgeMs) this.freeze();
    yield* this.writeFrozen(pace);
    try {
      this.nextSeq = yield* compactSteps(this.blocks, this.opts, this.nextSeq, pace);
      dropExpired(this.blocks, this.opts);
    } catch (err) {
      this.logger.warn('trace store maintenance failed', { err: (err as Error).message });
    }
  }

  /** Writes the head as a block now; the WAL segments it came from are deleted after. Throws when the block cannot be written (the WAL keeps the spans). */
  cut(): void {
    this.freeze();
    this.writeFrozenNow(true);
  }

  /** Finishes the running job, then writes what is still frozen, straight through. */
  private writeFrozenNow(rethrow: boolean): void {
    this.jobs.finishRunning();
    runStraight(this.writeFrozen(NO_PACE, rethrow));
  }

  /** {@link cut} in slices between appends and queries; resolves once the block is in place (or its write failed, logged). */
  cutInBackground(): Promise<void> {
    this.freeze();
    return this.jobs.add((pace) => this.writeFrozen(pace));
  }

  /** Resolves once the background work queued so far is done (for tests and shutdown). */
  idle(): Promise<void> {
    return this.jobs.idle();
  }

  /** Hands the head to the frozen list (and the WAL to a fresh segment): appends go on into a new head. */
  private freeze(): void {
    if (this.head.spanCount === 0) return;
    const covered = this.wal.segment;
    this.wal.open(covered + 1);
    this.frozen.push({ table: this.head, covered });
    this.head = new SpanTable();
  }

  /** Writes the frozen heads as blocks, oldest first; a failure is logged (or thrown, with `rethrow`) and the head kept for the next try. */
  private *writeFrozen(pace: Pacer, rethrow = false): BackgroundWork<void> {
    while (this.frozen.length > 0) {
      const { table, covered } = this.frozen[0]!;
      const spans: Span[] = [];
      for (const t of table.all()) spans.push(...t.spans);
      let idx;
      try {
        idx = yield* writeBlockSteps(this.blocks.dir, this.nextSeq++, spans, covered, [], this.opts.pageMaxSpans, pace);
        this.blocks.add(Block.openWritten(BlockSet.fileOf(this.blocks.dir, idx.seq), idx));
      } catch (err) {
        if (rethrow) throw err;
        this.logger.warn('trace store: cannot cut a block; the head stays in memory and the WAL', { err: (err as Error).message });
        return;
      }
      this.frozen.shift();
      crashPoint('traces.cut.before-wal-remove');
      this.wal.removeThrough(covered);
    }
  }

  /**
   * While a cut is being written, each append moves it on for as long as the append itself took
   * (at most {@link BACKLOG_STEP_MS}): between slices the event loop serves appends first, and a busy
   * ingest would otherwise leave the cut a sliver of the CPU and fill head after head meanwhile.
   */
  private payForBacklog(appendMs: number): void {
    this.jobs.stepRunning(Math.min(appendMs, BACKLOG_STEP_MS));
  }

  /** The spans of `traceId` still in memory: the head's and the frozen heads'. */
  private inMemory(traceId: string): readonly Span[] {
    if (this.frozen.length === 0) return this.head.spansOf(traceId);
    return this.tables().flatMap((t) => t.spansOf(traceId));
  }

  /** The head and the frozen heads. */
  private tables(): SpanTable[] {
    return [this.head, ...this.frozen.map((f) => f.table)];
  }

  stats(): TraceStoreStats {
    let blockBytes = 0;
    let blockSpans = 0;
    for (const b of this.blocks.blocks) {
      blockBytes += b.index.bytes;
      blockSpans += b.index.spans;
    }
    const inMemory = this.tables();
    return {
      headSpans: inMemory.reduce((n, t) => n + t.spanCount, 0),
      headTraces: inMemory.reduce((n, t) => n + t.traceCount, 0),
      blocks: this.blocks.blocks.length,
      blockBytes,
      blockSpans,
      walBytes: this.wal.bytes,
      pagesRead: this.blocks.pagesRead,
    };
  }

  /** Pages that failed their checks while being read. */
  damagedPages(): readonly string[] {
    return this.blocks.damaged;
  }

  trace(traceId: string): Span[] {
    return [...this.inMemory(traceId), ...this.blocks.trace(traceId)];
  }

  /**
   * Merges the head's candidates and each block's traces newest first (a cursor per block over its
   * traces by start, skipping pages that the time range or the bloom filter rule out), and reads a
   * trace only when it is next: the first 20 of a busy hour cost about 20 trace reads, not a sort
   * of every trace in range.
   */
  *search(q: TraceSearch): Iterable<Span[]> {
    const hashes = hintHashes(q);
    const cursors: { next: () => TraceSummary | undefined; peek: TraceSummary | undefined }[] = [];
    const head = this.tables()
      .flatMap((t) => t.candidates(q))
      .sort(newestFirst);
    let hi = 0;
    cursors.push({ next: () => head[hi++], peek: undefined });
    for (const b of this.blocks.blocks) {
      const idx = b.index;
      if (!overlaps({ start: idx.minStart, end: idx.maxEnd }, q.start, q.end)) continue;
      // Pages are tested as the cursor reaches them: a search that stops early tests a few per block.
      const pageOk = (pi: number): boolean => {
        const p = idx.pages[pi]!;
        return overlaps({ start: p.minStart, end: p.maxEnd }, q.start, q.end) && p.bloom.hasAll(hashes);
      };
      const nextTrace = this.blocks.newestFirst(b, pageOk);
      cursors.push({
        next: () => {
          for (let i = nextTrace(); i >= 0; i = nextTrace()) {
            const t = { start: idx.starts[i]!, end: idx.ends[i]! };
            if (overlaps(t, q.start, q.end)) return { traceId: idx.ids.toString('hex', i * 16, i * 16 + 16), ...t };
          }
          return undefined;
        },
        peek: undefined,
      });
    }
    for (const c of cursors) c.peek = c.next();
    const seen = new Set<string>();
    const limit = q.limit ?? Infinity;
    let n = 0;
    while (n < limit) {
      let best: (typeof cursors)[number] | undefined;
      for (const c of cursors) if (c.peek && (!best || newestFirst(c.peek, best.peek!) < 0)) best = c;
      if (!best) return;
      const t = best.peek!;
      best.peek = best.next();
      // A trace with parts in several blocks (or the head) comes once, at its newest part.
      if (seen.has(t.traceId)) continue;
      seen.add(t.traceId);
      const spans = this.trace(t.traceId);
      if (spans.length === 0 || !overlaps(summarize(spans), q.start, q.end) || !traceMatches(spans, q)) continue;
      n++;
      yield spans;
    }
  }

  /**
   * Visits what the pages in range know: `fromMeta` for a page wholly inside the range (its index
   * entry answers), `fromTable` with the spans of a page the range cuts through (and the head).
   */
  private visit(
    start: bigint | undefined,
    end: bigint | undefined,
    fromMeta: (p: Block['index']['pages'][number]) => boolean,
    fromTable: (t: SpanTable) => void,
  ): void {
    for (const t of this.tables()) fromTable(t);
    for (const b of this.blocks.blocks) {
      if (!overlaps({ start: b.index.minStart, end: b.index.maxEnd }, start, end)) continue;
      b.index.pages.forEach((p, pi) => {
        if (!overlaps({ start: p.minStart, end: p.maxEnd }, start, end)) return;
        const inside = (start === undefined || p.minStart >= start) && (end === undefined || p.maxEnd < end);
        if (inside && fromMeta(p)) return;
        const t = new SpanTable();
        for (const spans of this.blocks.page(b, pi).values()) t.add(spans);
        fromTable(t);
      });
    }
  }

  tagNames(scope?: TagScope, start?: bigint, end?: bigint): string[] {
    const names = new Set<string>();
    this.visit(
      start,
      end,
      (p) => {
        const l = p.listing();
        if (scope !== 'resource') for (const k of l.spanTags) names.add(k);
        if (scope !== 'span') for (const k of l.resourceTags) names.add(k);
        return true;
      },
      (t) => t.tagNames(names, scope, start, end),
    );
    return [...names].sort();
  }

  tagValues(name: string, scope?: TagScope, start?: bigint, end?: bigint): ScalarValue[] {
    const values = new Map<string, ScalarValue>();
    this.visit(
      start,
      end,
      (p) => {
        const { values: v } = p.listing();
        const lists = [scope !== 'resource' ? v.get(`s\0${name}`) : undefined, scope !== 'span' ? v.get(`r\0${name}`) : undefined];
        if (lists.some((l) => l?.more)) return false;
        for (const l of lists) for (const v of l?.v ?? []) values.set(`${typeof v}:${String(v)}`, v);
        return true;
      },
      (t) => t.tagValues(values, name, scope, start, end),
    );
    return sortedValues(values);
  }

  private operationsIn(start?: bigint, end?: bigint): Map<string, Set<string>> {
    const ops = new Map<string, Set<string>>();
    this.visit(
      start,
      end,
      (p) => {
        for (const [svc, names] of p.listing().services) {
          let s = ops.get(svc);
          if (!s) ops.set(svc, (s = new Set()));
          for (const n of names) s.add(n);
        }
        return true;
      },
      (t) => t.operations(ops, start, end),
    );
    return ops;
  }

  services(start?: bigint, end?: bigint): string[] {
    return [...this.operationsIn(start, end).keys()].sort();
  }

  operations(service: string, start?: bigint, end?: bigint): string[] {
    return [...(this.operationsIn(start, end).get(service) ?? [])].sort();
  }
}
