/**
 * Span metrics and the service graph end to end: hand-drawn traces go through `POST /v1/traces` on
 * a started Vigil, a flush writes the generator's series into the TSDB, and PromQL over
 * `/api/v1/query` reads the counts, the latency buckets and the service-graph edges computed by
 * hand below. Also: dimensions from the configuration, the series limit and its refusals, and the
 * OpenTelemetry SDK's own exporter feeding the same series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace as otelTrace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { getJson, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { defaultConfig, type VigilConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { nopLogger } from '../../core/util/log.js';
import { encodeTracesData } from '../../traces/ingest/otlp_encode.js';
import type { Attributes, Span, SpanKind as Kind, StatusCode } from '../../traces/storage/types.js';

const MS = 1_000_000n;
const FRONTEND: Attributes = { 'service.name': 'frontend' };
const PAYMENT: Attributes = { 'service.name': 'payment' };
const MAILER: Attributes = { 'service.name': 'mailer' };

/** A span starting `startMs` after `base`, lasting `durMs`. */
function span(
  base: bigint,
  traceId: string,
  id: string,
  parent: string,
  name: string,
  kind: Kind,
  resource: Attributes,
  startMs: number,
  durMs: number,
  status: StatusCode = 'unset',
  attributes: Attributes = {},
): Span {
  const start = base + BigInt(startMs) * MS;
  return {
    traceId: traceId.repeat(32 / traceId.length),
    spanId: id.padStart(16, '0'),
    parentSpanId: parent === '' ? '' : parent.padStart(16, '0'),
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(durMs) * MS,
    status: { code: status, message: '' },
    attributes,
    resource,
    scope: { name: 'test', version: '1' },
    events: [],
    links: [],
  };
}

/**
 * ```
 * trace 1: 1 GET /checkout (frontend, server, 120 ms)
 *          ├ 2 POST /pay (frontend, client, 50 ms, ok)
 *          │ └ 3 pay (payment, server, 40 ms, error)
 *          │   └ 4 SELECT orders (payment, client, 5 ms, db.system=postgresql db.name=orders)
 *          └ 8 publish order (frontend, producer, 2 ms)
 *            └ 9 process order (mailer, consumer, 20 ms)
 * trace 2: 5 GET /checkout (frontend, server, 300 ms, error)
 *          └ 6 POST /pay (frontend, client, 30 ms): its server span never comes (unpaired)
 * trace 3: 7 pay (payment, server, 700 ms), parent ff…: its client never comes (unpaired)
 * ```
 */
function scenario(base: bigint): Span[] {
  return [
    span(base, '1', '1', '', 'GET /checkout', 'server', FRONTEND, 0, 120),
    span(base, '1', '2', '1', 'POST /pay', 'client', FRONTEND, 10, 50, 'ok'),
    span(base, '1', '3', '2', 'pay', 'server', PAYMENT, 15, 40, 'error'),
    span(base, '1', '4', '3', 'SELECT orders', 'client', PAYMENT, 20, 5, 'unset', { 'db.system': 'postgresql', 'db.name': 'orders' }),
    span(base, '1', '8', '1', 'publish order', 'producer', FRONTEND, 70, 2),
    span(base, '1', '9', '8', 'process order', 'consumer', MAILER, 75, 20),
    span(base, '2', '5', '', 'GET /checkout', 'server', FRONTEND, 0, 300, 'error'),
    span(base, '2', '6', '5', 'POST /pay', 'client', FRONTEND, 5, 30),
    span(base, '3', '7', 'ff', 'pay', 'server', PAYMENT, 0, 700),
  ];
}

async function post(url: string, spans: Span[]): Promise<void> {
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTracesData(spans) });
  assert.equal(res.status, 200, await res.text());
}

/** The instant vector of `q` as `labels → value`, labels without __name__ in Prometheus' text form. */
async function query(url: string, q: string): Promise<Map<string, number>> {
  const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const out = new Map<string, number>();
  for (const s of (r.body.data as { result: { metric: Record<string, string>; value: [number, string] }[] }).result) {
    const key = Object.entries(s.metric)
      .filter(([k]) => k !== '__name__')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out.set(key, Number(s.value[1]));
  }
  return out;
}

