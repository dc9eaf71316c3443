/**
 * Storage for the head's full chunks: many small chunks packed into shared pages, so a chunk costs
 * its bytes and one small object rather than its own ArrayBuffer (which costs more than a typical
 * chunk's ~200 bytes in allocator and object overhead). A page is freed by the garbage collector
 * once no chunk in it is referenced; chunks leave the head roughly in the order they were packed.
 * Pages are shared memory, so the block writer's thread reads a flush's chunks where they are.
 */

const PAGE_BYTES = 256 * 1024;

/** Where a stored chunk's bytes are. */
export interface ArenaSlice {
  readonly page: Uint8Array;
  readonly offset: number;
  readonly length: number;
}

/** Packs byte strings into pages. */
export class ChunkArena {
  private page = newPage();
  private pos = 0;

  /** Copies `bytes[0, length)` into the arena. */
  store(bytes: Uint8Array, length: number): ArenaSlice {
    if (length > PAGE_BYTES / 4) return { page: bytes.slice(0, length), offset: 0, length };
    if (this.pos + length > this.page.length) {
      this.page = newPage();
      this.pos = 0;
    }
    const offset = this.pos;
    const page = this.page;
    for (let i = 0; i < length; i++) page[offset + i] = bytes[i]!;
    this.pos += length;
    return { page, offset, length };
  }
}

function newPage(): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(PAGE_BYTES));
}
