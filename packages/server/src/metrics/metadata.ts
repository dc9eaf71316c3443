/** Metric metadata (type, help, unit) learned from remote_write and scrapes, for `/api/v1/metadata`. */

/** One metric family's metadata. */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

/** Keeps the latest metadata per metric family; bounded so a noisy sender cannot grow it forever. */
export class MetadataStore {
  private readonly byFamily = new Map<string, MetricMetadata>();

  constructor(private readonly maxFamilies = 100_000) {}

  set(family: string, md: MetricMetadata): void {
    if (family === '') return;
    if (!this.byFamily.has(family) && this.byFamily.size >= this.maxFamilies) return;
    this.byFamily.set(family, md);
  }

  get(family: string): MetricMetadata | undefined {
    return this.byFamily.get(family);
  }

  /** All families, sorted, at most `limit` (0: all). */
  list(limit = 0): Array<[string, MetricMetadata]> {
    const out = [...this.byFamily.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    if (limit > 0 && out.length > limit) out.length = limit;
    return out;
  }
}