/** Polls `q` until it gives `want` (the generator flushes on its own timer). */
async function expectQuery(url: string, q: string, want: Record<string, number>): Promise<void> {
  let last = new Map<string, number>();
  try {
    await waitFor(
      q,
      async () => {
        last = await query(url, q);
        return JSON.stringify(Object.fromEntries([...last].sort())) === JSON.stringify(Object.fromEntries(Object.entries(want).sort())) ? true : undefined;
      },
      10_000,
      100,
    );
  } catch {
    assert.deepEqual(Object.fromEntries(last), want, q);
  }
}

function fastFlush(patch?: (c: VigilConfig) => void): (c: VigilConfig) => void {
  return (c) => {
    c.traces.metricsGenerator.flushIntervalMs = 100;
    c.traces.metricsGenerator.serviceGraph.waitMs = 300;
    patch?.(c);
  };
}

const now = (): bigint => BigInt(Date.now() - 5_000) * MS;

test('span metrics: calls, latency histogram and sizes per service, span name, kind and status', async () => {
  const srv = await startServer(fastFlush());
  try {
    await post(srv.url, scenario(now()));
    const CK = 'service=frontend,span_kind=SPAN_KIND_SERVER,span_name=GET /checkout';
    await expectQuery(srv.url, 'traces_spanmetrics_calls_total{span_name="GET /checkout"}', {
      [`${CK},status_code=STATUS_CODE_UNSET`]: 1,
      [`${CK},status_code=STATUS_CODE_ERROR`]: 1,
    });
    await expectQuery(srv.url, 'sum(traces_spanmetrics_calls_total)', { '': 9 });
    await expectQuery(srv.url, 'sum by (service) (traces_spanmetrics_calls_total{status_code="STATUS_CODE_ERROR"})', {
      'service=frontend': 1,
      'service=payment': 1,
    });
    await expectQuery(srv.url, 'traces_spanmetrics_calls_total{span_kind="SPAN_KIND_CONSUMER"}', {
      'service=mailer,span_kind=SPAN_KIND_CONSUMER,span_name=process order,status_code=STATUS_CODE_UNSET': 1,
    });
    // 120 ms falls in (0.064, 0.128]; 300 ms in (0.256, 0.512]; 40 ms and 700 ms for pay.
    const bucket = (le: string): string => `sum(traces_spanmetrics_latency_bucket{span_name="GET /checkout",le="${le}"})`;
    await expectQuery(srv.url, bucket('0.064'), { '': 0 });
    await expectQuery(srv.url, bucket('0.128'), { '': 1 });
    await expectQuery(srv.url, bucket('0.256'), { '': 1 });
    await expectQuery(srv.url, bucket('0.512'), { '': 2 });
    await expectQuery(srv.url, bucket('+Inf'), { '': 2 });
    await expectQuery(srv.url, 'sum(traces_spanmetrics_latency_sum{span_name="GET /checkout"})', { '': 0.42 });
    await expectQuery(srv.url, 'sum(traces_spanmetrics_latency_count{span_name="pay"})', { '': 2 });
    await expectQuery(srv.url, 'histogram_quantile(1, sum by (le) (traces_spanmetrics_latency_bucket{span_name="pay"}))', { '': 1.024 });
    const size = await query(srv.url, 'traces_spanmetrics_size_total{span_name="SELECT orders"}');
    assert.equal(size.size, 1);
    assert.ok([...size.values()][0]! > 60, 'a span with two attributes is more than 60 bytes');
    // Each latency bucket's newest span is an exemplar on that bucket: the 300 ms error checkout (trace 2, span 5) in le=0.512.
    const ex = await getJson(
      `${srv.url}/api/v1/query_exemplars?query=${encodeURIComponent('traces_spanmetrics_latency_bucket{span_name="GET /checkout"}')}&start=0&end=${Date.now() / 1000 + 60}`,
    );
    const exemplars = (
      ex.body as { data: Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string }> }> }
    ).data;
    const slow = exemplars.find((s) => s.seriesLabels['le'] === '0.512' && s.seriesLabels['status_code'] === 'STATUS_CODE_ERROR');
    assert.deepEqual(
      slow?.exemplars.map((e) => [e.labels['trace_id'], e.labels['span_id'], Number(e.value)]),
      [['2'.repeat(32), '5'.padStart(16, '0'), 0.3]],
    );

    // Counters stay cumulative across flushes: the same traces again double them, and rate() sees it.
    await post(srv.url, scenario(now()));
    await expectQuery(srv.url, 'sum(traces_spanmetrics_calls_total)', { '': 18 });
    await expectQuery(srv.url, 'sum(traces_spanmetrics_latency_bucket{span_name="GET /checkout",le="+Inf"})', { '': 4 });
  } finally {
    await srv.stop();
  }
});

