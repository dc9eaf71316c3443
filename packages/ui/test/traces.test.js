/* global URL */
// Unit tests of the trace page's pure logic (lib/traces.ts, bundled for Node by build.js into dist/test/lib.js):
// OTLP/JSON parsing, the waterfall's tree and bar positions, the critical path, links and search TraceQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.js';

const T0 = 1_767_000_000_000_000_000n; // ns since the epoch: beyond a double's exact integers
const ns = (ms) => String(T0 + BigInt(Math.round(ms * 1e6)));
const kv = (o) =>
  Object.entries(o).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : { intValue: String(v) },
  }));
const span = (spanId, parentSpanId, name, startMs, endMs, extra = {}) => ({
  traceId: 'ab'.repeat(16),
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  name,
  kind: 2,
  startTimeUnixNano: ns(startMs),
  endTimeUnixNano: ns(endMs),
  attributes: [],
  status: {},
  ...extra,
});
// A refused checkout: the server span, the checkout, a fast query, the pool wait (long, failed), and
// a parallel cache call that ended early. Spans arrive out of order, across two services.
const body = {
  trace: {
    resourceSpans: [
      {
        resource: { attributes: kv({ 'service.name': 'shop' }) },
        scopeSpans: [
          {
            spans: [
              span('03', '02', 'db.pool.acquire', 12, 312.5, {
                status: { code: 2, message: 'timeout exceeded' },
                attributes: kv({ 'db.client.connection.pool.name': 'orders-db', 'db.client.connection.timed_out': true }),
                events: [{ timeUnixNano: ns(312.5), name: 'exception', attributes: kv({ 'exception.type': 'POOL_TIMEOUT' }) }],
              }),
              span('01', '', 'POST /checkout', 0, 320, { status: { code: 2 } }),
              span('02', '01', 'checkout', 1, 315),
              span('05', '02', 'SELECT cart', 2, 10),
            ],
          },
        ],
      },
      { resource: { attributes: kv({ 'service.name': 'cache' }) }, scopeSpans: [{ spans: [span('04', '02', 'GET cart', 3, 150)] }] },
    ],
  },
};

