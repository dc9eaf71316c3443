/**
 * The metrics generator's settings as a user gives them: a vigil.yml read by a spawned `vigil start`,
 * spans through `POST /v1/traces`, the answers through PromQL and `/metrics`. Covers dimensions,
 * both histograms' buckets, the series limit, a database client span as an edge to the database,
 * metrics_ingestion_time_range_slack (an old span is stored but not counted),
 * and stale_duration: a label set without spans ends with a staleness marker (an instant query no
 * longer finds it, though the 5-minute lookback has not passed) and frees its room under the limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, freePort, getJson, spawnVigil, tempDir, waitFor } from '../../testkit/helpers.js';
import { encodeTracesData } from '../../traces/ingest/otlp_encode.js';
import type { Attributes, Span, SpanKind } from '../../traces/storage/types.js';

const MS = 1_000_000n;

function span(trace: string, kind: SpanKind, resource: Attributes, durMs: number, attributes: Attributes = {}): Span {
  const start = BigInt(Date.now() - 1_000) * MS;
  return {
    traceId: trace.repeat(32 / trace.length),
    spanId: trace.repeat(16 / trace.length),
    parentSpanId: '',
    name: 'work',
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(durMs) * MS,
    status: { code: 'unset', message: '' },
    attributes,
    resource,
    scope: { name: 'test', version: '1' },
    events: [],
    links: [],
  };
}

async function post(url: string, spans: Span[]): Promise<void> {
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTracesData(spans) });
  assert.equal(res.status, 200, await res.text());
}

type Vector = { metric: Record<string, string>; value: [number, string] }[];

async function instant(url: string, q: string): Promise<Vector> {
  const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.data as { result: Vector }).result;
}

/** Polls until `check` holds over the vector of `q`; fails with the last vector seen. */
async function until(url: string, q: string, check: (v: Vector) => boolean, what: string): Promise<Vector> {
  let last: Vector = [];
  try {
    return await waitFor(what, async () => ((last = await instant(url, q)), check(last) ? last : undefined), 15_000, 100);
  } catch {
    assert.fail(`${what}: ${q} gave ${JSON.stringify(last)}`);
  }
}