test('service graph: client/server, messaging and database edges, the virtual user, unpaired halves', async () => {
  const srv = await startServer(fastFlush());
  try {
    await post(srv.url, scenario(now()));
    // Paired at once: frontend→payment (server side failed), frontend→mailer (messaging), payment→orders (database).
    // The two roots are user→frontend at once; after the 300 ms wait the lone halves count as unpaired.
    await expectQuery(srv.url, 'traces_service_graph_request_total', {
      'client=frontend,server=payment': 1,
      'client=frontend,connection_type=messaging_system,server=mailer': 1,
      'client=payment,connection_type=database,server=orders': 1,
      'client=user,connection_type=virtual_node,server=frontend': 2,
    });
    await expectQuery(srv.url, 'traces_service_graph_request_failed_total', {
      'client=frontend,server=payment': 1,
      'client=user,connection_type=virtual_node,server=frontend': 1,
    });
    await expectQuery(srv.url, 'traces_service_graph_unpaired_spans_total', { 'client=frontend': 1, 'server=payment': 1 });
    // frontend→payment: the server took 40 ms, the client saw 50 ms: both under the first bucket (100 ms).
    await expectQuery(srv.url, 'traces_service_graph_request_server_seconds_bucket{client="frontend",server="payment",le="0.1"}', {
      'client=frontend,le=0.1,server=payment': 1,
    });
    await expectQuery(srv.url, 'traces_service_graph_request_client_seconds_sum{client="frontend",server="payment"}', {
      'client=frontend,server=payment': 0.05,
    });
    // user→frontend: 120 ms and 300 ms at the server; the virtual client has no duration.
    await expectQuery(srv.url, 'traces_service_graph_request_server_seconds_bucket{client="user",le=~"0.1|0.2|0.4"}', {
      'client=user,connection_type=virtual_node,le=0.1,server=frontend': 0,
      'client=user,connection_type=virtual_node,le=0.2,server=frontend': 1,
      'client=user,connection_type=virtual_node,le=0.4,server=frontend': 2,
    });
    await expectQuery(srv.url, 'count(traces_service_graph_request_client_seconds_count{client="user"})', {});
    // A database sends no spans: its edge takes the client's 5 ms for both sides, as Tempo's does.
    await expectQuery(srv.url, 'traces_service_graph_request_client_seconds_sum{connection_type="database"}', {
      'client=payment,connection_type=database,server=orders': 0.005,
    });
    await expectQuery(srv.url, 'traces_service_graph_request_server_seconds_sum{connection_type="database"}', {
      'client=payment,connection_type=database,server=orders': 0.005,
    });
  } finally {
    await srv.stop();
  }
});

test('dimensions: span and resource attributes become labels of span metrics and (prefixed) of the service graph', async () => {
  const srv = await startServer(
    fastFlush((c) => {
      c.traces.metricsGenerator.dimensions = ['http.method', 'deployment.environment'];
      c.traces.metricsGenerator.serviceGraph.dimensions = ['deployment.environment'];
    }),
  );
  try {
    const base = now();
    const prod = { ...FRONTEND, 'deployment.environment': 'prod' };
    const pay = { ...PAYMENT, 'deployment.environment': 'staging' };
    await post(srv.url, [
      span(base, 'd', '1', '', 'GET /', 'server', prod, 0, 10, 'unset', { 'http.method': 'GET' }),
      span(base, 'd', '2', '1', 'POST /pay', 'client', prod, 1, 5, 'unset', { 'http.method': 'POST' }),
      span(base, 'd', '3', '2', 'pay', 'server', pay, 2, 3),
    ]);
    await expectQuery(srv.url, 'traces_spanmetrics_calls_total', {
      'deployment_environment=prod,http_method=GET,service=frontend,span_kind=SPAN_KIND_SERVER,span_name=GET /,status_code=STATUS_CODE_UNSET': 1,
      'deployment_environment=prod,http_method=POST,service=frontend,span_kind=SPAN_KIND_CLIENT,span_name=POST /pay,status_code=STATUS_CODE_UNSET': 1,
      'deployment_environment=staging,service=payment,span_kind=SPAN_KIND_SERVER,span_name=pay,status_code=STATUS_CODE_UNSET': 1,
    });
    await expectQuery(srv.url, 'traces_service_graph_request_total{client="frontend"}', {
      'client=frontend,client_deployment_environment=prod,server=payment,server_deployment_environment=staging': 1,
    });
  } finally {
    await srv.stop();
  }
});

