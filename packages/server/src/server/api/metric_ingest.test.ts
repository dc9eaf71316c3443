/**
 * OTLP metrics over HTTP against an in-process server: the replies the OTLP specification
 * prescribes (partial_success in the request's encoding, 400/413/415 as google.rpc.Status, 429 with
 * Retry-After from remote_write's bucket), with protobuf bodies from the test encoder.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startServer } from '../../testkit/helpers.js';
import { encodeMetricsRequest } from '../../testkit/otlp_metrics_encode.js';

const srv = await startServer((c) => {
  c.limits.ingestion_rate = 1000;
  c.limits.ingestion_burst_size = 1000;
  c.remoteWrite.maxBodyBytes = 64 * 1024;
});
after(() => srv.stop());

const T = Date.now() - 1000;

async function post(
  path: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; type: string; body: Buffer; retry: string | null }> {
  const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()), retry: res.headers.get('retry-after') };
}

const PB = { 'content-type': 'application/x-protobuf' };

test('a full success is an empty ExportMetricsServiceResponse; a partial one names the refused points, in protobuf and JSON', async () => {
  const ok = await post('/v1/metrics', encodeMetricsRequest([['service.name', 'a']], [{ name: 'up', points: [{ attrs: [], timeMs: T, value: 1 }] }]), PB);
  assert.equal(ok.status, 200);
  assert.equal(ok.type, 'application/x-protobuf');
  assert.equal(ok.body.length, 0);
  // The same point again, older than the out-of-order window (30m): refused alone.
  const late = await post(
    '/api/v1/otlp/v1/metrics',
    encodeMetricsRequest(
      [['service.name', 'a']],
      [
        { name: 'up', points: [{ attrs: [], timeMs: T - 31 * 60_000, value: 1 }] },
        { name: 'other', points: [{ attrs: [], timeMs: T, value: 2 }] },
      ],
    ),
    PB,
  );
  assert.equal(late.status, 200);
  // partial_success { rejected_data_points: 1, error_message: "out of order sample: ..." }
  assert.equal(late.body[0], 0x0a);
  assert.equal(late.body[2], 0x08);
  assert.equal(late.body[3], 1);
  assert.match(late.body.toString('latin1'), /out of order sample/);
  const json = await post(
    '/v1/metrics',
    JSON.stringify({
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: 'e', exponentialHistogram: { dataPoints: [{ timeUnixNano: String(T * 1e6), count: '1', scale: -5 }] } }] }] },
      ],
    }),
    { 'content-type': 'application/json' },
  );
  assert.equal(json.status, 200);
  const parsed = JSON.parse(json.body.toString()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
  assert.equal(parsed.partialSuccess.rejectedDataPoints, '1');
  assert.match(parsed.partialSuccess.errorMessage, /exponential histogram e: scale -5 is below -4/);
});

test('refusals: 415 for another type or encoding, 400 for a malformed body, 413 past the size limit, 429 with Retry-After past the rate', async () => {
  const text = await post('/v1/metrics', 'x', { 'content-type': 'text/plain' });
  assert.equal(text.status, 415);
  assert.match(text.body.toString('latin1'), /unsupported Content-Type "text\/plain" for OTLP metrics/);
  const br = await post('/v1/metrics', Buffer.from([1]), { ...PB, 'content-encoding': 'br' });
  assert.equal(br.status, 415);
  const bad = await post('/v1/metrics', '{"resourceMetrics": 3}', { 'content-type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.deepEqual(JSON.parse(bad.body.toString()), { code: 3, message: 'invalid OTLP metrics request: resourceMetrics must be an array, got 3' });
  const truncated = await post(
    '/v1/metrics',
    encodeMetricsRequest([['service.name', 'a']], [{ name: 'up', points: [{ attrs: [], timeMs: T, value: 1 }] }]).subarray(0, 20),
    PB,
  );
  assert.equal(truncated.status, 400);
  assert.match(truncated.body.toString('latin1'), /malformed OTLP protobuf ExportMetricsServiceRequest/);
  const bomb = await post('/v1/metrics', gzipSync(Buffer.alloc(1 << 20)), { ...PB, 'content-encoding': 'gzip' });
  assert.equal(bomb.status, 413);
  const many = (n: number, t: number): Buffer =>
    encodeMetricsRequest(
      [['service.name', 'b']],
      [{ name: 'g', points: Array.from({ length: n }, (_, i) => ({ attrs: [['i', String(i)] as const], timeMs: t, value: i })) }],
    );
  assert.equal((await post('/v1/metrics', many(900, T), PB)).status, 200);
  const limited = await post('/v1/metrics', many(900, T + 1), PB);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.retry) >= 1);
});

test('self-metrics count stored and refused points and refused requests', async () => {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(text, /^vigil_otlp_metrics_data_points_received_total 902$/m);
  assert.match(text, /^vigil_otlp_metrics_data_points_rejected_total 2$/m);
  assert.match(text, /^vigil_otlp_metrics_refused_total\{reason="rate_limited"\} 1$/m);
  assert.match(text, /^vigil_otlp_metrics_refused_total\{reason="unsupported_media_type"\} 2$/m);
});
