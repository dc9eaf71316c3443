// Per-receiver rate limits, driven by a ManualClock against a real local webhook: the first `max`
// notifications of a window go out, the rest are held back, recorded and counted, and one summary
// naming them goes out when the window closes.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/time/manual_clock.js';
import { SelfRegistry } from '../../core/selfmon/registry.js';
import { ConfigError } from '../../core/config_error.js';
import { startCatcher, summary, type Catcher } from '../../testkit/alertmanager.js';
import { parseAlertmanagerConfig } from './config.js';
import { withoutInboxConfigs } from './inbox.js';
import { groupNotifications, type NotificationRow } from './notifications.js';
import { heldBackText, RateLimiter } from './ratelimit.js';
import { RATE_LIMIT_SUMMARY_ALERTNAME } from './notify.js';
import { AlertRouter } from './router.js';

let hook: Catcher;
before(async () => {
  hook = await startCatcher();
});
after(() => hook.close());
beforeEach(() => {
  hook.requests.length = 0;
});

// resolve_timeout past the test's span, so only what the test sends changes the groups.
const yml = (rateLimit: string, url = 'http://127.0.0.1:1/x'): string => `global:
  resolve_timeout: 6h
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: hook
    rate_limit: ${rateLimit}
    webhook_configs:
      - url: ${url}
`;

const metric = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('rate_limit: max per interval sent, the rest held back, recorded, counted and summarised once when the window closes', async () => {
  const clock = new ManualClock();
  const router = new AlertRouter({ clock, config: parseAlertmanagerConfig(yml('{ max: 2, interval: 1h }', `${hook.url}/hook`), 'am.yml') });
  const reg = new SelfRegistry();
  router.register(reg);
  router.start();
  const start = clock.now();
  assert.equal(metric(reg.render(), 'vigil_notifications_rate_limited_total{receiver="hook"}'), 0, 'present from the start');
  // Five groups (group_by alertname) flush together after group_wait: two go out, three are held.
  router.receive([
    { labels: { alertname: 'A', i: '1' } },
    { labels: { alertname: 'B', i: '1' } },
    { labels: { alertname: 'C', i: '1' } },
    { labels: { alertname: 'D', i: '1' } },
    { labels: { alertname: 'E', i: '1' } },
  ]);
  await clock.advance(10_000);
  assert.equal(hook.requests.length, 2);
  // A change in a held group (a second D alert) is one more held-back notification of D.
  router.receive([{ labels: { alertname: 'D', i: '2' } }]);
  await clock.advance(60_000);
  assert.equal(hook.requests.length, 2, 'nothing more within the window');
  assert.equal(metric(reg.render(), 'vigil_notifications_rate_limited_total{receiver="hook"}'), 4);

  const rows = groupNotifications(router.history.query()).filter((e): e is NotificationRow => e.type === 'notification');
  const held = rows.filter((r) => r.state === 'suppressed');
  assert.equal(held.length, 4);
  assert.ok(held.every((r) => r.receiver === 'hook' && r.attemptCount === 0 && /rate_limit/.test(r.error ?? '')));
  assert.equal(rows.filter((r) => r.state === 'delivered').length, 2);

  // The window opened with the first send (start + 10 s) and closes an hour later: one summary.
  await clock.advance(start + 10_000 + 3_600_000 - clock.now() - 1);
  assert.equal(hook.requests.length, 2);
  await clock.advance(1);
  assert.equal(hook.requests.length, 3);
  const body = hook.requests[2]!.body as { receiver: string; alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };
  assert.equal(body.receiver, 'hook');
  assert.equal(summary(body), `resolved: ${RATE_LIMIT_SUMMARY_ALERTNAME}=resolved`);
  const sent = new Set(['A', 'B', 'C', 'D', 'E']);
  for (const r of hook.requests.slice(0, 2)) sent.delete((r.body as { groupLabels: Record<string, string> }).groupLabels['alertname']!);
  const expected = [...sent].map((n) => `${n} (${n === 'D' ? 2 : 1})`);
  const text = body.alerts[0]!.annotations['summary']!;
  assert.match(text, /^4 more notifications suppressed: /);
  for (const e of expected) assert.ok(text.includes(e), `${text} names ${e}`);
  const summaryRow = router.history.query({ type: 'notification' }).find((e) => e.status === 'rate_limit_summary');
  assert.equal(summaryRow?.ok, true);

  // A new window: the next notification goes out again, and no summary follows an empty window.
  router.receive([{ labels: { alertname: 'F', i: '1' } }]);
  await clock.advance(10_000);
  assert.equal(hook.requests.length, 4);
  assert.equal(summary(hook.requests[3]!.body), 'firing: F=firing');
  await clock.advance(3_600_000);
  assert.equal(hook.requests.length, 4, 'no summary when nothing was held back');
  assert.equal(metric(reg.render(), 'vigil_notifications_rate_limited_total{receiver="hook"}'), 4);
  router.stop();
});

