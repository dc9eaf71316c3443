/**
 * Self-monitoring of exemplar storage, under Vigil's prefix and, with the same help and values,
 * under Prometheus' own `prometheus_tsdb_exemplar_*` names, so the exemplar panels of Prometheus'
 * dashboards work on Vigil unchanged.
 */
import type { SelfRegistry, SelfMetricType } from '../../core/selfmon/registry.js';
import type { ExemplarStorage } from '../../metrics/exemplars/storage.js';

/** Registers the exemplar storage metrics. */
export function registerExemplarMetrics(reg: SelfRegistry, storage: ExemplarStorage): void {
  const both = (suffix: string, type: SelfMetricType, help: string, collect: () => number): void => {
    reg.register(`vigil_tsdb_exemplar_${suffix}`, type, help, collect);
    reg.register(`prometheus_tsdb_exemplar_${suffix}`, type, help, collect);
  };
  both('exemplars_appended_total', 'counter', 'Total number of appended exemplars.', () => storage.stats.appended);
  both('exemplars_in_storage', 'gauge', 'Number of exemplars currently in circular storage.', () => storage.size);
  both('series_with_exemplars_in_storage', 'gauge', 'Number of series with exemplars currently in circular storage.', () => storage.seriesCount);
  both('max_exemplars', 'gauge', 'Total number of exemplars the exemplar storage can store, resizeable.', () => storage.maxExemplars);
  both('out_of_order_exemplars_total', 'counter', 'Total number of out of order exemplar ingestion failed attempts.', () => storage.stats.outOfOrder);
  // Vigil's own: Prometheus only logs these.
  reg.register(
    'vigil_tsdb_exemplar_label_too_long_total',
    'counter',
    'Exemplars dropped because their label set exceeded 128 UTF-8 characters (their samples are kept).',
    () => storage.stats.tooLong,
  );
}
