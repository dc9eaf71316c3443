import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../core/time/manual_clock.js';
import { parseAlertmanagerConfig } from './config.js';
import { AlertRouter } from './router.js';
import { startCatcher, summary, type Catcher } from '../../testkit/alertmanager.js';
import { formatGoTime, type PostableAlert } from './types.js';

let hook: Catcher;
before(async () => {
  hook = await startCatcher();
});
after(() => hook.close());
beforeEach(() => {
  hook.requests.length = 0;
  hook.failNext.length = 0;
});

function config(extra = '', route = '', receiverExtra = '', global = 'global:\n  resolve_timeout: 1h'): ReturnType<typeof parseAlertmanagerConfig> {
  return parseAlertmanagerConfig(
    `${global}
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
${route}
receivers:
  - name: hook
    webhook_configs:
      - url: ${hook.url}/hook
${receiverExtra}
${extra}`,
    'test.yml',
  );
}

function setup(cfg = config(), dataDir?: string, clock = new ManualClock()): { clock: ManualClock; router: AlertRouter; send: (a: PostableAlert[]) => void } {
  const router = new AlertRouter({ clock, config: cfg, initialBackoffMs: 1000, ...(dataDir ? { dataDir } : {}) });
  router.start();
  return { clock, router, send: (a) => router.receive(a) };
}

const sent = (): string[] => hook.requests.map((r) => summary(r.body));
const A = (name: string, instance: string, extra: Partial<PostableAlert> = {}): PostableAlert => ({ labels: { alertname: name, instance }, ...extra });

test('grouping and batching: one notification per group after group_wait, additions after group_interval', async () => {
  const { clock, router, send } = setup();
  send([A('Down', 'a'), A('Down', 'b'), A('Slow', 'a')]);
  await clock.advance(29_000);
  assert.deepEqual(sent(), []);
  await clock.advance(1_000);
  assert.deepEqual(sent().sort(), ['firing: Down/a=firing Down/b=firing', 'firing: Slow/a=firing']);
  send([A('Down', 'c')]);
  await clock.advance(4 * 60_000);
  assert.equal(hook.requests.length, 2, 'no notification before group_interval');
  await clock.advance(60_000);
  assert.deepEqual(sent().slice(2), ['firing: Down/a=firing Down/b=firing Down/c=firing']);
  const body = hook.requests[2]!.body;
  assert.equal(body['version'], '4');
  assert.equal(body['groupKey'], '{}:{alertname="Down"}');
  assert.deepEqual(body['groupLabels'], { alertname: 'Down' });
  assert.equal(body['receiver'], 'hook');
  router.stop();
});

test('repeat: unchanged groups are re-sent only after repeat_interval', async () => {
  const { clock, router, send } = setup();
  send([A('Down', 'a')]);
  await clock.advance(30_000);
  assert.equal(hook.requests.length, 1);
  // Keep the alert firing by re-sending it, as Prometheus does.
  for (let i = 0; i < 12; i++) {
    send([A('Down', 'a')]);
    await clock.advance(5 * 60_000);
  }
  // Flushes at 5m30s … 60m30s: the one at 65m30s is the first past the hour.
  assert.equal(hook.requests.length, 1);
  send([A('Down', 'a')]);
  await clock.advance(5 * 60_000);
  assert.equal(hook.requests.length, 2);
  router.stop();
});

test('retry: a failing webhook is retried with backoff until it succeeds; attempts are in the history', async () => {
  const { clock, router, send } = setup();
  hook.failNext.push(500, 503);
  send([A('Down', 'a')]);
  await clock.advance(30_000);
  await clock.advance(5_000);
  assert.deepEqual(sent(), ['firing: Down/a=firing']);
  const attempts = router.history.query({ type: 'notification' }).reverse();
  assert.deepEqual(
    attempts.map((e) => e.ok),
    [false, false, true],
  );
  assert.deepEqual(
    attempts.map((e) => e.time - attempts[0]!.time),
    [0, 1000, 2500],
  );
  const st = router.stats.integrations()[0]!;
  assert.equal(st.attempts, 3);
  assert.equal(st.successRate, 1 / 3);
  router.stop();
});

test('retry: a 4xx answer is not retried and the next flush tries again', async () => {
  const { clock, router, send } = setup();
  hook.failNext.push(400);
  send([A('Down', 'a')]);
  await clock.advance(30_000);
  assert.equal(hook.requests.length, 0);
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent(), ['firing: Down/a=firing']);
  router.stop();
});

test('resolved: send_resolved true sends the resolution; the group then ends', async () => {
  const { clock, router, send } = setup();
  send([A('Down', 'a'), A('Down', 'b')]);
  await clock.advance(30_000);
  send([A('Down', 'a', { endsAt: new Date(clock.now()).toISOString() })]);
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent(), ['firing: Down/a=firing Down/b=firing', 'firing: Down/a=resolved Down/b=firing']);
  send([A('Down', 'b', { endsAt: new Date(clock.now()).toISOString() })]);
  await clock.advance(5 * 60_000);
  // Delivered resolved alerts leave the group, as in Alertmanager, so only b is in the last one.
  assert.deepEqual(sent().slice(2), ['resolved: Down/b=resolved']);
  assert.equal(router.groups().length, 0);
  router.stop();
});