async function selfMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} is exported`);
  return Number(m[1]);
}

test('vigil.yml: dimensions, buckets, the series limit, the database edge and stale_duration through `vigil start`', { timeout: 90_000 }, async () => {
  const { dir, cleanup } = tempDir();
  // One span-metrics label set: calls, size, 2 buckets + +Inf, sum, count = 7 series. A database
  // edge: request_total and the client and server histograms (1 bucket + +Inf, sum, count each) = 9.
  // With one internal span (7) and one database call (7 + 9) the limit of 23 is full.
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    cfg,
    [
      'traces:',
      '  metrics_generator:',
      '    dimensions: [deployment.environment, http.route]',
      '    histogram_buckets: [0.01, 0.1]',
      '    max_active_series: 23',
      '    flush_interval: 200ms',
      '    stale_duration: 5s',
      '    metrics_ingestion_time_range_slack: 2m',
      '    service_graph: { wait: 500ms, histogram_buckets: [0.05] }',
      '',
    ].join('\n'),
  );
  const v = await spawnVigil(path.join(dir, 'data'), await freePort(), ['--config', cfg]);
  try {
    const prod = { 'service.name': 'batch', 'deployment.environment': 'prod' };
    // A span that ended 10 minutes ago (a collector's resent backlog) is stored but not counted.
    const resent = span('d7', 'internal', { 'service.name': 'resent' }, 5);
    resent.startTimeUnixNano -= 600_000n * MS;
    resent.endTimeUnixNano -= 600_000n * MS;
    await post(v.url, [resent]);
    await post(v.url, [span('a1', 'internal', prod, 5, { 'http.route': '/jobs' })]);
    await post(v.url, [span('b2', 'client', { 'service.name': 'shop' }, 20, { 'db.system': 'postgresql', 'db.name': 'orders' })]);

    // Dimensions: the span attribute and the resource attribute are labels; an absent one is no label.
    const calls = await until(v.url, 'traces_spanmetrics_calls_total', (r) => r.length === 2, 'both label sets written');
    assert.deepEqual(
      calls.map((s) => s.metric).sort((a, b) => (a['service']! < b['service']! ? -1 : 1)),
      [
        {
          __name__: 'traces_spanmetrics_calls_total',
          service: 'batch',
          span_name: 'work',
          span_kind: 'SPAN_KIND_INTERNAL',
          status_code: 'STATUS_CODE_UNSET',
          deployment_environment: 'prod',
          http_route: '/jobs',
        },
        { __name__: 'traces_spanmetrics_calls_total', service: 'shop', span_name: 'work', span_kind: 'SPAN_KIND_CLIENT', status_code: 'STATUS_CODE_UNSET' },
      ],
    );
    // The configured buckets: 5 ms is under 0.01, 20 ms between 0.01 and 0.1.
    const buckets = await instant(v.url, 'traces_spanmetrics_latency_bucket');
    assert.deepEqual(buckets.map((s) => `${s.metric['service']} le=${s.metric['le']}: ${s.value[1]}`).sort(), [
      'batch le=+Inf: 1',
      'batch le=0.01: 1',
      'batch le=0.1: 1',
      'shop le=+Inf: 1',
      'shop le=0.01: 0',
      'shop le=0.1: 1',
    ]);
    // The database call is an edge shop → orders with connection_type database, the client's time standing for both sides.
    const edge = await until(v.url, 'traces_service_graph_request_client_seconds_bucket', (r) => r.length === 2, 'the database edge');
    assert.deepEqual(edge.map((s) => [s.metric['client'], s.metric['server'], s.metric['connection_type'], s.metric['le'], s.value[1]]).sort(), [
      ['shop', 'orders', 'database', '+Inf', '1'],
      ['shop', 'orders', 'database', '0.05', '1'],
    ]);
    assert.deepEqual(
      (await instant(v.url, 'traces_service_graph_request_server_seconds_sum')).map((s) => [s.metric['server'], s.value[1]]),
      [['orders', '0.02']],
    );
    assert.equal((await instant(v.url, 'traces_service_graph_request_total{connection_type="database"}')).length, 1);

    // The limit is full: a third label set is refused whole (7 series), the existing ones keep counting.
    await post(v.url, [span('c3', 'internal', { 'service.name': 'late' }, 1)]);
    await post(v.url, [
      span('a4', 'internal', prod, 5, { 'http.route': '/jobs' }),
      span('b6', 'client', { 'service.name': 'shop' }, 20, { 'db.system': 'postgresql', 'db.name': 'orders' }),
    ]);
    await until(v.url, 'traces_spanmetrics_calls_total{service="batch"}', (r) => r[0]?.value[1] === '2', 'batch counted twice');
    assert.deepEqual(await instant(v.url, 'traces_spanmetrics_calls_total{service="late"}'), []);
    assert.equal(await selfMetric(v.url, 'vigil_traces_generator_series_refused_total'), 7);
    assert.equal(await selfMetric(v.url, 'vigil_traces_generator_spans_discarded_total'), 1);
    assert.equal((await getJson(`${v.url}/api/traces/${'d7'.repeat(16)}`)).status, 200, 'the discarded span is still stored');
    assert.equal(await selfMetric(v.url, 'vigil_traces_generator_active_series'), 23);

    // Stale: after 5 s without spans every series ends. Their staleness markers end them for
    // queries at once, minutes before the 5-minute lookback would have.
    const lastSeen = Date.now();
    await until(v.url, '{__name__=~"traces_(spanmetrics|service_graph)_.+"}', (r) => r.length === 0, 'every generated series ended');
    assert.ok(Date.now() - lastSeen < 60_000, 'ended by the marker, not by the lookback');
    assert.equal(await selfMetric(v.url, 'vigil_traces_generator_active_series'), 0);
    assert.equal(await selfMetric(v.url, 'vigil_traces_generator_series_expired_total'), 23);
    // The range query shows the series up to its end and, a second and a half later, nothing after it.
    const gone = Date.now() / 1000;
    await new Promise((r) => setTimeout(r, 1_500));
    const end = Date.now() / 1000;
    const range = await getJson(
      `${v.url}/api/v1/query_range?query=${encodeURIComponent('traces_spanmetrics_calls_total{service="batch"}')}&start=${end - 30}&end=${end}&step=0.5`,
    );
    const values = (range.body.data as { result: { values: [number, string][] }[] }).result[0]!.values;
    assert.ok(values.length > 0 && values.at(-1)![0] <= gone, `the last point lies before the series ended: ${JSON.stringify(values.at(-1))} vs ${gone}`);

    // With the room freed, the label set refused before is admitted now.
    await post(v.url, [span('c5', 'internal', { 'service.name': 'late' }, 1)]);
    await until(v.url, 'traces_spanmetrics_calls_total{service="late"}', (r) => r[0]?.value[1] === '1', 'late admitted once room is free');
    // Its series starts at 0 before its first value, so increase() sees the one span that made it
    // (without the zero a series holding 1 at every flush would show no increase at all).
    const inc = await instant(v.url, 'increase(traces_spanmetrics_calls_total{service="late"}[1m])');
    assert.ok(Number(inc[0]?.value[1]) >= 1, JSON.stringify(inc));
  } finally {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
    cleanup();
  }
});
