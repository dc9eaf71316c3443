import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { parseAlertmanagerConfig } from '../../alerting/alertmanager/config.js';
import { AlertRouter } from '../../alerting/alertmanager/router.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { SelfRegistry } from '../../core/selfmon/registry.js';
import { freePort, peerBinary, tempDir, waitFor } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { Router } from './http.js';
import { registerAlertmanagerApi } from './alertmanager.js';

let hook: Catcher;
let am: AlertRouter;
let server: http.Server;
let api: string;
let tmp: ReturnType<typeof tempDir>;
let configFile: string;
const children: ChildProcess[] = [];

function amConfig(): string {
  return `global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: [severity="critical"]
      receiver: pager
      continue: true
    - matchers: [severity=~"critical|high"]
      receiver: chat
receivers:
  - name: default
    webhook_configs:
      - url: ${hook.url}/default
  - name: pager
    webhook_configs:
      - url: ${hook.url}/pager
  - name: chat
    webhook_configs:
      - url: ${hook.url}/chat
inhibit_rules:
  - source_matchers: [alertname="PoolExhausted"]
    target_matchers: [alertname="HighErrorRate"]
    equal: [service]
`;
}

before(async () => {
  hook = await startCatcher();
  tmp = tempDir('vigil-amapi-');
  configFile = path.join(tmp.dir, 'alertmanager.yml');
  fs.writeFileSync(configFile, amConfig());
  am = new AlertRouter({ dataDir: path.join(tmp.dir, 'am'), config: parseAlertmanagerConfig(amConfig(), configFile), externalURL: 'http://vigil.example' });
  am.start();
  const router = new Router(nopLogger);
  registerAlertmanagerApi(router, am, '0.1.0');
  server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  am.stop();
  await hook.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

function amtool(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const bin = peerBinary('amtool', 'prometheus-alertmanager');
  return new Promise((resolve) => {
    execFile(bin, [`--alertmanager.url=${api}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

async function getJson<T>(p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(api + p);
  return { status: res.status, body: (await res.json()) as T };
}

async function postJson<T>(p: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(api + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

type GAlert = {
  labels: Record<string, string>;
  fingerprint: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
  receivers: Array<{ name: string }>;
};

test('amtool alert add and alert query', async () => {
  const add = await amtool('alert', 'add', 'alertname=DiskFull', 'instance=db1', 'severity=high', '--annotation=summary=disk is full');
  assert.equal(add.code, 0, add.err);
  const q = await amtool('alert', 'query', '-o', 'json', 'alertname=DiskFull');
  assert.equal(q.code, 0, q.err);
  const alerts = JSON.parse(q.out) as GAlert[];
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.labels['instance'], 'db1');
  assert.deepEqual(
    alerts[0]!.receivers.map((r) => r.name),
    ['chat'],
  );
  const simple = await amtool('alert', 'query');
  assert.match(simple.out, /DiskFull/);
  await waitFor('chat notification', async () => (hook.requests.some((r) => r.path === '/chat') ? true : undefined), 10_000, 100);
});

test('amtool silence add, query and expire; silenced alerts leave the default alert query', async () => {
  await amtool('alert', 'add', 'alertname=Flaky', 'instance=x');
  const add = await amtool('silence', 'add', 'alertname=Flaky', '--duration=1h', '--comment=known issue', '--author=alice');
  assert.equal(add.code, 0, add.err);
  const id = add.out.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const q = await amtool('silence', 'query', '-o', 'json');
  const sil = (JSON.parse(q.out) as Array<{ id: string; createdBy: string; status: { state: string } }>).find((s) => s.id === id)!;
  assert.equal(sil.createdBy, 'alice');
  assert.equal(sil.status.state, 'active');
  const alerts = JSON.parse((await amtool('alert', 'query', '-o', 'json', 'alertname=Flaky')).out) as GAlert[];
  assert.equal(alerts.length, 0, 'amtool hides silenced alerts by default');
  const all = JSON.parse((await amtool('alert', 'query', '-o', 'json', '--silenced', 'alertname=Flaky')).out) as GAlert[];
  assert.deepEqual(all[0]!.status.silencedBy, [id]);
  const exp = await amtool('silence', 'expire', id);
  assert.equal(exp.code, 0, exp.err);
  const after = JSON.parse((await amtool('silence', 'query', '-o', 'json')).out) as Array<{ id: string }>;
  assert.ok(!after.some((s) => s.id === id), 'expired silences are not listed without --expired');
  const expired = JSON.parse((await amtool('silence', 'query', '--expired', '-o', 'json')).out) as Array<{ id: string; status: { state: string } }>;
  assert.equal(expired.find((s) => s.id === id)!.status.state, 'expired');
  const again = await amtool('silence', 'expire', id);
  assert.notEqual(again.code, 0);
});

test('amtool config routes test, from a file and from /api/v2/status', async () => {
  const local = await amtool('config', 'routes', 'test', `--config.file=${configFile}`, 'severity=critical');
  assert.equal(local.code, 0, local.err);
  assert.equal(local.out.trim(), 'pager,chat');
  const remote = await amtool('config', 'routes', 'test', 'severity=high');
  assert.equal(remote.code, 0, remote.err);
  assert.equal(remote.out.trim(), 'chat');
  const tree = await amtool('config', 'routes', 'show');
  assert.match(tree.out, /receiver: pager/);
});

test('API v2: inhibited status, filters, groups, receivers, errors', async () => {
  const r = await postJson('/api/v2/alerts', [
    { labels: { alertname: 'PoolExhausted', service: 'payment', severity: 'critical' } },
    { labels: { alertname: 'HighErrorRate', service: 'payment', severity: 'high' } },
  ]);
  assert.equal(r.status, 200);
  const inh = await getJson<GAlert[]>('/api/v2/alerts?filter=' + encodeURIComponent('alertname="HighErrorRate"'));
  assert.equal(inh.body[0]!.status.state, 'suppressed');
  assert.equal(inh.body[0]!.status.inhibitedBy.length, 1);
  assert.equal((await getJson<GAlert[]>('/api/v2/alerts?inhibited=false&filter=' + encodeURIComponent('alertname="HighErrorRate"'))).body.length, 0);
  assert.ok((await getJson<GAlert[]>('/api/v2/alerts?receiver=pager')).body.every((a) => a.receivers.some((x) => x.name === 'pager')));
  await waitFor('groups', async () => ((await getJson<unknown[]>('/api/v2/alerts/groups')).body.length > 0 ? true : undefined), 5_000, 100);
  const groups = await getJson<Array<{ labels: Record<string, string>; receiver: { name: string } }>>('/api/v2/alerts/groups');
  assert.ok(groups.body.some((g) => g.labels['alertname'] === 'PoolExhausted' && g.receiver.name === 'pager'));
  assert.deepEqual(
    (await getJson<Array<{ name: string }>>('/api/v2/receivers')).body.map((x) => x.name),
    ['default', 'pager', 'chat'],
  );
  const bad = await postJson<string>('/api/v2/alerts', [{ labels: {} }]);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /at least one label pair/);
  assert.equal((await getJson<string>('/api/v2/alerts?filter=' + encodeURIComponent('a=~"("'))).status, 400);
  assert.equal((await getJson<string>('/api/v2/silence/nope')).status, 404);
  const status = await getJson<{ cluster: { status: string }; config: { original: string } }>('/api/v2/status');
  assert.equal(status.body.cluster.status, 'disabled');
  assert.match(status.body.config.original, /inhibit_rules/);
});

test('Vigil extras: acknowledge, resolve, history, stats and metrics', async () => {
  await postJson('/api/v2/alerts', [{ labels: { alertname: 'AckMe', severity: 'medium' } }]);
  const fp = (await getJson<GAlert[]>('/api/v2/alerts?filter=alertname%3DAckMe')).body[0]!.fingerprint;
  const ack = await postJson<{ data: { acknowledged: string[] } }>('/api/v1/alertmanager/acknowledge', {
    fingerprint: fp,
    by: 'alice',
    comment: 'on it',
    duration: '1h',
  });
  assert.equal(ack.status, 200);
  assert.deepEqual(ack.body.data.acknowledged, [fp]);
  const listed = await getJson<{ data: Array<{ fingerprint: string; acknowledgement: { by: string } | null }> }>('/api/v1/alertmanager/alerts');
  assert.equal(listed.body.data.find((a) => a.fingerprint === fp)!.acknowledgement!.by, 'alice');
  assert.equal((await postJson('/api/v1/alertmanager/acknowledge', { by: 'x' })).status, 400);
  const res = await postJson<{ data: { resolved: string[] } }>('/api/v1/alertmanager/resolve', { fingerprint: fp, by: 'bob' });
  assert.deepEqual(res.body.data.resolved, [fp]);
  assert.equal((await getJson<GAlert[]>('/api/v2/alerts?filter=alertname%3DAckMe')).body.length, 0);
  const hist = await getJson<{ data: Array<{ type: string }> }>(`/api/v1/alertmanager/history?fingerprint=${fp}`);
  assert.deepEqual(hist.body.data.map((e) => e.type).sort(), ['acknowledged', 'firing', 'manually_resolved']);
  await waitFor('a notification', async () => (am.stats.integrations().length ? true : undefined), 5_000, 100);
  const stats = await getJson<{ data: { alerts: unknown[]; notifications: Array<{ successRate: number }>; meanTimeToAcknowledgeSeconds: number } }>(
    '/api/v1/alertmanager/stats',
  );
  assert.ok(stats.body.data.alerts.length > 0);
  assert.ok(stats.body.data.notifications.every((n) => n.successRate === 1));
  assert.ok(stats.body.data.meanTimeToAcknowledgeSeconds >= 0);
  const reg = new SelfRegistry();
  am.register(reg);
  assert.match(reg.render(), /vigil_notifications_total\{receiver="chat",integration="webhook"\} \d+/);
  // Alertmanager's own family: by integration only, every integration present before its first notification.
  assert.match(reg.render(), /alertmanager_notifications_total\{integration="webhook"\} [1-9]/);
  assert.match(reg.render(), /alertmanager_notifications_failed_total\{integration="pagerduty"\} 0/);
});

function startChild(bin: string, args: string[]): ChildProcess {
  const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  c.on('exit', (code) => {
    if (code && code !== 0) console.error(`${bin} exited ${code}: ${err}`);
  });
  children.push(c);
  return c;
}

test('Prometheus 2.42 and vmalert send their alerts to Vigil', { timeout: 90_000 }, async () => {
  const prom = peerBinary('prometheus', 'prometheus');
  const vmalert = peerBinary('vmalert', 'victoria-metrics');
  const promPort = await freePort();
  const rules = path.join(tmp.dir, 'rules.yml');
  fs.writeFileSync(
    rules,
    'groups:\n  - name: t\n    interval: 1s\n    rules:\n      - alert: PromAlways\n        expr: vector(1)\n        labels: {severity: critical}\n        annotations: {summary: "always firing"}\n',
  );
  const vmRules = path.join(tmp.dir, 'vmrules.yml');
  fs.writeFileSync(
    vmRules,
    'groups:\n  - name: v\n    interval: 1s\n    rules:\n      - alert: VmAlways\n        expr: vector(1)\n        labels: {severity: high}\n',
  );
  const promCfg = path.join(tmp.dir, 'prometheus.yml');
  const host = api.replace('http://', '');
  fs.writeFileSync(
    promCfg,
    `global:\n  evaluation_interval: 1s\nrule_files: [${rules}]\nalerting:\n  alertmanagers:\n    - api_version: v2\n      static_configs:\n        - targets: ['${host}']\n`,
  );
  startChild(prom, [
    `--config.file=${promCfg}`,
    `--storage.tsdb.path=${path.join(tmp.dir, 'prom')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--rules.alert.resend-delay=1s',
  ]);
  await waitFor(
    'Prometheus alert in Vigil',
    async () => ((await getJson<GAlert[]>('/api/v2/alerts?filter=alertname%3DPromAlways')).body.length === 1 ? true : undefined),
    45_000,
    250,
  );
  const got = (await getJson<Array<GAlert & { generatorURL: string }>>('/api/v2/alerts?filter=alertname%3DPromAlways')).body[0]!;
  assert.match(got.generatorURL, /graph\?g0\.expr=vector/);
  await waitFor(
    'pager webhook for PromAlways',
    async () => (hook.requests.some((r) => r.path === '/pager' && JSON.stringify(r.body).includes('PromAlways')) ? true : undefined),
    15_000,
    100,
  );
  startChild(vmalert, [
    `-rule=${vmRules}`,
    `-datasource.url=http://127.0.0.1:${promPort}`,
    `-notifier.url=${api}`,
    '-evaluationInterval=1s',
    `-httpListenAddr=127.0.0.1:${await freePort()}`,
  ]);
  await waitFor(
    'vmalert alert in Vigil',
    async () => ((await getJson<GAlert[]>('/api/v2/alerts?filter=alertname%3DVmAlways')).body.length === 1 ? true : undefined),
    45_000,
    250,
  );
  await waitFor(
    'chat webhook for VmAlways',
    async () => (hook.requests.some((r) => r.path === '/chat' && JSON.stringify(r.body).includes('VmAlways')) ? true : undefined),
    15_000,
    100,
  );
});

test('amtool does not warn that its version differs from the Alertmanager it talks to', async () => {
  const r = await amtool('silence', 'query');
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /Warning: amtool version/);
});
