import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, type MetricData } from '@opentelemetry/sdk-metrics';
import { createVigil } from './vigil.js';
import { captureLogs, seriesValue } from './testing.js';
import { unitOfName } from './otlp-producer.js';

function exported(exporter: InMemoryMetricExporter): Map<string, MetricData> {
  const out = new Map<string, MetricData>();
  for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
  return out;
}

test('units follow the name suffix, before _total', () => {
  assert.equal(unitOfName('http_server_request_duration_seconds'), 's');
  assert.equal(unitOfName('process_cpu_seconds_total'), 's');
  assert.equal(unitOfName('http_server_response_body_size_bytes'), 'By');
  assert.equal(unitOfName('business_funnel_conversion_ratio'), '1');
  assert.equal(unitOfName('errors_total'), '');
});

test("latencyHistograms: 'exponential' records the _seconds histograms with exponential buckets and leaves their classic form out", async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const vigil = createVigil({
    service: 'jobs',
    defaultMetrics: false,
    logDestination: captureLogs(),
    otlpMetrics: { exporter, exportIntervalMs: 3_600_000, latencyHistograms: 'exponential' },
  });
  for (let i = 1; i <= 50; i++) vigil.track('resize', () => i);
  vigil.pool.acquireTimer('db')();
  await vigil.otlpMetrics!.flush();
  const m = exported(exporter);
  const fn = m.get('function_duration_seconds');
  assert.equal(fn?.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
  assert.equal(fn.descriptor.unit, 's');
  assert.equal(fn.dataPoints.length, 1);
  const p = fn.dataPoints[0]!;
  assert.deepEqual(p.attributes, { service: 'jobs', function: 'resize', outcome: 'success' });
  const scraped = (await vigil.metrics()).body;
  assert.equal(p.value.count, seriesValue(scraped, 'function_duration_seconds_count{service="jobs",function="resize",outcome="success"}'));
  assert.ok(p.value.positive.bucketCounts.length > 1, 'observations spread over several exponential buckets');
  assert.equal(m.get('database_connection_acquire_duration_seconds')?.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
  // Size histograms are not latencies: they keep their buckets, from the registry.
  assert.equal(m.get('http_server_request_body_size_bytes')?.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(m.get('http_server_request_body_size_bytes')?.descriptor.unit, 'By');
  await vigil.shutdown();
});

test('delta temporality sends the change since the last export', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const vigil = createVigil({
    service: 'jobs',
    defaultMetrics: false,
    logDestination: captureLogs(),
    otlpMetrics: { exporter, exportIntervalMs: 3_600_000, temporality: 'delta' },
  });
  const counts = async (): Promise<number[]> => {
    exporter.reset();
    await vigil.otlpMetrics!.flush();
    const h = exported(exporter).get('function_duration_seconds');
    const e = exported(exporter).get('errors_total');
    assert.equal(h?.aggregationTemporality, AggregationTemporality.DELTA);
    const hv = h.dataPoints[0]!.value as { count: number };
    return [hv.count, (e?.dataPoints[0]?.value as number | undefined) ?? 0];
  };
  for (let i = 0; i < 3; i++) vigil.track('step', () => i);
  vigil.recordError('job', new Error('x'));
  assert.deepEqual(await counts(), [3, 1]);
  for (let i = 0; i < 2; i++) vigil.track('step', () => i);
  assert.deepEqual(await counts(), [2, 0]);
  await vigil.shutdown();
});

test('an unreachable endpoint is logged once, not thrown', async () => {
  const logs = captureLogs();
  const vigil = createVigil({
    service: 'jobs',
    defaultMetrics: false,
    logDestination: logs,
    otlpMetrics: { endpoint: 'http://127.0.0.1:9/v1/metrics', exportIntervalMs: 3_600_000, timeoutMs: 2000 },
  });
  await vigil.otlpMetrics!.flush();
  await vigil.otlpMetrics!.flush();
  assert.equal(vigil.otlpMetrics!.failures(), 2);
  await vigil.shutdown();
  const warned = logs.lines.filter((l) => l['msg'] === 'metrics export failed');
  assert.equal(warned.length, 1, JSON.stringify(logs.lines));
  assert.equal(warned[0]!['endpoint'], 'http://127.0.0.1:9/v1/metrics');
});
