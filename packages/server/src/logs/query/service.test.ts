import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom, labelsToRecord } from '../../core/model/labels.js';
import { LogqlEngine, LogqlExecError } from '../logql/engine.js';
import { LogqlParseError, parseStreamSelector } from '../logql/parser.js';
import { LogStore } from '../store/store.js';
import { LocalLogQueryService } from './service.js';
import { TailQueryError, type TailLine } from './tail.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const S = 1_000_000_000n;
const END = T0 + 100n * S;

/** api: 10 JSON lines, checkout: 5 logfmt lines; request req-3 crosses both services. */
function setup(): { svc: LocalLogQueryService; store: LogStore } {
  const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logquery-')), now: () => Number(T0 / 1_000_000n) });
  store.start();
  const api = Array.from({ length: 10 }, (_, i) => ({
    t: T0 + BigInt(i + 1) * S,
    line: JSON.stringify({ level: i < 7 ? 'info' : 'error', request_id: `req-${i}`, n: i }),
  }));
  const checkout = Array.from({ length: 5 }, (_, i) => ({ t: T0 + BigInt(i + 1) * S + 500_000_000n, line: `level=warn reqId=req-${i + 2} step=${i}` }));
  store.push([
    { labels: labelsFrom({ app: 'api', env: 'prod' }), entries: api },
    { labels: labelsFrom({ app: 'checkout', env: 'prod' }), entries: checkout },
  ]);
  return { svc: new LocalLogQueryService(store, new LogqlEngine(store)), store };
}

const WINDOW = { start: T0, end: END, limit: 1000, direction: 'forward' as const };

test('facets count stream labels and parsed fields, most frequent first', () => {
  const { svc } = setup();
  const r = svc.facets('{env="prod"}', WINDOW, { top: 2 });
  assert.equal(r.lines, 15);
  const level = r.facets.find((f) => f.field === 'level')!;
  assert.deepEqual(level, {
    field: 'level',
    distinct: 3,
    values: [
      { value: 'info', count: 7 },
      { value: 'warn', count: 5 },
    ],
  });
  assert.deepEqual(
    r.facets.map((f) => f.field),
    ['app', 'env', 'level', 'n', 'reqId', 'request_id', 'step'],
  );
  assert.deepEqual(svc.facets('{app="api"} |= "error"', WINDOW, { field: 'level' }).facets, [
    { field: 'level', distinct: 1, values: [{ value: 'error', count: 3 }] },
  ]);
  assert.throws(() => svc.facets('count_over_time({app="api"}[1m])', WINDOW), LogqlExecError);
});

test('context: lines before and after one line of a stream', () => {
  const { svc } = setup();
  const c = svc.context(parseStreamSelector('{app="api"}'), T0 + 5n * S, 2, 3)!;
  const n = (es: { line: string }[]): number[] => es.map((e) => JSON.parse(e.line).n as number);
  assert.deepEqual(labelsToRecord(c.stream), { app: 'api', env: 'prod' });
  assert.deepEqual([n(c.before), n(c.at), n(c.after)], [[2, 3], [4], [5, 6, 7]]);
  assert.equal(svc.context(parseStreamSelector('{app="nope"}'), T0, 1, 1), undefined);
});

test('correlate finds one id across services, by JSON and logfmt fields, in time order', () => {
  const { svc } = setup();
  const lines = svc.correlate('req-3', T0, END);
  assert.deepEqual(
    lines.map((l) => [l.stream.find((x) => x.name === 'app')!.value, l.entry.t]),
    [
      ['api', T0 + 4n * S],
      ['checkout', T0 + 2n * S + 500_000_000n],
    ].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
  );
  // Only the named fields count, and a substring of another id is no match.
  assert.deepEqual(svc.correlate('req-3', T0, END, ['request_id']).length, 1);
  assert.deepEqual(svc.correlate('req', T0, END).length, 0);
});

test('tail: backfill through the pipeline, then follow new matching lines only', () => {
  const { svc, store } = setup();
  const tail = svc.tail('{app="api"} | json | level="error" | line_format "{{.request_id}}"');
  assert.deepEqual(
    tail.backfill(T0, END, 100).map((l) => l.entry.line),
    ['req-7', 'req-8', 'req-9'],
  );
  const got: TailLine[][] = [];
  const stop = tail.follow((lines) => got.push(lines));
  store.push([
    {
      labels: labelsFrom({ app: 'api', env: 'prod' }),
      entries: [
        { t: END - S, line: '{"level":"error","request_id":"new"}' },
        { t: END - S + 1n, line: '{"level":"info"}' },
      ],
    },
    { labels: labelsFrom({ app: 'checkout', env: 'prod' }), entries: [{ t: END - S, line: 'level=error' }] },
  ]);
  stop();
  store.push([{ labels: labelsFrom({ app: 'api', env: 'prod' }), entries: [{ t: END, line: '{"level":"error","request_id":"late"}' }] }]);
  assert.deepEqual(
    got.map((b) => b.map((l) => l.entry.line)),
    [['new']],
  );
  assert.equal(labelsToRecord(got[0]![0]!.labels)['level'], 'error');
  assert.throws(() => svc.tail('rate({app="api"}[1m])'), TailQueryError);
  assert.throws(() => svc.tail('{app="api"'), LogqlParseError);
});

