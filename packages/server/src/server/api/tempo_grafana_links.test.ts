/**
 * Grafana's Prometheus data source with "Exemplars" on and an exemplar trace-id destination set to
 * the Tempo data source, replayed against a spawned `vigil start` fed the checkout story
 * (testkit/grafana_scenario.ts): the panel's query_exemplars call, the `trace_id` label Grafana
 * turns into a link, and the Tempo data source's trace-by-id call that link makes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VigilProcess } from '../../testkit/helpers.js';
import { TRACE_A, TRACE_B, spanIdOf, startStory } from '../../testkit/grafana_scenario.js';
import { decodeExportTraceServiceRequest } from '../../traces/ingest/otlp_proto.js';
import { ProtoFields } from '../../core/otlp/protobuf.js';

const BASE = Date.now() - 90_000;
const FROM = Math.floor((BASE - 5 * 60_000) / 1000);
const TO = Math.ceil(Date.now() / 1000) + 60;
let v: VigilProcess;
let stop: () => Promise<void>;

before(async () => {
  const story = await startStory(BASE);
  v = story.v;
  stop = story.stop;
});
after(() => stop());

interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

/** The panel's exemplar call: a form POST of its expression, times as float seconds. */
async function exemplars(query: string): Promise<ExemplarSeries[]> {
  const res = await fetch(`${v.url}/api/v1/query_exemplars`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, start: String(FROM + 0.5), end: String(TO + 0.25) }).toString(),
  });
  const body = (await res.json()) as { status: string; data: ExemplarSeries[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.data;
}

/** What the link runs: the Tempo data source's trace query, v2 as protobuf; the span names it shows. */
async function openTrace(traceId: string): Promise<string[]> {
  const res = await fetch(`${v.url}/api/v2/traces/${traceId}?start=${FROM}&end=${TO}`, { headers: { accept: 'application/protobuf' } });
  assert.equal(res.status, 200);
  const trace = ProtoFields.decode(
    Buffer.from(await res.arrayBuffer()),
    'TraceByIDResponse',
    (d) => new Error(d),
    (f) => {
      let t: Buffer = Buffer.alloc(0);
      while (f.next()) {
        if (f.field === 1) t = f.bytes('trace');
        else f.skip();
      }
      return t;
    },
  );
  return (decodeExportTraceServiceRequest(trace).resourceSpans ?? [])
    .flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => s.name ?? '')))
    .sort();
}

test('a latency panel: each bucket its newest span as exemplar; the slow bucket links to the failed checkout, whose trace opens', async () => {
  const panel = 'histogram_quantile(0.9, sum by (le) (rate(traces_spanmetrics_latency_bucket{service="frontend",span_name="GET /checkout"}[1m0s])))';
  const data = await exemplars(panel);
  // 80 ms falls in le=0.128, 1200 ms in le=2.048; Grafana reads labels.trace_id for the link, timestamp (s) and value for the dot.
  const dots = data
    .flatMap((s) => s.exemplars.map((e) => [s.seriesLabels['le'], e.labels['trace_id'], e.labels['span_id'], Number(e.value), e.timestamp]))
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  assert.deepEqual(dots, [
    ['0.128', TRACE_B, spanIdOf(TRACE_B, 0), 0.08, (BASE + 5_080) / 1000],
    ['2.048', TRACE_A, spanIdOf(TRACE_A, 0), 1.2, (BASE + 1_200) / 1000],
  ]);
  assert.equal(data.find((s) => s.seriesLabels['le'] === '2.048')!.seriesLabels['status_code'], 'STATUS_CODE_ERROR');
  // The exemplar trace-id destination: ${__value.raw} of trace_id into the Tempo data source.
  assert.deepEqual(await openTrace(dots[1]![1] as string), ['GET /checkout', 'POST /pay', 'charge', 'db.pool.acquire']);
});

test("the service graph's request histogram link: its exemplars open the trace that made the edge", async () => {
  const data = await exemplars(
    'histogram_quantile(0.9, sum(rate(traces_service_graph_request_server_seconds_bucket{client="payment",server="payments"}[1m0s])) by (le, client, server))',
  );
  const ids = new Set(data.flatMap((s) => s.exemplars.map((e) => e.labels['trace_id'])));
  assert.deepEqual([...ids].sort(), [TRACE_A, TRACE_B]);
  assert.deepEqual(await openTrace(TRACE_B), ['GET /checkout', 'POST /pay', 'SELECT orders', 'charge']);
});

test('a query whose series carry no exemplars answers an empty list, and an unknown trace id from a stale link is a 404', async () => {
  assert.deepEqual(await exemplars('traces_spanmetrics_calls_total'), []);
  const res = await fetch(`${v.url}/api/v2/traces/${'0'.repeat(31)}9`, { headers: { accept: 'application/protobuf' } });
  assert.equal(res.status, 404);
});
