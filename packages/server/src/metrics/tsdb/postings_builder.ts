/**
 * Postings for a block being written, gathered in flat typed arrays: per label pair its name and
 * value symbols, per (pair, series) one entry. A block writer meets a million series; a postings
 * array per label pair (most pairs, such as a per-series id label, have one series) would be a
 * million small objects alive for the whole write, each one copied by every scavenge and marked by
 * every major collection while the event loop waits.
 */
import type { Pacer, Work } from '../../core/util/pace.js';

/** A growable Uint32Array. */
class U32List {
  data = new Uint32Array(1024);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = x;
  }
}

/** Collects (label pair, series id) entries; series ids must be added in increasing order. */
export class PostingsBuilder {
  /** Per name symbol: value symbol → pair number. */
  private readonly pairOf = new Map<number, Map<number, number>>();
  private readonly pairName = new U32List();
  private readonly pairValue = new U32List();
  private readonly entryPair = new U32List();
  private readonly entryId = new U32List();

  /** Notes that series `id` carries the pair with symbols `name` and `value`. */
  add(name: number, value: number, id: number): void {
    let values = this.pairOf.get(name);
    if (!values) this.pairOf.set(name, (values = new Map()));
    let pair = values.get(value);
    if (pair === undefined) {
      pair = this.pairName.length;
      values.set(value, pair);
      this.pairName.push(name);
      this.pairValue.push(value);
    }
    this.entryPair.push(pair);
    this.entryId.push(id);
  }

  /** Number of distinct label pairs. */
  get pairs(): number {
    return this.pairName.length;
  }

  /**
   * Groups the entries by pair (a counting sort, stable: ids stay in increasing order), yielding
   * when the pacer is due. Returns the pairs' symbols and, per pair `p`, its ids at
   * `ids[start[p]] .. ids[start[p + 1] - 1]`.
   */
  *build(pace: Pacer): Work<{ name: Uint32Array; value: Uint32Array; start: Float64Array; ids: Uint32Array }> {
    const np = this.pairName.length;
    const ne = this.entryPair.length;
    const start = new Float64Array(np + 1);
    const pairs = this.entryPair.data;
    for (let e = 0; e < ne; e++) {
      const k = pairs[e]! + 1;
      start[k] = start[k]! + 1;
      if ((e & 0xffff) === 0xffff && pace.due()) {
        pace.check();
        yield;
      }
    }
    for (let p = 0; p < np; p++) start[p + 1] = start[p + 1]! + start[p]!;
    const fill = start.slice(0, np);
    const ids = new Uint32Array(ne);
    const entryIds = this.entryId.data;
    for (let e = 0; e < ne; e++) {
      const p = pairs[e]!;
      ids[fill[p]!] = entryIds[e]!;
      fill[p] = fill[p]! + 1;
      if ((e & 0xffff) === 0xffff && pace.due()) {
        pace.check();
        yield;
      }
    }
    return { name: this.pairName.data.subarray(0, np), value: this.pairValue.data.subarray(0, np), start, ids };
  }
}
