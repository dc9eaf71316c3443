import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { STALE_NAN } from '../../core/model/value.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { Head } from '../../metrics/tsdb/head.js';
import { nopLogger } from '../../core/util/log.js';
import { AlertingRule } from './alerting.js';
import { parseRuleFile } from './file.js';
import { Group, type GroupContext } from './group.js';
import { buildRules } from './manager.js';
import type { NotifiedAlert, RuleQueryResult } from './types.js';
import { ManualClock } from '../../core/time/manual_clock.js';

const M = 60_000;

function setup(
  yaml: string,
  opts: { resendDelayMs?: number } = {},
): { head: Head; group: Group; sent: NotifiedAlert[][]; put: (ls: Labels, t: number, v: number) => void } {
  const head = new Head();
  const engine = new Engine();
  const sent: NotifiedAlert[][] = [];
  const ctx: GroupContext = {
    queryFn: (e, t): RuleQueryResult => engine.instantQuery(head, e, t).result,
    notifyFn: (a) => void sent.push(a),
    appendable: head,
    externalLabels: { region: 'eu' },
    externalURL: 'http://vigil:9466',
    resendDelayMs: opts.resendDelayMs ?? M,
    outageToleranceMs: 3600_000,
    gracePeriodMs: 600_000,
    clock: new ManualClock(0),
    logger: nopLogger,
  };
  const parsed = parseRuleFile(yaml, 'r.yml');
  assert.deepEqual(parsed.errors, []);
  const g = parsed.groups[0]!;
  const group = new Group(
    {
      name: g.name,
      file: 'r.yml',
      intervalMs: g.intervalMs ?? M,
      queryOffsetMs: g.queryOffsetMs ?? 0,
      limit: g.limit,
      rules: buildRules(g, { externalLabels: { region: 'eu' }, externalURL: 'http://vigil:9466', restored: true, logger: nopLogger }),
      shouldRestore: false,
    },
    ctx,
  );
  const put = (ls: Labels, t: number, v: number): void => {
    const app = head.appender();
    app.append(0, ls, t, v);
    app.commit();
  };
  return { head, group, sent, put };
}

function alertsAt(head: Head, t: number): string[] {
  const r = new Engine().instantQuery(head, 'ALERTS', t).result;
  return r.type === 'vector' ? r.samples.map((s) => `${s.metric.find((l) => l.name === 'alertstate')?.value}`) : [];
}

const RULE = `
groups:
  - name: g
    rules:
      - alert: High
        expr: x > 0
        for: 2m
        labels: { severity: page }
        annotations: { summary: "x is {{ $value }}" }
`;

test('inactive → pending → firing → resolved with for, notifications on the resend schedule', async () => {
  const { head, group, sent, put } = setup(RULE);
  const x = labelsFrom({ __name__: 'x', job: 'a' });
  for (let t = 0; t <= 6 * M; t += 15_000) put(x, t, 1);
  put(x, 6 * M + 15_000, STALE_NAN);
  const rule = group.rules[0] as AlertingRule;

  await group.eval(0);
  assert.equal(rule.state(), 'pending');
  assert.equal(sent.length, 0, 'pending alerts are not sent');
  assert.deepEqual(alertsAt(head, 0), ['pending']);
  await group.eval(1 * M);
  assert.equal(rule.state(), 'pending');
  await group.eval(2 * M);
  assert.equal(rule.state(), 'firing');
  assert.equal(sent.length, 1);
  const a = sent[0]![0]!;
  assert.deepEqual(a.labels, { alertname: 'High', job: 'a', severity: 'page', region: 'eu' });
  assert.deepEqual(a.annotations, { summary: 'x is 1' });
  assert.equal(a.startsAt, new Date(2 * M).toISOString());
  assert.equal(a.endsAt, new Date(2 * M + 4 * M).toISOString(), 'valid until now + 4 × max(resend delay, interval)');
  assert.equal(a.generatorURL, 'http://vigil:9466/graph?g0.expr=x+%3E+0&g0.tab=1');
  assert.deepEqual(alertsAt(head, 2 * M), ['firing']);

  await group.eval(3 * M);
  assert.equal(sent.length, 1, 'not re-sent before the resend delay has passed');
  await group.eval(4 * M);
  assert.equal(sent.length, 2, 're-sent after the resend delay');

  await group.eval(7 * M);
  assert.equal(rule.state(), 'inactive');
  assert.equal(sent.length, 3, 'resolution is sent at once');
  assert.equal(sent[2]![0]!.endsAt, new Date(7 * M).toISOString());
  assert.deepEqual(alertsAt(head, 7 * M), [], 'ALERTS series go stale');
  assert.equal(rule.active.size, 1, 'resolved alerts are kept');
  await group.eval(8 * M + 1);
  assert.equal(sent.length, 4, 'resolved alerts are re-sent');
  await group.eval(7 * M + 15 * M + 1);
  assert.equal(rule.active.size, 0, 'and dropped after 15 minutes');
});

