/**
 * The generator's series, kept cumulative in memory like a client library's registry, so that each
 * flush writes running totals and PromQL's rate() works on them. A restart starts them from zero,
 * which PromQL reads as an ordinary counter reset. New series past `maxActiveSeries` are refused
 * and counted; series already present keep counting. A series no span has updated for
 * `staleMs` (Tempo's `stale_duration`) is dropped at the next flush: its last write is a staleness
 * marker, so queries end it at once instead of carrying its last value through the lookback, and
 * its room under the limit is free again. Should its label set come back, it starts from zero.
 * A new series is first written as 0 at the time it was made, then with its value (as Tempo does
 * since its issue 2006): otherwise rate() and increase() would miss the spans that created it, and
 * an edge or operation seen only once would show no traffic at all.
 */
import { STALE_NAN } from '../../core/model/value.js';
import type { Span } from '../storage/types.js';
import { durationSeconds, endMs } from './attrs.js';
import type { GeneratedExemplar, GeneratedSample } from './output.js';

type LabelRecord = Readonly<Record<string, string>>;

export interface CounterSeries {
  readonly labels: LabelRecord;
  value: number;
  /** The generator's clock when a span last updated it. */
  seenAt: number;
  /** When it was made; until its first flush `written` is false and the flush adds its zero. */
  readonly createdAt: number;
  written?: boolean;
  /** Set when the series was dropped as stale: whoever cached it must look it up again. */
  expired?: boolean;
}

export interface HistogramSeries {
  readonly labels: LabelRecord;
  readonly buckets: readonly number[];
  /** Per bucket (not cumulative; made cumulative when written), the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
  /** Newest span per bucket since the last flush: its ids and end become the bucket's exemplar. */
  readonly exemplars: (Span | undefined)[];
  seenAt: number;
  readonly createdAt: number;
  written?: boolean;
  expired?: boolean;
}

/** Adds one observation of `seconds`; `span` becomes its bucket's exemplar. */
export function observe(h: HistogramSeries, seconds: number, span?: Span): void {
  const b = h.buckets;
  let i = 0;
  while (i < b.length && seconds > b[i]!) i++;
  h.counts[i]!++;
  h.sum += seconds;
  h.count++;
  if (span) h.exemplars[i] = span;
}

/** Formats a bucket bound as Prometheus' clients do (shortest round-trip decimal). */
function formatLe(b: number): string {
  return b === Infinity ? '+Inf' : String(b);
}

export class GeneratorRegistry {
  private readonly counters = new Map<string, Map<string, CounterSeries>>();
  private readonly histograms = new Map<string, Map<string, HistogramSeries>>();
  private active = 0;
  /** Series refused because the limit was reached (each time one was asked for). */
  refused = 0;
  /** Series dropped as stale, each histogram counting its buckets, sum and count. */
  expiredSeries = 0;
  /** The clock of the batch being counted, set by the generator once per push and per flush. */
  stamp = 0;
  /** The time of the last collect: a label set ended then and made again starts after its marker. */
  private lastCollect = -Infinity;

  /** `staleMs` 0: series are kept for as long as the process runs. */
  constructor(
    private readonly maxActiveSeries: number,
    private readonly staleMs = 0,
  ) {}

  /** Series held now (each histogram counts its buckets, +Inf, sum and count). */
  activeSeries(): number {
    return this.active;
  }

  /** Takes room for `cost` new series, or counts them refused. Callers that need several series at once admit them together. */
  admit(cost: number): boolean {
    if (this.maxActiveSeries > 0 && this.active + cost > this.maxActiveSeries) {
      this.refused += cost;
      return false;
    }
    this.active += cost;
    return true;
  }

