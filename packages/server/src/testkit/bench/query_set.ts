/** The query benchmark's queries, shared by the HTTP benchmark (query.ts) and its in-process driver (query_inproc.ts). */
import { HISTOGRAM_FAMILY } from './query_histogram.js';

/** One benchmark query. */
export interface BenchQuery {
  readonly name: string;
  readonly expr: string;
  readonly kind: 'instant' | 'range';
}

const EXPRS: ReadonlyArray<readonly [string, string]> = [
  ['sum-rate', 'sum by (job) (rate(node_cpu_seconds_total[5m]))'],
  ['histogram-p99', `histogram_quantile(0.99, sum by (le) (rate(${HISTOGRAM_FAMILY}_bucket[5m])))`],
  ['topk', 'topk(5, node_filesystem_avail_bytes)'],
  ['avg-over-time', 'avg_over_time(node_filesystem_avail_bytes[10m])'],
  ['subquery', 'max_over_time(rate(node_cpu_seconds_total[5m])[30m:1m])'],
  ['regex-count', 'count({__name__=~"node_.+"})'],
];

/** Every expression as an instant query (at the data's end) and a range query (its last hour at 15 s). */
export const QUERIES: readonly BenchQuery[] = EXPRS.flatMap(([name, expr]) => [
  { name: `${name} (instant)`, expr, kind: 'instant' as const },
  { name: `${name} (range 1h/15s)`, expr, kind: 'range' as const },
]);