test('parseTrace reads OTLP/JSON: services, kinds, errors, attributes, events, exact ms offsets from ns strings', () => {
  const t = lib.parseTrace('ab'.repeat(16), body);
  assert.equal(t.spans.length, 5);
  assert.equal(t.duration, 320);
  assert.equal(t.startMs, Number(T0 / 1_000_000n));
  const acq = t.spans.find((s) => s.name === 'db.pool.acquire');
  assert.deepEqual([acq.service, acq.kind, acq.start, acq.end, acq.error, acq.statusMessage], ['shop', 'server', 12, 312.5, true, 'timeout exceeded']);
  assert.deepEqual(acq.attributes, { 'db.client.connection.pool.name': 'orders-db', 'db.client.connection.timed_out': true });
  assert.deepEqual(acq.events, [{ name: 'exception', at: 312.5, attributes: { 'exception.type': 'POOL_TIMEOUT' } }]);
  assert.equal(t.spans.find((s) => s.name === 'GET cart').service, 'cache');
  // Tempo v1's `batches`, string kinds and status codes as some senders write them.
  const v1 = lib.parseTrace('x', {
    batches: [{ scopeSpans: [{ spans: [span('a', '', 'r', 0, 1, { kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_ERROR' } })] }] }],
  });
  assert.deepEqual([v1.spans[0].kind, v1.spans[0].error, v1.spans[0].service], ['client', true, 'unknown_service']);
  assert.deepEqual(lib.parseTrace('x', {}).spans, []);
});

test('waterfall: depth-first by start, bars in percent of the trace, orphans kept as roots', () => {
  const rows = lib.waterfall(lib.parseTrace('t', body));
  assert.deepEqual(
    rows.map((r) => `${'-'.repeat(r.depth)}${r.span.name}`),
    ['POST /checkout', '-checkout', '--SELECT cart', '--GET cart', '--db.pool.acquire'],
  );
  const acq = rows[4];
  assert.equal(acq.left, (12 / 320) * 100);
  assert.equal(acq.width, (300.5 / 320) * 100);
  const orphaned = lib.waterfall(
    lib.parseTrace('t', { batches: [{ scopeSpans: [{ spans: [span('09', 'ff', 'late child', 5, 6), span('01', '', 'root', 0, 10)] }] }] }),
  );
  assert.deepEqual(
    orphaned.map((r) => [r.span.name, r.depth, r.orphan]),
    [
      ['root', 0, false],
      ['late child', 0, true],
    ],
  );
  // A parent-id cycle from a broken sender still lists every span once.
  const cyc = lib.waterfall(lib.parseTrace('t', { batches: [{ scopeSpans: [{ spans: [span('a', 'b', 'A', 0, 1), span('b', 'a', 'B', 0, 1)] }] }] }));
  assert.deepEqual(cyc.map((r) => r.span.name).sort(), ['A', 'B']);
});

test('the critical path follows what the end waited for: the query, then the pool wait; not the parallel cache call', () => {
  const t = lib.parseTrace('t', body);
  const on = lib.criticalPath(t);
  const names = t.spans
    .filter((s) => on.has(s.spanId))
    .map((s) => s.name)
    .sort();
  assert.deepEqual(names, ['POST /checkout', 'SELECT cart', 'checkout', 'db.pool.acquire']);
  // Sequential children are all on it; one overlapping the later of them is not; a child running past its parent is cut.
  const seq = lib.parseTrace('t', {
    batches: [
      { scopeSpans: [{ spans: [span('r', '', 'root', 0, 100), span('a', 'r', 'a', 0, 40), span('b', 'r', 'b', 40, 90), span('c', 'r', 'c', 41, 60)] }] },
    ],
  });
  const onSeq = lib.criticalPath(seq);
  assert.deepEqual(
    seq.spans.filter((s) => onSeq.has(s.spanId)).map((s) => s.name),
    ['root', 'a', 'b'],
  );
  const async = lib.parseTrace('t', {
    batches: [{ scopeSpans: [{ spans: [span('r', '', 'root', 0, 10), span('a', 'r', 'a', 0, 8), span('b', 'r', 'async', 9, 50)] }] }],
  });
  const onAsync = lib.criticalPath(async);
  assert.deepEqual(
    async.spans.filter((s) => onAsync.has(s.spanId)).map((s) => s.name),
    ['root', 'a', 'async'],
  );
});

test("a span's logs link: its service, lines carrying the trace id, from a second before to five after", () => {
  const t = lib.parseTrace('ab'.repeat(16), body);
  const acq = t.spans.find((s) => s.name === 'db.pool.acquire');
  const u = new URL(lib.spanLogsHref(t.traceId, acq), 'http://x');
  assert.equal(u.pathname, '/ui/logs');
  assert.equal(u.searchParams.get('query'), `{service="shop"} |= "${'ab'.repeat(16)}"`);
  assert.equal(Date.parse(u.searchParams.get('from')), Math.floor(acq.startMs) - 1000);
  assert.equal(Date.parse(u.searchParams.get('to')), Math.ceil(acq.endMs) + 5000);
  assert.match(lib.spanLogsHref('1', { service: 'a"b', startMs: 0, endMs: 1 }), /a%5C%22b/, 'quotes in a service name are escaped');
});

test('search: the form as TraceQL, rows from Tempo’s answer, slowest first on request', () => {
  assert.equal(lib.searchTraceQL({}), '{}');
  assert.equal(
    lib.searchTraceQL({ service: 'shop', operation: 'POST /checkout', status: 'error' }),
    '{ resource.service.name = "shop" && name = "POST /checkout" && status = error }',
  );
  assert.equal(lib.searchTraceQL({ service: 'shop', status: 'bogus' }), '{ resource.service.name = "shop" }');
  assert.equal(lib.searchTraceQL({ service: 'shop', traceql: ' { duration > 1s } ' }), '{ duration > 1s }');
  const hits = [
    { traceID: 'a1', rootServiceName: 'shop', rootTraceName: 'GET /', startTimeUnixNano: '1700000000000000000', durationMs: 5, spanSets: [{ matched: 3 }] },
    {
      traceID: 'b2',
      rootServiceName: 'shop',
      rootTraceName: 'POST /checkout',
      startTimeUnixNano: '1700000001000000000',
      durationMs: 900,
      spanSet: { matched: 2 },
    },
    { traceID: 'c3', startTimeUnixNano: '1700000002000000000' },
  ];
  assert.deepEqual(
    lib.searchRows(hits).map((r) => r.traceId),
    ['c3', 'b2', 'a1'],
  );
  const slow = lib.searchRows(hits, true);
  assert.deepEqual(
    slow.map((r) => [r.traceId, r.durationMs, r.matched, r.startMs]),
    [
      ['b2', 900, 2, 1700000001000],
      ['a1', 5, 3, 1700000000000],
      ['c3', 0, 0, 1700000002000],
    ],
  );
  assert.equal(slow[0].href, '/ui/traces/b2');
  assert.equal(slow[0].error, undefined, 'unknown without the error search');
  assert.deepEqual(
    lib.searchRows(hits, false, new Set(['b2'])).map((r) => [r.traceId, r.error]),
    [
      ['c3', false],
      ['b2', true],
      ['a1', false],
    ],
  );
  assert.equal(lib.errorTraceQL('{ a = 1 } | count() > 2'), '({ a = 1 } | count() > 2) && { status = error }');
  assert.match(slow[2].root, /root span not yet received/);
});

test("the alert's slowest-traces link spans from 5 minutes before it fired to its end, or now", () => {
  const start = Date.parse('2026-03-01T10:00:00Z');
  const now = Date.parse('2026-03-01T10:20:00Z');
  const u = new URL(lib.alertTracesHref('shop', start, undefined, now), 'http://x');
  assert.equal(u.pathname, '/ui/traces');
  assert.deepEqual(Object.fromEntries(u.searchParams), { service: 'shop', sort: 'duration', from: '2026-03-01T09:55:00.000Z', to: '2026-03-01T10:20:00.000Z' });
  const ended = new URL(lib.alertTracesHref('shop', start, Date.parse('2026-03-01T10:07:00Z'), now), 'http://x');
  assert.equal(ended.searchParams.get('to'), '2026-03-01T10:07:00.000Z');
});

test('service colours are stable and never red; durations read as people say them', () => {
  assert.equal(lib.serviceColor('shop'), lib.serviceColor('shop'));
  assert.notEqual(lib.serviceColor('shop'), lib.serviceColor('payment-gateway'));
  for (const s of ['a', 'b', 'shop', 'db', 'x'.repeat(50)]) assert.match(lib.serviceColor(s), /^#[0-9a-f]{6}$/);
  assert.deepEqual([0.85, 12.34, 312.5, 2410, 61_000].map(lib.formatSpanDuration), ['850 µs', '12.3 ms', '313 ms', '2.41 s', '1 m 1 s']);
});
