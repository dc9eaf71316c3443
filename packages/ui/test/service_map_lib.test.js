/* global URL, URLSearchParams */
// Unit tests of the service map's, the TraceQL editor's and the alert traces' pure code (bundled for
// Node by build.js into dist/test/lib.js): the PromQL, the graph built from query answers, the
// layered layout, TraceQL tokens from Grafana's grammar, and error positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.js';

const sample = (client, server, value, connection_type) => ({
  metric: connection_type === undefined ? { client, server } : { client, server, connection_type },
  value: [1700000000, String(value)],
});

test('service map queries: rates by edge over the window, quantiles from the server side falling back to the client side', () => {
  assert.equal(lib.mapWindow(0, 3_600_000), '3600s');
  assert.equal(lib.mapWindow(0, 5_000), '60s', 'at least a minute, so rate() has two samples');
  const q = lib.serviceMapQueries('300s');
  assert.equal(q.requests, 'sum by (client, server, connection_type) (rate(traces_service_graph_request_total[300s]))');
  assert.equal(q.failed, 'sum by (client, server, connection_type) (rate(traces_service_graph_request_failed_total[300s]))');
  assert.equal(
    q.p99,
    'histogram_quantile(0.99, sum by (client, server, connection_type, le) (rate(traces_service_graph_request_server_seconds_bucket[300s]))) or ' +
      'histogram_quantile(0.99, sum by (client, server, connection_type, le) (rate(traces_service_graph_request_client_seconds_bucket[300s])))',
  );
  assert.match(q.p50, /^histogram_quantile\(0\.5, /);
});

const demo = () =>
  lib.buildServiceMap({
    requests: [
      sample('user', 'frontend', 2, 'virtual_node'),
      sample('frontend', 'shop', 2),
      sample('shop', 'orders', 4, 'database'),
      sample('shop', 'payment-gateway', 1),
      sample('shop', 'notifier', 1, 'messaging_system'),
      sample('shop', 'fraud-api', 0.5, 'virtual_node'),
      // No traffic in the window: no edge.
      sample('shop', 'gone', 0),
    ],
    failed: [sample('shop', 'payment-gateway', 0.25), sample('frontend', 'shop', 0.25), sample('user', 'frontend', 0.25, 'virtual_node')],
    p50: [sample('frontend', 'shop', 0.12), sample('shop', 'orders', 'NaN', 'database')],
    p99: [sample('frontend', 'shop', 0.9)],
  });

test('buildServiceMap: nodes take the rate and failures of the calls into them; databases, the user and untraced peers are marked', () => {
  const m = demo();
  const by = Object.fromEntries(m.nodes.map((n) => [n.id, n]));
  assert.deepEqual(Object.keys(by), ['fraud-api', 'frontend', 'notifier', 'orders', 'payment-gateway', 'shop', 'user']);
  assert.deepEqual(
    m.nodes.map((n) => n.kind),
    ['peer', 'service', 'service', 'database', 'service', 'service', 'user'],
  );
  assert.deepEqual([by.shop.rate, by.shop.errorRate, by.shop.errorRatio], [2, 0.25, 0.125]);
  assert.deepEqual([by['payment-gateway'].rate, by['payment-gateway'].errorRatio], [1, 0.25]);
  assert.deepEqual([by.orders.rate, by.orders.errorRatio], [4, 0]);
  // The user serves nothing: it shows what it asked for.
  assert.deepEqual([by.user.rate, by.user.errorRatio], [2, 0.125]);
  const e = m.edges.find((x) => x.client === 'frontend');
  assert.deepEqual([e.server, e.connection, e.rate, e.errorRate, e.p50, e.p99], ['shop', '', 2, 0.25, 0.12, 0.9]);
  // A NaN quantile (nothing observed) is absent, not 0.
  assert.equal(m.edges.find((x) => x.server === 'orders').p50, undefined);
  assert.equal(m.edges.length, 6);
});

test('layoutServiceMap: columns by call depth, callers left, rows ordered by caller, no two boxes overlap', () => {
  const l = lib.layoutServiceMap(demo());
  const by = Object.fromEntries(l.nodes.map((n) => [n.id, n]));
  assert.deepEqual(
    ['user', 'frontend', 'shop', 'orders', 'notifier', 'payment-gateway', 'fraud-api'].map((id) => by[id].depth),
    [0, 1, 2, 3, 3, 3, 3],
  );
  assert.ok(by.user.x < by.frontend.x && by.frontend.x < by.shop.x && by.shop.x < by.orders.x);
  // Same column, stacked by name (same caller), each below the last with room between.
  const col = l.nodes.filter((n) => n.depth === 3).sort((a, b) => a.y - b.y);
  assert.deepEqual(
    col.map((n) => n.id),
    ['fraud-api', 'notifier', 'orders', 'payment-gateway'],
  );
  for (let i = 1; i < col.length; i++) assert.ok(col[i].y >= col[i - 1].y + lib.NODE_H + 20);
  for (const n of l.nodes) assert.ok(n.x >= 0 && n.y >= 0 && n.x + lib.NODE_W <= l.width && n.y + lib.NODE_H <= l.height, n.id);
  // A one-node column is centred on the tallest.
  assert.equal(by.shop.y + lib.NODE_H / 2, l.height / 2);
});

test('layoutServiceMap: a cycle does not loop and a call back up is drawn below the boxes', () => {
  const m = lib.buildServiceMap({
    requests: [sample('a', 'b', 1), sample('b', 'c', 1), sample('c', 'a', 1), sample('x', 'a', 1)],
    failed: [],
    p50: [],
    p99: [],
  });
  const l = lib.layoutServiceMap(m);
  const by = Object.fromEntries(l.nodes.map((n) => [n.id, n]));
  assert.equal(by.x.depth, 0);
  assert.ok(by.a.depth < by.b.depth && by.b.depth < by.c.depth, JSON.stringify(l.nodes.map((n) => [n.id, n.depth])));
  const back = lib.edgePath(by.c, by.a);
  assert.ok(back.labelY > Math.max(by.c.y, by.a.y) + lib.NODE_H, 'the way back runs under the boxes');
  const fwd = lib.edgePath(by.a, by.b);
  assert.match(fwd.d, new RegExp(`^M${by.a.x + lib.NODE_W},${by.a.y + lib.NODE_H / 2} C`));
  assert.ok(fwd.labelX > by.a.x + lib.NODE_W && fwd.labelX < by.b.x, 'the label sits in the gap between the columns');
});

test('nodeTracesHref: a service filters by service; a database or a peer by the calls into it; the range is carried', () => {
  const range = new URLSearchParams({ range: '15m' });
  assert.equal(lib.nodeTracesHref({ id: 'shop', kind: 'service' }, range), '/ui/traces?range=15m&service=shop');
  const db = new URL(lib.nodeTracesHref({ id: 'orders"db', kind: 'database' }, range), 'http://x');
  assert.equal(db.searchParams.get('q'), '{ kind = client && (span.db.name = "orders\\"db" || span.db.system = "orders\\"db") }');
  const peer = new URL(lib.nodeTracesHref({ id: 'fraud-api', kind: 'peer' }, range), 'http://x');
  assert.equal(peer.searchParams.get('q'), '{ kind = client && span.peer.service = "fraud-api" }');
  assert.equal(lib.nodeTracesHref({ id: 'user', kind: 'user' }, range), '/ui/traces?range=15m');
});

test('tokenizeTraceQL: Grafana grammar classes, every character covered once, in order', () => {
  const src = '{ resource.service.name = "shop" && span.http.status_code >= 500 && duration > 1.5s } | avg(duration) > 200ms | select(.user)';
  const toks = lib.tokenizeTraceQL(src);
  assert.equal(toks.map((t) => t.text).join(''), src);
  let at = 0;
  for (const t of toks) {
    assert.equal(t.start, at);
    at += t.text.length;
  }
  const kinds = toks.filter((t) => t.kind !== 'space').map((t) => `${t.kind}:${t.text}`);
  assert.deepEqual(kinds.slice(0, 12), [
    'paren:{',
    'label:resource',
    'operator:.',
    'label:service.name',
    'operator:=',
    'string:"shop"',
    'operator:&&',
    'label:span',
    'operator:.',
    'label:http.status_code',
    'operator:>=',
    'number:500',
  ]);
  assert.ok(kinds.includes('metric:duration'));
  assert.ok(kinds.includes('duration:1.5s'));
  assert.ok(kinds.includes('duration:200ms'));
  assert.ok(kinds.includes('operator:|'));
  assert.ok(kinds.includes('keyword:select'), kinds.join(' '));
  assert.equal(lib.traceqlSyntaxError(src), undefined);
});

test('TraceQL errors: where the grammar stops, and the offset the server names (line and column from 1)', () => {
  assert.equal(lib.traceqlSyntaxError('{ .a = }'), 7);
  // An unfinished query is marked at its last character, where the mark can show.
  assert.equal(lib.traceqlSyntaxError('{ .a = '), 5);
  assert.equal(lib.traceqlErrorPosition('invalid TraceQL query: parse error at line 1, col 8: syntax error: unexpected }', '{ .a = }'), 7);
  assert.equal(lib.traceqlErrorPosition('parse error at line 2, col 3: x', '{ .a = 1 }\n| x'), 13);
  assert.equal(lib.traceqlErrorPosition('parse error at line 1, col 99: x', '{}'), 1, 'clamped to the text');
  assert.equal(lib.traceqlErrorPosition('no position here', '{}'), undefined);
});

test("alertTraceSearchParams: the service's traces from the moment the alert became active to now, many, for the slowest", () => {
  assert.deepEqual(lib.alertTraceSearchParams('shop', 1_700_000_000_500, 1_700_000_090_200), {
    q: '{ resource.service.name = "shop" }',
    start: '1700000000',
    end: '1700000091',
    limit: '1000',
  });
  // Just active: at least a second wide.
  assert.equal(lib.alertTraceSearchParams('shop', 1_700_000_000_000, 1_700_000_000_000).end, '1700000001');
});
