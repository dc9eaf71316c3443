/**
 * The store's blocks on disk: opening them at start (quarantining damaged ones as `.corrupt`,
 * finishing a compaction a crash interrupted), and reading from them with a small cache of decoded
 * pages, so a search that yields several traces of one page decodes it once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Span } from '../storage/types.js';
import { Block, blockFile } from './block.js';

const CACHE_PAGES = 16;

/** Page numbers by earliest start, newest first (ties by page number); a block written by earliest start needs no sort. */
function pagesNewestFirst(pages: readonly { minStart: bigint }[]): number[] {
  const order = [...pages.keys()].reverse();
  for (let i = 1; i < pages.length; i++) {
    if (pages[i - 1]!.minStart > pages[i]!.minStart)
      return order.sort((x, y) => (pages[x]!.minStart > pages[y]!.minStart ? -1 : pages[x]!.minStart < pages[y]!.minStart ? 1 : y - x));
  }
  return order;
}

export class BlockSet {
  /** Open blocks, by ascending sequence. */
  blocks: Block[] = [];
  /** Per block (by seq), the traces of each page (positions in the block's index). */
  private readonly byPage = new Map<number, Uint32Array[]>();
  private readonly cache = new Map<string, Map<string, Span[]>>();
  /** Damaged pages met while reading (named in logs and `verify`). */
  readonly damaged: string[] = [];
  /** Pages read and decoded from disk (cache misses), for tests and self-metrics. */
  pagesRead = 0;

  constructor(readonly dir: string) {}

  /** Opens every block; returns what was repaired. */
  open(): string[] {
    fs.mkdirSync(this.dir, { recursive: true });
    const repairs: string[] = [];
    const opened: Block[] = [];
    for (const f of fs.readdirSync(this.dir).sort()) {
      const file = path.join(this.dir, f);
      if (f.endsWith('.tmp')) {
        fs.rmSync(file, { force: true });
        repairs.push(`${file}: removed an unfinished block`);
        continue;
      }
      if (!/^\d{8}\.vtb$/.test(f)) continue;
      try {
        opened.push(Block.open(file));
      } catch (err) {
        fs.renameSync(file, `${file}.corrupt`);
        repairs.push(`${file}: ${(err as Error).message}; quarantined as ${f}.corrupt`);
      }
    }
    // A compaction that crashed after writing its block but before removing the sources.
    const replaced = new Set(opened.flatMap((b) => b.index.replaces));
    for (const b of opened) {
      if (!replaced.has(b.index.seq)) continue;
      b.close();
      fs.rmSync(b.file, { force: true });
      repairs.push(`${b.file}: removed, already merged into a newer block`);
    }
    this.blocks = opened.filter((b) => !replaced.has(b.index.seq)).sort((a, b) => a.index.seq - b.index.seq);
    for (const b of this.blocks) this.indexPages(b);
    return repairs;
  }

  private indexPages(b: Block): void {
    const lists: number[][] = b.index.pages.map(() => []);
    b.index.pageOf.forEach((p, i) => lists[p]!.push(i));
    this.byPage.set(
      b.index.seq,
      lists.map((l) => Uint32Array.from(l)),
    );
  }

  add(b: Block): void {
    this.blocks.push(b);
    this.blocks.sort((x, y) => x.index.seq - y.index.seq);
    this.indexPages(b);
  }

  /** Closes and deletes a block (retention, or a compaction's source). */
  remove(b: Block): void {
    b.close();
    fs.rmSync(b.file, { force: true });
    this.blocks = this.blocks.filter((x) => x !== b);
    this.byPage.delete(b.index.seq);
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${b.index.seq}:`)) this.cache.delete(k);
  }

  /**
   * The block's traces (positions in its index) newest first, by earliest start descending then
   * position (trace id) ascending, as a function giving the next one (-1 after the last); only the
   * pages `wanted` says yes to, asked when the page is reached. Lazy: pages are taken by their
   * earliest start, newest first, and a page's traces join the sorted candidates only once the
   * next trace could be among them. A search that stops after a few traces looks at a page or
   * two per block, where sorting every trace of every block in range (and testing every page's
   * bloom filter) was most of the first search after a start.
   */
  newestFirst(b: Block, wanted: (page: number) => boolean = () => true): () => number {
    const starts = b.index.starts;
    const pages = b.index.pages;
    const lists = this.byPage.get(b.index.seq)!;
    const pageOrder = pagesNewestFirst(pages);
    const newer = (x: number, y: number): number => (starts[x]! > starts[y]! ? -1 : starts[x]! < starts[y]! ? 1 : x - y);
    let nextPage = 0;
    let pending: number[] = [];
    let head = 0;
    return () => {
      for (;;) {
        const top = head < pending.length ? pending[head]! : -1;
        const p = nextPage < pageOrder.length ? pageOrder[nextPage]! : -1;
        // A page's earliest span start is its earliest trace start: no trace of a page not yet taken is newer than `top`.
        if (p >= 0 && (top < 0 || pages[p]!.minStart >= starts[top]!)) {
          nextPage++;
          if (!wanted(p)) continue;
          pending = pending.slice(head).concat(Array.from(lists[p]!)).sort(newer);
          head = 0;
          continue;
        }
        if (top < 0) return -1;
        head++;
        return top;
      }
    };
  }

  tracesOfPage(b: Block, p: number): Uint32Array {
    return this.byPage.get(b.index.seq)![p]!;
  }

  /** The decoded spans of a page, grouped by trace; a damaged page reads as empty and is noted. */
  page(b: Block, p: number): Map<string, Span[]> {
    const key = `${b.index.seq}:${p}`;
    let m = this.cache.get(key);
    if (m) {
      this.cache.delete(key);
      this.cache.set(key, m);
      return m;
    }
    m = new Map();
    this.pagesRead++;
    try {
      for (const s of b.readPage(p)) {
        let l = m.get(s.traceId);
        if (!l) m.set(s.traceId, (l = []));
        l.push(s);
      }
    } catch (err) {
      this.damaged.push(`${b.file} page ${p}: ${(err as Error).message}`);
    }
    this.cache.set(key, m);
    if (this.cache.size > CACHE_PAGES) this.cache.delete(this.cache.keys().next().value!);
    return m;
  }

  /** The spans of one trace in all blocks. */
  trace(traceId: string): Span[] {
    const out: Span[] = [];
    const id = Buffer.from(traceId, 'hex');
    for (const b of this.blocks) {
      const i = b.find(id);
      if (i >= 0) out.push(...(this.page(b, b.index.pageOf[i]!).get(traceId) ?? []));
    }
    return out;
  }

  countOf(traceId: string): number {
    let n = 0;
    const id = Buffer.from(traceId, 'hex');
    for (const b of this.blocks) n += b.countOf(id);
    return n;
  }

  close(): void {
    for (const b of this.blocks) b.close();
    this.blocks = [];
    this.cache.clear();
  }

  static fileOf(dir: string, seq: number): string {
    return path.join(dir, blockFile(seq));
  }
}
