/**
 * The metrics generator without a server: exemplars per latency bucket, the service graph's wait
 * (edges settle only once it passes), max_items, and cumulative counters across flushes. The
 * clock is a variable the test moves; the output is a real GeneratorOutput that keeps each flush.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span, SpanKind } from '../storage/types.js';
import { defaultMetricsGeneratorOptions, MetricsGenerator, type GeneratedExemplar, type GeneratedSample } from './index.js';
import { labelNameOf } from './config.js';
import { isStaleNaN } from '../../core/model/value.js';

const MS = 1_000_000n;

function span(trace: string, id: string, parent: string, kind: SpanKind, service: string, durMs: number, name = 'op'): Span {
  const start = 1_700_000_000_000n * MS;
  return {
    traceId: trace.repeat(32),
    spanId: id.padStart(16, '0'),
    parentSpanId: parent ? parent.padStart(16, '0') : '',
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(durMs) * MS,
    status: { code: 'unset', message: '' },
    attributes: {},
    resource: { 'service.name': service },
    scope: { name: '', version: '' },
    events: [],
    links: [],
  };
}

class Keep {
  flushes: { ts: number; samples: readonly GeneratedSample[]; exemplars: readonly GeneratedExemplar[] }[] = [];
  write(ts: number, samples: readonly GeneratedSample[], exemplars: readonly GeneratedExemplar[]): void {
    this.flushes.push({ ts, samples, exemplars });
  }
  value(name: string, match: Record<string, string> = {}): number | undefined {
    const last = this.flushes.at(-1)!;
    const found = last.samples.filter((s) => s.labels['__name__'] === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
    return found.length ? found.reduce((a, s) => a + s.value, 0) : undefined;
  }
}

function setup(patch: (o: ReturnType<typeof defaultMetricsGeneratorOptions>) => void = () => {}): { gen: MetricsGenerator; out: Keep; clock: { t: number } } {
  const o = defaultMetricsGeneratorOptions();
  patch(o);
  const out = new Keep();
  const clock = { t: 1_000_000 };
  return { gen: new MetricsGenerator(o, out, () => clock.t), out, clock };
}

test('each latency bucket hands out its most recent span as an exemplar, once', () => {
  const { gen, out } = setup();
  gen.push([span('a', '1', '', 'server', 'svc', 3), span('b', '2', '', 'server', 'svc', 3), span('c', '3', '', 'server', 'svc', 100)]);
  gen.flush();
  const ex = out.flushes[0]!.exemplars.filter((e) => e.labels['__name__'] === 'traces_spanmetrics_latency_bucket');
  assert.deepEqual(
    ex.map((e) => [e.labels['le'], e.traceId, e.spanId, e.value]),
    [
      ['0.004', 'b'.repeat(32), '0000000000000002', 0.003],
      ['0.128', 'c'.repeat(32), '0000000000000003', 0.1],
    ],
  );
  assert.equal(ex[0]!.ts, 1_700_000_000_003);
  gen.flush();
  assert.equal(out.flushes[1]!.exemplars.length, 0, 'an exemplar is handed out once');
  assert.equal(out.value('traces_spanmetrics_calls_total'), 3, 'counters stay');
});

test('service graph: a lone half waits `wait`, then counts as unpaired; its other half within the wait pairs', () => {
  const { gen, out, clock } = setup((o) => (o.serviceGraph.waitMs = 10_000));
  gen.push([span('a', '1', '9', 'client', 'shop', 10)]);
  clock.t += 9_000;
  gen.flush();
  assert.equal(out.value('traces_service_graph_unpaired_spans_total'), undefined, 'still waiting');
  assert.equal(gen.stats().pendingEdges, 1);
  gen.push([span('a', '2', '1', 'server', 'pay', 5)]);
  gen.push([span('b', '1', '9', 'client', 'shop', 10)]);
  clock.t += 10_001;
  gen.flush();
  assert.equal(out.value('traces_service_graph_request_total', { client: 'shop', server: 'pay' }), 1);
  assert.equal(out.value('traces_service_graph_unpaired_spans_total', { client: 'shop', server: '' }), 1);
  assert.equal(gen.stats().pendingEdges, 0);
});

test('service graph: past max_items a new half is dropped and counted', () => {
  const { gen, out } = setup((o) => (o.serviceGraph.maxItems = 2));
  gen.push([span('a', '1', '9', 'client', 'shop', 1), span('b', '1', '9', 'client', 'shop', 1), span('c', '1', '9', 'client', 'shop', 1)]);
  gen.flush();
  assert.equal(out.value('traces_service_graph_dropped_spans_total', { client: 'shop' }), 1);
  assert.equal(gen.stats().pendingEdges, 2);
});

test('a client span with peer.service becomes an edge to that peer once its wait passes', () => {
  const { gen, out, clock } = setup((o) => (o.serviceGraph.waitMs = 1));
  const s = span('a', '1', '9', 'client', 'shop', 10);
  s.attributes['peer.service'] = 'stripe';
  gen.push([s]);
  clock.t += 2;
  gen.flush();
  assert.equal(out.value('traces_service_graph_request_total', { client: 'shop', server: 'stripe', connection_type: 'virtual_node' }), 1);
  assert.equal(out.value('traces_service_graph_unpaired_spans_total'), undefined);
});

test('a new series is written first as 0 at its making, then with its value; later flushes write the value alone', () => {
  const { gen, out, clock } = setup();
  const made = clock.t;
  gen.push([span('a', '1', '', 'internal', 'svc', 3)]);
  clock.t += 5_000;
  gen.flush();
  const first = out.flushes[0]!.samples.filter((s) => s.labels['__name__'] === 'traces_spanmetrics_calls_total');
  assert.deepEqual(
    first.map((s) => [s.ts, s.value]),
    [
      [made, 0],
      [undefined, 1],
    ],
  );
  // Every series of the label set starts at zero: calls, size, each bucket, sum and count.
  const zeros = out.flushes[0]!.samples.filter((s) => s.ts !== undefined);
  assert.equal(zeros.length, 2 + 14 + 3);
  assert.ok(zeros.every((s) => s.value === 0 && s.ts === made));
  // Made and flushed on one clock reading, the zero still comes a millisecond before the value.
  gen.push([span('b', '1', '', 'internal', 'other', 3)]);
  gen.flush();
  const other = out.flushes[1]!.samples.filter((s) => s.labels['__name__'] === 'traces_spanmetrics_calls_total' && s.labels['service'] === 'other');
  assert.deepEqual(
    other.map((s) => [s.ts, s.value]),
    [
      [clock.t - 1, 0],
      [undefined, 1],
    ],
  );
  assert.ok(
    out.flushes[1]!.samples.filter((s) => s.labels['service'] === 'svc').every((s) => s.ts === undefined),
    'a series already written gets no second zero',
  );
});

/** The services of a flush's calls_total samples, split into live and ended (staleness marker). */
function callsOf(flush: { samples: readonly GeneratedSample[] }): { live: string[]; ended: string[] } {
  const calls = flush.samples.filter((s) => s.labels['__name__'] === 'traces_spanmetrics_calls_total' && s.ts === undefined);
  return {
    live: calls.filter((s) => !isStaleNaN(s.value)).map((s) => s.labels['service']!),
    ended: calls.filter((s) => isStaleNaN(s.value)).map((s) => s.labels['service']!),
  };
}

