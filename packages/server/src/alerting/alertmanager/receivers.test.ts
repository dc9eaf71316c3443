import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../core/time/manual_clock.js';
import { parseAlertmanagerConfig } from './config.js';
import { AlertRouter } from './router.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { dedupKey } from './receivers/pagerduty.js';
import { dotStuff } from './receivers/smtp.js';

/** A minimal SMTP server that records messages; optionally demands AUTH. */
async function smtpServer(): Promise<{
  port: number;
  messages: Array<{ from: string; to: string[]; data: string; auth: string }>;
  close: () => Promise<void>;
}> {
  const messages: Array<{ from: string; to: string[]; data: string; auth: string }> = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let inData = false;
    let cur = { from: '', to: [] as string[], data: '', auth: '' };
    sock.write('220 test ESMTP\r\n');
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          messages.push(cur);
          cur = { from: '', to: [], data: '', auth: cur.auth };
          sock.write('250 OK queued\r\n');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') sock.write('250-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
        else if (verb === 'AUTH') {
          cur.auth = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString('utf8');
          sock.write('235 ok\r\n');
        } else if (verb === 'MAIL') {
          cur.from = line;
          sock.write('250 OK\r\n');
        } else if (verb === 'RCPT') {
          cur.to.push(line);
          sock.write('250 OK\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') sock.end('221 bye\r\n');
        else sock.write('500 what\r\n');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, messages, close: () => new Promise((r) => server.close(() => r())) };
}

let hook: Catcher;
let smtp: Awaited<ReturnType<typeof smtpServer>>;
before(async () => {
  hook = await startCatcher();
  smtp = await smtpServer();
});
after(async () => {
  await hook.close();
  await smtp.close();
});
beforeEach(() => {
  hook.requests.length = 0;
  smtp.messages.length = 0;
});

function router(receivers: string, extra = ''): { clock: ManualClock; am: AlertRouter } {
  const cfg = parseAlertmanagerConfig(
    `global:
  resolve_timeout: 1h
  smtp_smarthost: 127.0.0.1:${smtp.port}
  smtp_from: vigil@example.com
  smtp_require_tls: false
route:
  receiver: r
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
receivers:
  - name: r
${receivers}
${extra}`,
    'r.yml',
  );
  const clock = new ManualClock();
  const am = new AlertRouter({ clock, config: cfg, externalURL: 'http://vigil.example:9466' });
  am.start();
  return { clock, am };
}

const resolveNow = (clock: ManualClock): string => new Date(clock.now()).toISOString();

test('slack: attachment coloured by severity while firing and green when resolved', async () => {
  const { clock, am } = router(`    slack_configs:\n      - api_url: ${hook.url}/slack\n        channel: '#ops'\n        send_resolved: true`);
  am.receive([{ labels: { alertname: 'HighErrorRate', service: 'payment', severity: 'critical' }, annotations: { summary: 'payment errors at 12%' } }]);
  await clock.advance(10_000);
  const msg = hook.requests[0]!.body as { channel: string; attachments: Array<{ color: string; title: string; text: string }> };
  assert.equal(msg.channel, '#ops');
  assert.equal(msg.attachments[0]!.color, 'danger');
  assert.equal(msg.attachments[0]!.title, '[FIRING:1] HighErrorRate (payment critical)');
  assert.match(msg.attachments[0]!.text, /FIRING \[critical\]: payment errors at 12%/);
  am.receive([{ labels: { alertname: 'HighErrorRate', service: 'payment', severity: 'critical' }, endsAt: resolveNow(clock) }]);
  await clock.advance(60_000);
  const res = hook.requests[1]!.body as { attachments: Array<{ color: string; title: string }> };
  assert.equal(res.attachments[0]!.color, 'good');
  assert.match(res.attachments[0]!.title, /^\[RESOLVED\]/);
  am.stop();
});

