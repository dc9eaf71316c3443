/**
 * The data and queries that compare remote storage (VictoriaMetrics) with Vigil's local engine: one
 * hour of 15 s samples, written identically into both, and the PromQL queries asked of both. Counters
 * grow linearly and without gaps, so `rate` and `increase` mean the same in MetricsQL (which takes
 * the sample before the window and does not extrapolate) as in PromQL (which extrapolates to the
 * window's edges). Values stay within 12 significant digits, which VictoriaMetrics keeps exactly.
 */
import type { Labels } from '../core/model/labels.js';
import { labelsFrom } from '../core/model/labels.js';

/** Samples between points. */
export const STEP_MS = 15_000;
/** How much data is written. */
export const SPAN_MS = 60 * 60_000;

/** One series to write. */
export interface FixtureSeries {
  readonly labels: Labels;
  readonly samples: Array<[number, number]>;
}

/** The fixture's series, from `t0` (a multiple of a minute) for {@link SPAN_MS}; `scale` multiplies the instances (for the measurement). */
export function fixtureSeries(t0: number, scale = 1): FixtureSeries[] {
  const out: FixtureSeries[] = [];
  const times: number[] = [];
  for (let t = t0; t <= t0 + SPAN_MS; t += STEP_MS) times.push(t);
  const instances: string[] = [];
  for (let i = 0; i < 2 * scale; i++) instances.push(String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : ''));
  let k = 0;
  for (const instance of instances) {
    for (const code of ['200', '500']) {
      for (const method of ['GET', 'POST']) {
        k++;
        // k * 3.75 more each step: a per-second rate of k/4, an exact binary fraction.
        const perStep = (k * STEP_MS) / 4000;
        out.push({
          labels: labelsFrom({ __name__: 'http_requests_total', job: 'api', instance, code, method }),
          samples: times.map((t, i) => [t, 1000 + i * perStep]),
        });
      }
    }
    // A histogram whose buckets grow at 1, 3, 6 and 8 per step: quantiles fall inside finite buckets.
    for (const [le, per] of [
      ['0.1', 1],
      ['0.5', 3],
      ['1', 6],
      ['+Inf', 8],
    ] as const) {
      out.push({
        labels: labelsFrom({ __name__: 'http_request_duration_seconds_bucket', job: 'api', instance, le }),
        samples: times.map((t, i) => [t, i * per]),
      });
    }
    // A gauge with integer values that go up and down.
    const base = 100 * (instances.indexOf(instance) + 1);
    out.push({
      labels: labelsFrom({ __name__: 'node_memory_bytes', job: 'node', instance }),
      samples: times.map((t, i) => [t, base + ((i * 7) % 23)]),
    });
  }
  return out;
}

/** Instant and range queries asked of both; the ones the comparison test and the measurement use. */
export const FIXTURE_QUERIES: readonly string[] = [
  'http_requests_total',
  'http_requests_total{code=~"5.."}',
  'http_requests_total{instance!~"a|c",method="GET"}',
  'sum by (code) (rate(http_requests_total[5m]))',
  'sum(increase(http_requests_total{job="api"}[10m]))',
  'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.5, sum by (instance, le) (rate(http_request_duration_seconds_bucket[5m])))',
  'max(node_memory_bytes)',
  'avg by (instance) (node_memory_bytes)',
  'max_over_time(node_memory_bytes[10m])',
  'node_memory_bytes offset 10m',
  'count(http_requests_total) by (method)',
  'sum(rate(http_requests_total[5m])) / sum(rate(http_requests_total{code="200"}[5m]))',
  // Grafana's data source health check.
  '1+1',
  'label_replace(node_memory_bytes, "host", "$1", "instance", "(.*)")',
  'absent(no_such_metric{job="api"})',
  'sum by (instance) (http_requests_total) > bool 5000',
];
