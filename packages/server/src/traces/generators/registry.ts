/**
 * The generator's series, kept cumulative in memory like a client library's registry, so that each
 * flush writes running totals and PromQL's rate() works on them. A restart starts them from zero,
 * which PromQL reads as an ordinary counter reset. New series past `maxActiveSeries` are refused
 * and counted; series already present keep counting.
 */
import type { Span } from '../storage/types.js';
import { durationSeconds, endMs } from './attrs.js';
import type { GeneratedExemplar, GeneratedSample } from './output.js';

type LabelRecord = Readonly<Record<string, string>>;

export interface CounterSeries {
  readonly labels: LabelRecord;
  value: number;
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

  constructor(private readonly maxActiveSeries: number) {}

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
      fam.set(key, (s = { labels: labels(), value: 0 }));
    }
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
      fam.set(key, (s = { labels: labels(), buckets, counts: new Array<number>(n).fill(0), sum: 0, count: 0, exemplars: new Array(n).fill(undefined) }));
    }
    return s;
  }

  /** Every series' current value, and the exemplars gathered since the last call (which it clears). */
  collect(): { samples: GeneratedSample[]; exemplars: GeneratedExemplar[] } {
    const samples: GeneratedSample[] = [];
    const exemplars: GeneratedExemplar[] = [];
    for (const [name, fam] of this.counters) for (const s of fam.values()) samples.push({ labels: { __name__: name, ...s.labels }, value: s.value });
    for (const [name, fam] of this.histograms) {
      for (const s of fam.values()) {
        let cum = 0;
        for (let i = 0; i <= s.buckets.length; i++) {
          cum += s.counts[i]!;
          const labels = { __name__: `${name}_bucket`, ...s.labels, le: formatLe(i < s.buckets.length ? s.buckets[i]! : Infinity) };
          samples.push({ labels, value: cum });
          const ex = s.exemplars[i];
          if (ex) {
            exemplars.push({ labels, value: durationSeconds(ex), ts: endMs(ex), traceId: ex.traceId, spanId: ex.spanId });
            s.exemplars[i] = undefined;
          }
        }
        samples.push({ labels: { __name__: `${name}_sum`, ...s.labels }, value: s.sum });
        samples.push({ labels: { __name__: `${name}_count`, ...s.labels }, value: s.count });
      }
    }
    return { samples, exemplars };
  }
}
