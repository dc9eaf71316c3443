/**
 * Counts of writes refused per limit, by the limit's configuration name (`max_global_series`, …),
 * so /metrics can tell which limit is being hit and how often.
 */
export class LimitRefusals {
  private readonly counts = new Map<string, number>();

  /** Records `n` refusals (requests, series, lines or alerts) by `limit`. */
  add(limit: string, n = 1): void {
    this.counts.set(limit, (this.counts.get(limit) ?? 0) + n);
  }

  get(limit: string): number {
    return this.counts.get(limit) ?? 0;
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}

/**
 * One limit as /metrics and the status API show it: its configured value (0: unlimited) and, where
 * it is a level rather than a per-item bound, what is used of it now.
 */
export interface LimitReading {
  readonly limit: string;
  readonly value: number;
  readonly usage?: () => number;
}
