/**
 * Grafana's Tempo data source replayed against a spawned `vigil start`, in the order Grafana sends
 * its requests, with the query strings its code builds (public/app/plugins/datasource/tempo and
 * pkg/tsdb/tempo), over the checkout story of testkit/grafana_scenario.ts: "Save & test", version
 * detection, TraceQL autocomplete and search, trace by id (v2 first, as protobuf), TraceQL metrics
 * (read by Grafana with jsonpb, which refuses unknown fields), the service graph and its RED table
 * through the linked Prometheus data source. Each check reads the fields Grafana reads. The links
 * between signals (exemplar → trace, trace → logs, trace → metrics) are in tempo_grafana_links.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VigilProcess } from '../../testkit/helpers.js';
import { TRACE_A, TRACE_B, TRACE_C, spanIdOf, startStory } from '../../testkit/grafana_scenario.js';
import { ProtoFields } from '../../core/otlp/protobuf.js';
import { decodeExportTraceServiceRequest } from '../../traces/ingest/otlp_proto.js';

let v: VigilProcess;
let stop: () => Promise<void>;
let AT = 0;
/** Where the story starts (ms) and Grafana's time picker: the last 15 minutes, in seconds. */
const BASE = Date.now() - 90_000;
const FROM = Math.floor((BASE - 5 * 60_000) / 1000);
const TO = Math.ceil(Date.now() / 1000) + 60;

interface SearchSpan {
  spanID: string;
  startTimeUnixNano: string;
  durationNanos: string;
}
interface MetricSeries {
  labels: { key: string; value: { stringValue?: string } }[];
  samples: { timestampMs: string; value: number }[];
  exemplars: { labels: { key: string; value: { stringValue?: string } }[]; value: number; timestampMs: string }[];
  value: number;
}
/** The fields of the responses Grafana reads, one record for all: each test reads its own. */
interface Body {
  version: string;
  scopes: { name: string; tags: string[] }[];
  tagValues: { type: string; value: string }[];
  traces: {
    traceID: string;
    rootServiceName: string;
    rootTraceName: string;
    durationMs: number;
    startTimeUnixNano: string;
    spanSets: { matched: number; spans: SearchSpan[] }[];
  }[];
  trace: { resourceSpans: unknown[] };
  series: MetricSeries[];
  metrics: Record<string, unknown>;
  data: { resultType: string; result: { metric: Record<string, string>; values: [number | string, string][] }[] };
}

async function get(p: string, params: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<{ status: number; body: Body; raw: Buffer }> {
  const res = await fetch(`${v.url}${p}?${new URLSearchParams(params)}`, { headers });
  const raw = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type')?.includes('json') ? JSON.parse(raw.toString()) : undefined) as Body;
  return { status: res.status, body: json, raw };
}

/** The Prometheus data source's instant query: a form POST, as Grafana sends with its default httpMethod. */
async function promInstant(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${v.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, time: String(AT) }).toString(),
  });
  const body = (await res.json()) as { status: string; data: { resultType: string; result: [] } };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.data.resultType, 'vector');
  return body.data.result;
}

/** `{client→server: value}` of a vector grouped by client and server. */
const byEdge = (r: { metric: Record<string, string>; value: [number, string] }[]): Record<string, number> =>
  Object.fromEntries(r.map((s) => [`${s.metric['client']}→${s.metric['server']}`, Number(s.value[1])]));

before(async () => {
  const story = await startStory(BASE);
  v = story.v;
  stop = story.stop;
  // Instant queries run at one moment after the edges were written: the generator keeps flushing,
  // and rates compared across queries must see the same samples (a dashboard refresh does the same).
  AT = Date.now() / 1000;
});

after(() => stop());

