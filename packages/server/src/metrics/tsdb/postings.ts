/**
 * Postings: for each label name and value, the sorted ids of the series that carry it. Both the head
 * and on-disk blocks resolve matchers through this one index type.
 */
import type { Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { TimeSlicer } from '../../core/util/pace.js';

/** Sorted series ids. */
export type PostingsList = number[];

/** An inverted index from label pairs to series ids; ids must be added in increasing order. */
export class PostingsIndex {
  private readonly byName = new Map<string, Map<string, PostingsList>>();
  /** All ids, sorted. */
  all: PostingsList = [];

  /** Indexes a series; `id` must be larger than every id added before. */
  add(id: number, labels: Labels): void {
    this.all.push(id);
    for (const l of labels) this.addPair(l.name, l.value, id);
  }

  /** Adds one posting (used when loading a stored index). */
  addPair(name: string, value: string, id: number): void {
    let values = this.byName.get(name);
    if (!values) this.byName.set(name, (values = new Map()));
    const list = values.get(value);
    if (list) list.push(id);
    else values.set(value, [id]);
  }

  /**
   * Drops the given series ids everywhere, in slices for a running head: each list is replaced
   * whole (never seen half filtered), and the event loop gets a turn between lists, during which new
   * ids may be added. `ids` should come in increasing order (they are sorted here otherwise).
   */
  async removeSliced(ids: ArrayLike<number>, slicer: TimeSlicer): Promise<void> {
    if (ids.length === 0) return;
    const sorted = Float64Array.from(ids);
    let inOrder = true;
    for (let i = 1; i < sorted.length && inOrder; i++) inOrder = sorted[i - 1]! < sorted[i]!;
    if (!inOrder) sorted.sort();
    // One linear merge, in one go: a rollback may take an id out of the list meanwhile (in place),
    // which a walk across pauses could skip past. A million ids take a few ms.
    const all = without(this.all, sorted);
    // `all` takes new ids by push: never the shared empty list.
    this.all = all === NO_IDS ? [] : all;
    for (const [name, values] of this.byName) {
      // By key: an entry pair per value would be garbage by the hundred thousand after a full flush.
      for (const value of values.keys()) {
        const list = values.get(value)!;
        const kept = without(list, sorted);
        if (kept.length === 0) values.delete(value);
        else if (kept.length !== list.length) values.set(value, kept);
        if (slicer.due()) await slicer.tick();
      }
      // Re-checked after the turns: a new series may have added a value meanwhile.
      if (values.size === 0) this.byName.delete(name);
    }
  }

  /**
   * Drops one series, cheaply when it is among the newest (its id at the ends of its lists): a
   * rolled-back batch takes back the series it just created without walking the whole index.
   */
  removeOne(id: number, labels: Labels): void {
    dropId(this.all, id);
    for (const l of labels) {
      const values = this.byName.get(l.name);
      const list = values?.get(l.value);
      if (!values || !list) continue;
      dropId(list, id);
      if (list.length === 0) values.delete(l.value);
      if (values.size === 0) this.byName.delete(l.name);
    }
  }

  /** How many series carry `name`=`value`. */
  count(name: string, value: string): number {
    return this.byName.get(name)?.get(value)?.length ?? 0;
  }

  /** The most series any one value of `name` has (0 when none). */
  largestValueCount(name: string): number {
    let most = 0;
    for (const list of this.byName.get(name)?.values() ?? []) if (list.length > most) most = list.length;
    return most;
  }

  /** Label names present in the index, unsorted. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** The values of `name`, unsorted. */
  values(name: string): IterableIterator<string> {
    return (this.byName.get(name) ?? new Map<string, PostingsList>()).keys();
  }

  /** Every label pair with its postings, for writing an index file. */
  entries(): IterableIterator<[string, Map<string, PostingsList>]> {
    return this.byName.entries();
  }

  /** Ids of the series matching every matcher (see {@link selectPostings}). */
  select(matchers: readonly Matcher[]): PostingsList {
    return selectPostings(
      matchers,
      this.byName,
      (l) => l,
      () => this.all,
    );
  }
}

/** The values of one label name, each with its postings entry (a Map is one). */
export interface PostingsValues<T> extends Iterable<[string, T]> {
  get(value: string): T | undefined;
}

/** Label name → its values (a Map of Maps is one). */
export interface PostingsByName<T> {
  get(name: string): PostingsValues<T> | undefined;
}

/**
 * Ids of the series matching every matcher, over an index from label name and value to a postings
 * entry of any kind (`list` turns one into its sorted ids: the head keeps arrays, a block keeps
 * offsets into its index file and decodes a list when a query needs it). Matchers that reject the
 * empty value narrow the set by intersection; those that accept it (`!=`, `!~`, `=~".*"`) subtract
 * the series whose value fails.
 */
export function selectPostings<T>(
  matchers: readonly Matcher[],
  byName: PostingsByName<T>,
  list: (entry: T) => PostingsList,
  all: () => PostingsList,
): PostingsList {
  let result: PostingsList | undefined;
  const subtract: PostingsList[] = [];
  for (const m of matchers) {
    const values = byName.get(m.name);
    if (!m.matchesEmpty()) {
      const lists: PostingsList[] = [];
      if (values) {
        if (m.type === '=') {
          const l = values.get(m.value);
          if (l !== undefined) lists.push(list(l));
        } else for (const [v, l] of values) if (m.matches(v)) lists.push(list(l));
      }
      const p = union(lists);
      result = result === undefined ? p : intersect(result, p);
      if (result.length === 0) return result;
    } else if (values) {
      const lists: PostingsList[] = [];
      for (const [v, l] of values) if (!m.matches(v)) lists.push(list(l));
      if (lists.length) subtract.push(union(lists));
    }
  }
  result ??= all();
  for (const s of subtract) result = difference(result, s);
  return result;
}

/** Union of sorted lists. */
export function union(lists: PostingsList[]): PostingsList {
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0]!;
  let total = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lists) {
    total += l.length;
    if (l.length === 0) continue;
    if (l[0]! < lo) lo = l[0]!;
    if (l[l.length - 1]! > hi) hi = l[l.length - 1]!;
  }
  if (total === 0) return [];
  // Ids close together (a regex over most of a label's values): one pass over a bitmap of the
  // span instead of a sort.
  if (hi - lo < total * 8) return unionDense(lists, lo, hi);
  const all = new Float64Array(total);
  let i = 0;
  for (const l of lists) for (const id of l) all[i++] = id;
  all.sort();
  const out: number[] = [];
  for (let j = 0; j < all.length; j++) if (j === 0 || all[j] !== all[j - 1]) out.push(all[j]!);
  return out;
}

