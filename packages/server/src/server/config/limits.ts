/**
 * The `limits:` section: bounds that keep the server up under a flood of series, streams, samples,
 * log bytes, alerts or silences. Each has the name Prometheus, Mimir, Loki or Alertmanager give
 * it; 0 turns one off. Past a limit new writes get a 4xx naming it; what was accepted stays.
 */

/** The limits, by their configuration names. */
export interface LimitsConfig {
  /** Series in the metrics head (Mimir's max_global_series_per_user). */
  max_global_series: number;
  /** Series in the head with one metric name (Mimir's max_global_series_per_metric). */
  max_global_series_per_metric: number;
  /** Labels per series or log stream. */
  max_label_names_per_series: number;
  max_label_name_length: number;
  max_label_value_length: number;
  /** Samples a second through remote_write, and the burst (Mimir's ingestion_rate, ingestion_burst_size). */
  ingestion_rate: number;
  ingestion_burst_size: number;
  /** Log streams held (Loki's max_global_streams_per_user). */
  max_streams: number;
  /** Longest log line in bytes (Loki's max_line_size). */
  max_line_size: number;
  /** Log bytes a second in MiB, and the burst (Loki's ingestion_rate_mb, ingestion_burst_size_mb). */
  ingestion_rate_mb: number;
  ingestion_burst_size_mb: number;
  /** Alerts held by the Alertmanager API (Alertmanager's --alerts.max). */
  max_alerts: number;
  /** Silences active or pending (Alertmanager's --silences.max-silences). */
  max_silences: number;
  /** Spans one trace may have; spans past it are refused in partial_success. */
  max_spans_per_trace: number;
  /** Attributes on one span (and on its resource, each event and link). */
  max_attributes_per_span: number;
  /** Longest attribute key or string value in bytes (Tempo's max_attribute_bytes). */
  max_attribute_bytes: number;
  /** Spans a second through OTLP trace ingest, and the burst (429 + Retry-After past it). */
  traces_ingestion_rate: number;
  traces_ingestion_burst_size: number;
}

/**
 * Production defaults, sized for one server with a few GiB of memory: a million head series take
 * about 1–1.5 GiB, so the series limit leaves room for queries over them; the per-metric limit
 * stops one runaway label (a request id, say) from taking the whole budget.
 */
export function defaultLimits(): LimitsConfig {
  return {
    max_global_series: 1_000_000,
    max_global_series_per_metric: 200_000,
    max_label_names_per_series: 30,
    max_label_name_length: 1024,
    max_label_value_length: 2048,
    ingestion_rate: 1_000_000,
    ingestion_burst_size: 2_000_000,
    max_streams: 100_000,
    max_line_size: 256 * 1024,
    ingestion_rate_mb: 64,
    ingestion_burst_size_mb: 128,
    max_alerts: 100_000,
    max_silences: 10_000,
    max_spans_per_trace: 50_000,
    max_attributes_per_span: 128,
    max_attribute_bytes: 2048,
    traces_ingestion_rate: 200_000,
    traces_ingestion_burst_size: 400_000,
  };
}

/** Limits given as sizes (`256KB`) rather than counts. */
export const SIZE_LIMITS: ReadonlySet<keyof LimitsConfig> = new Set(['max_line_size', 'max_attribute_bytes']);
/** Limits that may be fractional (MiB a second). */
export const FRACTIONAL_LIMITS: ReadonlySet<keyof LimitsConfig> = new Set(['ingestion_rate_mb', 'ingestion_burst_size_mb']);