describe("Grafana's Tempo data source", () => {
  test('Save & test: GET /api/echo answers 200 "echo"; buildinfo gives a Tempo version whose features Grafana turns on', async () => {
    const echo = await get('/api/echo');
    assert.deepEqual([echo.status, echo.raw.toString()], [200, 'echo']);
    const info = await get('/api/status/buildinfo');
    assert.equal(info.status, 200);
    // Grafana compares semver: ≥ 2.2 TraceQL streaming and structure, ≥ 2.5 metrics queries.
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(info.body.version);
    assert.ok(m && (Number(m[1]) > 2 || Number(m[2]) >= 5), `version ${info.body.version}`);
  });

  test('TraceQL editor: tags per scope, then values of the chosen tag narrowed by what is typed', async () => {
    const range = { start: String(FROM), end: String(TO) };
    const resource = await get('/api/v2/search/tags', { scope: 'resource', ...range });
    assert.equal(resource.status, 200);
    assert.deepEqual(
      resource.body.scopes.map((s) => s.name),
      ['resource'],
    );
    const resourceTags = resource.body.scopes[0]!.tags;
    assert.ok(['service.name', 'service.namespace', 'deployment.environment'].every((t) => resourceTags.includes(t)));
    const span = await get('/api/v2/search/tags', { scope: 'span', ...range });
    const spanTags = span.body.scopes[0]!.tags;
    assert.ok(spanTags.includes('db.system') && spanTags.includes('http.route'));
    const services = await get('/api/v2/search/tag/resource.service.name/values', range);
    assert.deepEqual(services.body.tagValues, [
      { type: 'string', value: 'frontend' },
      { type: 'string', value: 'payment' },
    ]);
    // Tag names for what the editor already holds (Grafana 11.3 and Tempo 2.7 on): payment's span attributes only.
    const narrowed = await get('/api/v2/search/tags', { scope: 'span', q: '{resource.service.name="payment"}', ...range });
    assert.deepEqual(narrowed.body.scopes, [{ name: 'span', tags: ['db.name', 'db.system'] }]);
    const both = await get('/api/v2/search/tags', { q: '{name="GET /products"}', ...range });
    assert.deepEqual(
      both.body.scopes.filter((s) => s.name !== 'intrinsic'),
      [
        { name: 'span', tags: ['http.route'] },
        { name: 'resource', tags: ['deployment.environment', 'service.name', 'service.namespace'] },
      ],
    );
    // What the user is still typing narrows nothing.
    const typing = await get('/api/v2/search/tags', { scope: 'span', q: '{resource.service.name=', ...range });
    assert.deepEqual(typing.body.scopes[0]!.tags, span.body.scopes[0]!.tags);
    const names = await get('/api/v2/search/tag/name/values', { q: '{resource.service.name="payment"}', ...range });
    assert.deepEqual(names.body.tagValues.map((t: { value: string }) => t.value).sort(), ['SELECT orders', 'charge', 'db.pool.acquire']);
  });

  test('TraceQL search: the failed checkout with its matched spans, in the fields the results table reads', async () => {
    const r = await get('/api/search', {
      q: '{resource.service.name="payment" && status=error}',
      limit: '20',
      spss: '3',
      start: String(FROM),
      end: String(TO),
    });
    assert.equal(r.status, 200, r.raw.toString());
    assert.equal(r.body.traces.length, 1);
    const t = r.body.traces[0]!;
    assert.deepEqual([t.traceID, t.rootServiceName, t.rootTraceName, t.durationMs], [TRACE_A, 'frontend', 'GET /checkout', 1200]);
    // uint64 fields are JSON strings in proto3 JSON, as Tempo writes them.
    assert.equal(t.startTimeUnixNano, String(BigInt(BASE) * 1_000_000n));
    const set = t.spanSets[0]!;
    assert.equal(set.matched, 2);
    assert.deepEqual(set.spans.map((s) => s.spanID).sort(), [spanIdOf(TRACE_A, 2), spanIdOf(TRACE_A, 3)]);
    const acquire = set.spans.find((s) => s.spanID === spanIdOf(TRACE_A, 3))!;
    assert.equal(acquire.durationNanos, '800000000');
    assert.equal(acquire.startTimeUnixNano, String(BigInt(BASE + 200) * 1_000_000n));
  });

  test('trace by id: /api/v2/traces/<id> as protobuf (what Grafana asks first), v1 too; an unknown id is 404 on both', async () => {
    const accept = { accept: 'application/protobuf' };
    const v2 = await get(`/api/v2/traces/${TRACE_A}`, { start: String(FROM), end: String(TO) }, accept);
    assert.equal(v2.status, 200);
    // tempopb.TraceByIDResponse: field 1 the Trace (resource spans in its field 1); no PARTIAL status.
    const fields = ProtoFields.decode(
      v2.raw,
      'TraceByIDResponse',
      (d) => new Error(d),
      (f) => {
        const seen: Record<number, Buffer> = {};
        while (f.next()) {
          if (f.field === 1) seen[1] = f.bytes('trace');
          else if (f.field === 3) seen[3] = Buffer.from([f.wt]);
          else f.skip();
        }
        return seen;
      },
    );
    assert.equal(fields[3], undefined, 'status COMPLETE is the default and left out');
    const spansOf = (buf: Buffer): string[] =>
      (decodeExportTraceServiceRequest(buf).resourceSpans ?? [])
        .flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []))
        .map((s) => `${s.spanId}<${s.parentSpanId ?? ''} ${s.name}`)
        .sort();
    const want = [
      `${spanIdOf(TRACE_A, 0)}< GET /checkout`,
      `${spanIdOf(TRACE_A, 1)}<${spanIdOf(TRACE_A, 0)} POST /pay`,
      `${spanIdOf(TRACE_A, 2)}<${spanIdOf(TRACE_A, 1)} charge`,
      `${spanIdOf(TRACE_A, 3)}<${spanIdOf(TRACE_A, 2)} db.pool.acquire`,
    ].sort();
    assert.deepEqual(spansOf(fields[1]!), want);
    const v1 = await get(`/api/traces/${TRACE_A}`, {}, accept);
    assert.deepEqual(spansOf(v1.raw), want);
    // An id pasted in capitals finds the same trace, as Tempo's hex decoding does.
    const upper = await get(`/api/v2/traces/${TRACE_A.toUpperCase()}`, {}, accept);
    assert.deepEqual(upper.raw, v2.raw);
    // The JSON form (Grafana's trace upload and Tempo's CLI read it).
    const json = await get(`/api/v2/traces/${TRACE_A}`);
    assert.equal(json.body.trace.resourceSpans.length, 2);
    const unknown = 'ffffffffffffffffffffffffffffffff';
    assert.equal((await get(`/api/v2/traces/${unknown}`, {}, accept)).status, 404);
    assert.equal((await get(`/api/traces/${unknown}`, {}, accept)).status, 404);
  });

  test('TraceQL metrics: query_range and query decode as tempopb responses (jsonpb refuses unknown fields)', async () => {
    const q = '{resource.service.name="frontend" && kind=server} | count_over_time() by (name)';
    const r = await get('/api/metrics/query_range', { q, start: String(FROM), end: String(TO), step: '60s', exemplars: '5' }, { accept: 'application/json' });
    assert.equal(r.status, 200, r.raw.toString());
    assertKeys(r.body, ['series', 'metrics', 'status', 'message'], 'QueryRangeResponse');
    assertKeys(
      r.body.metrics,
      ['inspectedTraces', 'inspectedBytes', 'totalBlocks', 'completedJobs', 'totalJobs', 'totalBlockBytes', 'inspectedSpans'],
      'SearchMetrics',
    );
    const counts: Record<string, number> = {};
    for (const s of r.body.series) {
      assertKeys(s, ['labels', 'samples', 'promLabels', 'exemplars'], 'TimeSeries');
      for (const p of s.samples) {
        assertKeys(p, ['timestampMs', 'value'], 'Sample');
        assert.match(String(p.timestampMs), /^\d+$/);
      }
      // Grafana draws exemplars as dots linking to their trace: labels carry trace:id.
      assert.ok(s.exemplars.length > 0);
      for (const e of s.exemplars) {
        assertKeys(e, ['labels', 'value', 'timestampMs'], 'Exemplar');
        assert.ok(
          e.labels.some((l) => l.key === 'trace:id' && [TRACE_A, TRACE_B, TRACE_C].includes(l.value.stringValue!)),
          JSON.stringify(e.labels),
        );
      }
      const name = s.labels.find((l) => l.key === 'name')!.value.stringValue!;
      counts[name] = s.samples.reduce((n, p) => n + p.value, 0);
    }
    assert.deepEqual(counts, { 'GET /checkout': 2, 'GET /products': 1 });
    const i = await get('/api/metrics/query', { q, start: String(FROM), end: String(TO) }, { accept: 'application/json' });
    assert.equal(i.status, 200, i.raw.toString());
    assertKeys(i.body, ['series', 'metrics', 'status', 'message'], 'QueryInstantResponse');
    for (const s of i.body.series) assertKeys(s, ['labels', 'promLabels', 'value'], 'InstantSeries');
    assert.deepEqual(Object.fromEntries(i.body.series.map((s) => [s.labels[0]!.value.stringValue, s.value])), counts);
  });
});