test('a pending alert that clears vanishes without a notification', async () => {
  const { group, sent, put } = setup(RULE);
  const x = labelsFrom({ __name__: 'x' });
  put(x, 0, 1);
  put(x, 30_000, 0);
  await group.eval(0);
  await group.eval(M);
  const rule = group.rules[0] as AlertingRule;
  assert.equal(rule.active.size, 0);
  assert.equal(sent.length, 0);
});

test('keep_firing_for keeps a firing alert after the condition clears', async () => {
  const { group, put } = setup(`
groups:
  - name: g
    rules:
      - alert: K
        expr: x > 0
        keep_firing_for: 2m
`);
  const x = labelsFrom({ __name__: 'x' });
  put(x, 0, 1);
  put(x, M, 0);
  const rule = group.rules[0] as AlertingRule;
  await group.eval(0);
  assert.equal(rule.state(), 'firing', 'no for: fires at once');
  await group.eval(M);
  assert.equal(rule.state(), 'firing');
  assert.ok(rule.activeAlerts()[0]!.keepFiringSince === M);
  await group.eval(2 * M);
  assert.equal(rule.state(), 'firing');
  await group.eval(3 * M);
  assert.equal(rule.state(), 'inactive');
});

test('limit, label collisions and query errors mark the rule unhealthy', async () => {
  const { group, put } = setup(`
groups:
  - name: g
    limit: 1
    rules:
      - alert: Many
        expr: x > 0
      - record: r
        expr: x
      - alert: Collide
        expr: sum by (job) (x) > 0 or sum by (instance) (x) > 0
        labels: { job: "", instance: "" }
      - record: bad
        expr: x + on(a) x
`);
  put(labelsFrom({ __name__: 'x', job: 'a', instance: 'i1' }), 0, 1);
  put(labelsFrom({ __name__: 'x', job: 'b', instance: 'i2' }), 0, 1);
  await group.eval(0);
  const [many, rec, collide, bad] = group.rules;
  assert.equal(many!.health, 'err');
  assert.equal(many!.lastError, 'exceeded limit of 1 with 2 alerts');
  assert.equal(rec!.lastError, 'exceeded limit of 1 with 2 series');
  assert.equal(collide!.lastError, 'vector contains metrics with the same labelset after applying alert labels');
  assert.match(bad!.lastError, /many-to-many matching not allowed/);
  assert.equal(group.evalFailures, 4);
});

test('recording rules write through the Appendable, with staleness markers for vanished series', async () => {
  const { head, group, put } = setup(`
groups:
  - name: g
    query_offset: 1m
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
        labels: { source: rule }
`);
  put(labelsFrom({ __name__: 'x', job: 'a' }), 0, 1);
  put(labelsFrom({ __name__: 'x', job: 'b' }), 0, 2);
  put(labelsFrom({ __name__: 'x', job: 'a' }), 4 * M, 3);
  await group.eval(M); // queries at 0 (query_offset 1m)
  const q = (t: number): string[] => {
    const r = new Engine().instantQuery(head, 'job:x:sum', t).result;
    return r.type === 'vector' ? r.samples.map((s) => `${s.metric.map((l) => `${l.name}=${l.value}`).join(',')} ${s.v}`).sort() : [];
  };
  assert.deepEqual(q(0), ['__name__=job:x:sum,job=a,source=rule 1', '__name__=job:x:sum,job=b,source=rule 2']);
  await group.eval(8 * M); // queries at 7m: only job a is within the lookback
  assert.deepEqual(q(7 * M), ['__name__=job:x:sum,job=a,source=rule 3']);
  const raw = head.querier(0, 8 * M).select({ start: 0, end: 8 * M }, [new Matcher('=', 'job', 'b')]);
  let staleAt = -1;
  while (raw.next()) {
    const it = raw.at().iterator();
    while (it.next()) if (Number.isNaN(it.v()) && raw.at().labels.some((l) => l.value === 'job:x:sum')) staleAt = it.t();
  }
  assert.equal(staleAt, 7 * M, 'the vanished series gets a staleness marker at the query time');
  assert.equal(group.rules[0]!.health, 'ok');
});

test('the evaluation offset follows the group hash, like Prometheus', () => {
  const { group } = setup(RULE);
  const t = group.evalTimestamp(1_700_000_000_123);
  assert.ok(t <= 1_700_000_000_123 && t > 1_700_000_000_123 - M);
  assert.equal(group.evalTimestamp(t), t, 'aligned times are fixed points');
  assert.equal(group.evalTimestamp(t + M - 1), t);
  assert.equal(group.evalTimestamp(t + M), t + M);
});