  /**
   * The counter `name` whose label set has `key`, made from `labels()` on first sight; undefined when
   * refused by the limit. `admitted`: the caller has already taken room for it.
   */
  counter(name: string, key: string, labels: () => LabelRecord, admitted = false): CounterSeries | undefined {
    let fam = this.counters.get(name);
    if (!fam) this.counters.set(name, (fam = new Map()));
    let s = fam.get(key);
    if (!s) {
      if (!admitted && !this.admit(1)) return undefined;
      fam.set(key, (s = { labels: labels(), value: 0, seenAt: this.stamp, createdAt: this.stamp }));
    }
    s.seenAt = this.stamp;
    return s;
  }

  /** The histogram `name` (bounds `buckets`, seconds) whose label set has `key`; undefined when refused. */
  histogram(name: string, buckets: readonly number[], key: string, labels: () => LabelRecord, admitted = false): HistogramSeries | undefined {
    let fam = this.histograms.get(name);
    if (!fam) this.histograms.set(name, (fam = new Map()));
    let s = fam.get(key);
    if (!s) {
      if (!admitted && !this.admit(buckets.length + 3)) return undefined;
      const n = buckets.length + 1;
      fam.set(
        key,
        (s = {
          labels: labels(),
          buckets,
          counts: new Array<number>(n).fill(0),
          sum: 0,
          count: 0,
          exemplars: new Array(n).fill(undefined),
          seenAt: this.stamp,
          createdAt: this.stamp,
        }),
      );
    }
    s.seenAt = this.stamp;
    return s;
  }

  /** True when the series has gone `staleMs` without an update by the clock `now`. */
  private stale(s: { seenAt: number }, now: number): boolean {
    return this.staleMs > 0 && now - s.seenAt > this.staleMs;
  }

  /**
   * Every series' current value, and the exemplars gathered since the last call (which it clears).
   * Series stale at `now` are removed, each written one last time as a staleness marker.
   */
  collect(now: number = this.stamp): { samples: GeneratedSample[]; exemplars: GeneratedExemplar[] } {
    const samples: GeneratedSample[] = [];
    const exemplars: GeneratedExemplar[] = [];
    /** Writes `value` at the flush, preceded by the zero of a series not written before. */
    const put = (s: { createdAt: number; written?: boolean }, labels: LabelRecord, value: number): void => {
      if (!s.written) samples.push({ labels, value: 0, ts: Math.min(Math.max(s.createdAt, this.lastCollect + 1), now - 1) });
      samples.push({ labels, value });
    };
    for (const [name, fam] of this.counters) {
      for (const [key, s] of fam) {
        const gone = this.stale(s, now);
        put(s, { __name__: name, ...s.labels }, gone ? STALE_NAN : s.value);
        s.written = true;
        if (gone) this.drop(fam, key, s, 1);
      }
    }
    for (const [name, fam] of this.histograms) {
      for (const [key, s] of fam) {
        const gone = this.stale(s, now);
        let cum = 0;
        for (let i = 0; i <= s.buckets.length; i++) {
          cum += s.counts[i]!;
          const labels = { __name__: `${name}_bucket`, ...s.labels, le: formatLe(i < s.buckets.length ? s.buckets[i]! : Infinity) };
          put(s, labels, gone ? STALE_NAN : cum);
          const ex = s.exemplars[i];
          if (ex) {
            exemplars.push({ labels, value: durationSeconds(ex), ts: endMs(ex), traceId: ex.traceId, spanId: ex.spanId });
            s.exemplars[i] = undefined;
          }
        }
        put(s, { __name__: `${name}_sum`, ...s.labels }, gone ? STALE_NAN : s.sum);
        put(s, { __name__: `${name}_count`, ...s.labels }, gone ? STALE_NAN : s.count);
        s.written = true;
        if (gone) this.drop(fam, key, s, s.buckets.length + 3);
      }
    }
    this.lastCollect = now;
    return { samples, exemplars };
  }

  private drop<T extends { expired?: boolean }>(fam: Map<string, T>, key: string, s: T, cost: number): void {
    fam.delete(key);
    s.expired = true;
    this.active -= cost;
    this.expiredSeries += cost;
  }
}
