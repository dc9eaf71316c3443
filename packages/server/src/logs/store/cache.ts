/**
 * Decoded chunks kept in memory, least recently used first out, up to a byte budget. Keyed by the
 * chunk's metadata object, which lives exactly as long as the chunk does.
 */
import type { ChunkView } from './columnar.js';

/** The least a chunk needs to be cached: which file holds it. */
interface CachedChunkKey {
  readonly file: number;
}

export class ChunkCache<K extends CachedChunkKey> {
  private readonly views = new Map<K, ChunkView>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The cached view, marked as just used. */
  get(c: K): ChunkView | undefined {
    const hit = this.views.get(c);
    if (hit) {
      // Map order is insertion order: re-inserting moves the entry to the young end.
      this.views.delete(c);
      this.views.set(c, hit);
    }
    return hit;
  }

  /** Caches a view, evicting the least recently used ones past the budget (the newest always stays). */
  add(c: K, view: ChunkView): void {
    this.views.set(c, view);
    this.bytes += view.memBytes;
    while (this.bytes > this.maxBytes && this.views.size > 1) this.evict(this.views.keys().next().value as K);
  }

  evict(c: K): void {
    const d = this.views.get(c);
    if (d && this.views.delete(c)) this.bytes -= d.memBytes;
  }

  /** Forgets every chunk of a chunk file (deleted). */
  evictFile(file: number): void {
    for (const [c] of this.views) if (c.file === file) this.evict(c);
  }
}
