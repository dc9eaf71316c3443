// Notifications are visible: failed attempts grouped into one row per notification, the failing
// receiver flagged (and in /metrics), and the inbox receiver kept across restarts. A real local HTTP
// server stands in for the receiver and answers 500 when told to.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManualClock } from '../../core/time/manual_clock.js';
import { SelfRegistry } from '../../core/selfmon/registry.js';
import { execFile } from 'node:child_process';
import { peerBinary, tempDir } from '../../testkit/helpers.js';
import { repoRoot } from '../../testkit/shared_data.js';
import { createLogger } from '../../core/util/log.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { parseAlertmanagerConfig } from './config.js';
import { withoutInboxConfigs } from './inbox.js';
import { groupNotifications, type NotificationRow } from './notifications.js';
import type { HistoryEvent } from './history.js';
import { AlertRouter } from './router.js';

let hook: Catcher;
before(async () => {
  hook = await startCatcher();
});
after(() => hook.close());
beforeEach(() => {
  hook.requests.length = 0;
  hook.failNext.length = 0;
});

function config(receivers: string): ReturnType<typeof parseAlertmanagerConfig> {
  return parseAlertmanagerConfig(
    `global:
  resolve_timeout: 1h
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
${receivers}`,
    'test.yml',
  );
}

const metric = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('a receiver answering 500: one history row with every retry inside, the receiver flagged and in /metrics, cleared by a success', async () => {
  const clock = new ManualClock();
  const router = new AlertRouter({ clock, config: config(`  - name: hook\n    webhook_configs:\n      - url: ${hook.url}/hook\n`), initialBackoffMs: 1000 });
  const reg = new SelfRegistry();
  router.register(reg);
  router.start();
  for (let i = 0; i < 1000; i++) hook.failNext.push(500);
  router.receive([{ labels: { alertname: 'PoolExhausted', service: 'shop' } }]);
  const start = clock.now();
  // group_wait, then retries with backoff until the next flush is due (group_interval).
  await clock.advance(30_000 + 5 * 60_000 - 1);
  const raw = router.history.query({ type: 'notification' });
  assert.ok(raw.length >= 5, `several attempts: ${raw.length}`);
  assert.ok(
    raw.every((e) => e.ok === false),
    'all failed',
  );
  const rows = groupNotifications(router.history.query()).filter((e): e is NotificationRow => e.type === 'notification');
  assert.equal(rows.length, 1, 'one row for the notification, not one per retry');
  const row = rows[0]!;
  assert.equal(row.state, 'failed');
  assert.equal(row.receiver, 'hook');
  assert.equal(row.integration, 'webhook');
  assert.equal(row.status, 'firing');
  assert.deepEqual(row.labels, { alertname: 'PoolExhausted' });
  assert.equal(row.attemptCount, raw.length);
  assert.equal(row.failedCount, raw.length);
  assert.equal(row.attempts.length, raw.length);
  assert.equal(row.firstTime, start + 30_000);
  assert.match(row.error ?? '', /unexpected status code 500/);

  const [health] = router.receiverHealth();
  assert.equal(health?.receiver, 'hook');
  assert.equal(health?.failing, true);
  assert.equal(health?.failingSince, start + 30_000);
  assert.equal(health?.consecutiveFailures, raw.length);
  assert.match(health?.lastError ?? '', /500/);
  let text = reg.render();
  assert.equal(metric(text, 'vigil_receiver_failing{receiver="hook",integration="webhook"}'), 1);
  assert.equal(metric(text, 'alertmanager_notifications_failed_total{integration="webhook"}'), raw.length);
  assert.equal(metric(text, 'alertmanager_notifications_total{integration="webhook"}'), raw.length);

  // The receiver recovers: the next flush delivers, the same row turns delivered, the flag clears.
  hook.failNext.length = 0;
  await clock.advance(60_000);
  assert.equal(hook.requests.length, 1);
  const after = groupNotifications(router.history.query()).filter((e): e is NotificationRow => e.type === 'notification');
  assert.equal(after.length, 1);
  assert.equal(after[0]!.state, 'delivered');
  assert.equal(after[0]!.attemptCount, raw.length + 1);
  assert.equal(after[0]!.failedCount, raw.length);
  assert.equal(router.receiverHealth()[0]?.failing, false);
  text = reg.render();
  assert.equal(metric(text, 'vigil_receiver_failing{receiver="hook",integration="webhook"}'), 0);
  assert.equal(metric(text, 'alertmanager_notifications_total{integration="webhook"}'), raw.length + 1);

  // A resolved message is a new notification: a row of its own.
  router.receive([{ labels: { alertname: 'PoolExhausted', service: 'shop' }, endsAt: new Date(clock.now()).toISOString() }]);
  await clock.advance(5 * 60_000);
  const rows3 = groupNotifications(router.history.query()).filter((e): e is NotificationRow => e.type === 'notification');
  assert.deepEqual(
    rows3.map((r) => `${r.status}:${r.state}:${r.attemptCount}`),
    ['resolved:delivered:1', `firing:delivered:${raw.length + 1}`],
  );
  router.stop();
});

