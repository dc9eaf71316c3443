/** The log store's options and their defaults. */
import { BACKGROUND_SLICE_MS } from '../../core/util/pace.js';
import type { Logger } from '../../core/util/log.js';
import type { Codec } from './codec.js';
import type { LogIo } from '../../core/util/appendfile.js';

/** Options of {@link LogStore}. */
export interface LogStoreOptions {
  /** The log store's directory (for example `<data>/logs`). */
  readonly dir: string;
  /** Chunk compression (default brotli, quality `level` 2; deflate level 6 when `deflate`). */
  readonly codec?: Codec;
  readonly level?: number;
  /** Seal a head once it holds this many line bytes (default 2 MiB). */
  readonly chunkTargetBytes?: number;
  /** Seal a head whose first line arrived this long ago, on `LogStore.tick` (default 1 h). */
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
  /** How often `LogStore.start` runs `LogStore.tick` (default 10 s; 0: never, the owner calls tick). */
  readonly tickIntervalMs?: number;
  /** Background work (checkpoints, ticks) gives the event loop a turn after this many ms (default 10). */
  readonly sliceMs?: number;
}

/** The options with every default filled in (the clock, logger and I/O seam are taken apart). */
export type ResolvedLogStoreOptions = Required<Omit<LogStoreOptions, 'log' | 'now' | 'dir' | 'io'>>;

export function resolveOptions(opts: LogStoreOptions): ResolvedLogStoreOptions {
  const codec = opts.codec ?? 'brotli';
  return {
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
    tickIntervalMs: opts.tickIntervalMs ?? 10_000,
    sliceMs: opts.sliceMs ?? BACKGROUND_SLICE_MS,
  };
}
