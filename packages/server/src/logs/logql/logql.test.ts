import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom, labelsToRecord } from '../../core/model/labels.js';
import { LogStore } from '../store/store.js';
import { LogqlEngine } from './engine.js';
import { parseLogql } from './parser.js';
import { logAlertLink, logqlLanguage, logqlQueryFn } from '../../alerting/rules/logql.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const S = 1_000_000_000n;

function setup(): LogqlEngine {
  const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logql-')), chunkTargetBytes: 1024, now: () => Number(T0 / 1_000_000n) });
  store.start();
  const api = [];
  for (let i = 0; i < 60; i++)
    api.push({
      t: T0 + BigInt(i + 1) * S,
      line: JSON.stringify({ level: i % 10 === 0 ? 'error' : 'info', latency_ms: i, status: i % 3 === 0 ? 500 : 200, request_id: `req-${i}`, took: `${i}ms` }),
    });
  const web = [];
  for (let i = 0; i < 30; i++) web.push({ t: T0 + BigInt(2 * i + 1) * S, line: `method=${i % 2 ? 'POST' : 'GET'} duration=${i * 100}ms path="/p ${i}"` });
  store.push([
    { labels: labelsFrom({ app: 'api' }), entries: api },
    { labels: labelsFrom({ app: 'web' }), entries: web },
  ]);
  return new LogqlEngine(store);
}

const at = T0 + 60n * S;
function vec(e: LogqlEngine, q: string): Record<string, number> {
  const r = e.instantQuery(q, at);
  assert.equal(r.type, 'vector', q);
  const out: Record<string, number> = {};
  if (r.type === 'vector') for (const s of r.samples) out[JSON.stringify(labelsToRecord(s.metric))] = s.v;
  return out;
}

test('metric queries against hand-computed values', async () => {
  const e = setup();
  assert.deepEqual(vec(e, 'count_over_time({app="api"}[1m])'), { '{"app":"api"}': 60 });
  assert.deepEqual(vec(e, 'sum by (level) (count_over_time({app="api"} | json [1m]))'), { '{"level":"error"}': 6, '{"level":"info"}': 54 });
  assert.deepEqual(vec(e, 'rate({app="api"} |= "error" [1m])'), { '{"app":"api"}': 0.1 });
  assert.deepEqual(vec(e, 'sum_over_time({app="api"} | json | unwrap latency_ms [1m]) by (app)'), { '{"app":"api"}': 1770 });
  assert.deepEqual(vec(e, 'max_over_time({app="api"} | json | unwrap latency_ms [1m]) by (app)'), { '{"app":"api"}': 59 });
  assert.deepEqual(vec(e, 'quantile_over_time(0.5, {app="api"} | json | unwrap latency_ms [1m]) by (app)'), { '{"app":"api"}': 29.5 });
  assert.deepEqual(vec(e, 'max_over_time({app="api"} | json | unwrap duration(took) [1m]) by (app)'), { '{"app":"api"}': 0.059 });
  assert.deepEqual(vec(e, 'topk(1, sum by (level) (count_over_time({app="api"} | json [1m])))'), { '{"level":"info"}': 54 });
  assert.deepEqual(vec(e, 'sum(count_over_time({app="api"}[1m])) / sum(count_over_time({app="web"}[1m]))'), { '{}': 2 });
  assert.equal(Object.keys(vec(e, 'count_over_time({app="web"} | logfmt | duration > 1s [1m])')).length, 19);
  assert.equal(Object.values(vec(e, 'count_over_time({app="web"} | logfmt | duration > 1s | drop path, method, duration [1m])'))[0], 19);
  assert.deepEqual(vec(e, 'sum(count_over_time({app="api"} | json | status >= 500 [1m])) * 2 > 30'), { '{}': 40 });
  assert.deepEqual(vec(e, 'bytes_over_time({app="web"} |= "path=\\"/p 1\\"" [1m])'), { '{"app":"web"}': 'method=POST duration=100ms path="/p 1"'.length });
  assert.deepEqual(vec(e, 'absent_over_time({app="nope"}[1m])'), { '{"app":"nope"}': 1 });
  const m = e.rangeQuery('count_over_time({app="api"}[10s])', T0 + 10n * S, T0 + 60n * S, 10_000);
  assert.equal(m.type, 'matrix');
  if (m.type === 'matrix')
    assert.deepEqual(
      m.series[0]!.points.map((p) => p.v),
      [10, 10, 10, 10, 10, 10],
    );
  const fn = logqlQueryFn(e);
  const r = await fn('sum(count_over_time({app="api"} |= "error" [1m])) > 5', Number(at / 1_000_000n));
  assert.equal(r.type === 'vector' && r.samples[0]!.v, 6);
  // The synchronous twin (the template `query` function's) answers the same.
  const s = fn.sync('sum(count_over_time({app="api"} |= "error" [1m])) > 5', Number(at / 1_000_000n));
  assert.deepEqual(s, r);
});

