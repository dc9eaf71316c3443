import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { Head } from '../../metrics/tsdb/head.js';
import { AlertingRule } from './alerting.js';
import { RuleLoadError, RuleManager } from './manager.js';
import type { NotifiedAlert, RuleQueryResult } from './types.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { ownTestdata } from '../../testkit/rules.js';

const M = 60_000;
const T0 = 1_700_000_000_000;

function manager(head: Head, sched: ManualClock, sent: NotifiedAlert[][] = [], dir = '.'): RuleManager {
  const engine = new Engine({ now: () => sched.now() });
  return new RuleManager({
    queryFn: (e, t): RuleQueryResult => engine.instantQuery(head, e, t).result,
    notifyFn: (a) => void sent.push(a),
    appendable: head,
    clock: sched,
    externalLabels: { cluster: 'demo' },
    externalURL: 'http://vigil.local:9466',
    baseDir: dir,
  });
}

test('the demo shop rules fire on ingested data and reach notifyFn with rendered annotations', async () => {
  const head = new Head();
  const app = head.appender();
  // 20 minutes of scrapes every 15s: errors climb, the pool saturates, payments fail 10%.
  for (let i = 0, t = T0 - 5 * M; t <= T0 + 20 * M; i++, t += 15_000) {
    app.append(0, labelsFrom({ __name__: 'errors_total', service: 'payment' }), t, i * 3);
    app.append(0, labelsFrom({ __name__: 'database_connections_active', instance: 'db-1' }), t, t < T0 ? 8 : 20);
    app.append(0, labelsFrom({ __name__: 'payments_total', status: 'success' }), t, i * 9);
    app.append(0, labelsFrom({ __name__: 'payments_total', status: 'failed' }), t, i * 1);
  }
  app.commit();
  const sched = new ManualClock(T0);
  const sent: NotifiedAlert[][] = [];
  const m = manager(head, sched, sent);
  await m.applyFiles([join(ownTestdata(), 'shop-rules.yml')]);
  m.start();
  m.start();
  await sched.advanceTo(T0 + 10 * M);
  const byName = new Map(sent.flat().map((a) => [a.labels['alertname'], a]));
  assert.deepEqual([...byName.keys()].sort(), ['DatabasePoolNearExhaustion', 'HighErrorRate', 'PaymentSuccessRateLow']);
  const db = byName.get('DatabasePoolNearExhaustion')!;
  assert.deepEqual(db.labels, { alertname: 'DatabasePoolNearExhaustion', instance: 'db-1', severity: 'warning', team: 'payments', cluster: 'demo' });
  assert.equal(db.annotations['description'], 'db-1 has 20 active connections (pool size 20).');
  assert.equal(db.annotations['runbook_url'], 'https://runbooks.example.com/shop/db-pool-exhaustion');
  assert.equal(byName.get('HighErrorRate')!.annotations['description'], 'payment fails 200m requests per second (threshold 0.05).');
  assert.equal(byName.get('PaymentSuccessRateLow')!.annotations['description'], 'Only 90% of payments succeed.');
  assert.match(db.generatorURL, /^http:\/\/vigil\.local:9466\/graph\?g0\.expr=database_connections_active\+%3E\+18&g0\.tab=1$/);
  const g = m.groups()[0]!;
  assert.equal(g.intervalMs, 30_000);
  assert.ok(g.iterationsTotal >= 19);
  assert.equal(g.iterationsMissed, 0);
  assert.equal(g.lastEvaluation, g.evalTimestamp(g.lastEvaluation), 'evaluations happen at the aligned offsets');
  await m.stop();
  await m.stop();
});

