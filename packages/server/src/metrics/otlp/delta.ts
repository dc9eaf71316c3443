/**
 * Delta temporality into cumulative series. Prometheus keeps counters cumulative, so each delta
 * sample is added to the series' running total. The total is read from what is stored: the TSDB's
 * latest sample of the series (in the WAL before it was acknowledged, so it survives a restart or
 * a kill -9 exactly as the samples do), kept in memory once read. Nothing else needs persisting,
 * and a crash between a write and a separate state file cannot make the two disagree.
 */
import type { FloatHistogram } from '../../core/model/histogram.js';
import { labelsKey, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { isStaleNaN } from '../../core/model/value.js';
import type { Queryable } from '../storage/interface.js';

/** The newest stored sample of a series: a float, or a native histogram (`v` NaN). */
export interface Last {
  t: number;
  v: number;
  h?: FloatHistogram;
}

/** How far back a total is looked up; a series silent for longer starts again from its delta (a counter reset to rate()). */
export const DELTA_LOOKBACK_MS = 24 * 3600_000;

/** A store that keeps each series' newest sample at hand (the agent's, which has no queries). */
export interface LatestSampleSource {
  latestSample(labels: Labels, t: number, lookbackMs: number): Last | undefined;
}

/** How running totals are read back: from the store's newest-sample record, else by a query. */
export function totalsLookup(store: Queryable | LatestSampleSource): (labels: Labels, t: number) => Last | undefined {
  if ('latestSample' in store) return (labels, t) => store.latestSample(labels, t, DELTA_LOOKBACK_MS);
  return storeLookup(store);
}

/** Reads the newest sample of exactly `labels` at or before `t`, from the store. */
export function storeLookup(store: Queryable): (labels: Labels, t: number) => Last | undefined {
  return (labels, t) => {
    const q = store.querier(t - DELTA_LOOKBACK_MS, t);
    try {
      const set = q.select(
        { start: t - DELTA_LOOKBACK_MS, end: t },
        labels.map((l) => new Matcher('=', l.name, l.value)),
      );
      const key = labelsKey(labels);
      while (set.next()) {
        const s = set.at();
        if (labelsKey(s.labels) !== key) continue;
        const it = s.iterator();
        let last: Last | undefined;
        while (it.next()) {
          if (isStaleNaN(it.v())) continue;
          const h = it.h?.();
          last = h === undefined ? { t: it.t(), v: it.v() } : { t: it.t(), v: NaN, h };
        }
        return last;
      }
      return undefined;
    } finally {
      q.close();
    }
  };
}

/** Running totals of delta series, with the changes of one request held apart until it commits. */
export class DeltaState {
  private readonly totals = new Map<string, Last>();
  private readonly pending = new Map<string, Last>();
  private lastSweep = 0;

  constructor(
    private readonly lookup: (labels: Labels, t: number) => Last | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The cumulative value for a delta `v` (or histogram `h`) at `t`, or a refusal when `t` is not
   * after the series' latest total (the increment cannot be placed: the head takes samples in
   * order only). `key` is `labelsKey(labels)`, made once per series by a caller that keeps it. A histogram is added bucket by bucket, at the coarser of the two schemas; a series
   * whose latest total is of the other kind starts again from the delta.
   */
  add(labels: Labels, t: number, v: number, h?: FloatHistogram, key = labelsKey(labels)): { key: string; total: Last } | string {
    // Read back the series' newest total, not the newest before `t`: with an out-of-order window the
    // head would take a late point, and a total placed among later ones would read as a counter reset.
    const prev = this.pending.get(key) ?? this.totals.get(key) ?? this.lookup(labels, Math.max(t, this.now()));
    if (prev !== undefined && prev.t >= t)
      return `delta sample at ${new Date(t).toISOString()} is not after the series' latest (${new Date(prev.t).toISOString()})`;
    if (h === undefined) return { key, total: { t, v: prev === undefined || prev.h !== undefined ? v : prev.v + v } };
    if (prev?.h === undefined || prev.h.usesCustomBuckets() !== h.usesCustomBuckets()) return { key, total: { t, v: NaN, h } };
    return { key, total: { t, v: NaN, h: prev.h.add(h).with({ counterResetHint: h.counterResetHint }) } };
  }

  /** Records a total the current request appended. */
  stage(key: string, total: Last): void {
    this.pending.set(key, total);
  }

  /** The request committed: its totals become the series'. */
  commit(): void {
    for (const [k, v] of this.pending) this.totals.set(k, v);
    this.pending.clear();
    const now = this.now();
    if (now - this.lastSweep > 600_000) {
      this.lastSweep = now;
      for (const [k, v] of this.totals) if (v.t < now - DELTA_LOOKBACK_MS) this.totals.delete(k);
    }
  }

  rollback(): void {
    this.pending.clear();
  }

  get size(): number {
    return this.totals.size;
  }
}