test('grouping: a template warning is not an attempt; attempts run until a success; a repeat is a new row', () => {
  const ev = (time: number, ok: boolean, attempt: number, error?: string): HistoryEvent => ({
    time,
    type: 'notification',
    groupKey: 'g',
    receiver: 'r',
    integration: 'slack',
    status: 'firing',
    alerts: 1,
    ok,
    attempt,
    ...(error ? { error } : {}),
  });
  const oldestFirst: HistoryEvent[] = [
    ev(1, false, 0, 'template for slack title failed'),
    ev(2, false, 1, 'boom'),
    { time: 3, type: 'firing', fingerprint: 'x' },
    ev(4, true, 2),
    ev(10, true, 1),
  ];
  const rows = groupNotifications([...oldestFirst].reverse());
  assert.deepEqual(
    rows.map((r) =>
      r.type === 'notification' && 'attemptCount' in r
        ? `${r.time}:${r.state}:${r.attemptCount}:${r.failedCount}:${(r.warnings ?? []).length}`
        : `${r.time}:${r.type}`,
    ),
    ['10:delivered:1:0:0', '4:delivered:2:1:1', '3:firing'],
  );
});

test('a receiver removed from the configuration is no longer flagged', async () => {
  const clock = new ManualClock();
  const router = new AlertRouter({ clock, config: config(`  - name: hook\n    webhook_configs:\n      - url: ${hook.url}/hook\n`), initialBackoffMs: 1000 });
  router.start();
  hook.failNext.push(400);
  router.receive([{ labels: { alertname: 'A' } }]);
  await clock.advance(30_000);
  assert.equal(router.receiverHealth()[0]?.failing, true, 'a 400 is not retried but flags the receiver');
  router.applyConfig(config(`  - name: hook\n    slack_configs:\n      - api_url: ${hook.url}/slack\n`));
  assert.deepEqual(
    router.receiverHealth().map((h) => `${h.receiver}/${h.integration}:${h.failing}`),
    ['hook/slack:false'],
  );
  router.stop();
});

const INBOX_RECEIVER = (url: string, max: number): string => `  - name: hook
    pagerduty_configs:
      - routing_key: key
        url: ${url}/pd
        description: 'PAGE {{ .CommonAnnotations.summary }}'
    slack_configs:
      - api_url: ${url}/slack
        channel: '#incidents'
        title: '[{{ .Status | toUpper }}] {{ .CommonAnnotations.summary }}'
        text: 'Runbook: {{ .CommonAnnotations.runbook_url }}'
    email_configs:
      - to: oncall@shop.example
        smarthost: 127.0.0.1:1
        from: vigil@shop.example
    inbox_configs:
      - max_items: ${max}
`;

