/**
 * The generator's series, kept cumulative in memory like a client library's registry, so that each
 * flush writes running totals and PromQL's rate() works on them. A restart starts them from zero,
 * which PromQL reads as an ordinary counter reset. New series past `maxActiveSeries` are refused
 * and counted; series already present keep counting.
 */
import type { GeneratedExemplar, GeneratedSample } from './output.js';

type LabelRecord = Record<string, string>;

interface CounterSeries {
  readonly labels: LabelRecord;
  value: number;
}

interface HistogramSeries {
  readonly labels: LabelRecord;
  /** Per bucket (not cumulative; made cumulative when written), the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
  /** Newest exemplar per bucket since the last flush. */
  readonly exemplars: (Omit<GeneratedExemplar, 'labels'> | undefined)[];
}

/** A key for a label record whose keys are always inserted in the same order by the caller. */
function keyOf(values: readonly string[]): string {
  return values.join('\u0000');
}

/** Formats a bucket bound as Prometheus' clients do (shortest round-trip decimal). */
function formatLe(b: number): string {
  return b === Infinity ? '+Inf' : String(b);
}

export class GeneratorRegistry {
  private readonly counters = new Map<string, Map<string, CounterSeries>>();
  private readonly histograms = new Map<string, { buckets: number[]; series: Map<string, HistogramSeries> }>();
  private active = 0;
  /** New series refused because the limit was reached. */
  refused = 0;

  constructor(private readonly maxActiveSeries: number) {}

  /** Series held now (each histogram counts its buckets, +Inf, sum and count). */
  activeSeries(): number {
    return this.active;
  }

  private admit(cost: number): boolean {
    if (this.maxActiveSeries > 0 && this.active + cost > this.maxActiveSeries) {
      this.refused++;
      return false;
    }
    this.active += cost;
    return true;
  }

  /** Adds `by` to counter `name` with `labels` (the values in `order` form the key). */
  inc(name: string, labels: LabelRecord, by = 1): void {
    let fam = this.counters.get(name);
    if (!fam) this.counters.set(name, (fam = new Map()));
    const key = keyOf(Object.values(labels));
    let s = fam.get(key);
    if (!s) {
      if (!this.admit(1)) return;
      fam.set(key, (s = { labels, value: 0 }));
    }
    s.value += by;
  }

  /** Observes `seconds` in histogram `name`; the span's ids become the bucket's exemplar. */
  observe(name: string, buckets: readonly number[], labels: LabelRecord, seconds: number, ex?: { ts: number; traceId: string; spanId: string }): void {
    let fam = this.histograms.get(name);
    if (!fam) this.histograms.set(name, (fam = { buckets: [...buckets], series: new Map() }));
    const key = keyOf(Object.values(labels));
    let s = fam.series.get(key);
    if (!s) {
      if (!this.admit(fam.buckets.length + 3)) return;
      const n = fam.buckets.length + 1;
      fam.series.set(key, (s = { labels, counts: new Array<number>(n).fill(0), sum: 0, count: 0, exemplars: new Array(n).fill(undefined) }));
    }
    let i = 0;
    while (i < fam.buckets.length && seconds > fam.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
    if (ex) s.exemplars[i] = { value: seconds, ...ex };
  }

  /** Every series' current value, and the exemplars gathered since the last call (which it clears). */
  collect(): { samples: GeneratedSample[]; exemplars: GeneratedExemplar[] } {
    const samples: GeneratedSample[] = [];
    const exemplars: GeneratedExemplar[] = [];
    for (const [name, fam] of this.counters) for (const s of fam.values()) samples.push({ labels: { __name__: name, ...s.labels }, value: s.value });
    for (const [name, fam] of this.histograms) {
      for (const s of fam.series.values()) {
        let cum = 0;
        for (let i = 0; i <= fam.buckets.length; i++) {
          cum += s.counts[i]!;
          const labels = { __name__: `${name}_bucket`, ...s.labels, le: formatLe(i < fam.buckets.length ? fam.buckets[i]! : Infinity) };
          samples.push({ labels, value: cum });
          const ex = s.exemplars[i];
          if (ex) {
            exemplars.push({ labels, ...ex });
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
