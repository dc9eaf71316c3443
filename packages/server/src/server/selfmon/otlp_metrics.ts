/** Self-metrics of OTLP metrics ingest (HTTP and gRPC share one ingestor). */
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import type { OtlpMetricsIngestor } from '../../metrics/otlp/ingest.js';

export function registerOtlpMetricsIngest(reg: SelfRegistry, ingestor: OtlpMetricsIngestor): void {
  const s = ingestor.stats;
  reg.register('vigil_otlp_metrics_requests_total', 'counter', 'OTLP metrics export requests received (HTTP and gRPC).', () => s.requests);
  reg.register('vigil_otlp_metrics_data_points_received_total', 'counter', 'OTLP metric data points stored.', () => s.dataPoints);
  reg.register('vigil_otlp_metrics_samples_appended_total', 'counter', 'Samples the stored OTLP data points became.', () => s.samples);
  reg.register(
    'vigil_otlp_metrics_data_points_rejected_total',
    'counter',
    'OTLP metric data points refused one by one (reported in partial_success).',
    () => s.rejectedDataPoints,
  );
  reg.register('vigil_otlp_metrics_refused_total', 'counter', 'OTLP metrics export requests refused as a whole, by reason.', () =>
    Object.entries(s.refused).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  reg.register('vigil_otlp_metrics_delta_series', 'gauge', 'Delta-temporality series whose running totals are held in memory.', () => ingestor.delta.size);
}