function assertKeys(o: object, allowed: string[], message: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  assert.deepEqual(extra, [], `${message} has fields tempopb does not: ${extra.join(', ')}`);
}

describe('service graph and RED table through the linked Prometheus data source', () => {
  // Grafana's node graph: per edge, rate() over $__range of each of these four, summed by client and server.
  const RANGE = `${TO - FROM}s`;
  const serviceMap = (metric: string, selector = ''): string => `sum by (client, server) (rate(${metric}${selector}[${RANGE}]))`;

  test('the four service-map queries: edges, their request and failure rates, and the average time Grafana divides out', async () => {
    const total = byEdge(await promInstant(serviceMap('traces_service_graph_request_total')));
    assert.deepEqual(Object.keys(total).sort(), ['frontend→payment', 'payment→payments', 'user→frontend']);
    // Rates over one window share one factor: their ratios are the counts' (3 checkouts and a listing: 3, 2, 2).
    assert.ok(total['user→frontend']! > 0);
    assert.ok(Math.abs(total['frontend→payment']! / total['user→frontend']! - 2 / 3) < 1e-9);
    const failed = byEdge(await promInstant(serviceMap('traces_service_graph_request_failed_total')));
    assert.ok(Math.abs(failed['frontend→payment']! / total['frontend→payment']! - 0.5) < 1e-9);
    assert.ok(Math.abs(failed['payment→payments']! / total['payment→payments']! - 0.5) < 1e-9);
    // Grafana's node and edge main stat: seconds_sum / total, in ms. payment's charge took 900 and 40 ms.
    const seconds = byEdge(await promInstant(serviceMap('traces_service_graph_request_server_seconds_sum')));
    assert.ok(Math.abs((seconds['frontend→payment']! / total['frontend→payment']!) * 1000 - 470) < 1e-6);
    // The database node has a response time too: the client's 800 and 5 ms.
    assert.ok(Math.abs((seconds['payment→payments']! / total['payment→payments']!) * 1000 - 402.5) < 1e-6);
    const buckets = await promInstant(serviceMap('traces_service_graph_request_server_seconds_bucket'));
    assert.ok(buckets.length > 0);
  });

  test('with "include namespace": grouped by the client_ and server_service_namespace labels too', async () => {
    const r = await promInstant(
      `sum by (client, server, client_service_namespace, server_service_namespace) (rate(traces_service_graph_request_total[${RANGE}]))`,
    );
    const edges = r.map(
      (s) => `${s.metric['client_service_namespace'] ?? ''}/${s.metric['client']}→${s.metric['server_service_namespace'] ?? ''}/${s.metric['server']}`,
    );
    // The virtual user and the database have no namespace: Grafana shows them by name alone.
    assert.deepEqual(edges.sort(), ['/user→shop/frontend', 'billing/payment→/payments', 'shop/frontend→billing/payment']);
  });

  test("the service graph editor's filter choices: label names and values of the request counter", async () => {
    const labels = await get('/api/v1/labels', { 'match[]': 'traces_service_graph_request_total', start: String(FROM), end: String(TO) });
    assert.ok(['client', 'server', 'connection_type'].every((l) => (labels.body.data as unknown as string[]).includes(l)));
    const servers = await get('/api/v1/label/server/values', { 'match[]': 'traces_service_graph_request_total', start: String(FROM), end: String(TO) });
    assert.deepEqual(servers.body.data, ['frontend', 'payment', 'payments']);
  });

  test('a service-map filter: several selectors joined with OR, as Grafana builds them', async () => {
    const q = ['{client="payment"}', '{server="payment"}'].map((s) => serviceMap('traces_service_graph_request_total', s)).join(' OR ');
    assert.deepEqual(Object.keys(byEdge(await promInstant(q))).sort(), ['frontend→payment', 'payment→payments']);
  });

  test("an edge's links: request rate, p90 histogram and failed rate as range queries", async () => {
    const sel = '{client="frontend",server="payment"}';
    const range = async (query: string): Promise<Body['data']['result']> => {
      const r = await get('/api/v1/query_range', { query, start: String(FROM), end: String(TO), step: '15' });
      assert.equal(r.status, 200, r.raw.toString());
      assert.equal(r.body.data.resultType, 'matrix');
      return r.body.data.result;
    };
    const rate = await range(`sum by (client, server)(rate(traces_service_graph_request_total${sel}[1m0s]))`);
    assert.deepEqual(rate[0]!.metric, { client: 'frontend', server: 'payment' });
    assert.ok(rate[0]!.values.some(([, x]) => Number(x) > 0));
    // p90 of 40 ms and 900 ms over Tempo's buckets (0.1 … 12.8): 0.8 + 0.8 × (1.8 − 1) = 1.44 s.
    const p90 = await range(`histogram_quantile(0.9, sum(rate(traces_service_graph_request_server_seconds_bucket${sel}[1m0s])) by (le, client, server))`);
    assert.ok(
      p90[0]!.values.some(([, x]) => Math.abs(Number(x) - 1.44) < 1e-9),
      JSON.stringify(p90[0]!.values.slice(-3)),
    );
    const failed = await range(`sum by (client, server)(rate(traces_service_graph_request_failed_total${sel}[1m0s]))`);
    assert.ok(failed[0]!.values.some(([, x]) => Number(x) > 0));
  });

  test('the RED table: top operations by rate, their error rate and p90 duration, from span metrics', async () => {
    const filter = 'service="frontend",span_kind="SPAN_KIND_SERVER"';
    const rate = await promInstant(`topk(5, sum(rate(traces_spanmetrics_calls_total{${filter}}[${RANGE}])) by (span_name))`);
    const rates = Object.fromEntries(rate.map((s) => [s.metric['span_name'], Number(s.value[1])]));
    assert.deepEqual(Object.keys(rates).sort(), ['GET /checkout', 'GET /products']);
    assert.ok(Math.abs(rates['GET /checkout']! / rates['GET /products']! - 2) < 1e-9);
    const errors = await promInstant(`topk(5, sum(rate(traces_spanmetrics_calls_total{${filter},status_code="STATUS_CODE_ERROR"}[${RANGE}])) by (span_name))`);
    assert.deepEqual(
      errors.map((s) => [s.metric['span_name'], Number(s.value[1]) / rates['GET /checkout']!]),
      [['GET /checkout', 0.5]],
    );
    // 80 ms and 1200 ms over the span-metrics buckets: 1.024 + 1.024 × 0.8 = 1.8432 s.
    const p90 = await promInstant(
      `histogram_quantile(.9, sum(rate(traces_spanmetrics_latency_bucket{${filter},span_name=~"GET /checkout"}[${RANGE}])) by (le))`,
    );
    assert.ok(Math.abs(Number(p90[0]!.value[1]) - 1.8432) < 1e-9, JSON.stringify(p90));
  });
});
