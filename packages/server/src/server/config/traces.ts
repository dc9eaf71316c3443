/**
 * `traces:` in vigil.yml. For now one part, the metrics generator, named after Tempo's:
 * ```yaml
 * traces:
 *   metrics_generator:
 *     enabled: true
 *     dimensions: [http.method]          # span or resource attributes → labels (dots become _)
 *     histogram_buckets: [0.01, 0.1, 1]  # seconds
 *     max_active_series: 100000          # 0: no limit
 *     flush_interval: 15s
 *     stale_duration: 15m               # a series without spans this long ends (0: never)
 *     metrics_ingestion_time_range_slack: 0s  # spans ending further from now are not counted (0: all)
 *     service_graph: { wait: 10s, max_items: 10000, dimensions: [], histogram_buckets: [...] }
 * ```
 */
import { parseDuration } from '../../core/time/duration.js';
import { defaultMetricsGeneratorOptions, labelNameOf, type MetricsGeneratorOptions } from '../../traces/generators/config.js';
import type { Checker } from './config.js';

export interface TracesConfig {
  metricsGenerator: MetricsGeneratorOptions;
}

type Path = Array<string | number>;

/** Labels span metrics set themselves; a dimension may not take their names. */
const INTRINSIC = ['__name__', 'le', 'service', 'span_name', 'span_kind', 'status_code'];

function strings(c: Checker, at: Path, v: unknown): string[] {
  if (v === null) return [];
  if (!Array.isArray(v)) c.fail(at, 'expected a list of attribute names');
  const out = (v as unknown[]).map((x, i) => c.str([...at, i], x));
  const dup = out.find((x, i) => out.indexOf(x) !== i);
  if (dup !== undefined) c.fail(at, `${JSON.stringify(dup)} is listed twice`);
  return out;
}

function buckets(c: Checker, at: Path, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) c.fail(at, 'expected a non-empty list of bucket bounds in seconds');
  const out = v as unknown[];
  out.forEach((b, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) c.fail([...at, i], 'expected a positive number of seconds');
    if (i > 0 && b <= (out[i - 1] as number)) c.fail([...at, i], 'bucket bounds must increase');
  });
  return out as number[];
}

function whole(c: Checker, at: Path, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) c.fail(at, `expected a whole number >= ${min}`);
  return v;
}

function positiveDuration(c: Checker, at: Path, v: unknown): number {
  const ms = c.parsed(at, v, parseDuration);
  if (ms <= 0) c.fail(at, 'expected a positive duration such as 10s');
  return ms;
}

export function parseTracesConfig(c: Checker, value: unknown): TracesConfig {
  const o = defaultMetricsGeneratorOptions();
  const t = c.keys(['traces'], value, ['metrics_generator']);
  const base: Path = ['traces', 'metrics_generator'];
  const g = c.keys(base, t['metrics_generator'], [
    'enabled',
    'dimensions',
    'histogram_buckets',
    'max_active_series',
    'flush_interval',
    'stale_duration',
    'metrics_ingestion_time_range_slack',
    'service_graph',
  ]);
  if (g['enabled'] !== undefined) {
    if (typeof g['enabled'] !== 'boolean') c.fail([...base, 'enabled'], 'expected true or false');
    o.enabled = g['enabled'];
  }
  if (g['dimensions'] !== undefined) {
    o.dimensions = strings(c, [...base, 'dimensions'], g['dimensions']);
    o.dimensions.forEach((d, i) => {
      if (INTRINSIC.includes(labelNameOf(d))) c.fail([...base, 'dimensions', i], `${JSON.stringify(d)} would overwrite the label ${labelNameOf(d)}`);
    });
  }
  if (g['histogram_buckets'] !== undefined) o.histogramBuckets = buckets(c, [...base, 'histogram_buckets'], g['histogram_buckets']);
  if (g['max_active_series'] !== undefined) o.maxActiveSeries = whole(c, [...base, 'max_active_series'], g['max_active_series'], 0);
  if (g['flush_interval'] !== undefined) o.flushIntervalMs = positiveDuration(c, [...base, 'flush_interval'], g['flush_interval']);
  if (g['stale_duration'] !== undefined) {
    o.staleMs = c.parsed([...base, 'stale_duration'], g['stale_duration'], parseDuration);
    // Shorter than a flush, a series would end between two spans that keep it alive.
    if (o.staleMs !== 0 && o.staleMs < o.flushIntervalMs)
      c.fail([...base, 'stale_duration'], `expected 0 (never) or at least flush_interval (${g['flush_interval'] ?? '15s'})`);
  }
  if (g['metrics_ingestion_time_range_slack'] !== undefined)
    o.ingestionSlackMs = c.parsed([...base, 'metrics_ingestion_time_range_slack'], g['metrics_ingestion_time_range_slack'], parseDuration);
  const sgPath: Path = [...base, 'service_graph'];
  const sg = c.keys(sgPath, g['service_graph'], ['wait', 'max_items', 'dimensions', 'histogram_buckets']);
  if (sg['wait'] !== undefined) o.serviceGraph.waitMs = positiveDuration(c, [...sgPath, 'wait'], sg['wait']);
  if (sg['max_items'] !== undefined) o.serviceGraph.maxItems = whole(c, [...sgPath, 'max_items'], sg['max_items'], 1);
  if (sg['dimensions'] !== undefined) o.serviceGraph.dimensions = strings(c, [...sgPath, 'dimensions'], sg['dimensions']);
  if (sg['histogram_buckets'] !== undefined) o.serviceGraph.histogramBuckets = buckets(c, [...sgPath, 'histogram_buckets'], sg['histogram_buckets']);
  return { metricsGenerator: o };
}