test('log queries: filters, parsers, formats, direction and limit', () => {
  const e = setup();
  const r = e.rangeQuery('{app="api"} | json | status >= 500 | line_format "{{.request_id}} {{.level | ToUpper}}"', T0, at + 1n, 1000, 1000, 'forward');
  assert.equal(r.type, 'streams');
  if (r.type !== 'streams') return;
  const lines = r.streams.flatMap((s) => s.entries.map((x) => x.line));
  assert.equal(lines.length, 20);
  assert.equal(lines[0], 'req-0 ERROR');
  const b = e.rangeQuery('{app="web"} | pattern "method=<m> <_>" | m="GET" | label_format verb=m', T0, at + 1n, 1000, 3, 'backward');
  assert.equal(b.type === 'streams' && b.streams.flatMap((s) => s.entries).length, 3);
  assert.equal(b.type === 'streams' && b.streams[0]!.labels.find((l) => l.name === 'verb')?.value, 'GET');
  const re = e.rangeQuery('{app=~"a.*"} |~ "req-(1|2)\\"" != "error" | regexp `latency_ms":(?P<lat>\\d+)` | lat < 5', T0, at + 1n, 1000, 100, 'forward');
  assert.deepEqual(re.type === 'streams' && re.streams.flatMap((s) => s.entries.map((x) => JSON.parse(x.line).latency_ms)), [1, 2]);
});

test('parse errors look like Loki', () => {
  assert.throws(() => parseLogql('{app="api"} |= '), /^LogqlParseError: parse error at line 1, col 16: syntax error: unexpected end of input/);
  assert.throws(() => parseLogql('sum_over_time({app="x"}[1m])'), /parse error at line 1, col 1: invalid aggregation sum_over_time without unwrap/);
  assert.throws(() => parseLogql('{app=~".*"}'), /at least one regexp or equality matcher/);
  assert.throws(() => parseLogql('rate({app="x"} [5x])'), /parse error at line 1, col/);
});

test('log rules: only metric queries, and each alert links to the lines behind it', () => {
  assert.throws(() => logqlLanguage.canonical('{app="x"} |= "error"'), /a log rule needs a LogQL metric query/);
  assert.throws(() => logqlLanguage.canonical('up == 0'), /parse error/);
  assert.equal(logqlLanguage.canonical('  sum(rate({app="x"}[1m])) > 1 '), 'sum(rate({app="x"}[1m])) > 1');
  const params = (u: string | undefined): Record<string, string> => Object.fromEntries(new URL(u!).searchParams);
  const at = Date.parse('2026-11-22T03:00:00Z');
  // The unwrap and what follows it are not part of the lines; the labels narrow them down.
  const p = params(
    logAlertLink(
      'http://vigil:9466/',
      'max by (path) (max_over_time({app="api"} | json | unwrap latency_ms | __error__="" [5m] offset 1m)) > 0.5 or vector(0)',
      labelsFrom({ path: '/p "1"' }),
      at - 60_000,
      at,
    ),
  );
  assert.deepEqual(p, { query: '{app="api"} | json | path="/p \\"1\\""', from: '2026-11-22T02:53:00.000Z', to: '2026-11-22T02:59:01.000Z' });
  assert.equal(parseLogql(p['query']!).kind, 'log', 'the link is a valid log query');
  // In a binary expression the first range aggregation's lines are the ones linked.
  assert.equal(params(logqlLanguage.generatorURL('http://h', 'sum(rate({a="1"} |~ "x[0-9]" [1m])) / sum(rate({a="2"}[1m]))'))['query'], '{a="1"} |~ "x[0-9]"');
});

// Found by the fuzz tests (testkit/fuzz/query_parsers.test.ts): deep nesting overflowed the recursive
// parser's stack, and the RangeError escaped as a 500 instead of a 400 parse error.
test('deeply nested queries are parse errors, not stack overflows', () => {
  for (const q of ['('.repeat(10_000) + '{a="b"}' + ')'.repeat(10_000), 'sum('.repeat(5_000), '-'.repeat(100_000) + '1'])
    assert.throws(() => parseLogql(q), /^LogqlParseError: parse error at line 1, col 1: expression is nested too deeply/);
});