// Internal spans: span metrics only (a root server span would also make a user → service edge).
test('stale_duration: a series without spans for that long is written once more as a staleness marker, then no more', () => {
  const { gen, out, clock } = setup((o) => (o.staleMs = 60_000));
  const oneSet = 2 + 14 + 3; // calls, size, 14 buckets + +Inf + sum + count
  gen.push([span('a', '1', '', 'internal', 'old', 3), span('b', '1', '', 'internal', 'kept', 3)]);
  gen.flush();
  assert.equal(gen.stats().activeSeries, 2 * oneSet);
  clock.t += 50_000;
  gen.push([span('c', '1', '', 'internal', 'kept', 3)]);
  clock.t += 10_001; // 'old' last seen 60.001 s ago, 'kept' 10 s ago
  gen.flush();
  assert.deepEqual(callsOf(out.flushes[1]!), { live: ['kept'], ended: ['old'] });
  // Every one of the label set's 19 samples ends, not only the counter.
  const ended = out.flushes[1]!.samples.filter((s) => s.labels['service'] === 'old');
  assert.equal(ended.length, oneSet);
  assert.ok(ended.every((s) => isStaleNaN(s.value)));
  assert.deepEqual([gen.stats().activeSeries, gen.stats().expiredSeries], [oneSet, oneSet]);
  gen.flush();
  assert.deepEqual(callsOf(out.flushes[2]!), { live: ['kept'], ended: [] }, 'an ended series is not written again');
  // Its label set coming back starts from zero, as after a restart: made in the millisecond its
  // marker was written, its zero still comes after the marker (one time, one value in the TSDB).
  const markerAt = out.flushes[1]!.ts;
  clock.t = markerAt;
  gen.push([span('d', '1', '', 'internal', 'old', 3)]);
  clock.t += 1_000;
  gen.flush();
  const restart = out.flushes.at(-1)!.samples.filter((s) => s.labels['__name__'] === 'traces_spanmetrics_calls_total' && s.labels['service'] === 'old');
  assert.deepEqual(
    restart.map((s) => [s.ts, s.value]),
    [
      [markerAt + 1, 0],
      [undefined, 1],
    ],
  );
  assert.equal(out.value('traces_spanmetrics_calls_total', { service: 'old' }), 1);
  assert.equal(out.value('traces_spanmetrics_calls_total', { service: 'kept' }), 2);
});

