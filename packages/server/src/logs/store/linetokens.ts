/**
 * Token hashes of column values for a chunk's bloom filter: a hash set that keeps its memory
 * between chunks, and an ASCII fast path equal to bloom.ts's tokenizer.
 */
import { Bloom } from '../../core/util/bloom.js';

/** Token bytes: ASCII letters and digits. */
export const ALNUM = new Uint8Array(256);
for (let c = 0; c < 256; c++) ALNUM[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0;

/** An open-addressing set of 32-bit hashes. */
export class HashSet {
  private table = new Int32Array(1 << 12);
  private mask = (1 << 12) - 1;
  /** 32 - log2(table size): the multiplicative hash's top bits index the table. */
  private shift = 20;
  private hasZero = false;
  size = 0;

  /** Empties the set, keeping its memory. */
  clear(): void {
    this.table.fill(0);
    this.hasZero = false;
    this.size = 0;
  }

  add(h: number): void {
    h |= 0;
    if (h === 0) {
      if (!this.hasZero) {
        this.hasZero = true;
        this.size++;
      }
      return;
    }
    let i = Math.imul(h, 0x9e3779b1) >>> this.shift;
    const t = this.table;
    for (;;) {
      const x = t[i]!;
      if (x === h) return;
      if (x === 0) break;
      i = (i + 1) & this.mask;
    }
    t[i] = h;
    if (++this.size * 2 > t.length) this.grow();
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = this.table.length - 1;
    this.shift--;
    this.size = this.hasZero ? 1 : 0;
    for (const h of old) if (h !== 0) this.add(h);
  }

  /** Adds every hash to `bloom`. */
  addTo(bloom: Bloom): void {
    if (this.hasZero) bloom.add(0);
    const t = this.table;
    for (let i = 0; i < t.length; i++) if (t[i] !== 0) bloom.add(t[i]! >>> 0);
  }
}

/**
 * Token hashes of ASCII bytes, equal to {@link forEachTokenHash} over the same text; marks the
 * bytes seen. Returns false (tokens incomplete) when a non-ASCII byte occurs.
 */
export function tokenHashesAscii(b: Uint8Array, s: number, e: number, set: HashSet, seen: Uint8Array): boolean {
  let h = 0x811c9dc5;
  let len = 0;
  let ascii = true;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    seen[c] = 1;
    if (ALNUM[c] === 1) {
      h = Math.imul(h ^ c, 0x01000193);
      len++;
    } else {
      if (c >= 128) ascii = false;
      if (len >= 2) set.add(h);
      h = 0x811c9dc5;
      len = 0;
    }
  }
  if (len >= 2) set.add(h);
  return ascii;
}
