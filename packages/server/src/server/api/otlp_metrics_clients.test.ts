/**
 * OTLP metrics from the real OpenTelemetry JS SDK: `@opentelemetry/sdk-metrics` with the OTLP
 * exporters (protobuf, JSON, gRPC) sends every instrument kind, cumulative and delta, to a `vigil
 * start` child process; the stored series are read back through the PromQL API name by name and
 * value by value. Delta counters keep adding up across a kill -9 and restart (the running totals
 * come from the WAL).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { exited, freePort, spawnVigil, tempDir, type VigilProcess } from '../../testkit/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const RESOURCE = {
  'service.name': 'checkout',
  'service.namespace': 'shop',
  'service.instance.id': 'pod-1',
  'deployment.environment': 'test',
  'service.version': '1.2.3',
};

async function vigil(dir: string, port: number, args: string[] = []): Promise<VigilProcess> {
  const v = await spawnVigil(dir, port, args);
  cleanups.push(async () => {
    if (v.proc.exitCode === null && v.proc.signalCode === null) {
      v.proc.kill('SIGTERM');
      await exited(v.proc);
    }
  });
  return v;
}

/** An instant query's result as `{labels without job/instance} -> value`. */
async function query(url: string, q: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  assert.equal(body.status, 'success', `query ${q}`);
  const out = new Map<string, number>();
  for (const r of body.data.result) {
    const { __name__: name, job, instance, ...rest } = r.metric;
    void job;
    void instance;
    const extra = Object.entries(rest)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out.set(`${name ?? ''}{${extra}}`, Number(r.value[1]));
  }
  return out;
}

async function names(url: string, match: string): Promise<string[]> {
  const res = await fetch(`${url}/api/v1/label/__name__/values?match[]=${encodeURIComponent(match)}`);
  return ((await res.json()) as { data: string[] }).data;
}

/** A provider whose reader exports only when flushed. */
function provider(exporter: PushMetricExporter): MeterProvider {
  return new MeterProvider({
    resource: resourceFromAttributes(RESOURCE),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
  });
}