test('resolved: resolve_timeout resolves alerts that stop being re-sent', async () => {
  const { clock, router, send } = setup(config('', '', '', 'global:\n  resolve_timeout: 1m'));
  send([A('Down', 'a')]);
  await clock.advance(30_000);
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent(), ['firing: Down/a=firing', 'resolved: Down/a=resolved']);
  router.stop();
});

test('resolved filter: send_resolved false drops resolved alerts but still notifies changes', async () => {
  const { clock, router, send } = setup(config('', '', '        send_resolved: false'));
  send([A('Down', 'a'), A('Down', 'b')]);
  await clock.advance(30_000);
  send([A('Down', 'a', { endsAt: new Date(clock.now()).toISOString() }), A('Down', 'c')]);
  await clock.advance(5 * 60_000);
  send([A('Down', 'b', { endsAt: new Date(clock.now()).toISOString() }), A('Down', 'c', { endsAt: new Date(clock.now()).toISOString() })]);
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent(), ['firing: Down/a=firing Down/b=firing', 'firing: Down/b=firing Down/c=firing']);
  router.stop();
});

const inhibitCfg = (): ReturnType<typeof parseAlertmanagerConfig> =>
  config(`inhibit_rules:
  - source_matchers: [alertname="PoolExhausted"]
    target_matchers: [alertname="HighErrorRate"]
    equal: [service]`);

test('inhibition: a firing source mutes targets with equal labels; resolving the source releases them', async () => {
  const { clock, router, send } = setup(inhibitCfg());
  send([
    { labels: { alertname: 'PoolExhausted', service: 'payment' } },
    { labels: { alertname: 'HighErrorRate', service: 'payment' } },
    { labels: { alertname: 'HighErrorRate', service: 'cart' } },
  ]);
  await clock.advance(30_000);
  assert.deepEqual(
    hook.requests
      .map((r) => (r.body['alerts'] as Array<{ labels: Record<string, string> }>).map((a) => `${a.labels['alertname']}/${a.labels['service']}`).join())
      .sort(),
    ['HighErrorRate/cart', 'PoolExhausted/payment'],
  );
  const target = router.alerts().find((a) => a.labels['service'] === 'payment' && a.labels['alertname'] === 'HighErrorRate')!;
  assert.equal(router.status(target).state, 'suppressed');
  assert.equal(router.status(target).inhibitedBy.length, 1);
  send([{ labels: { alertname: 'PoolExhausted', service: 'payment' }, endsAt: new Date(clock.now()).toISOString() }]);
  await clock.advance(5 * 60_000);
  assert.equal(hook.requests.length, 4);
  assert.ok(router.history.query({ type: 'unsuppressed' }).length >= 1);
  router.stop();
});

test('inhibition: source and target resolving together send only the source resolution', async () => {
  const { clock, router, send } = setup(inhibitCfg());
  send([{ labels: { alertname: 'PoolExhausted', service: 'payment' } }, { labels: { alertname: 'HighErrorRate', service: 'payment' } }]);
  await clock.advance(30_000);
  const end = new Date(clock.now() + 1000).toISOString();
  send([
    { labels: { alertname: 'PoolExhausted', service: 'payment' }, endsAt: end },
    { labels: { alertname: 'HighErrorRate', service: 'payment' }, endsAt: end },
  ]);
  await clock.advance(5 * 60_000);
  const bodies = hook.requests.map((r) => `${String(r.body['status'])}:${String((r.body['groupLabels'] as Record<string, string>)['alertname'])}`);
  assert.deepEqual(bodies, ['firing:PoolExhausted', 'resolved:PoolExhausted']);
  router.stop();
});

test('silences: a silence mutes, expiring it lets the next flush through', async () => {
  const { clock, router, send } = setup();
  const now = clock.now();
  const id = router.silences.set({
    matchers: [{ name: 'alertname', value: 'Do.*', isRegex: true }],
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 3600_000).toISOString(),
    createdBy: 'me',
    comment: 'maintenance',
  });
  send([A('Down', 'a'), A('Slow', 'a')]);
  await clock.advance(30_000);
  assert.deepEqual(sent(), ['firing: Slow/a=firing']);
  assert.deepEqual(router.status(router.alerts().find((a) => a.labels['alertname'] === 'Down')!).silencedBy, [id]);
  router.silences.expire(id);
  assert.equal(router.silences.get(id)!.endsAt, clock.now());
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent().slice(1), ['firing: Down/a=firing']);
  assert.throws(() => router.silences.expire(id), /already expired/);
  router.stop();
});