test('inbox: keeps the page, Slack text and email as the real receivers render them; bounded; kept across a restart', async () => {
  const { dir, cleanup } = tempDir('vigil-inbox-');
  try {
    const clock = new ManualClock();
    const cfg = config(INBOX_RECEIVER(hook.url, 2));
    let router = new AlertRouter({ clock, config: cfg, dataDir: dir, initialBackoffMs: 1000 });
    router.start();
    for (const name of ['First', 'Second', 'Third'])
      router.receive([
        {
          labels: { alertname: name, service: 'shop', severity: 'critical' },
          annotations: { summary: `${name} is broken`, runbook_url: 'http://runbook.example/x' },
        },
      ]);
    await clock.advance(30_000);
    const items = router.inbox.list();
    assert.equal(items.length, 2, 'max_items bounds the inbox');
    assert.equal(router.history.query({ type: 'notification', receiver: 'hook' }).filter((e) => e.integration === 'inbox' && e.ok).length, 3);
    const third = items[0]!;
    const name = third.groupLabels['alertname']!;
    // What the real integrations sent, for comparison with what the inbox shows.
    const pd = hook.requests.find((r) => r.path === '/pd' && JSON.stringify(r.body).includes(name))!.body as { payload: { summary: string } };
    const slack = hook.requests.find((r) => r.path === '/slack' && JSON.stringify(r.body).includes(name))!.body as {
      channel: string;
      attachments: Array<{ title: string; text: string }>;
    };
    assert.equal(third.page.summary, pd.payload.summary);
    assert.equal(third.page.summary, `PAGE ${name} is broken`);
    assert.equal(third.page.severity, 'critical');
    assert.equal(third.page.action, 'trigger');
    assert.equal(third.slack.title, slack.attachments[0]!.title);
    assert.equal(third.slack.title, `[FIRING] ${name} is broken`);
    assert.equal(third.slack.text, 'Runbook: http://runbook.example/x');
    assert.equal(third.slack.channel, '#incidents');
    assert.deepEqual(third.email.to, ['oncall@shop.example']);
    assert.match(third.email.subject, new RegExp(`\\[FIRING:1\\] ${name}`));
    assert.match(third.email.text, new RegExp(`${name} is broken`));
    assert.equal(third.alerts[0]?.labels['service'], 'shop');
    assert.deepEqual([third.page.configured, third.slack.configured, third.email.configured], [true, true, true]);
    // The email could not be sent (nothing listens on port 1): the inbox still has it, and the
    // failure is visible on the receiver.
    assert.equal(router.receiverHealth().find((h) => h.integration === 'email')?.failing, true);
    assert.equal(router.receiverHealth().find((h) => h.integration === 'inbox')?.failing, false);
    router.stop();

    const file = path.join(dir, 'inbox.json');
    assert.match(fs.readFileSync(file, 'utf8'), /^vigil-state 1 crc32c=[0-9a-f]{8}\n/, 'written with persist.ts checksums');
    router = new AlertRouter({ clock, config: cfg, dataDir: dir });
    assert.deepEqual(
      router.inbox.list().map((x) => x.id),
      items.map((x) => x.id),
      'the same items after a restart',
    );
    // A damaged file is set aside, not trusted.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('PAGE', 'PAGF'));
    const lines: string[] = [];
    router = new AlertRouter({ clock, config: cfg, dataDir: dir, logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    assert.equal(router.inbox.size, 0);
    assert.ok(
      lines.some((l) => /inbox\.json: checksum mismatch/.test(l)),
      lines.join('; '),
    );
    assert.ok(fs.existsSync(`${file}.corrupt`));
  } finally {
    cleanup();
  }
});

test('inbox_configs: validated by Vigil; left out of what amtool reads; the demo passes amtool check-config without them', async () => {
  assert.throws(() => config(`  - name: hook\n    inbox_configs:\n      - max_items: 0\n`), /max_items must be at least 1/);
  assert.throws(() => config(`  - name: hook\n    inbox_configs:\n      - max_itemz: 3\n`), /field max_itemz not found/);
  const ok = config(`  - name: hook\n    inbox_configs:\n      - {}\n`);
  assert.deepEqual(ok.receivers[0]?.integrations, [{ type: 'inbox', maxItems: 200, sendResolved: true, timeoutMs: 0 }]);
  // Alone in its receiver, the inbox renders Vigil's default page, Slack message and email.
  const clock = new ManualClock();
  const router = new AlertRouter({ clock, config: ok });
  router.start();
  router.receive([{ labels: { alertname: 'Lonely', severity: 'warning' }, annotations: { summary: 'all alone' } }]);
  await clock.advance(30_000);
  const [item] = router.inbox.list();
  assert.deepEqual([item?.page.configured, item?.slack.configured, item?.email.configured], [false, false, false]);
  assert.equal(item?.page.severity, 'warning');
  assert.match(item?.slack.title ?? '', /\[FIRING:1\] Lonely/);
  assert.match(item?.email.subject ?? '', /\[FIRING:1\] Lonely/);
  router.stop();
  const stripped = withoutInboxConfigs(`route:\n  receiver: hook\nreceivers:\n  - name: hook\n    inbox_configs:\n      - max_items: 3\n`);
  assert.doesNotMatch(stripped, /inbox/);
  assert.match(stripped, /- name: hook/);
  // The demo's alertmanager.yml: amtool refuses it for inbox_configs alone, and accepts it without them.
  const amtool = peerBinary('amtool', 'prometheus-alertmanager');
  const { dir, cleanup } = tempDir('vigil-amtool-');
  try {
    const demo = fs.readFileSync(path.join(repoRoot(), 'examples', 'shop', 'alertmanager.yml'), 'utf8');
    const check = (text: string): Promise<{ code: number; out: string }> => {
      const f = path.join(dir, 'alertmanager.yml');
      fs.writeFileSync(f, text);
      return new Promise((resolve) => execFile(amtool, ['check-config', f], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr })));
    };
    const withInbox = await check(demo);
    assert.equal(withInbox.code, 1);
    assert.match(withInbox.out, /field inbox_configs not found/);
    const without = await check(withoutInboxConfigs(demo));
    assert.equal(without.code, 0, without.out);
    assert.match(without.out, /SUCCESS/);
  } finally {
    cleanup();
  }
});
