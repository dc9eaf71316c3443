import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { labelsFrom } from '../../core/model/labels.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { parseRuleFile } from '../../alerting/rules/file.js';
import { RuleManager } from '../../alerting/rules/manager.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { Head } from '../../metrics/tsdb/head.js';
import { nopLogger } from '../../core/util/log.js';
import { Router } from './http.js';
import { registerRulesApi } from './rules.js';

const T0 = 1_700_000_040_000;
let base: string;
let server: http.Server;
let manager: RuleManager;

before(async () => {
  const head = new Head();
  const app = head.appender();
  for (let t = T0 - 120_000; t <= T0 + 600_000; t += 15_000) app.append(0, labelsFrom({ __name__: 'up', job: 'api' }), t, 0);
  app.commit();
  const sched = new ManualClock(T0);
  const engine = new Engine();
  manager = new RuleManager({ queryFn: (e, t) => engine.instantQuery(head, e, t).result, notifyFn: () => {}, appendable: head, clock: sched });
  const parsed = parseRuleFile(
    `groups:
  - name: alerts
    rules:
      - alert: Down
        expr: up == 0
        for: 1m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.job }} down" }
      - alert: Never
        expr: up == 2
  - name: records
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: broken
        expr: up + on(x) up + on(x) up
`,
    '/etc/rules.yml',
  );
  await manager.applyGroups(parsed.groups);
  manager.start();
  await sched.advanceTo(T0 + 300_000);
  const router = new Router(nopLogger);
  registerRulesApi(router, manager);
  server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await manager.stop();
  server.close();
});

async function get(path: string): Promise<{ status: number; body: { status: string; data: Record<string, unknown>; error?: string } }> {
  const res = await fetch(base + path);
  return { status: res.status, body: (await res.json()) as { status: string; data: Record<string, unknown>; error?: string } };
}

interface ApiGroup {
  name: string;
  file: string;
  interval: number;
  rules: Record<string, unknown>[];
}

test('/api/v1/rules lists groups and rules in Prometheus JSON', async () => {
  const { status, body } = await get('/api/v1/rules');
  assert.equal(status, 200);
  const groups = body.data['groups'] as ApiGroup[];
  assert.deepEqual(
    groups.map((g) => g.name),
    ['alerts', 'records'],
  );
  assert.equal(groups[0]!.file, '/etc/rules.yml');
  assert.equal(groups[0]!.interval, 60);
  const down = groups[0]!.rules[0]!;
  assert.equal(down['type'], 'alerting');
  assert.equal(down['state'], 'firing');
  assert.equal(down['query'], 'up == 0');
  assert.equal(down['duration'], 60);
  assert.equal(down['health'], 'ok');
  assert.deepEqual(down['labels'], { severity: 'page' });
  const alerts = down['alerts'] as Record<string, unknown>[];
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!['annotations'], { summary: 'api down' });
  assert.equal(alerts[0]!['value'], '0e+00');
  assert.equal(typeof down['lastEvaluation'], 'string');
  assert.equal(typeof down['evaluationTime'], 'number');
  assert.equal(groups[0]!.rules[1]!['state'], 'inactive');
  const broken = groups[1]!.rules[1]!;
  assert.equal(broken['health'], 'ok');
  assert.equal(groups[1]!.rules[0]!['type'], 'recording');
});

test('/api/v1/rules filters by type, name, group and file', async () => {
  const only = async (q: string): Promise<string[]> =>
    ((await get('/api/v1/rules?' + q)).body.data['groups'] as ApiGroup[]).flatMap((g) => g.rules.map((r) => String(r['name'])));
  assert.deepEqual(await only('type=record'), ['job:up:sum', 'broken']);
  assert.deepEqual(await only('type=alert'), ['Down', 'Never']);
  assert.deepEqual(await only('rule_name[]=Never&rule_name[]=broken'), ['Never', 'broken']);
  assert.deepEqual(await only('rule_group[]=records'), ['job:up:sum', 'broken']);
  assert.deepEqual(await only('file[]=/other.yml'), []);
  const ex = (await get('/api/v1/rules?type=alert&exclude_alerts=true')).body.data['groups'] as ApiGroup[];
  assert.deepEqual(ex[0]!.rules[0]!['alerts'], []);
  const bad = await get('/api/v1/rules?type=nope');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.status, 'error');
});

test('/api/v1/alerts lists active alerts', async () => {
  const { body } = await get('/api/v1/alerts');
  const alerts = body.data['alerts'] as Record<string, unknown>[];
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!['labels'], { alertname: 'Down', job: 'api', severity: 'page' });
  assert.equal(alerts[0]!['state'], 'firing');
});
