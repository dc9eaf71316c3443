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

export class BlockSet {
  /** Open blocks, by ascending sequence. */
  blocks: Block[] = [];
  /** Per block (by seq), the traces of each page (positions in the block's index). */
  private readonly byPage = new Map<number, Uint32Array[]>();
  private readonly cache = new Map<string, Map<string, Span[]>>();
  private readonly orders = new Map<number, Uint32Array>();
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
    this.orders.delete(b.index.seq);
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${b.index.seq}:`)) this.cache.delete(k);
  }

  /** The block's traces, positions in its index, by earliest start, newest first (made on first use). */
  newestFirst(b: Block): Uint32Array {
    let o = this.orders.get(b.index.seq);
    if (!o) {
      const starts = b.index.starts;
      o = Uint32Array.from(starts.keys()).sort((x, y) => (starts[x]! > starts[y]! ? -1 : starts[x]! < starts[y]! ? 1 : 0));
      this.orders.set(b.index.seq, o);
    }
    return o;
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
