/**
 * The symbols and postings directory of an opened block, as flat typed arrays over the index
 * file's bytes instead of strings and Map entries. A flush of 300k series opened a block whose
 * symbol strings and label-pair Maps were built on the thread that acknowledges writes: the Maps'
 * growing hash tables alone were ~28 MB allocated straight into the old generation in a few hundred
 * ms; V8 starts marking only a semi-space short of its limit, so such a burst makes it likelier to
 * finish in one atomic mark-compact of the whole heap. Here a block open allocates a few typed
 * arrays, and strings are decoded when a query asks for them.
 */
import type { PostingsByName, PostingsValues } from './postings.js';

/** Symbols per page of decoded strings: 2^PAGE_BITS. */
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;

/** FNV-1a over `bytes[from, to)`. */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** The slot of label pair (`name` symbol, value hashed to `valueHash`) in a table of `mask + 1` slots. */
function pairSlot(name: number, valueHash: number, mask: number): number {
  return (Math.imul(valueHash ^ Math.imul(name + 1, 0x9e3779b1), 0x85ebca6b) >>> 0) & mask;
}

/** The symbol table: where each symbol's UTF-8 bytes lie in the index, decoded on demand. */
export class BlockSymbols {
  /**
   * Decoded symbols in pages of {@link PAGE} ids, each created with its first decode: no up-front
   * array of millions of slots, and a symbol is decoded once however many queries ask for it.
   */
  private readonly decoded: Array<Array<string | undefined> | undefined> = [];
  /** FNV-1a hash of each symbol's bytes, for the label-pair table. */
  readonly hash: Uint32Array;

  constructor(
    private readonly index: Buffer,
    private readonly start: Float64Array,
    private readonly length: Uint32Array,
  ) {
    this.hash = new Uint32Array(start.length);
  }

  /** Notes symbol `id` at `[at, at + len)` of the index (while the block loads). */
  set(id: number, at: number, len: number): void {
    this.start[id] = at;
    this.length[id] = len;
    this.hash[id] = hashBytes(this.index, at, at + len);
  }

  /** Symbol `id` as a string; throws if there is no such symbol (a damaged index). */
  at(id: number): string {
    if (!(id < this.start.length)) throw new Error('symbol out of range');
    const page = (this.decoded[id >>> PAGE_BITS] ??= new Array<string | undefined>(PAGE).fill(undefined));
    return (page[id & (PAGE - 1)] ??= this.decode(id));
  }

  /** Symbol `id` decoded afresh, without keeping it (for the few label names a block open needs). */
  decode(id: number): string {
    const at = this.start[id]!;
    return this.index.toString('utf8', at, at + this.length[id]!);
  }

  /** True if symbol `id` is exactly `bytes`. */
  equals(id: number, bytes: Uint8Array): boolean {
    const len = this.length[id]!;
    if (len !== bytes.length) return false;
    const at = this.start[id]!;
    for (let i = 0; i < len; i++) if (this.index[at + i] !== bytes[i]) return false;
    return true;
  }
}

/** The values of one label name in a block, each with the offset of its postings list. */
class BlockLabelValues implements PostingsValues<number> {
  constructor(
    private readonly dir: BlockPostingsDirectory,
    readonly name: number,
    /** The pairs with this name: `dir.byName[from, to)`. */
    private readonly from: number,
    private readonly to: number,
  ) {}

  get(value: string): number | undefined {
    return this.dir.lookup(this.name, value);
  }

  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (let i = this.from; i < this.to; i++) {
      const p = this.dir.byName[i]!;
      yield [this.dir.symbols.at(this.dir.pairValue[p]!), this.dir.pairAt[p]!];
    }
  }
}

/**
 * Label name → value → offset of the pair's postings list in the index, answered from a hash table
 * of pair numbers (name symbol and value bytes as the key) and the pairs grouped by name.
 */
export class BlockPostingsDirectory implements PostingsByName<number> {
  readonly pairName: Uint32Array;
  readonly pairValue: Uint32Array;
  readonly pairAt: Float64Array;
  /** Pair numbers grouped by name (filled by {@link finish}). */
  byName = new Uint32Array(0);
  /** Open addressing: pair number + 1 per slot, 0 for empty. */
  private readonly table: Uint32Array;
  private readonly names = new Map<string, BlockLabelValues>();
  private added = 0;

  constructor(
    readonly symbols: BlockSymbols,
    pairs: number,
  ) {
    this.pairName = new Uint32Array(pairs);
    this.pairValue = new Uint32Array(pairs);
    this.pairAt = new Float64Array(pairs);
    let size = 16;
    while (size < pairs * 2) size *= 2;
    this.table = new Uint32Array(size);
  }

  /** Adds the next pair (while the block loads); symbols must be in range. */
  add(name: number, value: number, at: number): void {
    const p = this.added++;
    this.pairName[p] = name;
    this.pairValue[p] = value;
    this.pairAt[p] = at;
    const mask = this.table.length - 1;
    for (let s = pairSlot(name, this.symbols.hash[value]!, mask); ; s = (s + 1) & mask) {
      const q = this.table[s]!;
      if (q === 0) {
        this.table[s] = p + 1;
        return;
      }
      // A pair listed twice (only a damaged index would): the first one answers lookups.
      if (this.pairName[q - 1] === name && this.pairValue[q - 1] === value) return;
    }
  }

  /** Groups the pairs by name once all are added; a generator that pauses every 64k pairs. */
  *finish(): Generator<void, void> {
    const n = this.added;
    const count = new Map<number, number>();
    for (let p = 0; p < n; p++) {
      count.set(this.pairName[p]!, (count.get(this.pairName[p]!) ?? 0) + 1);
      if ((p & 0xffff) === 0xffff) yield;
    }
    const next = new Map<number, number>();
    let at = 0;
    for (const [name, c] of count) {
      this.names.set(this.symbols.decode(name), new BlockLabelValues(this, name, at, at + c));
      next.set(name, at);
      at += c;
    }
    this.byName = new Uint32Array(n);
    for (let p = 0; p < n; p++) {
      const name = this.pairName[p]!;
      const i = next.get(name)!;
      this.byName[i] = p;
      next.set(name, i + 1);
      if ((p & 0xffff) === 0xffff) yield;
    }
  }

  get(name: string): BlockLabelValues | undefined {
    return this.names.get(name);
  }

  /** The postings offset of `name` symbol = `value`, if the block has the pair. */
  lookup(name: number, value: string): number | undefined {
    const bytes = Buffer.from(value, 'utf8');
    const mask = this.table.length - 1;
    for (let s = pairSlot(name, hashBytes(bytes, 0, bytes.length), mask); ; s = (s + 1) & mask) {
      const q = this.table[s]!;
      if (q === 0) return undefined;
      const p = q - 1;
      if (this.pairName[p] === name && this.symbols.equals(this.pairValue[p]!, bytes)) return this.pairAt[p];
    }
  }
}