test('pagerduty: trigger, acknowledge and resolve share one stable dedup key', async () => {
  const { clock, am } = router(`    pagerduty_configs:\n      - routing_key: abc123\n        url: ${hook.url}/pd`);
  am.receive([{ labels: { alertname: 'PoolExhausted', service: 'payment', severity: 'critical' } }]);
  await clock.advance(10_000);
  const key = dedupKey('{}:{alertname="PoolExhausted"}');
  const trig = hook.requests[0]!.body as { event_action: string; dedup_key: string; routing_key: string; payload: { severity: string; summary: string } };
  assert.deepEqual([trig.event_action, trig.dedup_key, trig.routing_key, trig.payload.severity], ['trigger', key, 'abc123', 'critical']);
  await am.acknowledge({ groupKey: '{}:{alertname="PoolExhausted"}' }, 'alice', '');
  assert.deepEqual(hook.requests[1]!.body, { routing_key: 'abc123', dedup_key: key, event_action: 'acknowledge' });
  am.receive([{ labels: { alertname: 'PoolExhausted', service: 'payment', severity: 'critical' }, endsAt: resolveNow(clock) }]);
  await clock.advance(60_000);
  assert.deepEqual(hook.requests[2]!.body, { routing_key: 'abc123', dedup_key: key, event_action: 'resolve' });
  am.stop();
});

test('discord and msteams: embed and MessageCard', async () => {
  const { clock, am } = router(`    discord_configs:\n      - webhook_url: ${hook.url}/discord\n    msteams_configs:\n      - webhook_url: ${hook.url}/teams`);
  am.receive([{ labels: { alertname: 'Slow', severity: 'warning' } }]);
  await clock.advance(10_000);
  const d = hook.requests.find((r) => r.path === '/discord')!.body as { embeds: Array<{ title: string; color: number }> };
  assert.equal(d.embeds[0]!.title, '[FIRING:1] Slow (warning)');
  assert.equal(d.embeds[0]!.color, 0xf2a900);
  const t = hook.requests.find((r) => r.path === '/teams')!.body as Record<string, string>;
  assert.equal(t['@type'], 'MessageCard');
  assert.equal(t['themeColor'], 'F2A900');
  am.stop();
});

test('webhook: max_alerts truncates and reports truncatedAlerts; simple custom title templates', async () => {
  const { clock, am } = router(
    `    webhook_configs:\n      - url: ${hook.url}/w\n        max_alerts: 2\n    slack_configs:\n      - api_url: ${hook.url}/s\n        title: '{{ .CommonLabels.alertname }} is {{ .Status }}'`,
  );
  am.receive([1, 2, 3].map((i) => ({ labels: { alertname: 'Many', instance: String(i) } })));
  await clock.advance(10_000);
  const w = hook.requests.find((r) => r.path === '/w')!.body;
  assert.equal((w['alerts'] as unknown[]).length, 2);
  assert.equal(w['truncatedAlerts'], 1);
  const s = hook.requests.find((r) => r.path === '/s')!.body as { attachments: Array<{ title: string }> };
  assert.equal(s.attachments[0]!.title, 'Many is firing');
  am.stop();
});

test('email: delivered over SMTP with AUTH PLAIN, subject and readable body', async () => {
  const { clock, am } = router(
    `    email_configs:\n      - to: oncall@example.com, boss@example.com\n        auth_username: vigil\n        auth_password: s3cret`,
  );
  am.receive([
    {
      labels: { alertname: 'PaymentSuccessLow', severity: 'critical' },
      annotations: { summary: 'payment success rate 91%', runbook_url: 'http://runbooks/pay' },
    },
  ]);
  await clock.advance(10_000);
  assert.equal(smtp.messages.length, 1);
  const m = smtp.messages[0]!;
  assert.equal(m.auth, '\0vigil\0s3cret');
  assert.equal(m.from, 'MAIL FROM:<vigil@example.com>');
  assert.deepEqual(m.to, ['RCPT TO:<oncall@example.com>', 'RCPT TO:<boss@example.com>']);
  assert.match(m.data, /^Subject: \[FIRING:1\] PaymentSuccessLow \(critical\)$/m);
  const text = Buffer.from(/text\/plain[^]*?base64\r\n\r\n([^-]+)/.exec(m.data)![1]!.replace(/\r\n/g, ''), 'base64').toString('utf8');
  assert.match(text, /FIRING \[critical\]: payment success rate 91%/);
  assert.match(text, /runbook: http:\/\/runbooks\/pay/);
  am.stop();
});

