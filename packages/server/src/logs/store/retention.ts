/**
 * Retention: drops chunks past the retention time, then the oldest chunk files past the size
 * limit. The dropped chunks' WAL marks go to the streams file first: their lines may still be in
 * the WAL, and replay must not bring them back.
 */
import { crashPoint } from '../../core/util/crashpoint.js';
import type { ChunkFiles, ChunkMeta } from './chunkfiles.js';
import { maxMark, type WalMark } from './chunkindex.js';
import type { StreamRegistry } from './streams.js';

const NS_PER_MS = 1_000_000n;

/** What retention works with. */
export interface RetentionContext {
  readonly streams: StreamRegistry;
  readonly files: ChunkFiles;
  /** 0: no time limit. */
  readonly retentionMs: number;
  /** 0: no size limit. */
  readonly retentionBytes: number;
  readonly now: () => number;
  /** The store's bytes on disk. */
  readonly diskBytes: () => number;
  /** Records a failed write (the store's write problem). */
  readonly fail: (what: string, err: unknown) => void;
}

/**
 * Applies retention once. A failed mark write drops nothing; the next tick tries again. A generator
 * that pauses between streams: chunks sealed meanwhile are newer than anything it drops, and each
 * stream's chunk list is changed within one step.
 */
export function* retentionSteps(ctx: RetentionContext): Generator<void, void> {
  const { streams, files } = ctx;
  const drop = new Set<ChunkMeta>();
  if (ctx.retentionMs > 0) {
    const floor = BigInt(Math.floor(ctx.now() - ctx.retentionMs)) * NS_PER_MS;
    for (const s of streams.byId) {
      if (s) for (const c of s.chunks) if (c.maxT < floor) drop.add(c);
      yield;
    }
  }
  if (ctx.retentionBytes > 0) {
    let size = ctx.diskBytes();
    const oldest = new Set<number>();
    for (const f of files.sealedFiles()) {
      if (size <= ctx.retentionBytes) break;
      size -= files.fileBytes(f);
      oldest.add(f);
    }
    if (oldest.size) for (const s of streams.byId) if (s) for (const c of s.chunks) if (oldest.has(c.file)) drop.add(c);
  }
  if (!drop.size) return;
  const marks: { id: number; mark: WalMark }[] = [];
  for (const s of streams.byId) {
    if (!s) continue;
    yield;
    let m: WalMark | undefined;
    for (const c of s.chunks) if (drop.has(c)) m = maxMark(m, c.mark);
    if (m) marks.push({ id: s.id, mark: m });
  }
  try {
    streams.appendMarks(marks);
  } catch (err) {
    ctx.fail('log retention mark write', err);
    return;
  }
  crashPoint('logs.retention.after-mark');
  const dropFiles = new Set<number>();
  for (const s of streams.byId) {
    if (!s) continue;
    yield;
    const keep: ChunkMeta[] = [];
    for (const c of s.chunks) {
      if (drop.has(c)) files.release(c, dropFiles);
      else keep.push(c);
    }
    s.chunks.length = 0;
    s.chunks.push(...keep);
  }
  files.dropFiles(dropFiles);
  crashPoint('logs.retention.after-remove');
}
