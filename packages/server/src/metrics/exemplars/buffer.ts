/**
 * The in-memory exemplar store: one circular buffer of fixed size shared by all series, as
 * Prometheus' `CircularExemplarStorage`. Each slot belongs to one series and links to that series'
 * next newer slot, so a series' exemplars are read oldest first without scanning the whole buffer,
 * and overwriting the oldest slot of the buffer (always the oldest of its series) costs O(1).
 * Columns are typed arrays and the exemplar's own labels one flat string per slot, which keeps
 * 100,000 exemplars within a few megabytes.
 */
import { labelsKey, type Label, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { getLabel } from '../../core/model/labels.js';

/** OpenMetrics: an exemplar's label names and values together hold at most 128 UTF-8 characters. */
export const EXEMPLAR_MAX_LABEL_RUNES = 128;

/** One exemplar of a series, as handed to {@link ExemplarBuffer.add}. */
export interface ExemplarInput {
  readonly seriesLabels: Labels;
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly ts: number;
}

/** One stored exemplar, as a query returns it. */
export interface StoredExemplar {
  readonly labels: Labels;
  readonly value: number;
  readonly ts: number;
}

/** A series and its exemplars in a time range, oldest first. */
export interface ExemplarQueryResult {
  readonly seriesLabels: Labels;
  readonly exemplars: StoredExemplar[];
}

/** Why an exemplar was not added; `undefined` from {@link ExemplarBuffer.check} means it will be. */
export type ExemplarRefusal = 'duplicate' | 'out_of_order' | 'too_long';

interface SeriesEntry {
  readonly labels: Labels;
  oldest: number;
  newest: number;
}

/** Counts UTF-8 characters (code points), as Go's utf8.RuneCountInString. */
function runes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // The high half of a surrogate pair starts a code point; the low half does not count again.
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** The runes an exemplar's label set holds, names and values together. */
export function labelSetRunes(labels: Labels): number {
  let n = 0;
  for (const l of labels) n += runes(l.name) + runes(l.value);
  return n;
}

function decodeLabelsKey(key: string): Labels {
  if (key === '') return [];
  const out: Label[] = [];
  for (const pair of key.slice(0, -1).split('\xfe')) {
    const i = pair.indexOf('\xff');
    out.push({ name: pair.slice(0, i), value: pair.slice(i + 1) });
  }
  return out;
}

/** A bounded circular buffer of exemplars indexed by series. */
export class ExemplarBuffer {
  private readonly ts: Float64Array;
  private readonly values: Float64Array;
  private readonly next: Int32Array;
  private readonly exLabels: Array<string | undefined>;
  private readonly owner: Array<SeriesEntry | undefined>;
  private readonly series = new Map<string, SeriesEntry>();
  private nextIndex = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.ts = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.next = new Int32Array(capacity).fill(-1);
    this.exLabels = new Array<string | undefined>(capacity).fill(undefined);
    this.owner = new Array<SeriesEntry | undefined>(capacity).fill(undefined);
  }

  /** Exemplars held now. */
  get size(): number {
    return this.count;
  }

  /** Series with at least one exemplar. */
  get seriesCount(): number {
    return this.series.size;
  }

  /**
   * Whether `e` would be refused, judged against the newest exemplar of its series (`newest`
   * overrides it, for a batch checked before any of it is added): the same exemplar again is a
   * duplicate (Prometheus skips it silently), an older or equal timestamp is out of order.
   */
  check(e: ExemplarInput, seriesKey: string, newest?: { ts: number; value: number; labelsKey: string }): ExemplarRefusal | undefined {
    if (labelSetRunes(e.labels) > EXEMPLAR_MAX_LABEL_RUNES) return 'too_long';
    let last = newest;
    if (last === undefined) {
      const s = this.series.get(seriesKey);
      if (s !== undefined) last = { ts: this.ts[s.newest]!, value: this.values[s.newest]!, labelsKey: this.exLabels[s.newest]! };
    }
    if (last === undefined) return undefined;
    if (last.ts === e.ts && Object.is(last.value, e.value) && last.labelsKey === labelsKey(e.labels)) return 'duplicate';
    if (e.ts <= last.ts) return 'out_of_order';
    return undefined;
  }

  /** Adds an exemplar that {@link check} accepted, overwriting the oldest slot when full. */
  add(e: ExemplarInput, seriesKey: string): void {
    if (this.capacity === 0) return;
    const idx = this.nextIndex;
    const old = this.owner[idx];
    if (old !== undefined) {
      // The oldest slot of the buffer is the oldest of its series: that series starts one later.
      old.oldest = this.next[idx]!;
      if (old.oldest === -1) this.series.delete(labelsKey(old.labels));
    } else this.count++;
    let s = this.series.get(seriesKey);
    if (s === undefined) {
      s = { labels: e.seriesLabels, oldest: idx, newest: idx };
      this.series.set(seriesKey, s);
    } else {
      this.next[s.newest] = idx;
      s.newest = idx;
    }
    this.owner[idx] = s;
    this.next[idx] = -1;
    this.ts[idx] = e.ts;
    this.values[idx] = e.value;
    this.exLabels[idx] = labelsKey(e.labels);
    this.nextIndex = idx + 1 === this.capacity ? 0 : idx + 1;
  }

  /**
   * Exemplars with `start <= ts <= end` of the series matching any one of the matcher sets (all
   * matchers of a set must match), each series' exemplars oldest first, series in label order.
   */
  select(start: number, end: number, matcherSets: readonly (readonly Matcher[])[]): ExemplarQueryResult[] {
    const out: ExemplarQueryResult[] = [];
    for (const s of this.series.values()) {
      if (!matcherSets.some((ms) => ms.every((m) => m.matches(getLabel(s.labels, m.name))))) continue;
      const exemplars: StoredExemplar[] = [];
      for (let i = s.oldest; i !== -1; i = this.next[i]!) {
        const t = this.ts[i]!;
        if (t < start) continue;
        if (t > end) break;
        exemplars.push({ labels: decodeLabelsKey(this.exLabels[i]!), value: this.values[i]!, ts: t });
      }
      if (exemplars.length > 0) out.push({ seriesLabels: s.labels, exemplars });
    }
    return out;
  }

  /** Every exemplar, oldest first across the whole buffer (the order to write them back in). */
  *all(): Generator<ExemplarInput> {
    if (this.count === 0) return;
    const first = this.count < this.capacity ? 0 : this.nextIndex;
    for (let k = 0; k < this.count; k++) {
      const i = (first + k) % this.capacity;
      yield { seriesLabels: this.owner[i]!.labels, labels: decodeLabelsKey(this.exLabels[i]!), value: this.values[i]!, ts: this.ts[i]! };
    }
  }
}