test('email: require_tls without STARTTLS fails without retrying', async () => {
  const { clock, am } = router(`    email_configs:\n      - to: a@example.com\n        require_tls: true`);
  am.receive([{ labels: { alertname: 'X' } }]);
  await clock.advance(10_000);
  const ev = am.history.query({ type: 'notification' });
  assert.equal(ev.length, 1);
  assert.match(ev[0]!.error!, /STARTTLS/);
  am.stop();
});

test('smtp dot-stuffing', () => {
  assert.equal(dotStuff('a\n.b\n..c'), 'a\r\n..b\r\n...c');
});

test('seed scenario: critical → PagerDuty + Slack + email, high → Slack + email, medium → email; payment repeats every 30m; pool inhibits error rate', async () => {
  const cfg = parseAlertmanagerConfig(
    `global:
  resolve_timeout: 1h
  smtp_smarthost: 127.0.0.1:${smtp.port}
  smtp_from: vigil@example.com
  smtp_require_tls: false
  slack_api_url: ${hook.url}/slack
route:
  receiver: email
  group_by: [alertname, service]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [service="payment"]
      repeat_interval: 30m
      routes: &severity
        - {matchers: [severity="critical"], receiver: critical}
        - {matchers: [severity="high"], receiver: high}
        - {matchers: [severity="medium"], receiver: email}
    - routes: *severity
inhibit_rules:
  - source_matchers: [alertname="ConnectionPoolExhausted"]
    target_matchers: [alertname="HighErrorRate"]
    equal: [service]
receivers:
  - name: critical
    pagerduty_configs: [{routing_key: seed, url: '${hook.url}/pd'}]
    slack_configs: [{channel: '#incidents'}]
    email_configs: [{to: oncall@example.com}]
  - name: high
    slack_configs: [{channel: '#alerts'}]
    email_configs: [{to: team@example.com}]
  - name: email
    email_configs: [{to: team@example.com}]
`,
    'seed.yml',
  );
  const clock = new ManualClock();
  const am = new AlertRouter({ clock, config: cfg });
  am.start();
  const fire = (): void =>
    am.receive([
      { labels: { alertname: 'ConnectionPoolExhausted', service: 'payment', severity: 'critical' } },
      { labels: { alertname: 'HighErrorRate', service: 'payment', severity: 'high' } },
      { labels: { alertname: 'PaymentSuccessRateLow', service: 'payment', severity: 'high' } },
      { labels: { alertname: 'SlowCheckout', service: 'cart', severity: 'medium' } },
    ]);
  fire();
  await clock.advance(30_000);
  const paths = hook.requests
    .map((r) => `${r.path}:${JSON.stringify(r.body).match(/(ConnectionPoolExhausted|HighErrorRate|PaymentSuccessRateLow|SlowCheckout)/)![1]}`)
    .sort();
  assert.deepEqual(paths, ['/pd:ConnectionPoolExhausted', '/slack:ConnectionPoolExhausted', '/slack:PaymentSuccessRateLow']);
  const subjects = smtp.messages.map((m) => /^Subject: (.*)$/m.exec(m.data)![1]).sort();
  assert.deepEqual(subjects, [
    '[FIRING:1] ConnectionPoolExhausted payment (critical)',
    '[FIRING:1] PaymentSuccessRateLow payment (high)',
    '[FIRING:1] SlowCheckout cart (medium)',
  ]);
  // Keep firing for 35 minutes: payment groups repeat once (after 30m), cart does not.
  for (let i = 0; i < 7; i++) {
    fire();
    await clock.advance(5 * 60_000);
  }
  assert.equal(hook.requests.length, 6);
  assert.equal(smtp.messages.length, 5);
  assert.ok(!JSON.stringify(hook.requests.map((r) => r.body)).includes('HighErrorRate'), 'inhibited by the pool alert');
  am.stop();
});
