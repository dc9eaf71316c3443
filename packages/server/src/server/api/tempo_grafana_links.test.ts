/**
 * Grafana's links between signals, replayed against a spawned `vigil start` fed the checkout story
 * (testkit/grafana_scenario.ts): the Prometheus data source with "Exemplars" on and an exemplar
 * trace-id destination set to the Tempo data source (the panel's query_exemplars call, the
 * `trace_id` label Grafana turns into a link, the trace-by-id call that link makes); and the Tempo
 * data source's trace to logs (the LogQL it builds from the span's tags and ids, against Vigil's
 * Loki API) and trace to metrics (its PromQL with `$__tags` substituted).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VigilProcess } from '../../testkit/helpers.js';
import { TRACE_A, TRACE_B, TRACE_C, spanIdOf, startStory } from '../../testkit/grafana_scenario.js';
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

/** A GET of the Prometheus or Loki API; the matrix or streams it answers. */
async function get(
  p: string,
  params: Record<string, string>,
): Promise<{ status: number; text: string; result: { values: [number | string, string][] }[]; resultType: string }> {
  const res = await fetch(`${v.url}${p}?${new URLSearchParams(params)}`);
  const text = await res.text();
  const body = res.status === 200 ? (JSON.parse(text) as { data: { resultType: string; result: { values: [number | string, string][] }[] } }) : undefined;
  return { status: res.status, text, result: body?.data.result ?? [], resultType: body?.data.resultType ?? '' };
}

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

test("the Prometheus data source's probe: exemplars are offered only when query_exemplars of `test` succeeds", async () => {
  // Grafana's areExemplarsAvailable(): a GET over the last hour, times in seconds; success turns the toggle on.
  const now = Math.floor(Date.now() / 1000);
  const res = await fetch(`${v.url}/api/v1/query_exemplars?${new URLSearchParams({ query: 'test', start: String(now - 3600), end: String(now) })}`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'success');
});

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

describe('trace to logs and trace to metrics', () => {
  /** Grafana's Loki data source for a log query: query_range backward, times in ns, the span's time ± the configured shift. */
  async function lokiLines(query: string, spanStartMs: number, spanEndMs: number): Promise<string[]> {
    const ns = (ms: number): string => String(BigInt(ms) * 1_000_000n);
    const r = await get('/loki/api/v1/query_range', {
      direction: 'backward',
      query,
      start: ns(spanStartMs - 60_000),
      end: ns(spanEndMs + 60_000),
      limit: '1000',
      step: '1',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.resultType, 'streams');
    return r.result.flatMap((s) => s.values.map(([, l]) => l));
  }

  test("tags mapped to stream labels and filter by trace id: the span's service's lines of that trace only", async () => {
    // tracesToLogsV2 { tags: [{ key: 'service.name', value: 'service_name' }], filterByTraceID: true } on span charge.
    const lines = await lokiLines(`{service_name="payment"} |="${TRACE_A}"`, BASE + 150, BASE + 1050);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
      ['charge failed', 'database pool exhausted', 'charging card'],
    );
    // filterBySpanID too, on db.pool.acquire: the one line that says why.
    const one = await lokiLines(`{service_name="payment"} |="${TRACE_A}" |="${spanIdOf(TRACE_A, 3)}"`, BASE + 200, BASE + 1000);
    assert.deepEqual(
      one.map((l) => (JSON.parse(l) as { msg: string }).msg),
      ['database pool exhausted'],
    );
  });

  test('OTLP logs keep the ids as structured metadata: the custom query filters on trace_id', async () => {
    const lines = await lokiLines(`{service_name="frontend"} | trace_id="${TRACE_A}"`, BASE, BASE + 1200);
    assert.deepEqual(lines, ['checkout failed: payment error', 'checkout started']);
    assert.deepEqual(await lokiLines(`{service_name="frontend"} | trace_id="${TRACE_C}"`, BASE + 10_000, BASE + 10_030), ['listing products']);
    assert.deepEqual(await lokiLines(`{service_name="frontend"} | trace_id="${TRACE_B}" | span_id="${spanIdOf(TRACE_B, 0)}"`, BASE + 5_000, BASE + 5_080), [
      'checkout started',
    ]);
  });

  test("trace to metrics: the configured PromQL with $__tags from the span's attributes, over the span's time ± 2m", async () => {
    // tracesToMetrics { tags: [{ key: 'service.name', value: 'service' }] }: $__tags becomes service="payment".
    const tags = 'service="payment"';
    const query = `histogram_quantile(0.9, sum(rate(traces_spanmetrics_latency_bucket{${tags}, span_name="db.pool.acquire"}[5m])) by (le))`;
    const r = await get('/api/v1/query_range', {
      query,
      start: String(Math.floor((BASE + 200) / 1000) - 120),
      end: String(Math.ceil((BASE + 1000) / 1000) + 120),
      step: '15',
    });
    assert.equal(r.status, 200, r.text);
    const values = r.result[0]!.values;
    // One 800 ms span in (0.512, 1.024]: p90 at 0.512 + 0.512 × 0.9 = 0.9728 s.
    assert.ok(
      values.some(([, x]) => Math.abs(Number(x) - 0.9728) < 1e-9),
      JSON.stringify(values.slice(-3)),
    );
  });
});