test('stale_duration: the service graph edges and unpaired counters end too', () => {
  const { gen, out, clock } = setup((o) => {
    o.staleMs = 60_000;
    o.serviceGraph.waitMs = 1_000;
  });
  gen.push([span('a', '1', '', 'client', 'shop', 10), span('a', '2', '1', 'server', 'pay', 5), span('b', '1', '9', 'client', 'shop', 1)]);
  clock.t += 1_001;
  gen.flush();
  assert.equal(out.value('traces_service_graph_request_total', { client: 'shop', server: 'pay' }), 1);
  assert.equal(out.value('traces_service_graph_unpaired_spans_total', { client: 'shop' }), 1);
  clock.t += 60_001;
  gen.flush();
  const last = out.flushes.at(-1)!.samples.filter((s) => s.labels['__name__']!.startsWith('traces_service_graph_'));
  assert.ok(last.length > 0 && last.every((s) => isStaleNaN(s.value)), 'every service-graph sample ends');
  assert.equal(gen.stats().activeSeries, 0);
});

test('stale_duration frees room under max_active_series for new label sets', () => {
  const { gen, out, clock } = setup((o) => {
    o.staleMs = 60_000;
    o.maxActiveSeries = 19;
  });
  gen.push([span('a', '1', '', 'internal', 'first', 3)]);
  gen.push([span('b', '1', '', 'internal', 'second', 3)]);
  gen.flush();
  assert.deepEqual(callsOf(out.flushes[0]!), { live: ['first'], ended: [] });
  assert.equal(gen.stats().refusedSeries, 19);
  clock.t += 60_001;
  gen.flush();
  gen.push([span('c', '1', '', 'internal', 'second', 3)]);
  gen.flush();
  assert.deepEqual(callsOf(out.flushes[2]!), { live: ['second'], ended: [] });
  assert.equal(gen.stats().activeSeries, 19);
});

test('stale_duration 0 keeps series forever', () => {
  const { gen, out, clock } = setup((o) => (o.staleMs = 0));
  gen.push([span('a', '1', '', 'internal', 'svc', 3)]);
  clock.t += 365 * 86_400_000;
  gen.flush();
  assert.deepEqual(callsOf(out.flushes[0]!), { live: ['svc'], ended: [] });
});

