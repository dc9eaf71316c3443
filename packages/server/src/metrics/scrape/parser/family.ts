/**
 * Which samples belong to which metric family. A `# TYPE foo histogram` line covers `foo_bucket`,
 * `foo_sum`, `foo_count` and (OpenMetrics) `foo_created`; a counter `foo` covers `foo_total` and
 * `foo_created`, and Prometheus also accepts a family declared as `foo_total`. The suffix sets
 * follow Prometheus' `textparse` family checks and the OpenMetrics 1.0 specification.
 */
import type { MetricType } from './types.js';

const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  gauge: [],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['_sum', '_count', '_created'],
  info: ['_info'],
  stateset: [],
  unknown: [],
};

/** The sample-name suffixes that a family of type `type` may add to its name. */
export function familySuffixes(type: MetricType): readonly string[] {
  return SUFFIXES[type];
}

/** True when the sample named `metricName` belongs to family `family` of type `type`. */
export function isSeriesOfFamily(metricName: string, family: string, type: MetricType): boolean {
  // A counter family may be declared with its suffix already (`# TYPE foo_total counter`).
  if (type === 'counter' && family.endsWith('_total') && metricName === family.slice(0, -6) + '_created') return true;
  if (!metricName.startsWith(family)) return false;
  if (metricName.length === family.length) return true;
  for (const suffix of SUFFIXES[type]) {
    if (metricName.length === family.length + suffix.length && metricName.endsWith(suffix)) return true;
  }
  return false;
}

/** True when `metricName` is an OpenMetrics `_created` sample of a type that has one. */
export function isCreatedName(metricName: string, type: MetricType): boolean {
  return (type === 'counter' || type === 'histogram' || type === 'summary') && metricName.endsWith('_created');
}
