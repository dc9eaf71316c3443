/** Options of the disk trace store, with their defaults. */
import type { LogIo } from '../../core/util/appendfile.js';
import type { Logger } from '../../core/util/log.js';
import type { TraceAdmissionOptions } from '../storage/admission.js';

export interface TraceStoreOptions extends TraceAdmissionOptions {
  /** The store's directory (`<data>/traces`). */
  readonly dir: string;
  /** Cut the head into a block at this many spans (default 100,000: the head holds them as objects, a few hundred MB at most). */
  readonly blockMaxSpans?: number;
  /** … or when its oldest span arrived this long ago (default 5 min), checked on each tick. */
  readonly blockMaxAgeMs?: number;
  /** Spans per page, whole traces (default 1,000: a trace by id decodes one page, so smaller is faster; larger compresses better). */
  readonly pageMaxSpans?: number;
  /** Keep at most this many bytes of blocks, dropping the oldest (0: no limit; default 0). */
  readonly retentionBytes?: number;
  /** Blocks with fewer spans are merged with their neighbours (default blockMaxSpans / 4). */
  readonly compactBelowSpans?: number;
  /** A merged block covers at most this much time (default 1 h). */
  readonly compactWindowMs?: number;
  /** How often to cut, compact and apply retention (default 30 s; 0: only when `tick()` is called). */
  readonly tickIntervalMs?: number;
  /** fsync the WAL after every append (default false: written into the kernel, synced on rotation and stop). */
  readonly fsync?: boolean;
  /** The write call, for tests that fail writes part-way. */
  readonly io?: LogIo;
  readonly logger?: Logger;
}

export interface ResolvedTraceStoreOptions {
  readonly dir: string;
  readonly now: () => number;
  readonly blockMaxSpans: number;
  readonly blockMaxAgeMs: number;
  readonly pageMaxSpans: number;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly compactBelowSpans: number;
  readonly compactWindowMs: number;
  readonly tickIntervalMs: number;
  readonly fsync: boolean;
}

export function resolveOptions(o: TraceStoreOptions): ResolvedTraceStoreOptions {
  const blockMaxSpans = o.blockMaxSpans ?? 100_000;
  return {
    dir: o.dir,
    now: o.now ?? Date.now,
    blockMaxSpans,
    blockMaxAgeMs: o.blockMaxAgeMs ?? 300_000,
    pageMaxSpans: o.pageMaxSpans ?? 1_000,
    retentionMs: o.retentionMs ?? 0,
    retentionBytes: o.retentionBytes ?? 0,
    compactBelowSpans: o.compactBelowSpans ?? Math.floor(blockMaxSpans / 4),
    compactWindowMs: o.compactWindowMs ?? 3_600_000,
    tickIntervalMs: o.tickIntervalMs ?? 30_000,
    fsync: o.fsync ?? false,
  };
}
