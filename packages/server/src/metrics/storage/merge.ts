/**
 * Merging queriers: the disk store answers from several blocks and the head at once. Series with
 * equal labels from different sources become one series whose samples are merged by time.
 */
import { compareLabels, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { Pacer, Work } from '../../core/util/pace.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { labelNamesOf, labelValuesOf, sortLimitPaced, type Querier, type SampleIterator, type SelectHints, type Series, type SeriesSet } from './interface.js';

/** A querier over several queriers, each covering its own part of the data. */
export class MergeQuerier implements Querier {
  constructor(private readonly queriers: readonly Querier[]) {}

  select(hints: SelectHints, matchers: readonly Matcher[]): SeriesSet {
    if (this.queriers.length === 1) return this.queriers[0]!.select(hints, matchers);
    // Limits apply after merging, or a series present in two sources could count twice.
    const { limit, ...rest } = hints;
    const sets = this.queriers.map((q) => q.select(rest, matchers));
    return new MergeSeriesSet(sets, limit ?? 0);
  }

  *selectPaced(hints: SelectHints, matchers: readonly Matcher[], pace: Pacer): Work<SeriesSet> {
    const { limit, ...rest } = this.queriers.length === 1 ? { ...hints, limit: undefined } : hints;
    const sets: SeriesSet[] = [];
    for (const q of this.queriers)
      sets.push(
        q.selectPaced
          ? yield* q.selectPaced(this.queriers.length === 1 ? hints : rest, matchers, pace)
          : q.select(this.queriers.length === 1 ? hints : rest, matchers),
      );
    return sets.length === 1 ? sets[0]! : new MergeSeriesSet(sets, limit ?? 0);
  }

  labelValues(name: string, matchers: readonly Matcher[], limit?: number): string[] {
    return mergeSorted(
      this.queriers.map((q) => q.labelValues(name, matchers)),
      limit,
    );
  }

  labelNames(matchers: readonly Matcher[], limit?: number): string[] {
    return mergeSorted(
      this.queriers.map((q) => q.labelNames(matchers)),
      limit,
    );
  }

  *labelValuesPaced(name: string, matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
    const lists: string[][] = [];
    for (const q of this.queriers) lists.push(yield* labelValuesOf(q, name, matchers, pace));
    return yield* mergeSortedPaced(lists, pace, limit);
  }

  *labelNamesPaced(matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
    const lists: string[][] = [];
    for (const q of this.queriers) lists.push(yield* labelNamesOf(q, matchers, pace));
    return yield* mergeSortedPaced(lists, pace, limit);
  }

  close(): void {
    for (const q of this.queriers) q.close();
  }
}

/** {@link mergeSorted} in slices: the lists can hold a million values each. */
function* mergeSortedPaced(lists: string[][], pace: Pacer, limit?: number): Work<string[]> {
  if (lists.length === 1) return limit && lists[0]!.length > limit ? lists[0]!.slice(0, limit) : lists[0]!;
  const set = new Set<string>();
  let n = 0;
  for (const list of lists) {
    for (const v of list) {
      set.add(v);
      if ((++n & 4095) === 0 && pace.due()) {
        pace.check();
        yield;
      }
    }
  }
  return yield* sortLimitPaced([...set], pace, limit);
}

function mergeSorted(lists: string[][], limit?: number): string[] {
  const out = [...new Set(lists.flat())].sort();
  if (limit && out.length > limit) out.length = limit;
  return out;
}

/** Merges sorted series sets. */
class MergeSeriesSet implements SeriesSet {
  private readonly sets: SeriesSet[];
  private readonly heads: Array<Series | undefined>;
  private cur: Series | undefined;
  private emitted = 0;

  constructor(
    sets: SeriesSet[],
    private readonly limit: number,
  ) {
    this.sets = sets;
    this.heads = sets.map((s) => (s.next() ? s.at() : undefined));
  }

  next(): boolean {
    if (this.limit && this.emitted >= this.limit) return false;
    let min: Labels | undefined;
    for (const h of this.heads) if (h && (!min || compareLabels(h.labels, min) < 0)) min = h.labels;
    if (!min) return false;
    const parts: Series[] = [];
    for (let i = 0; i < this.heads.length; i++) {
      const h = this.heads[i];
      if (h && compareLabels(h.labels, min) === 0) {
        parts.push(h);
        this.heads[i] = this.sets[i]!.next() ? this.sets[i]!.at() : undefined;
      }
    }
    const labels = min;
    this.cur = parts.length === 1 ? parts[0]! : { labels, iterator: () => new MergeSampleIterator(parts.map((p) => p.iterator())) };
    this.emitted++;
    return true;
  }

  at(): Series {
    return this.cur!;
  }

  warnings(): readonly string[] {
    return this.sets.flatMap((s) => s.warnings());
  }
}

/** Merges sample iterators by time; of samples with equal timestamps the first source's wins. */
export class MergeSampleIterator implements SampleIterator {
  private readonly its: SampleIterator[];
  private readonly live: boolean[];
  private started = false;
  private cur = -1;

  constructor(its: SampleIterator[]) {
    this.its = its;
    this.live = its.map(() => false);
  }

  private pick(): boolean {
    let best = -1;
    for (let i = 0; i < this.its.length; i++) {
      if (this.live[i] && (best < 0 || this.its[i]!.t() < this.its[best]!.t())) best = i;
    }
    this.cur = best;
    return best >= 0;
  }

  next(): boolean {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.live[i] = this.its[i]!.next();
      return this.pick();
    }
    if (this.cur < 0) return false;
    const t = this.its[this.cur]!.t();
    for (let i = 0; i < this.its.length; i++) {
      if (!this.live[i]) continue;
      const it = this.its[i]!;
      // Advance past the emitted timestamp in every source, dropping duplicates.
      while (this.live[i] && it.t() <= t) this.live[i] = it.next();
    }
    return this.pick();
  }

  seek(t: number): boolean {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.live[i] = this.its[i]!.seek(t);
      return this.pick();
    }
    if (this.cur >= 0 && this.its[this.cur]!.t() >= t) return true;
    for (let i = 0; i < this.its.length; i++) if (this.live[i]) this.live[i] = this.its[i]!.seek(t);
    return this.pick();
  }

  t(): number {
    return this.its[this.cur]!.t();
  }

  v(): number {
    return this.its[this.cur]!.v();
  }

  h(): FloatHistogram | undefined {
    return this.its[this.cur]!.h?.();
  }
}