/** Records one of every instrument kind on `mp`. */
function instrument(mp: MeterProvider, scale: number): void {
  const meter = mp.getMeter('otlp-test', '0.1.0');
  const requests = meter.createCounter('http.requests', { unit: '{request}', description: 'Requests served.' });
  requests.add(3 * scale, { route: '/cart', 'http.method': 'GET' });
  requests.add(4 * scale, { route: '/cart', 'http.method': 'GET' });
  const depth = meter.createUpDownCounter('queue.depth', { unit: '{item}' });
  depth.add(5 * scale);
  depth.add(-2 * scale);
  const latency = meter.createHistogram('http.server.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
  for (const v of [0.05, 0.5, 2]) latency.record(v * scale, { route: '/cart' });
  meter.createObservableGauge('system.cpu.utilization', { unit: '1' }).addCallback((r) => r.observe(0.25 * scale, { cpu: '0' }));
  meter.createObservableCounter('process.cpu.time', { unit: 's' }).addCallback((r) => r.observe(12.5 * scale));
  meter.createObservableUpDownCounter('db.pool.connections', { unit: '{connection}' }).addCallback((r) => r.observe(4 * scale, { pool: 'main' }));
}

const EXPECTED_NAMES = [
  'db_pool_connections',
  'http_requests_total',
  'http_server_duration_seconds_bucket',
  'http_server_duration_seconds_count',
  'http_server_duration_seconds_sum',
  'process_cpu_time_seconds_total',
  'queue_depth',
  'system_cpu_utilization_ratio',
  'target_info',
];

/** Checks every stored series of one export of `instrument(mp, 1)`. */
async function checkCumulative(url: string): Promise<void> {
  assert.deepEqual(await names(url, '{job="shop/checkout",instance="pod-1"}'), EXPECTED_NAMES);
  const all = await query(url, '{job="shop/checkout",instance="pod-1"}');
  assert.deepEqual(
    Object.fromEntries([...all].sort()),
    Object.fromEntries(
      [
        ['db_pool_connections{pool=main}', 4],
        ['http_requests_total{http_method=GET,route=/cart}', 7],
        ['http_server_duration_seconds_bucket{le=+Inf,route=/cart}', 3],
        ['http_server_duration_seconds_bucket{le=0.1,route=/cart}', 1],
        ['http_server_duration_seconds_bucket{le=1,route=/cart}', 2],
        ['http_server_duration_seconds_count{route=/cart}', 3],
        ['http_server_duration_seconds_sum{route=/cart}', 2.55],
        ['process_cpu_time_seconds_total{}', 12.5],
        ['queue_depth{}', 3],
        ['system_cpu_utilization_ratio{cpu=0}', 0.25],
        ['target_info{deployment_environment=test,service_version=1.2.3}', 1],
      ].sort(),
    ),
  );
  // Metadata as Prometheus' OTLP receiver keeps it.
  const md = (await (await fetch(`${url}/api/v1/metadata`)).json()) as { data: Record<string, Array<{ type: string; help: string; unit: string }>> };
  assert.deepEqual(md.data['http_requests']?.[0], { type: 'counter', help: 'Requests served.', unit: '' });
  assert.equal(md.data['http_server_duration_seconds']?.[0]?.type, 'histogram');
  assert.equal(md.data['http_server_duration_seconds']?.[0]?.unit, 'seconds');
}

test('the protobuf exporter: every instrument kind, cumulative, stored as Prometheus 3 names them', async () => {
  const { dir, cleanup } = tempDir('vigil-otlpm-');
  cleanups.push(cleanup);
  const v = await vigil(dir, await freePort());
  const mp = provider(new ProtoExporter({ url: `${v.url}/v1/metrics` }));
  instrument(mp, 1);
  await mp.forceFlush();
  await mp.shutdown();
  await checkCumulative(v.url);
});

test('the JSON exporter on Prometheus path, gzip: the same series', async () => {
  const { dir, cleanup } = tempDir('vigil-otlpm-');
  cleanups.push(cleanup);
  const v = await vigil(dir, await freePort());
  const mp = provider(new JsonExporter({ url: `${v.url}/api/v1/otlp/v1/metrics`, compression: 'gzip' as never }));
  instrument(mp, 1);
  await mp.forceFlush();
  await mp.shutdown();
  await checkCumulative(v.url);
});

test('the gRPC exporter: the same series through the MetricsService on the OTLP gRPC listener', async () => {
  const { dir, cleanup } = tempDir('vigil-otlpm-');
  cleanups.push(cleanup);
  const grpcPort = await freePort();
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(cfg, `otlp:\n  grpc_listen_address: 127.0.0.1:${grpcPort}\n`);
  const v = await vigil(path.join(dir, 'data'), await freePort(), ['--config', cfg]);
  const mp = provider(new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}` }));
  instrument(mp, 1);
  await mp.forceFlush();
  await mp.shutdown();
  await checkCumulative(v.url);
});

test('delta temporality: increments become cumulative counters and histograms, and keep adding up after kill -9 and restart', async () => {
  const { dir, cleanup } = tempDir('vigil-otlpm-');
  cleanups.push(cleanup);
  const port = await freePort();
  let v = await vigil(dir, port);
  const deltaProvider = (): MeterProvider =>
    provider(new JsonExporter({ url: `${v.url}/v1/metrics`, temporalityPreference: AggregationTemporalityPreference.DELTA }));
  let mp = deltaProvider();
  const meter = mp.getMeter('delta');
  let counter = meter.createCounter('jobs.done');
  let hist = meter.createHistogram('job.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [10] } });
  counter.add(3);
  hist.record(5);
  await mp.forceFlush();
  await new Promise((r) => setTimeout(r, 20));
  counter.add(4);
  hist.record(50);
  await mp.forceFlush();
  await mp.shutdown();
  const expect = async (total: number, le10: number, inf: number): Promise<void> => {
    assert.deepEqual(Object.fromEntries(await query(v.url, 'jobs_done_total')), { 'jobs_done_total{}': total });
    assert.deepEqual(Object.fromEntries(await query(v.url, 'job_duration_milliseconds_bucket')), {
      'job_duration_milliseconds_bucket{le=10}': le10,
      'job_duration_milliseconds_bucket{le=+Inf}': inf,
    });
    assert.deepEqual(Object.fromEntries(await query(v.url, 'job_duration_milliseconds_count')), { 'job_duration_milliseconds_count{}': inf });
  };
  await expect(7, 1, 2);

  // kill -9: what was acknowledged is in the WAL, and the totals are read back from it.
  v.proc.kill('SIGKILL');
  await exited(v.proc);
  v = await vigil(dir, port);
  await expect(7, 1, 2);
  mp = deltaProvider();
  counter = mp.getMeter('delta').createCounter('jobs.done');
  hist = mp.getMeter('delta').createHistogram('job.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [10] } });
  counter.add(5);
  hist.record(1);
  await mp.forceFlush();
  await mp.shutdown();
  await expect(12, 2, 3);
  // No counter reset across the restart: rate() reads one continuous counter.
  assert.deepEqual(Object.fromEntries(await query(v.url, 'resets(jobs_done_total[10m])')), { '{}': 0 });
});
