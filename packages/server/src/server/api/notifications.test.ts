// The notification visibility endpoints over real HTTP on a started Vigil: grouped history with the
// retries of a receiver answering 500, the failing receiver in /api/v1/alertmanager/receivers and
// /metrics, the inbox, and amtool reading a configuration that has inbox_configs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { parseAlertmanagerConfig } from '../../alerting/alertmanager/config.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { peerBinary, startServer, waitFor } from '../../testkit/helpers.js';

let hook: Catcher;
let vigil: Awaited<ReturnType<typeof startServer>>;

before(async () => {
  hook = await startCatcher();
  for (let i = 0; i < 1000; i++) hook.failNext.push(500);
  vigil = await startServer((c) => {
    c.alertmanager = parseAlertmanagerConfig(
      `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${hook.url}/hook
    inbox_configs:
      - max_items: 10
`,
      'am.yml',
    );
  });
});

after(async () => {
  await vigil?.stop();
  await hook?.close();
});

async function get<T>(p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(vigil.url + p);
  return { status: res.status, body: (await res.json()) as T };
}

interface Row {
  type: string;
  receiver?: string;
  integration?: string;
  state?: string;
  status?: string;
  attemptCount?: number;
  failedCount?: number;
  error?: string;
  firstTime?: string;
  attempts?: Array<{ time: string; ok: boolean; error?: string }>;
  labels?: Record<string, string>;
}

test(
  'a failing receiver: one history row with its attempts, flagged in receivers and /metrics; the inbox still has the notification',
  { timeout: 60_000 },
  async () => {
    const posted = await fetch(`${vigil.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels: { alertname: 'PoolExhausted', service: 'shop', severity: 'critical' }, annotations: { summary: 'Pool orders-db is exhausted' } },
      ]),
    });
    assert.equal(posted.status, 200);
    const rows = await waitFor('three failed attempts', async () => {
      const r = await get<{ data: Row[] }>('/api/v1/alertmanager/history?type=notification');
      const row = r.body.data.find((x) => x.integration === 'webhook');
      return row && (row.attemptCount ?? 0) >= 3 ? r.body.data : undefined;
    });
    const webhookRows = rows.filter((x) => x.integration === 'webhook');
    assert.equal(webhookRows.length, 1, 'one row, not one per retry');
    const row = webhookRows[0]!;
    assert.equal(row.state, 'failed');
    assert.equal(row.status, 'firing');
    assert.equal(row.receiver, 'hook');
    assert.deepEqual(row.labels, { alertname: 'PoolExhausted' });
    assert.equal(row.failedCount, row.attemptCount);
    assert.equal(row.attempts?.length, row.attemptCount);
    assert.ok(row.attempts?.every((a) => !a.ok && /unexpected status code 500/.test(a.error ?? '')));
    assert.match(row.error ?? '', /POST http:\/\/127\.0\.0\.1:\d+\/hook: unexpected status code 500/);
    assert.ok(Date.parse(row.firstTime ?? '') > 0);
    const inboxRow = rows.find((x) => x.integration === 'inbox');
    assert.equal(inboxRow?.state, 'delivered');

    const raw = await get<{ data: Row[] }>('/api/v1/alertmanager/history?type=notification&grouped=false');
    assert.ok(raw.body.data.filter((x) => x.integration === 'webhook').length >= 3, 'grouped=false lists every attempt');

    const health = await get<{
      data: Array<{ receiver: string; integration: string; failing: boolean; failingSince: string | null; lastError: string | null }>;
    }>('/api/v1/alertmanager/receivers');
    const byIntegration = new Map(health.body.data.map((h) => [h.integration, h]));
    assert.equal(byIntegration.get('webhook')?.failing, true);
    assert.equal(byIntegration.get('webhook')?.failingSince, row.firstTime);
    assert.match(byIntegration.get('webhook')?.lastError ?? '', /500/);
    assert.equal(byIntegration.get('inbox')?.failing, false);

    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    assert.match(metrics, /^# TYPE vigil_receiver_failing gauge$/m);
    assert.match(metrics, /^vigil_receiver_failing\{receiver="hook",integration="webhook"\} 1$/m);
    assert.match(metrics, /^vigil_receiver_failing\{receiver="hook",integration="inbox"\} 0$/m);
    const failed = /^alertmanager_notifications_failed_total\{integration="webhook"\} (\d+)$/m.exec(metrics);
    assert.ok(failed && Number(failed[1]) >= 3, 'alertmanager_notifications_failed_total counts every failed attempt');

    const inbox = await get<{
      data: Array<{ receiver: string; status: string; page: { summary: string }; slack: { title: string }; email: { subject: string } }>;
    }>('/api/v1/alertmanager/inbox');
    assert.equal(inbox.body.data.length, 1);
    const item = inbox.body.data[0]!;
    assert.equal(item.receiver, 'hook');
    assert.equal(item.status, 'firing');
    assert.match(item.page.summary, /PoolExhausted/);
    assert.match(item.slack.title, /\[FIRING:1\] PoolExhausted/);
    assert.match(item.email.subject, /\[FIRING:1\] PoolExhausted/);

    // Recovery: the next flush delivers and the flag clears.
    hook.failNext.length = 0;
    await waitFor('the receiver recovers', async () => {
      const h = await get<{ data: Array<{ integration: string; failing: boolean }> }>('/api/v1/alertmanager/receivers');
      return h.body.data.find((x) => x.integration === 'webhook')?.failing === false ? true : undefined;
    });
    const after = await get<{ data: Row[] }>('/api/v1/alertmanager/history?type=notification');
    const rec = after.body.data.filter((x) => x.integration === 'webhook');
    assert.equal(rec.length, 1);
    assert.equal(rec[0]!.state, 'delivered');
    assert.equal(rec[0]!.failedCount, (rec[0]!.attemptCount ?? 0) - 1);
  },
);

test('bad history and inbox parameters are 400s naming the parameter', async () => {
  for (const [p, msg] of [
    ['/api/v1/alertmanager/history?grouped=maybe', /grouped must be true or false/],
    ['/api/v1/alertmanager/history?limit=0', /limit must be a positive integer/],
    ['/api/v1/alertmanager/inbox?limit=-1', /limit must be a positive integer/],
  ] as const) {
    const r = await get<{ error: string }>(p);
    assert.equal(r.status, 400, p);
    assert.match(r.body.error, msg);
  }
});

test('amtool reads the configuration without Vigil-only inbox_configs', { timeout: 30_000 }, async () => {
  const amtool = peerBinary('amtool', 'prometheus-alertmanager');
  const run = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(amtool, [`--alertmanager.url=${vigil.url}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
      });
    });
  const show = await run('config', 'show');
  assert.equal(show.code, 0, show.err);
  assert.doesNotMatch(show.out, /inbox_configs/);
  assert.match(show.out, /name: hook/);
  const routes = await run('config', 'routes', 'show');
  assert.equal(routes.code, 0, routes.err);
  assert.match(routes.out, /hook/);
});