test('a database client span is an edge at once, to the node Tempo would name, timed by the client on both sides', () => {
  const { gen, out } = setup();
  const db = (id: string, attrs: Record<string, string>): Span => {
    const s = span(id, '1', '9', 'client', 'shop', 40);
    Object.assign(s.attributes, attrs);
    return s;
  };
  gen.push([
    db('a', { 'db.system': 'postgresql' }),
    db('b', { 'db.system': 'postgresql', 'db.name': 'orders' }),
    db('c', { 'db.namespace': 'carts', 'db.name': 'old-name' }),
    db('d', { 'db.system': 'redis', 'network.peer.address': '10.0.0.7', 'network.peer.port': '6379' }),
    db('e', { 'db.system': 'redis', 'server.address': 'cache.internal', 'network.peer.address': '10.0.0.7' }),
    db('f', { 'db.name': 'orders', 'peer.service': 'orders-db', 'server.address': 'pg.internal' }),
  ]);
  gen.flush();
  const servers = out.flushes[0]!.samples.filter((s) => s.labels['__name__'] === 'traces_service_graph_request_total' && s.ts === undefined).map((s) => [
    s.labels['server'],
    s.labels['connection_type'],
  ]);
  assert.deepEqual(servers, [
    ['postgresql', 'database'],
    ['orders', 'database'],
    ['carts', 'database'],
    ['10.0.0.7:6379', 'database'],
    ['cache.internal', 'database'],
    ['orders-db', 'database'],
  ]);
  assert.equal(out.value('traces_service_graph_request_server_seconds_sum', { server: 'orders' }), 0.04);
  assert.equal(out.value('traces_service_graph_request_client_seconds_sum', { server: 'orders' }), 0.04);
  assert.equal(gen.stats().pendingEdges, 0, 'nothing waits for a database');
});

test('metrics_ingestion_time_range_slack: spans ending further from the clock, either way, are not counted', () => {
  const { gen, out, clock } = setup((o) => (o.ingestionSlackMs = 30_000));
  const ending = (id: string, service: string, endAt: number): Span => {
    const s = span(id, '1', '', 'internal', service, 0);
    s.startTimeUnixNano = s.endTimeUnixNano = BigInt(endAt) * MS;
    return s;
  };
  clock.t = 1_700_000_100_000;
  gen.push([
    ending('a', 'recent', clock.t - 29_000),
    ending('b', 'resent', clock.t - 31_000),
    ending('c', 'skewed', clock.t + 31_000),
    ending('d', 'edge', clock.t + 30_000),
  ]);
  gen.flush();
  assert.deepEqual(callsOf(out.flushes[0]!).live.sort(), ['edge', 'recent']);
  assert.deepEqual([gen.stats().spans, gen.stats().discardedSpans], [4, 2]);
});

test("service-graph dimensions: a virtual side (the user, a peer.service) takes none of the real side's", () => {
  const { gen, out, clock } = setup((o) => {
    o.serviceGraph.dimensions = ['env'];
    o.serviceGraph.waitMs = 1;
  });
  const root = span('a', '1', '', 'server', 'shop', 10);
  root.resource['env'] = 'prod';
  const call = span('b', '2', '1', 'client', 'shop', 10);
  call.resource['env'] = 'prod';
  call.attributes['peer.service'] = 'stripe';
  gen.push([root, call]);
  clock.t += 2;
  gen.flush();
  const edges = out.flushes[0]!.samples.filter((s) => s.labels['__name__'] === 'traces_service_graph_request_total' && s.ts === undefined).map(
    (s) => `${s.labels['client']}(${s.labels['client_env']})→${s.labels['server']}(${s.labels['server_env']})`,
  );
  assert.deepEqual(edges.sort(), ['shop(prod)→stripe()', 'user()→shop(prod)']);
});

test('disabled: nothing is computed or written', () => {
  const { gen, out } = setup((o) => (o.enabled = false));
  gen.push([span('a', '1', '', 'server', 'svc', 3)]);
  gen.flush();
  assert.equal(out.flushes.length, 0);
  assert.equal(gen.stats().spans, 0);
});

test('label names from attribute names', () => {
  assert.equal(labelNameOf('http.request.method'), 'http_request_method');
  assert.equal(labelNameOf('9lives'), '_9lives');
});
