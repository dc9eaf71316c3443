/**
 * The Loki endpoints Grafana's Loki data source calls beyond queries and labels, replayed with the
 * query strings Grafana builds (times in ns, selectors URL-encoded) against a whole in-process
 * server fed through the Loki push API.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { LogqlEngine } from '../../logs/logql/engine.js';
import { LocalLogQueryService } from '../../logs/query/service.js';
import { LogStore } from '../../logs/store/store.js';
import { Router } from './http.js';
import { registerLokiApi } from './loki.js';

const srv = await startServer();
after(() => srv.stop());

const MIN = 60_000;
// A recent whole minute, so pushes are accepted and volume buckets fall on known boundaries.
const T0 = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
const ns = (ms: number): string => String(BigInt(ms) * 1_000_000n);

const api = [
  { t: T0, line: '{"level":"info","status":200,"latency":"12ms","user":{"id":"u1"}}' },
  { t: T0 + 1000, line: '{"level":"error","status":500,"latency":"1.5s","user":{"id":"u2"}}' },
  { t: T0 + 2 * MIN, line: '{"level":"info","status":200,"latency":"3ms","user":{"id":"u1"}}' },
];
const web = [
  { t: T0, line: 'level=info path=/home took=0.25' },
  { t: T0 + MIN, line: 'level=warn path=/cart took=1.5' },
];
const dev = [{ t: T0, line: 'dev line' }];
const bytes = (ls: { line: string }[]): number => ls.reduce((n, l) => n + Buffer.byteLength(l.line), 0);

const res = await fetch(srv.url + '/loki/api/v1/push', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    streams: [
      { stream: { app: 'api', env: 'prod' }, values: api.map((e) => [ns(e.t), e.line]) },
      { stream: { app: 'web', env: 'prod' }, values: web.map((e) => [ns(e.t), e.line]) },
      { stream: { app: 'api', env: 'dev' }, values: dev.map((e) => [ns(e.t), e.line]) },
    ],
  }),
});
assert.equal(res.status, 204, await res.text());

const START = ns(T0 - MIN);
const END = ns(T0 + 5 * MIN);

/** The Prometheus envelope around a vector or matrix. */
interface Envelope {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string]; values: [number, string][] }[] };
}

