/**
 * The per-metric cap on label sets. Each capped metric keeps its children (prom-client's bound
 * label handles) in a map keyed by the joined label values; past the cap, new label sets are not
 * recorded and `vigil_metric_label_sets_dropped_total{metric}` counts the dropped observations.
 * The map doubles as a cache, so the hot path does one string lookup instead of hashing labels.
 */
import { Counter, type Registry } from 'prom-client';

/** Counts what the caps dropped, per metric. */
export class CardinalityGuard {
  /** `vigil_metric_label_sets_dropped_total{metric}`. */
  readonly dropped: Counter<'metric'>;

  /**
   * @param registry where the dropped counter is registered
   * @param maxLabelSets the default cap for each metric
   */
  constructor(
    registry: Registry,
    readonly maxLabelSets: number,
  ) {
    this.dropped = new Counter({
      name: 'vigil_metric_label_sets_dropped_total',
      help: 'Observations not recorded because their metric reached its cap on label sets.',
      labelNames: ['metric'],
      registers: [registry],
    });
  }

  /** A capped child cache for one metric. */
  cache<T>(metric: string, max = this.maxLabelSets): LabelSetCache<T> {
    return new LabelSetCache<T>(metric, max, this.dropped.labels(metric));
  }
}

/** Children of one metric, at most `max` of them. */
export class LabelSetCache<T> {
  private readonly children = new Map<string, T>();

  constructor(
    /** The metric's name, as counted in the dropped counter. */
    readonly metric: string,
    /** The cap on label sets. */
    readonly max: number,
    private readonly droppedCounter: { inc(): void },
  ) {}

  /** The child for `key`, made by `make` on first use, or undefined (and counted) past the cap. */
  get(key: string, make: () => T): T | undefined {
    const c = this.children.get(key);
    if (c !== undefined) return c;
    if (this.children.size >= this.max) {
      this.droppedCounter.inc();
      return undefined;
    }
    const made = make();
    this.children.set(key, made);
    return made;
  }

  /** How many label sets are in use. */
  get size(): number {
    return this.children.size;
  }
}

/** A stable cache key for a label object: values in sorted-name order. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  let k = '';
  for (const n of names) k += `${n}\u0000${labels[n] ?? ''}\u0001`;
  return k;
}