test('reload keeps alert state of unchanged rules, and a bad file keeps the running rules', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  try {
    const head = new Head();
    const app = head.appender();
    for (let t = T0 - M; t <= T0 + 30 * M; t += 15_000) app.append(0, labelsFrom({ __name__: 'x' }), t, 1);
    app.commit();
    const file = (body: string): void => writeFileSync(join(dir, 'a.rules.yml'), body);
    file('groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: x > 0\n        for: 10m\n');
    const sched = new ManualClock(T0);
    const m = manager(head, sched, [], dir);
    await m.applyFiles(['*.rules.yml']);
    m.start();
    await sched.advanceTo(T0 + 5 * M);
    const before = (m.alertingRules()[0] as AlertingRule).activeAlerts()[0]!.activeAt;
    // A second rule is added: the group changes, X keeps its pending state.
    file('groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: x > 0\n        for: 10m\n      - alert: Y\n        expr: x > 0\n');
    await m.applyFiles(['*.rules.yml']);
    assert.equal(m.alertingRules().length, 2);
    await sched.advanceTo(T0 + 6 * M);
    assert.equal((m.alertingRules()[0] as AlertingRule).activeAlerts()[0]!.activeAt, before);
    file('groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: x >\n');
    await assert.rejects(
      m.applyFiles(['*.rules.yml']),
      (e: unknown) => e instanceof RuleLoadError && /a\.rules\.yml: 5:15: .*could not parse expression/.test(e.message),
    );
    assert.equal(m.alertingRules().length, 2);
    await m.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missed iterations are counted when an evaluation overruns', async () => {
  const head = new Head();
  const sched = new ManualClock(T0);
  let calls = 0;
  const m = new RuleManager({
    queryFn: () => {
      // The second evaluation takes three intervals.
      if (++calls === 2) sched.jump(3 * M + 1);
      return { type: 'scalar', v: 1 };
    },
    notifyFn: () => {},
    appendable: head,
    clock: sched,
  });
  const parsed = (await import('./file.js')).parseRuleFile('groups:\n  - name: g\n    rules:\n      - record: r\n        expr: "1"\n', 'f.yml');
  await m.applyGroups(parsed.groups);
  m.start();
  await sched.advanceTo(T0 + 10 * M);
  const g = m.groups()[0]!;
  assert.equal(g.iterationsMissed, 2);
  assert.equal(g.iterationsTotal, calls);
  await m.stop();
});

test('for state is restored after a restart, shifted by the downtime', async () => {
  const head = new Head();
  const app = head.appender();
  for (let t = T0 - M; t <= T0 + 60 * M; t += 15_000) app.append(0, labelsFrom({ __name__: 'x' }), t, 1);
  app.commit();
  const rules = 'groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: x > 0\n        for: 30m\n';
  const dir = mkdtempSync(join(tmpdir(), 'vigil-restore-'));
  try {
    writeFileSync(join(dir, 'r.yml'), rules);
    const s1 = new ManualClock(T0);
    const m1 = manager(head, s1, [], dir);
    await m1.applyFiles(['r.yml']);
    m1.start();
    await s1.advanceTo(T0 + 15 * M);
    const first = (m1.alertingRules()[0] as AlertingRule).activeAlerts()[0]!;
    const activeAt = first.activeAt;
    const downAt = m1.groups()[0]!.lastEvaluation;
    await m1.stop();
    // Down for 5 minutes, then a fresh manager over the same storage.
    const s2 = new ManualClock(T0 + 20 * M);
    const m2 = manager(head, s2, [], dir);
    await m2.applyFiles(['r.yml']);
    m2.start();
    await s2.advanceTo(T0 + 22 * M);
    const r = m2.alertingRules()[0] as AlertingRule;
    assert.equal(r.restored, true);
    const restored = r.activeAlerts()[0]!.activeAt;
    const restoreTs = restored - Math.floor(activeAt / 1000) * 1000 + Math.floor(downAt / 1000) * 1000;
    assert.ok(restored > activeAt && restored < activeAt + 8 * M, `activeAt ${activeAt} restored to ${restored}`);
    assert.ok(restoreTs >= T0 + 20 * M && restoreTs <= T0 + 22 * M);
    await m2.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('self-metrics are registered per group', async () => {
  const { SelfRegistry } = await import('../../core/selfmon/registry.js');
  const { registerRuleMetrics } = await import('./metrics.js');
  const { parseRuleFile } = await import('./file.js');
  const sched = new ManualClock(T0);
  const m = manager(new Head(), sched);
  await m.applyGroups(parseRuleFile('groups:\n  - name: g\n    rules:\n      - record: r\n        expr: "1"\n', 'f.yml').groups);
  const reg = new SelfRegistry();
  registerRuleMetrics(reg, [m]);
  m.start();
  await sched.advanceTo(T0 + 3 * M);
  const text = reg.render();
  assert.match(text, /prometheus_rule_group_rules\{rule_group="f\.yml;g"\} 1/);
  assert.match(text, /prometheus_rule_group_iterations_total\{rule_group="f\.yml;g"\} [23]/);
  await m.stop();
});
