import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJsonl } from './jsonl.js';
import { DEFAULT_LOG_LIMITS, LimitError, RateLimiter } from './limits.js';
import { decodeLokiJson, decodeLokiProto, encodeLokiProto } from './loki_push.js';
import { decodeOtlpLogsJson } from './otlp.js';

test('Loki protobuf round trip with structured metadata and exact ns timestamps', () => {
  const t = 1_700_000_000_123_456_789n;
  const [s] = decodeLokiProto(
    encodeLokiProto([{ labels: '{b="2", a="1"}', entries: [{ t, line: 'x', meta: [{ name: 'trace_id', value: 't1' }] }] }]),
    DEFAULT_LOG_LIMITS,
  );
  assert.deepEqual(s!.labels, [
    { name: 'a', value: '1' },
    { name: 'b', value: '2' },
  ]);
  assert.equal(s!.entries[0]!.t, t);
  assert.deepEqual(s!.entries[0]!.meta, [{ name: 'trace_id', value: 't1' }]);
});

test('Loki JSON errors are 400 with a reason', () => {
  assert.throws(
    () => decodeLokiJson('{"streams":[{"stream":{"1bad":"x"},"values":[]}]}', DEFAULT_LOG_LIMITS),
    (e: unknown) => e instanceof LimitError && e.status === 400 && /invalid label name/.test(e.message),
  );
  assert.throws(() => decodeLokiJson('{"streams":[{"stream":{"a":"x"},"values":[["nope","l"]]}]}', DEFAULT_LOG_LIMITS), /invalid timestamp/);
});

test('OTLP JSON: service.name becomes service_name, attributes and ids become metadata', () => {
  const body = {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'shop' } },
            { key: 'host.name', value: { stringValue: 'h1' } },
          ],
        },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: '1700000000000000001',
                severityText: 'ERROR',
                body: { stringValue: 'boom' },
                traceId: 'abcd',
                attributes: [{ key: 'http.status', value: { intValue: '500' } }],
              },
            ],
          },
        ],
      },
    ],
  };
  const [s] = decodeOtlpLogsJson(JSON.stringify(body), DEFAULT_LOG_LIMITS);
  assert.deepEqual(s!.labels, [{ name: 'service_name', value: 'shop' }]);
  const e = s!.entries[0]!;
  assert.equal(e.line, 'boom');
  assert.equal(e.t, 1700000000000000001n);
  const meta = Object.fromEntries((e.meta ?? []).map((l) => [l.name, l.value]));
  assert.deepEqual(meta, { host_name: 'h1', http_status: '500', severity_text: 'ERROR', trace_id: 'abcd' });
});

test('JSON lines: configurable fields, pino numeric levels, timestamps', () => {
  const out = decodeJsonl(
    '{"time":1700000000000,"level":50,"svc":"a","message":"m1"}\n{"time":"2023-11-14T22:13:20.5Z","level":30,"svc":"a","message":"m2"}\n',
    { streamFields: ['svc', 'level'], msgField: 'message' },
    DEFAULT_LOG_LIMITS,
  );
  assert.equal(out.length, 2);
  const err = out.find((s) => s.labels.some((l) => l.value === 'error'))!;
  assert.equal(err.entries[0]!.line, 'm1');
  assert.equal(err.entries[0]!.t, 1_700_000_000_000_000_000n);
  const info = out.find((s) => s.labels.some((l) => l.value === 'info'))!;
  assert.equal(info.entries[0]!.t, 1_700_000_000_500_000_000n);
});

test('rate limiter refuses past the burst with a retry hint, refills over time', () => {
  let now = 0;
  const r = new RateLimiter({ ...DEFAULT_LOG_LIMITS, rateBytesPerSec: 100, burstBytes: 200 }, () => now);
  r.take('t', 150);
  assert.throws(
    () => r.take('t', 150),
    (e: unknown) => e instanceof LimitError && e.status === 429 && e.retryAfterSec === 1,
  );
  now += 1000;
  r.take('t', 150);
});

// Regressions found by the fuzz tests (testkit/fuzz/logs_ingest.test.ts): each body used to throw a
// TypeError or RangeError, which the push handler answers with a 500; a bad body is a 400.
test('Loki JSON: a null body, a null stream, and non-array values are 400s', () => {
  const isBad = (e: unknown): boolean => e instanceof LimitError && e.status === 400;
  assert.throws(() => decodeLokiJson('null', DEFAULT_LOG_LIMITS), isBad);
  assert.throws(() => decodeLokiJson('{"streams":[null]}', DEFAULT_LOG_LIMITS), isBad);
  assert.throws(() => decodeLokiJson('{"streams":[{"stream":{"a":"b"},"values":5}]}', DEFAULT_LOG_LIMITS), isBad);
  assert.throws(() => decodeLokiJson('{"streams":[{"stream":{"a":"b"},"values":{}}]}', DEFAULT_LOG_LIMITS), isBad);
});

test('JSON bodies: an object with a non-function toString key is a value like any other', () => {
  // String({"toString":null}) throws; such a value is kept as its JSON text.
  const [s] = decodeLokiJson('{"streams":[{"stream":{"a":{"toString":null}},"values":[["1","x",{"m":{"toString":1}}]]}]}', DEFAULT_LOG_LIMITS);
  assert.deepEqual(s!.labels, [{ name: 'a', value: '{"toString":null}' }]);
  assert.deepEqual(s!.entries[0]!.meta, [{ name: 'm', value: '{"toString":1}' }]);
  const [o] = decodeOtlpLogsJson(
    '{"resourceLogs":[{"resource":{"attributes":[{"key":{"toString":null},"value":{"stringValue":""}}]},"scopeLogs":[{"logRecords":[{"body":{"intValue":{"toString":0}},"severityText":{"toString":0}}]}]}]}',
    DEFAULT_LOG_LIMITS,
    () => 1_700_000_000_000,
  );
  assert.equal(o!.entries[0]!.line, 'null');
  assert.ok(o!.entries[0]!.meta!.some((m) => m.name === 'severity_text' && m.value === '{"toString":0}'));
  const [j] = decodeJsonl('{"level":{"toString":null}}', {}, DEFAULT_LOG_LIMITS, 0);
  assert.deepEqual(j!.labels, [{ name: 'level', value: '{"toString":null}' }]);
});

test('JSON lines: a timestamp too large to convert falls back to now, like an unparseable one', () => {
  const [j] = decodeJsonl('{"ts":-1.797693134862316e+302}', {}, DEFAULT_LOG_LIMITS, 1_700_000_000_000);
  assert.equal(j!.entries[0]!.t, 1_700_000_000_000n * 1_000_000n);
  // 1e1155 is past the largest double, so JSON.parse makes it Infinity.
  const [k] = decodeJsonl('{"time":1.0510017423676601e+1155,"level":"60"}', {}, DEFAULT_LOG_LIMITS, 1_700_000_000_000);
  assert.equal(k!.entries[0]!.t, 1_700_000_000_000n * 1_000_000n);
});