test('max_active_series: a label set past the limit is refused whole (its 19 series counted); existing ones keep counting', async () => {
  // One span-metrics label set is 19 series: calls, size, and 14 buckets + +Inf + sum + count.
  const srv = await startServer(fastFlush((c) => (c.traces.metricsGenerator.maxActiveSeries = 19)));
  try {
    const base = now();
    await post(srv.url, [span(base, 'e', '1', '', 'work', 'internal', FRONTEND, 0, 1), span(base, 'e', '2', '1', 'other', 'internal', FRONTEND, 0, 1)]);
    await post(srv.url, [span(base, 'f', '1', '', 'work', 'internal', FRONTEND, 0, 1)]);
    await expectQuery(srv.url, 'traces_spanmetrics_calls_total', {
      'service=frontend,span_kind=SPAN_KIND_INTERNAL,span_name=work,status_code=STATUS_CODE_UNSET': 2,
    });
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /^vigil_traces_generator_series_refused_total 19$/m);
    assert.match(metrics, /^vigil_traces_generator_active_series 19$/m);
  } finally {
    await srv.stop();
  }
});

test("the OpenTelemetry SDK's OTLP exporter feeds span metrics and the service graph", async () => {
  const srv = await startServer(fastFlush());
  try {
    const provider = (service: string): BasicTracerProvider =>
      new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${srv.url}/v1/traces` }))],
      });
    const shop = provider('shop');
    const db = provider('inventory');
    const root = shop.getTracer('t').startSpan('GET /buy', { kind: SpanKind.SERVER });
    const call = shop.getTracer('t').startSpan('GET /stock', { kind: SpanKind.CLIENT }, otelTrace.setSpan(context.active(), root));
    const served = db.getTracer('t').startSpan('GET /stock', { kind: SpanKind.SERVER }, otelTrace.setSpan(context.active(), call));
    served.setStatus({ code: SpanStatusCode.ERROR });
    served.end();
    call.end();
    root.end();
    await Promise.all([shop.shutdown(), db.shutdown()]);
    await expectQuery(srv.url, 'traces_spanmetrics_calls_total{service="inventory"}', {
      'service=inventory,span_kind=SPAN_KIND_SERVER,span_name=GET /stock,status_code=STATUS_CODE_ERROR': 1,
    });
    await expectQuery(srv.url, 'traces_service_graph_request_failed_total{client="shop"}', { 'client=shop,server=inventory': 1 });
  } finally {
    await srv.stop();
  }
});

test('restart: the last counts are flushed at stop; afterwards counters start again from zero, which PromQL reads as a counter reset', async () => {
  const { dir, cleanup } = tempDir();
  const boot = async (): Promise<{ server: VigilServer; url: string }> => {
    const config = defaultConfig();
    config.storage.path = dir;
    config.listen = '127.0.0.1:0';
    // No flush before stop: only the flush at stop can store the first counts.
    config.traces.metricsGenerator.flushIntervalMs = 3_600_000;
    const server = new VigilServer(config, { logger: nopLogger });
    await server.start();
    return { server, url: `http://${server.address()}` };
  };
  try {
    const first = await boot();
    const three = (seed: string): Span[] => ['1', '2', '3'].map((id) => span(now(), seed, id, '', 'work', 'internal', FRONTEND, 0, 1));
    await post(first.url, three('a'));
    await first.server.stop();
    const second = await boot();
    try {
      await expectQuery(second.url, 'traces_spanmetrics_calls_total', {
        'service=frontend,span_kind=SPAN_KIND_INTERNAL,span_name=work,status_code=STATUS_CODE_UNSET': 3,
      });
      // Spans replayed from the trace WAL at start are not counted again.
      assert.equal(second.server.traceMetrics.stats().spans, 0);
      await post(second.url, three('b').slice(0, 1));
      second.server.traceMetrics.flush();
      await expectQuery(second.url, 'traces_spanmetrics_calls_total', {
        'service=frontend,span_kind=SPAN_KIND_INTERNAL,span_name=work,status_code=STATUS_CODE_UNSET': 1,
      });
      await expectQuery(second.url, 'sum(resets(traces_spanmetrics_calls_total[5m]))', { '': 1 });
    } finally {
      await second.server.stop();
    }
  } finally {
    cleanup();
  }
});
