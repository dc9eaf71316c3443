// Exemplars of the SDK's histograms through real requests, real spans (OpenTelemetry's in-memory
// exporter) and both expositions: OpenMetrics carries the newest sampled span per bucket, the
// Prometheus text format never carries any.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { TraceFlags } from '@opentelemetry/api';
import { createVigil } from './vigil.js';
import { captureLogs, listen } from './testing.js';
import { EXEMPLAR_MAX_RUNES, exemplarRunes, spanExemplarLabels } from './exemplars.js';

const OM = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
// A bucket line with an exemplar: series, count, then `# {labels} value timestamp`.
const EXEMPLAR_LINE = /^(\S+\{[^}]*\}) (\d+) # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} (\S+) (\d+\.\d{3})$/;

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function exemplarLines(text: string, prefix: string): Array<{ series: string; traceId: string; spanId: string; value: number; ts: number }> {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix) && l.includes(' # {'))
    .map((l) => {
      const m = EXEMPLAR_LINE.exec(l);
      assert.ok(m, `exemplar line in OpenMetrics form: ${l}`);
      return { series: m[1]!, traceId: m[3]!, spanId: m[4]!, value: Number(m[5]), ts: Number(m[6]) };
    });
}

test('request, tracked-call and pool-acquire histograms carry their span as the exemplar, in OpenMetrics only', async () => {
  const memory = new InMemorySpanExporter();
  const vigil = createVigil({ service: 'ex', defaultMetrics: false, logDestination: captureLogs(), traces: { exporter: memory, instrumentHttp: false } });
  let slots = 0;
  const pool = vigil.pool.wrap('db', {
    acquire: async () => ++slots,
    release: () => slots--,
    max: 2,
  });
  const srv = await listen(
    createServer(
      vigil.httpMiddleware(
        async (req, res) => {
          const conn = await pool.acquire();
          // /slow waits 120 ms inside a tracked call: the 0.25 s request bucket; /fast answers at once.
          await vigil.track('work', () => new Promise((r) => setTimeout(r, req.url === '/slow' ? 120 : 0)));
          pool.release(conn);
          res.end('ok');
        },
        { routes: ['/slow', '/fast'] },
      ),
    ),
  );
  const metricsSrv = await vigil.serveMetrics();
  try {
    const before = Date.now() / 1000;
    await get(`${srv.url}/slow`);
    await get(`${srv.url}/slow`);
    await get(`${srv.url}/fast`);
    await vigil.tracing!.flush();
    const spans = memory.getFinishedSpans();
    const servers = spans.filter((s) => s.name.startsWith('GET '));
    assert.equal(servers.length, 3);
    const [, lastSlow, fast] = servers as [(typeof servers)[0], (typeof servers)[0], (typeof servers)[0]];

    const om = await get(metricsSrv.url, { accept: OM });
    assert.match(om.type, /^application\/openmetrics-text/);
    assert.ok(om.body.endsWith('# EOF\n'));
    const http = exemplarLines(om.body, 'http_server_request_duration_seconds_bucket');
    // Two slow requests fell in one bucket: only the newer is kept. The fast one has a bucket of its own.
    const slow = http.filter((e) => e.series.includes('route="/slow"'));
    assert.equal(slow.length, 1, om.body);
    assert.equal(slow[0]!.traceId, lastSlow.spanContext().traceId);
    assert.equal(slow[0]!.spanId, lastSlow.spanContext().spanId);
    assert.match(slow[0]!.series, /le="0.25"/);
    assert.ok(slow[0]!.value > 0.1 && slow[0]!.value <= 0.25, `value ${slow[0]!.value}`);
    assert.ok(slow[0]!.ts >= before - 0.001 && slow[0]!.ts <= Date.now() / 1000, `timestamp ${slow[0]!.ts} is now, in seconds`);
    const fastEx = http.filter((e) => e.series.includes('route="/fast"'));
    assert.equal(fastEx.length, 1);
    assert.equal(fastEx[0]!.traceId, fast.spanContext().traceId);

    // track(): its own span; the pool acquire: the db.pool.acquire span; both within the request's trace.
    const work = exemplarLines(om.body, 'function_duration_seconds_bucket').find((e) => e.series.includes('function="work"') && e.value > 0.1)!;
    const workSpan = spans.find((s) => s.spanContext().spanId === work.spanId)!;
    assert.equal(workSpan.name, 'work');
    assert.equal(work.traceId, lastSlow.spanContext().traceId);
    const acquire = exemplarLines(om.body, 'database_connection_acquire_duration_seconds_bucket');
    assert.ok(acquire.length >= 1);
    for (const e of acquire) assert.equal(spans.find((s) => s.spanContext().spanId === e.spanId)?.name, 'db.pool.acquire');
    // Response sizes (2 bytes): a histogram recorded in the request too.
    assert.equal(exemplarLines(om.body, 'http_server_response_body_size_bytes_bucket').length, 2);

    // The classic format has no exemplars, whatever was recorded.
    const text = await get(metricsSrv.url);
    assert.match(text.type, /^text\/plain; version=0.0.4/);
    assert.ok(text.body.includes('http_server_request_duration_seconds_bucket{'));
    assert.ok(!text.body.includes('# {'), 'no exemplar in the text format');
  } finally {
    await srv.close();
    await vigil.shutdown();
  }
});

test('unsampled spans and calls outside any span leave no exemplar', async () => {
  const memory = new InMemorySpanExporter();
  const vigil = createVigil({
    service: 'ex0',
    defaultMetrics: false,
    logDestination: captureLogs(),
    traces: { exporter: memory, sampleRatio: 0, parentBased: false },
  });
  const srv = await listen(createServer(vigil.httpMiddleware((_req, res) => void vigil.track('inner', () => res.end('ok')))));
  const plain = createVigil({ service: 'plain', defaultMetrics: false, logDestination: captureLogs() });
  try {
    await get(srv.url);
    plain.track('alone', () => 1);
    for (const v of [vigil, plain]) {
      const om = (await v.metrics(OM)).body;
      assert.ok(om.includes('_bucket{'), 'buckets were recorded');
      assert.ok(!om.includes('# {'), `no exemplar: ${om}`);
    }
  } finally {
    await srv.close();
    await vigil.shutdown();
    await plain.shutdown();
  }
});

test('exemplar labels: runes counted as OpenMetrics does, never over 128, only sampled valid spans', () => {
  assert.equal(exemplarRunes({ trace_id: 'é' }), 9, 'é is one rune though two UTF-8 bytes');
  assert.equal(exemplarRunes({ a: '😀' }), 2, 'an astral character is one rune, not two UTF-16 units');
  const sc = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
  const labels = spanExemplarLabels(sc);
  assert.deepEqual(labels, { trace_id: sc.traceId, span_id: sc.spanId });
  assert.ok(exemplarRunes(labels!) <= EXEMPLAR_MAX_RUNES);
  assert.equal(spanExemplarLabels({ ...sc, traceFlags: TraceFlags.NONE }), undefined);
  assert.equal(spanExemplarLabels({ ...sc, traceId: '00000000000000000000000000000000' }), undefined);
  assert.equal(spanExemplarLabels(undefined), undefined);
});