test('silences: pending, active, expired; negative and regex matchers; validation', async () => {
  const { clock, router } = setup();
  const t = (ms: number): string => new Date(clock.now() + ms).toISOString();
  const id = router.silences.set({
    matchers: [
      { name: 'env', value: 'prod', isRegex: false, isEqual: false },
      { name: 'job', value: 'api|web', isRegex: true },
    ],
    startsAt: t(60_000),
    endsAt: t(120_000),
    createdBy: 'a',
    comment: 'c',
  });
  assert.deepEqual(router.silences.mutedBy({ env: 'dev', job: 'web' }), []);
  await clock.advance(60_000);
  assert.deepEqual(router.silences.mutedBy({ env: 'dev', job: 'web' }), [id]);
  assert.deepEqual(router.silences.mutedBy({ env: 'prod', job: 'web' }), []);
  assert.deepEqual(router.silences.mutedBy({ env: 'dev', job: 'webx' }), []);
  assert.throws(
    () => router.silences.set({ matchers: [{ name: 'a', value: '.*', isRegex: true }], startsAt: t(0), endsAt: t(10), createdBy: '', comment: '' }),
    /must not match the empty string/,
  );
  assert.throws(
    () => router.silences.set({ matchers: [{ name: 'a', value: 'x', isRegex: false }], startsAt: t(10), endsAt: t(0), createdBy: '', comment: '' }),
    /start time must be before end time/,
  );
  router.stop();
});

test('merge: re-sent alerts keep the earliest start and take the newest annotations', async () => {
  const { clock, router, send } = setup();
  const t0 = clock.now();
  send([A('Down', 'a', { startsAt: new Date(t0 - 10_000).toISOString(), annotations: { summary: 'old' } })]);
  await clock.advance(10_000);
  send([A('Down', 'a', { startsAt: new Date(t0).toISOString(), annotations: { summary: 'new' } })]);
  const a = router.alerts()[0]!;
  assert.equal(a.startsAt, t0 - 10_000);
  assert.equal(a.annotations['summary'], 'new');
  await clock.advance(30_000);
  assert.equal(hook.requests.length, 1);
  const alert = (hook.requests[0]!.body['alerts'] as Array<{ startsAt: string; annotations: Record<string, string> }>)[0]!;
  assert.equal(alert.startsAt, formatGoTime(t0 - 10_000));
  router.stop();
});

test('cold start: a restart neither repeats a notification nor drops a pending one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-am-'));
  try {
    const clock = new ManualClock();
    const one = setup(config(), dir, clock);
    one.send([A('Down', 'a')]);
    await clock.advance(30_000);
    one.send([A('Slow', 'a')]);
    await clock.advance(10_000);
    one.router.stop();
    assert.deepEqual(sent(), ['firing: Down/a=firing']);
    const two = setup(config(), dir, clock);
    await clock.advance(29_000);
    assert.equal(hook.requests.length, 1, 'a restart waits group_wait again and does not repeat');
    await clock.advance(1_000);
    assert.deepEqual(sent(), ['firing: Down/a=firing', 'firing: Slow/a=firing']);
    two.router.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reload: the same configuration sends nothing again; a changed grouping forms new groups', async () => {
  const { clock, router, send } = setup();
  send([A('Down', 'a')]);
  await clock.advance(30_000);
  router.applyConfig(config());
  await clock.advance(60_000);
  assert.equal(hook.requests.length, 1);
  router.applyConfig(
    config().original ? parseAlertmanagerConfig(config().original.replace('group_by: [alertname]', 'group_by: [alertname, instance]'), 't') : config(),
  );
  await clock.advance(1_000);
  assert.equal(hook.requests.length, 2);
  assert.equal(hook.requests[1]!.body['groupKey'], '{}:{alertname="Down", instance="a"}');
  router.stop();
});

test('acknowledge: stops repeats until the group changes; manual resolve sticks for the occurrence', async () => {
  const { clock, router, send } = setup();
  send([A('Down', 'a')]);
  await clock.advance(30_000);
  const fp = router.alerts()[0]!.fingerprint;
  await clock.advance(60_000);
  assert.deepEqual(await router.acknowledge({ groupKey: '{}:{alertname="Down"}' }, 'alice', 'looking', 0), [fp]);
  for (let i = 0; i < 14; i++) {
    send([A('Down', 'a')]);
    await clock.advance(5 * 60_000);
  }
  assert.equal(hook.requests.length, 1, 'acknowledged: no repeat');
  send([A('Down', 'b')]);
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent().slice(1), ['firing: Down/a=firing Down/b=firing']);
  assert.equal(router.stats.means().meanTimeToAcknowledgeSeconds, 90);
  assert.deepEqual(router.resolve({ fingerprint: fp }, 'bob', 'fixed'), [fp]);
  send([A('Down', 'a', { startsAt: new Date(router.alert(fp)!.startsAt).toISOString() })]);
  assert.equal(router.alerts().length, 1, 'the re-send of a resolved occurrence stays resolved');
  await clock.advance(5 * 60_000);
  assert.deepEqual(sent().slice(2), ['firing: Down/a=resolved Down/b=firing']);
  const types = router.history.query({ fingerprint: fp }).map((e) => e.type);
  assert.ok(types.includes('acknowledged') && types.includes('manually_resolved') && types.includes('firing'));
  router.stop();
});