/** {@link union} of lists whose ids all lie in [lo, hi], by marking them. */
function unionDense(lists: PostingsList[], lo: number, hi: number): PostingsList {
  const seen = new Uint8Array(hi - lo + 1);
  for (const l of lists) for (let i = 0; i < l.length; i++) seen[l[i]! - lo] = 1;
  const out: number[] = [];
  for (let i = 0; i < seen.length; i++) if (seen[i] === 1) out.push(i + lo);
  return out;
}

/** Intersection of two sorted lists. */
export function intersect(a: PostingsList, b: PostingsList): PostingsList {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/** Elements of sorted `a` that are not in sorted `b`. */
export function difference(a: PostingsList, b: PostingsList): PostingsList {
  const out: number[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j >= b.length || b[j] !== x) out.push(x);
  }
  return out;
}

/** Removes `id` from a sorted list, searching from the end, where new ids are. */
/**
 * The ids of sorted `list` not in sorted `drop`: a merge walk for long lists, a binary search per
 * id for short ones (most lists are far shorter than the set dropped).
 */
function without(list: PostingsList, drop: Float64Array): PostingsList {
  // Most lists hold one series (an id label): kept as it is or emptied, with no new array either way.
  if (list.length === 1) return contains(drop, list[0]!) ? NO_IDS : list;
  const out: PostingsList = [];
  if (list.length * 20 < drop.length) {
    for (const id of list) if (!contains(drop, id)) out.push(id);
    return out;
  }
  let j = 0;
  for (const id of list) {
    while (j < drop.length && drop[j]! < id) j++;
    if (drop[j] !== id) out.push(id);
  }
  return out;
}

/** An empty list to compare against, never added to. */
const NO_IDS: PostingsList = [];

/** True if sorted `ids` holds `id` (a binary search). */
function contains(ids: Float64Array, id: number): boolean {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return ids[lo] === id;
}

function dropId(list: PostingsList, id: number): void {
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i] === id) {
      list.splice(i, 1);
      return;
    }
    if (list[i]! < id) return;
  }
}