test('series, labels and index stats', () => {
  const { svc } = setup();
  const sel = (s: string): ReturnType<typeof parseStreamSelector> => parseStreamSelector(s);
  assert.deepEqual(svc.series([sel('{app="api"}'), sel('{env="prod"}')], T0, END).map(labelsToRecord), [
    { app: 'api', env: 'prod' },
    { app: 'checkout', env: 'prod' },
  ]);
  assert.deepEqual(svc.labelNames(T0, END), ['app', 'env']);
  assert.deepEqual(svc.labelValues('app', [], T0, END), ['api', 'checkout']);
  assert.equal(svc.indexStats(sel('{app="checkout"}'), T0, END).entries, 5);
  const q = svc.rangeQuery('{app="checkout"}', WINDOW, 1000);
  assert.deepEqual([q.value.type, q.stats.linesScanned], ['streams', 5]);
});

test('detected field types follow Loki: int before float, bool, duration, bytes, else string', async () => {
  const { valueType } = await import('./detected.js');
  assert.deepEqual(['42', '-3', '1.5', '1e3', 'true', 'F', '1h30m', '250ms', '10KB', '5 MiB', 'hello', ''].map(valueType), [
    'int',
    'int',
    'float',
    'float',
    'boolean',
    'boolean',
    'duration',
    'duration',
    'bytes',
    'bytes',
    'string',
    'string',
  ]);
});

test('volume: series of the named labels or label names, buckets per step, largest first', () => {
  const { svc } = setup();
  const v = svc.volume(parseStreamSelector('{app=~".+"}'), T0, END, { stepMs: 5000 });
  assert.deepEqual(
    v.map((s) => s.labels),
    [{ app: 'api' }, { app: 'checkout' }],
  );
  assert.equal(
    v[0]!.points.reduce((n, [, b]) => n + b, 0),
    v[0]!.bytes,
  );
  const q = svc.rangeQuery('{app="api"}', WINDOW, 1000).value;
  assert.equal(q.type, 'streams');
  if (q.type === 'streams')
    assert.equal(
      v[0]!.bytes,
      q.streams[0]!.entries.map((e) => Buffer.byteLength(e.line)).reduce((a, b) => a + b),
    );
  // Lines at T0+1s..T0+10s: buckets [T0, T0+5s) and [T0+5s, T0+10s) and [T0+10s, ...).
  assert.deepEqual(
    v[0]!.points.map(([t]) => t - Number(T0 / 1_000_000n)),
    [0, 5000, 10000],
  );
  assert.deepEqual(
    svc.volume([], T0, END, { aggregateBy: 'labels', limit: 1 }).map((s) => s.labels),
    [{ app: '' }],
  );
});

test('formatQuery keeps string literals whole, braces in templates included', () => {
  const { svc } = setup();
  assert.equal(svc.formatQuery('{a = "b"}  | line_format   "{{ .x }} , y"'), '{a="b"} | line_format "{{ .x }} , y"');
  assert.equal(svc.formatQuery('{a="b\\" c"} |~ `x  y`'), '{a="b\\" c"} |~ `x  y`');
  assert.throws(() => svc.formatQuery('{a="b"} |'), LogqlParseError);
});

test('facets name nested JSON fields as | json does, so filtering by a facet value matches its lines', () => {
  const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logquery-')), now: () => Number(T0 / 1_000_000n) });
  store.start();
  const line = (i: number): string =>
    JSON.stringify({
      level: 'error',
      msg: 'payment failed',
      err: { type: i % 2 ? 'GatewayTimeout' : 'CardDeclined', stack: `Error: x\n    at f (a.js:${i})` },
    });
  store.push([{ labels: labelsFrom({ app: 'shop' }), entries: Array.from({ length: 4 }, (_, i) => ({ t: T0 + BigInt(i + 1) * S, line: line(i) })) }]);
  const engine = new LogqlEngine(store);
  const svc = new LocalLogQueryService(store, engine);
  const errType = svc.facets('{app="shop"}', WINDOW).facets.find((f) => f.field === 'err_type');
  assert.deepEqual(errType, {
    field: 'err_type',
    distinct: 2,
    values: [
      { value: 'CardDeclined', count: 2 },
      { value: 'GatewayTimeout', count: 2 },
    ],
  });
  // The filter the UI builds from that facet selects exactly its lines.
  const filtered = svc.facets('{app="shop"} | json | err_type="GatewayTimeout"', WINDOW, { field: 'err_type' });
  assert.equal(filtered.lines, 2);
  store.stop();
});