async function get<T = Envelope>(p: string, params: Record<string, string>): Promise<{ status: number; body: T }> {
  const r = await fetch(`${srv.url}${p}?${new URLSearchParams(params)}`);
  const text = await r.text();
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

test('index/volume: bytes per series of the selector labels, largest first, in a Prometheus vector', async () => {
  const r = await get('/loki/api/v1/index/volume', { query: '{app=~".+"}', start: START, end: END, limit: '5000' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'success');
  assert.equal(r.body.data.resultType, 'vector');
  // Grouped by app only (the label the selector names): api's two streams sum together.
  assert.deepEqual(
    r.body.data.result.map((s) => [s.metric, s.value[1]]),
    [
      [{ app: 'api' }, String(bytes(api) + bytes(dev))],
      [{ app: 'web' }, String(bytes(web))],
    ],
  );
  assert.equal(r.body.data.result[0]!.value[0], (T0 + 5 * MIN) / 1000);
});

test('index/volume: targetLabels, aggregateBy=labels, limit and a missing query', async () => {
  let r = await get('/loki/api/v1/index/volume', { query: '{env="prod"}', start: START, end: END, targetLabels: 'app' });
  assert.deepEqual(
    r.body.data.result.map((s) => s.metric),
    [{ app: 'api' }, { app: 'web' }],
  );
  // Grafana's label browser: every label name with its volume, value "".
  r = await get('/loki/api/v1/index/volume', { query: '{app=~".+"}', start: START, end: END, aggregateBy: 'labels' });
  const total = String(bytes(api) + bytes(web) + bytes(dev));
  assert.deepEqual(r.body.data.result, [
    { metric: { app: '' }, value: [(T0 + 5 * MIN) / 1000, total] },
    { metric: { env: '' }, value: [(T0 + 5 * MIN) / 1000, total] },
  ]);
  r = await get('/loki/api/v1/index/volume', { query: '{app=~".+"}', start: START, end: END, limit: '1' });
  assert.deepEqual(
    r.body.data.result.map((s) => s.metric),
    [{ app: 'api' }],
  );
  assert.equal((await get('/loki/api/v1/index/volume', { start: START, end: END })).status, 400);
  assert.equal((await get('/loki/api/v1/index/volume', { query: '{app=~".+"}', aggregateBy: 'pods' })).status, 400);
});

test('index/volume_range: a matrix of bytes per step', async () => {
  const r = await get('/loki/api/v1/index/volume_range', { query: '{app="api"}', start: ns(T0), end: END, step: '60', targetLabels: 'env' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.data.resultType, 'matrix');
  assert.deepEqual(r.body.data.result, [
    {
      metric: { env: 'prod' },
      values: [
        [T0 / 1000, String(bytes(api.slice(0, 2)))],
        [(T0 + 2 * MIN) / 1000, String(bytes(api.slice(2)))],
      ],
    },
    { metric: { env: 'dev' }, values: [[T0 / 1000, String(bytes(dev))]] },
  ]);
});

test('detected_labels: the labels of the selected streams with their cardinality', async () => {
  const r = await get<{ detectedLabels: { label: string; cardinality: number }[] }>('/loki/api/v1/detected_labels', {
    query: '{app="api"}',
    start: START,
    end: END,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.detectedLabels, [
    { label: 'app', cardinality: 1 },
    { label: 'env', cardinality: 2 },
  ]);
  // Without a query, every stream in the range counts.
  const all = await get<{ detectedLabels: { label: string; cardinality: number }[] }>('/loki/api/v1/detected_labels', { start: START, end: END });
  assert.deepEqual(all.body.detectedLabels[0], { label: 'app', cardinality: 2 });
});

test('detected_fields: JSON and logfmt keys with parser, type and cardinality', async () => {
  type Fields = { fields: { label: string; type: string; cardinality: number; parsers: string[] }[]; fieldLimit: number };
  const r = await get<Fields>('/loki/api/v1/detected_fields', { query: '{env="prod"}', start: START, end: END, line_limit: '1000', limit: '1000' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.fields, [
    { label: 'latency', type: 'duration', cardinality: 3, parsers: ['json'] },
    { label: 'level', type: 'string', cardinality: 3, parsers: ['json', 'logfmt'] },
    { label: 'path', type: 'string', cardinality: 2, parsers: ['logfmt'] },
    { label: 'status', type: 'int', cardinality: 2, parsers: ['json'] },
    { label: 'took', type: 'float', cardinality: 2, parsers: ['logfmt'] },
    // Nested JSON keys are named as `| json` names them.
    { label: 'user_id', type: 'string', cardinality: 2, parsers: ['json'] },
  ]);
  // The query's pipeline applies first; line_limit keeps the newest lines; limit cuts the fields.
  const errors = await get<Fields>('/loki/api/v1/detected_fields', { query: '{app="api"} |= "error"', start: START, end: END });
  assert.deepEqual(
    errors.body.fields.map((f) => [f.label, f.cardinality]),
    [
      ['latency', 1],
      ['level', 1],
      ['status', 1],
      ['user_id', 1],
    ],
  );
  const newest = await get<Fields>('/loki/api/v1/detected_fields', { query: '{app="web"}', start: START, end: END, line_limit: '1', limit: '2' });
  assert.deepEqual(newest.body, {
    fields: [
      { label: 'level', type: 'string', cardinality: 1, parsers: ['logfmt'] },
      { label: 'path', type: 'string', cardinality: 1, parsers: ['logfmt'] },
    ],
    fieldLimit: 2,
  });
  assert.equal((await get('/loki/api/v1/detected_fields', { query: 'rate({app="web"}[1m])', start: START, end: END })).status, 400);
});

test('format_query: GET and form POST answer the normalised query; invalid LogQL is a 400', async () => {
  const r = await get<{ status: string; data: string }>('/loki/api/v1/format_query', { query: '{foo=   "bar" ,  env =~ "a b"}   |=  "x  y"' });
  assert.deepEqual(r, { status: 200, body: { status: 'success', data: '{foo="bar", env=~"a b"} |= "x  y"' } });
  const post = await fetch(srv.url + '/loki/api/v1/format_query', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: 'sum  by ( app ) (count_over_time({app = "api"}\n[5m]))' }),
  });
  assert.deepEqual(await post.json(), { status: 'success', data: 'sum by (app) (count_over_time({app="api"}[5m]))' });
  assert.equal((await get('/loki/api/v1/format_query', { query: '{foo="bar"' })).status, 400);
});

test('buildinfo has the fields Loki answers, and /ready says ready', async () => {
  const r = await get<Record<string, string>>('/loki/api/v1/status/buildinfo', {});
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
  assert.match(r.body['version']!, /^3\.\d+\.\d+$/);
  assert.match(r.body['goVersion']!, /^node v\d+/);
  const ready = await fetch(srv.url + '/ready');
  assert.deepEqual([ready.status, await ready.text()], [200, 'ready\n']);
});

test('/ready answers 503 with the reason while Vigil is not ready', async () => {
  const store = new LogStore({ dir: srv.dir + '/ready-store' });
  const router = new Router(nopLogger);
  let problem: string | undefined = 'log store: disk full';
  registerLokiApi(router, new LocalLogQueryService(store, new LogqlEngine(store)), { notReady: () => problem });
  const server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ready`;
    let r = await fetch(url);
    assert.deepEqual([r.status, await r.text()], [503, 'Vigil is not ready: log store: disk full\n']);
    problem = undefined;
    r = await fetch(url);
    assert.deepEqual([r.status, await r.text()], [200, 'ready\n']);
  } finally {
    server.close();
  }
});
