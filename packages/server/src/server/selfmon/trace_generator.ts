/** Self-monitoring of the trace metrics generator: its series, the ones its limit refused, its waiting edges. */
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import type { MetricsGenerator } from '../../traces/generators/index.js';

export function registerGeneratorMetrics(reg: SelfRegistry, gen: MetricsGenerator): void {
  reg.register('vigil_traces_generator_spans_total', 'counter', 'Spans the trace metrics generator has read.', () => gen.stats().spans);
  reg.register(
    'vigil_traces_generator_active_series',
    'gauge',
    'Series the trace metrics generator holds (span metrics and service graph).',
    () => gen.stats().activeSeries,
  );
  reg.register(
    'vigil_traces_generator_series_refused_total',
    'counter',
    'New series refused by traces.metrics_generator.max_active_series.',
    () => gen.stats().refusedSeries,
  );
  reg.register(
    'vigil_traces_generator_spans_discarded_total',
    'counter',
    'Spans not counted because they ended outside traces.metrics_generator.metrics_ingestion_time_range_slack.',
    () => gen.stats().discardedSpans,
  );
  reg.register(
    'vigil_traces_generator_series_expired_total',
    'counter',
    'Series dropped after traces.metrics_generator.stale_duration without a span.',
    () => gen.stats().expiredSeries,
  );
  reg.register('vigil_traces_generator_pending_edges', 'gauge', 'Service-graph edges waiting for their other half.', () => gen.stats().pendingEdges);
  reg.register('vigil_traces_generator_failed_samples_total', 'counter', 'Generated samples the TSDB refused.', () => gen.stats().failedSamples);
}
