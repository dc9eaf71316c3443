/**
 * Compaction: merges each stream's runs of adjacent small chunks (each under a quarter of
 * `chunkTargetBytes`, together at most `chunkTargetBytes`) into one chunk. The merged chunk and its
 * index record (naming the chunks it replaces) are written and synced first; a restart ignores
 * replaced chunks, so a crash at any point loses nothing and duplicates nothing. Chunk files left
 * without live chunks are deleted.
 */
import type { Labels } from '../../core/model/labels.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import type { ChunkFiles, ChunkMeta } from './chunkfiles.js';
import { maxMark, type WalMark } from './chunkindex.js';
import type { Codec } from './codec.js';
import type { ChunkView, ColumnarEncoder } from './columnar.js';
import type { StreamState } from './streams.js';

const COMPACT_POINTS = { afterDat: 'logs.compact.after-dat', afterIdx: 'logs.compact.after-idx' } as const;

/** What compaction works with. */
export interface CompactionContext {
  readonly streams: Iterable<StreamState | undefined>;
  readonly files: ChunkFiles;
  readonly encoder: ColumnarEncoder;
  readonly codec: Codec;
  readonly level: number;
  readonly chunkTargetBytes: number;
  /** Records a failed write (the store's write problem). */
  readonly fail: (what: string, err: unknown) => void;
}

/**
 * Runs one compaction pass; returns the number of chunks merged away. A generator that pauses
 * after each stream with work done, so the store can run it in slices (a stream's chunk list is
 * only changed within its own step).
 */
export function* compactSteps(ctx: CompactionContext): Generator<void, number> {
  const small = ctx.chunkTargetBytes / 4;
  const dropFiles = new Set<number>();
  let merged = 0;
  for (const s of ctx.streams) {
    // Overlapping chunks are read by sorting; merging them would need a sort too, and they are rare.
    if (!s || s.overlap || s.chunks.length < 2) continue;
    let i = 0;
    while (i < s.chunks.length) {
      let j = i;
      let bytes = 0;
      while (j < s.chunks.length && s.chunks[j]!.rawBytes < small && bytes + s.chunks[j]!.rawBytes <= ctx.chunkTargetBytes) bytes += s.chunks[j++]!.rawBytes;
      if (j - i < 2) {
        i = Math.max(j, i + 1);
        continue;
      }
      const run = s.chunks.slice(i, j);
      const ts: bigint[] = [];
      const lines: string[] = [];
      const metas: (Labels | undefined)[] = [];
      const views = run.map((c) => ctx.files.view(c));
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
      const enc = ctx.encoder.encodeLines(ts, lines, metas, ctx.codec, ctx.level);
      let meta: ChunkMeta;
      try {
        meta = ctx.files.write(s.id, enc, ts[0]!, ts[ts.length - 1]!, ts.length, mark, COMPACT_POINTS, run);
      } catch (err) {
        // The originals stay; compaction tries again on a later tick.
        ctx.fail('log compaction write', err);
        ctx.files.dropFiles(dropFiles);
        return merged;
      }
      s.chunks.splice(i, run.length, meta);
      for (const c of run) ctx.files.release(c, dropFiles);
      merged += run.length - 1;
      i++;
    }
    yield;
  }
  crashPoint('logs.compact.before-remove');
  ctx.files.dropFiles(dropFiles);
  return merged;
}
