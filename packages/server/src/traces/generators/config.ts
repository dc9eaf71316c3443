/** Options of the metrics generator (`traces.metrics_generator` in vigil.yml), with Tempo's defaults. */

export interface ServiceGraphOptions {
  /** How long an edge waits for its other half, ms (Tempo's `wait`, 10s). */
  waitMs: number;
  /** Edges waiting at once (Tempo's `max_items`); a span past it is counted as dropped. */
  maxItems: number;
  /** Extra span or resource attributes as labels, each `client_<name>` and `server_<name>`. */
  dimensions: string[];
  /** Latency buckets, seconds. */
  histogramBuckets: number[];
}

export interface MetricsGeneratorOptions {
  /** Off: no span metrics, no service graph. */
  enabled: boolean;
  /** Extra span or resource attributes as span-metrics labels (dots become underscores). */
  dimensions: string[];
  /** Span-metrics latency buckets, seconds. */
  histogramBuckets: number[];
  /** Series (each histogram bucket, sum and count one) the generator may create; 0: no limit. */
  maxActiveSeries: number;
  /** How often the series are written to the TSDB, ms. */
  flushIntervalMs: number;
  /**
   * A series no span has updated for this long is dropped (ended with a staleness marker, its room
   * under maxActiveSeries freed), ms; 0 keeps series forever. Tempo's `registry.stale_duration`, 15m.
   */
  staleMs: number;
  /**
   * Spans ending further than this from the generator's clock (either way) are not counted, ms; 0
   * counts every span. Tempo's `metrics_ingestion_time_range_slack` (its default is 30s): a batch
   * a collector resends after an outage would otherwise count as traffic now.
   */
  ingestionSlackMs: number;
  serviceGraph: ServiceGraphOptions;
}

/** Tempo's span-metrics buckets: 2 ms doubling to about 16 s. */
export const SPANMETRICS_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.002 * 2 ** i);
/** Tempo's service-graph buckets: 100 ms doubling to 12.8 s. */
export const SERVICE_GRAPH_BUCKETS = Array.from({ length: 8 }, (_, i) => 0.1 * 2 ** i);

export function defaultMetricsGeneratorOptions(): MetricsGeneratorOptions {
  return {
    enabled: true,
    dimensions: [],
    histogramBuckets: [...SPANMETRICS_BUCKETS],
    maxActiveSeries: 100_000,
    flushIntervalMs: 15_000,
    staleMs: 15 * 60_000,
    ingestionSlackMs: 0,
    serviceGraph: { waitMs: 10_000, maxItems: 10_000, dimensions: [], histogramBuckets: [...SERVICE_GRAPH_BUCKETS] },
  };
}

/** A label name from an attribute name, as Tempo does: anything outside [a-zA-Z0-9_] becomes `_`, a leading digit gets one too. */
export function labelNameOf(attribute: string): string {
  const s = attribute.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
