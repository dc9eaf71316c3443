/**
 * What a remote_read fetch brought back, as a {@link Queryable}: per selection (keyed by its
 * matchers), the series the remote answered, sorted by labels, with their samples in arrays. A
 * selection the remote was not asked (a required matcher missing, a range the local store covers)
 * selects nothing.
 */
import type { Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { compareStrings, type Querier, type Queryable, type SampleIterator, type SelectHints, type Series, type SeriesSet } from '../storage/interface.js';

/** One fetched series, samples in time order. */
export interface FetchedSeries {
  readonly labels: Labels;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** The series one selection was answered with, and the problems met on the way. */
export interface FetchedSelection {
  readonly series: readonly FetchedSeries[];
  readonly warnings: readonly string[];
}

/**
 * What a call without selectors (label names or values of every series) asks a remote for: the
 * remote_read protocol has no label calls, and a query with no matchers selects nothing.
 */
export const EVERY_SERIES: readonly Matcher[] = [new Matcher('=~', '__name__', '.+')];

/** The key a selection is fetched and looked up by: its matchers, in a fixed order (none: {@link EVERY_SERIES}). */
export function matchersKey(matchers: readonly Matcher[]): string {
  return (matchers.length > 0 ? matchers : EVERY_SERIES)
    .map((m) => m.toString())
    .sort(compareStrings)
    .join(',');
}

class ArrayIterator implements SampleIterator {
  private i = -1;
  constructor(private readonly s: FetchedSeries) {}
  next(): boolean {
    return ++this.i < this.s.ts.length;
  }
  seek(t: number): boolean {
    if (this.i < 0) this.i = 0;
    while (this.i < this.s.ts.length && this.s.ts[this.i]! < t) this.i++;
    return this.i < this.s.ts.length;
  }
  t(): number {
    return this.s.ts[this.i]!;
  }
  v(): number {
    return this.s.vs[this.i]!;
  }
}

class ListSeriesSet implements SeriesSet {
  private i = -1;
  constructor(
    private readonly list: readonly FetchedSeries[],
    private readonly warns: readonly string[],
  ) {}
  next(): boolean {
    return ++this.i < this.list.length;
  }
  at(): Series {
    const s = this.list[this.i]!;
    return { labels: s.labels, iterator: () => new ArrayIterator(s) };
  }
  warnings(): readonly string[] {
    return this.warns;
  }
}

/** Fetched selections, readable through the storage seam. */
export class FetchedQueryable implements Queryable {
  constructor(
    private readonly bySelection: ReadonlyMap<string, FetchedSelection>,
    /** Warnings of the fetch as a whole (a remote that failed), reported by every selection. */
    private readonly warnings: readonly string[] = [],
  ) {}

  querier(mint: number, maxt: number): Querier {
    const lookup = (matchers: readonly Matcher[]): FetchedSelection | undefined => this.bySelection.get(matchersKey(matchers));
    const inRange = (s: FetchedSeries, start: number, end: number): boolean => s.ts.length > 0 && s.ts[0]! <= end && s.ts[s.ts.length - 1]! >= start;
    const fetchWarnings = this.warnings;
    return {
      select(hints: SelectHints, matchers: readonly Matcher[]): SeriesSet {
        const sel = lookup(matchers);
        const start = Math.max(mint, hints.start);
        const end = Math.min(maxt, hints.end);
        let list = (sel?.series ?? []).filter((s) => inRange(s, start, end));
        if (hints.limit && list.length > hints.limit) list = list.slice(0, hints.limit);
        return new ListSeriesSet(list, [...fetchWarnings, ...(sel?.warnings ?? [])]);
      },
      labelValues(name: string, matchers: readonly Matcher[], limit?: number): string[] {
        const values = new Set<string>();
        for (const s of lookup(matchers)?.series ?? []) {
          if (!inRange(s, mint, maxt)) continue;
          const l = s.labels.find((x) => x.name === name);
          if (l) values.add(l.value);
        }
        const out = [...values].sort(compareStrings);
        return limit && out.length > limit ? out.slice(0, limit) : out;
      },
      labelNames(matchers: readonly Matcher[], limit?: number): string[] {
        const names = new Set<string>();
        for (const s of lookup(matchers)?.series ?? []) if (inRange(s, mint, maxt)) for (const l of s.labels) names.add(l.name);
        const out = [...names].sort(compareStrings);
        return limit && out.length > limit ? out.slice(0, limit) : out;
      },
      close(): void {},
    };
  }
}
