/**
 * The `limits:` section turned into what each component takes (the head's series limits, the log
 * ingest limits) and into the readings /metrics reports, so the mapping of names lives in one place.
 */
import type { LimitReading } from '../../core/limits/refusals.js';
import type { SeriesLimits } from '../../metrics/tsdb/series_limits.js';
import type { DB } from '../../metrics/tsdb/db.js';
import type { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { DEFAULT_LOG_LIMITS, type LogLimits } from '../../logs/ingest/limits.js';
import type { LogStore } from '../../logs/store/index.js';
import type { AlertRouter } from '../../alerting/alertmanager/router.js';
import type { LimitsConfig } from './limits.js';
import { DEFAULT_TRACE_LIMITS, type TraceLimits } from '../../traces/ingest/limits.js';

const MIB = 1024 * 1024;

export function seriesLimitsOf(l: LimitsConfig): SeriesLimits {
  return {
    maxGlobalSeries: l.max_global_series,
    maxGlobalSeriesPerMetric: l.max_global_series_per_metric,
    maxLabelNamesPerSeries: l.max_label_names_per_series,
    maxLabelNameLength: l.max_label_name_length,
    maxLabelValueLength: l.max_label_value_length,
  };
}

/** The log ingest limits; the label limits are shared with metrics series (a stream is a series of lines). */
export function logLimitsOf(l: LimitsConfig): LogLimits {
  // The log ingest checks take no 0-for-off: an unlimited limit is the largest number.
  const orMax = (n: number): number => (n > 0 ? n : Number.MAX_SAFE_INTEGER);
  return {
    ...DEFAULT_LOG_LIMITS,
    maxLineBytes: orMax(l.max_line_size),
    maxLabelNames: orMax(l.max_label_names_per_series),
    maxLabelNameLength: orMax(l.max_label_name_length),
    maxLabelValueLength: orMax(l.max_label_value_length),
    rateBytesPerSec: l.ingestion_rate_mb * MIB,
    burstBytes: l.ingestion_burst_size_mb * MIB,
  };
}

/** The trace ingest limits (0: off, which the checks take as the largest number; the rate's 0 is its own off). */
export function traceLimitsOf(l: LimitsConfig): TraceLimits {
  const orMax = (n: number): number => (n > 0 ? n : Number.MAX_SAFE_INTEGER);
  return {
    ...DEFAULT_TRACE_LIMITS,
    maxSpansPerTrace: l.max_spans_per_trace,
    maxAttributesPerSpan: orMax(l.max_attributes_per_span),
    maxAttributeValueBytes: orMax(l.max_attribute_bytes),
    rateSpansPerSec: l.traces_ingestion_rate,
    burstSpans: l.traces_ingestion_burst_size,
  };
}

/** Every limit with its configured value and, for limits on a level, a reader of its usage. */
export function limitReadings(l: LimitsConfig, db: DB, rw: RemoteWriteReceiver, logs: LogStore, alerts: AlertRouter): LimitReading[] {
  return [
    { limit: 'max_global_series', value: l.max_global_series, usage: () => db.head.numSeries },
    { limit: 'max_global_series_per_metric', value: l.max_global_series_per_metric, usage: () => db.head.largestMetricSeries() },
    { limit: 'max_label_names_per_series', value: l.max_label_names_per_series },
    { limit: 'max_label_name_length', value: l.max_label_name_length },
    { limit: 'max_label_value_length', value: l.max_label_value_length },
    { limit: 'ingestion_rate', value: l.ingestion_rate },
    // The burst's usage is how far the bucket is drained: at the burst size, writes are being refused.
    { limit: 'ingestion_burst_size', value: l.ingestion_burst_size, usage: () => (rw.rate.unlimited ? 0 : rw.rate.burst - rw.rate.available()) },
    { limit: 'max_streams', value: l.max_streams, usage: () => logs.streamCount },
    { limit: 'max_line_size', value: l.max_line_size },
    { limit: 'ingestion_rate_mb', value: l.ingestion_rate_mb },
    { limit: 'ingestion_burst_size_mb', value: l.ingestion_burst_size_mb },
    { limit: 'max_alerts', value: l.max_alerts, usage: () => alerts.alertCount },
    { limit: 'max_silences', value: l.max_silences, usage: () => alerts.silences.unexpired() },
    { limit: 'max_spans_per_trace', value: l.max_spans_per_trace },
    { limit: 'max_attributes_per_span', value: l.max_attributes_per_span },
    { limit: 'max_attribute_bytes', value: l.max_attribute_bytes },
    { limit: 'traces_ingestion_rate', value: l.traces_ingestion_rate },
    { limit: 'traces_ingestion_burst_size', value: l.traces_ingestion_burst_size },
  ];
}
