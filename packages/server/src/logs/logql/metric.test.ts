import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom, labelsToRecord } from '../../core/model/labels.js';
import { LogStore } from '../store/store.js';
import { LogqlEngine, LogqlExecError } from './engine.js';
import { parseLogql } from './parser.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const S = 1_000_000_000n;
const AT = T0 + 60n * S;

/** 60 JSON lines of app=api (every 10th an error, latency_ms = i) and 30 logfmt lines of app=web. */
function engine(): LogqlEngine {
  const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logql-metric-')), now: () => Number(T0 / 1_000_000n) });
  store.start();
  const api = Array.from({ length: 60 }, (_, i) => ({
    t: T0 + BigInt(i + 1) * S,
    line: JSON.stringify({ level: i % 10 === 0 ? 'error' : 'info', latency_ms: i }),
  }));
  const web = Array.from({ length: 30 }, (_, i) => ({ t: T0 + BigInt(2 * i + 1) * S, line: `method=GET n=${i}` }));
  store.push([
    { labels: labelsFrom({ app: 'api' }), entries: api },
    { labels: labelsFrom({ app: 'web' }), entries: web },
  ]);
  return new LogqlEngine(store);
}

function vec(e: LogqlEngine, q: string): Record<string, number> {
  const r = e.instantQuery(q, AT);
  assert.equal(r.type, 'vector', q);
  const out: Record<string, number> = {};
  if (r.type === 'vector') for (const s of r.samples) out[JSON.stringify(labelsToRecord(s.metric))] = s.v;
  return out;
}

const BY_LEVEL = 'sum by (app, level) (count_over_time({app="api"} | json [1m]))';
const LEVEL = 'sum by (level) (count_over_time({app="api"} | json [1m]))';

test('range functions shared with PromQL and LogQL-only ones', () => {
  const e = engine();
  const lat = (fn: string): number => vec(e, `${fn}({app="api"} | json | unwrap latency_ms [1m]) by (app)`)['{"app":"api"}']!;
  assert.equal(lat('avg_over_time'), 29.5);
  assert.equal(lat('min_over_time'), 0);
  assert.equal(lat('first_over_time'), 0);
  assert.equal(lat('last_over_time'), 59);
  assert.ok(Math.abs(lat('stdvar_over_time') - 3599 / 12) < 1e-9);
  assert.ok(Math.abs(lat('stddev_over_time') - Math.sqrt(3599 / 12)) < 1e-9);
  // LogQL's counter rate: the increase over the range per second, not extrapolated to the edges.
  assert.equal(lat('rate_counter'), 59 / 60);
  // LogQL's rate of lines: the count per second of the range.
  assert.deepEqual(vec(e, 'rate({app="web"}[1m])'), { '{"app":"web"}': 0.5 });
  // absent labels: equality matchers only, and not a name matched twice.
  assert.deepEqual(vec(e, 'absent_over_time({app="nope", env="x", env=~"y"}[1m])'), { '{"app":"nope"}': 1 });
  assert.deepEqual(vec(e, 'absent_over_time({app="api"}[1m])'), {});
});

test('vector aggregations', () => {
  const e = engine();
  const counts = 'count_over_time({app=~"api|web"}[1m])';
  assert.deepEqual(vec(e, `avg(${counts})`), { '{}': 45 });
  assert.deepEqual(vec(e, `min(${counts})`), { '{}': 30 });
  assert.deepEqual(vec(e, `count(${counts})`), { '{}': 2 });
  assert.deepEqual(vec(e, `stddev(${counts})`), { '{}': 15 });
  assert.deepEqual(vec(e, `stdvar without (app) (${counts})`), { '{}': 225 });
  assert.deepEqual(vec(e, `bottomk(1, ${counts})`), { '{"app":"web"}': 30 });
  const r = e.rangeQuery(`topk(1, ${LEVEL})`, AT - 10n * S, AT, 10_000);
  assert.equal(
    r.type === 'matrix' && JSON.stringify(r.series.map((s) => [labelsToRecord(s.metric), s.points.map((p) => p.v)])),
    JSON.stringify([[{ level: 'info' }, [45, 54]]]),
  );
});

test('binary operators: matching, bool, set operators and NaN', () => {
  const e = engine();
  // on(...) keeps only the matching labels; ignoring(...) drops the ignored ones (as in Loki).
  assert.deepEqual(vec(e, `${BY_LEVEL} / on (level) ${LEVEL}`), { '{"level":"error"}': 1, '{"level":"info"}': 1 });
  assert.deepEqual(vec(e, `${BY_LEVEL} / ignoring (app) ${LEVEL}`), { '{"level":"error"}': 1, '{"level":"info"}': 1 });
  assert.deepEqual(vec(e, `${LEVEL} > 10`), { '{"level":"info"}': 54 });
  assert.deepEqual(vec(e, `${LEVEL} > bool 10`), { '{"level":"error"}': 0, '{"level":"info"}': 1 });
  assert.deepEqual(vec(e, `100 - ${LEVEL}`), { '{"level":"error"}': 94, '{"level":"info"}': 46 });
  assert.deepEqual(vec(e, 'count_over_time({app="api"}[1m]) or count_over_time({app="web"}[1m])'), { '{"app":"api"}': 60, '{"app":"web"}': 30 });
  assert.deepEqual(vec(e, `${LEVEL} and on (level) (${LEVEL} > 10)`), { '{"level":"info"}': 54 });
  assert.deepEqual(vec(e, `${LEVEL} unless on (level) (${LEVEL} > 10)`), { '{"level":"error"}': 6 });
  // group_left / group_right: many-to-one matching, copying the listed labels from the "one" side.
  assert.deepEqual(vec(e, `${BY_LEVEL} / on (level) group_left ${LEVEL}`), { '{"app":"api","level":"error"}': 1, '{"app":"api","level":"info"}': 1 });
  assert.deepEqual(vec(e, `${LEVEL} / on (level) group_right ${BY_LEVEL}`), { '{"app":"api","level":"error"}': 1, '{"app":"api","level":"info"}': 1 });
  assert.deepEqual(vec(e, `${LEVEL} * on (level) group_left (app) ${BY_LEVEL}`), { '{"app":"api","level":"error"}': 36, '{"app":"api","level":"info"}': 2916 });
  assert.throws(() => parseLogql(`${LEVEL} and on (level) group_left ${LEVEL}`), /no grouping allowed for "and" operation/);
  // 0/0 is a NaN sample, not a missing one.
  assert.ok(Number.isNaN(vec(e, 'sum(count_over_time({app="api"}[1m])) * 0 / 0')['{}']!));
  // A comparison of scalars needs no bool in LogQL.
  assert.deepEqual(e.instantQuery('2 > 1', AT), { type: 'scalar', t: Number(AT / 1_000_000n), v: 1 });
  assert.throws(
    () => vec(e, 'count_over_time({app=~"api|web"}[1m]) / on () vector(1)'),
    (err: unknown) => err instanceof LogqlExecError && /multiple matches for labels/.test(err.message),
  );
});
