/**
 * Differential test: the same alert sequence sent to Debian's prometheus-alertmanager and to Vigil,
 * with both webhooks caught and compared field by field (external URL aside).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Router } from '../api/http.js';
import { registerAlertmanagerApi } from '../api/alertmanager.js';
import { freePort, peerBinary, tempDir, waitFor } from '../testing/helpers.js';
import { nopLogger } from '../util/log.js';
import { parseAlertmanagerConfig } from './config.js';
import { AlertRouter } from './router.js';
import { startCatcher, type Catcher } from './testutil.js';

let hook: Catcher;
let real: ChildProcess;
let realUrl: string;
let vigil: AlertRouter;
let vigilUrl: string;
let server: http.Server;
let tmp: ReturnType<typeof tempDir>;

const cfg = (recv: string): string => `global:
  resolve_timeout: 1h
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
receivers:
  - name: hook
    webhook_configs:
      - url: ${hook.url}/${recv}
        send_resolved: true
`;

before(async () => {
  hook = await startCatcher();
  tmp = tempDir('vigil-amcompat-');
  const file = path.join(tmp.dir, 'am.yml');
  fs.writeFileSync(file, cfg('real'));
  const port = await freePort();
  real = spawn(peerBinary('prometheus-alertmanager', 'prometheus-alertmanager'), [`--config.file=${file}`, `--storage.path=${path.join(tmp.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: 'ignore' });
  realUrl = `http://127.0.0.1:${port}`;
  vigil = new AlertRouter({ config: parseAlertmanagerConfig(cfg('vigil'), 'am.yml') });
  vigil.start();
  const router = new Router(nopLogger);
  registerAlertmanagerApi(router, vigil);
  server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  vigilUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await waitFor('alertmanager ready', async () => ((await fetch(`${realUrl}/-/ready`)).ok ? true : undefined), 20_000, 100);
});

after(async () => {
  real.kill('SIGKILL');
  vigil.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await hook.close();
  tmp.cleanup();
});

async function post(alerts: unknown[]): Promise<void> {
  for (const base of [realUrl, vigilUrl]) {
    const r = await fetch(`${base}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    assert.equal(r.status, 200, `${base}: ${await r.text()}`);
  }
}

function normalise(body: Record<string, unknown>): Record<string, unknown> {
  const alerts = (body['alerts'] as Array<Record<string, unknown>>).map((a) => ({ ...a })).sort((a, b) => String(a['fingerprint']).localeCompare(String(b['fingerprint'])));
  return { ...body, alerts, externalURL: '' };
}

async function nth(recv: string, n: number): Promise<Record<string, unknown>> {
  return waitFor(`${recv} notification ${n}`, async () => {
    const got = hook.requests.filter((r) => r.path === `/${recv}`);
    return got.length >= n ? normalise(got[n - 1]!.body) : undefined;
  }, 15_000, 50);
}

test('same notifications, alert listings and fingerprints as prometheus-alertmanager', { timeout: 60_000 }, async () => {
  // A fresh start time: an old one flushes at once, racing Alertmanager's inhibitor (which sees the source asynchronously).
  const t0 = new Date().toISOString();
  await post([
    { labels: { alertname: 'Pool', service: 'pay', severity: 'critical' }, annotations: { summary: 'pool' }, startsAt: t0, generatorURL: 'http://prom/graph' },
    { labels: { alertname: 'Errors', service: 'pay', severity: 'warning' }, startsAt: t0 },
    { labels: { alertname: 'Errors', service: 'cart', severity: 'warning' }, startsAt: t0 },
  ]);
  const [r1, v1] = [await nth('real', 1), await nth('vigil', 1)];
  const [r2, v2] = [await nth('real', 2), await nth('vigil', 2)];
  const byKey = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, Record<string, unknown>> => Object.fromEntries([a, b].map((x) => [String(x['groupKey']), x]));
  assert.deepEqual(byKey(v1, v2), byKey(r1, r2));
  const list = async (base: string): Promise<unknown> =>
    ((await (await fetch(`${base}/api/v2/alerts`)).json()) as Array<Record<string, unknown>>)
      .map((a) => ({ fingerprint: a['fingerprint'], labels: a['labels'], status: a['status'], receivers: a['receivers'], startsAt: a['startsAt'] }))
      .sort((a, b) => String(a.fingerprint).localeCompare(String(b.fingerprint)));
  const [rl, vl] = [(await list(realUrl)) as Array<{ status: Record<string, unknown> }>, (await list(vigilUrl)) as Array<{ status: Record<string, unknown> }>];
  for (const x of vl) delete x.status['mutedBy'];
  assert.deepEqual(vl, rl);
  // Source and target resolve together. The target's group still has a firing alert that was
  // notified, so (in both) its resolution goes out there too, although its firing never did.
  const end = new Date().toISOString();
  await post([
    { labels: { alertname: 'Pool', service: 'pay', severity: 'critical' }, annotations: { summary: 'pool' }, startsAt: t0, endsAt: end, generatorURL: 'http://prom/graph' },
    { labels: { alertname: 'Errors', service: 'pay', severity: 'warning' }, startsAt: t0, endsAt: end },
  ]);
  const [r3, v3, r4, v4] = [await nth('real', 3), await nth('vigil', 3), await nth('real', 4), await nth('vigil', 4)];
  assert.deepEqual(byKey(v3, v4), byKey(r3, r4));
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(hook.requests.filter((r) => r.path === '/vigil').length, hook.requests.filter((r) => r.path === '/real').length);
});
