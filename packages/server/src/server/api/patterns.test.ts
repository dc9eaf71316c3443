/**
 * `/loki/api/v1/patterns` as Grafana's Logs Drilldown calls it through the Loki data source: the
 * selector of the service, `start` and `end` as ISO 8601 (`toISOString()`), no step, the query
 * string keys sorted as Go encodes them. Lines are pushed like the demo shop's pino logs.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../testkit/helpers.js';

const srv = await startServer();
after(() => srv.stop());

const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
const ns = (ms: number): string => String(BigInt(ms) * 1_000_000n);
const pino = (t: number, level: string, msg: string, extra: Record<string, unknown>): [string, string] => [
  ns(t),
  JSON.stringify({ level, time: t, service: 'shop', request_id: `r${t.toString(36)}`, ...extra, msg }),
];

const shop: Array<[string, string]> = [];
for (let i = 0; i < 8; i++) shop.push(pino(T0 + i * 15_000, 'info', 'order placed', { amount_cents: 900 + i * 13, items: (i % 3) + 1 }));
for (let i = 0; i < 3; i++) shop.push(pino(T0 + MIN + i * 1000, 'error', 'database pool exhausted', { pool: 'orders', err: { message: 'timeout' } }));
shop.push(pino(T0 + 2 * MIN, 'warn', 'card declined', { amount_cents: 120 }));
const res = await fetch(srv.url + '/loki/api/v1/push', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    streams: [
      { stream: { service_name: 'shop' }, values: shop },
      { stream: { service_name: 'other' }, values: [[ns(T0), 'other service line 1']] },
    ],
  }),
});
assert.equal(res.status, 204, await res.text());

interface PatternsResponse {
  status: string;
  data: Array<{ pattern: string; samples: Array<[number, number]> }>;
}

test("Grafana's patterns call: Loki's shape, the demo's messages as patterns, counts per bucket", async () => {
  const qs = new URLSearchParams({
    end: new Date(T0 + 5 * MIN).toISOString(),
    query: '{service_name=`shop`}',
    start: new Date(T0 - MIN).toISOString(),
  });
  const r = await fetch(`${srv.url}/loki/api/v1/patterns?${qs}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  const body = (await r.json()) as PatternsResponse;
  assert.equal(body.status, 'success');
  assert.deepEqual(
    body.data.map((p) => p.pattern),
    ['order placed', 'database pool exhausted', 'card declined'],
  );
  for (const p of body.data) for (const s of p.samples) assert.ok(Number.isInteger(s[0]) && Number.isInteger(s[1]) && s[1] > 0, JSON.stringify(s));
  // The default step over 6 minutes is Loki's range/250, at least a second: here 2 s buckets.
  const orders = body.data[0]!.samples;
  assert.equal(
    orders.reduce((n, s) => n + s[1], 0),
    8,
  );
  assert.deepEqual(orders[0], [T0 / 1000, 1]);

  // With a step of a minute, the samples are per-minute counts.
  qs.set('step', '60s');
  const perMin = (await (await fetch(`${srv.url}/loki/api/v1/patterns?${qs}`)).json()) as PatternsResponse;
  assert.deepEqual(perMin.data[0], {
    pattern: 'order placed',
    samples: [
      [T0 / 1000, 4],
      [T0 / 1000 + 60, 4],
    ],
  });
  assert.deepEqual(perMin.data[1], { pattern: 'database pool exhausted', samples: [[T0 / 1000 + 60, 3]] });
});

test('patterns refuse what is not a stream selector with a 400 that says so', async () => {
  for (const [query, want] of [
    ['', /query parameter is required/],
    ['{service_name="shop"} |= "x"', /expected a stream selector/],
    ['rate({service_name="shop"}[1m])', /expected a stream selector|syntax error/],
  ] as const) {
    const r = await fetch(`${srv.url}/loki/api/v1/patterns?${new URLSearchParams({ query })}`);
    assert.equal(r.status, 400, query);
    const body = (await r.json()) as { errorType: string; error: string };
    assert.equal(body.errorType, 'bad_data');
    assert.match(body.error, want);
  }
});