test('rate_limit: a receiver without one is never held back', async () => {
  const clock = new ManualClock();
  const cfg = parseAlertmanagerConfig(yml('{ max: 1, interval: 1h }', `${hook.url}/hook`).replace('    rate_limit: { max: 1, interval: 1h }\n', ''), 'am.yml');
  assert.equal(cfg.receivers[0]!.rateLimit, undefined);
  const router = new AlertRouter({ clock, config: cfg });
  router.start();
  router.receive([{ labels: { alertname: 'A' } }, { labels: { alertname: 'B' } }, { labels: { alertname: 'C' } }]);
  await clock.advance(10_000);
  assert.equal(hook.requests.length, 3);
  router.stop();
});

test('rate_limit: validated with clear messages; left out of the text amtool reads', () => {
  assert.deepEqual(parseAlertmanagerConfig(yml('{ max: 10, interval: 1h }'), 'am.yml').receivers[0]!.rateLimit, { max: 10, intervalMs: 3_600_000 });
  const bad: Array<[string, RegExp]> = [
    ['{ interval: 1h }', /rate_limit needs max/],
    ['{ max: 3 }', /rate_limit needs interval/],
    ['{ max: 0, interval: 1h }', /max must be at least 1/],
    ['{ max: 2.5, interval: 1h }', /non-negative integer/],
    ['{ max: 2, interval: soon }', /rate_limit|duration|soon/],
    ['{ max: 2, interval: 1h, burst: 3 }', /burst/],
  ];
  for (const [v, re] of bad) {
    assert.throws(
      () => parseAlertmanagerConfig(yml(v), 'am.yml'),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
      v,
    );
  }
  const stripped = withoutInboxConfigs(yml('{ max: 10, interval: 1h }'));
  assert.doesNotMatch(stripped, /rate_limit/);
  assert.match(stripped, /webhook_configs/);
});

test('RateLimiter: windows per receiver; a changed limit closes the open window with its summary', async () => {
  const clock = new ManualClock();
  const got: string[] = [];
  const rl = new RateLimiter(clock, (h) => {
    got.push(`${h.receiver}: ${heldBackText(h)}`);
    return Promise.resolve();
  });
  rl.configure(
    new Map([
      ['a', { max: 1, intervalMs: 60_000 }],
      ['b', { max: 1, intervalMs: 60_000 }],
    ]),
  );
  assert.equal(rl.take('a', ['X']), true);
  assert.equal(rl.take('a', ['X', 'Y']), false);
  assert.equal(rl.take('b', ['Z']), true, 'windows are per receiver');
  assert.equal(rl.take('other', ['Z']), true, 'unlimited receiver');
  rl.configure(
    new Map([
      ['a', { max: 5, intervalMs: 60_000 }],
      ['b', { max: 1, intervalMs: 60_000 }],
    ]),
  );
  assert.deepEqual(got, ['a: 1 more notification suppressed: X (1), Y (1)']);
  assert.equal(rl.take('b', ['Z']), false, 'b kept its window');
  await clock.advance(60_000);
  assert.deepEqual(got.slice(1), ['b: 1 more notification suppressed: Z (1)']);
  assert.deepEqual(rl.counts(), [
    { receiver: 'a', value: 1 },
    { receiver: 'b', value: 1 },
  ]);
  rl.stop();
});

test('rate_limit: a flush to a receiver with two integrations is one notification; held back, both integrations record it', async () => {
  const clock = new ManualClock();
  const text = yml('{ max: 1, interval: 10m }', `${hook.url}/one`) + `      - url: ${hook.url}/two\n`;
  const router = new AlertRouter({ clock, config: parseAlertmanagerConfig(text, 'am.yml') });
  const reg = new SelfRegistry();
  router.register(reg);
  router.start();
  router.receive([{ labels: { alertname: 'A' } }, { labels: { alertname: 'B' } }]);
  await clock.advance(10_000);
  assert.equal(hook.requests.length, 2, 'one group to both webhooks');
  assert.deepEqual(hook.requests.map((r) => r.path).sort(), ['/one', '/two']);
  const held = router.history.query({ type: 'notification' }).filter((e) => e.rateLimited);
  assert.deepEqual(
    held.map((e) => e.integration),
    ['webhook', 'webhook'],
  );
  assert.equal(metric(reg.render(), 'vigil_notifications_rate_limited_total{receiver="hook"}'), 1);
  // The summary goes to both integrations.
  await clock.advance(10 * 60_000);
  assert.equal(hook.requests.length, 4);
  assert.ok(hook.requests.slice(2).every((r) => summary(r.body) === `resolved: ${RATE_LIMIT_SUMMARY_ALERTNAME}=resolved`));
  assert.match(
    (hook.requests[2]!.body as { alerts: Array<{ annotations: Record<string, string> }> }).alerts[0]!.annotations['summary']!,
    /^1 more notification suppressed: [AB] \(1\)$/,
  );
  router.stop();
});
