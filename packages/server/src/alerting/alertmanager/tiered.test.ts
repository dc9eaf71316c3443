// Dynamic severity end to end on driven time: a synthetic error-ratio ramp goes through the rule manager
// into Vigil's Alertmanager and out to a webhook as ONE alert identity (one fingerprint) going
// info → warning → critical → resolved. Counted: webhook requests (each carries exactly that one alert),
// three with status firing (one per tier, the new severity in the payload) and one resolved, and no
// resolved-then-fired pair in the payloads or the history. Also: routing follows the new severity
// without a "resolved" from the old route; inhibition sees the current severity; alerts posted to
// /api/v2/alerts keep Alertmanager's identity (every label, `tier` ignored).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { Head } from '../../metrics/tsdb/head.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { startServer } from '../../testkit/helpers.js';
import { parseRuleFile } from '../rules/file.js';
import { RuleManager } from '../rules/manager.js';
import type { RuleQueryResult } from '../rules/types.js';
import { parseAlertmanagerConfig } from './config.js';
import { AlertRouter } from './router.js';
import { fingerprint, tieredFingerprint } from './types.js';

const M = 60_000;
const T0 = 1_700_000_000_000;

const RULES = `groups:
  - name: tiers
    interval: 15s
    rules:
      - alert: HighErrorRate
        expr: max by (service) (error_ratio)
        for: 1m
        threshold: 0.02
        severity_tiers: { info: 1, warning: 2, critical: 5 }
        labels: { team: payments }
`;

let hook: Catcher;
before(async () => {
  hook = await startCatcher();
});
after(() => hook.close());
beforeEach(() => {
  hook.requests.length = 0;
});

function amConfig(routes = '', inhibit = ''): ReturnType<typeof parseAlertmanagerConfig> {
  return parseAlertmanagerConfig(
    `route:
  receiver: hook
  group_by: [alertname, service]
  group_wait: 30s
  group_interval: 1m
  repeat_interval: 4h
${routes}
receivers:
  - name: hook
    webhook_configs: [{ url: ${hook.url}/hook, send_resolved: true }]
  - name: pager
    webhook_configs: [{ url: ${hook.url}/pager, send_resolved: true }]
${inhibit}`,
    'am.yml',
  );
}

/** 0 for 5 minutes, then +1 point of error ratio a minute up to 12%, held, then 0 from minute 22. */
function ramp(t: number): number {
  const min = (t - T0) / M;
  if (min < 5 || min >= 22) return 0;
  return Math.min(0.12, Math.floor(min - 4) * 0.01);
}

/** Runs the tiered rule over the ramp into a router with `cfg` until minute 30; returns the router (stopped). */
async function runRamp(cfg: ReturnType<typeof parseAlertmanagerConfig>): Promise<AlertRouter> {
  const until = T0 + 30 * M;
  const head = new Head({ maxFutureMs: Infinity });
  const app = head.appender();
  for (let t = T0 - 5 * M; t <= until; t += 15_000) app.append(0, labelsFrom({ __name__: 'error_ratio', service: 'api' }), t, ramp(t));
  app.commit();
  const clock = new ManualClock(T0);
  const engine = new Engine({ now: () => clock.now() });
  const router = new AlertRouter({ clock, config: cfg });
  router.start();
  const m = new RuleManager({
    queryFn: (e, t): RuleQueryResult => engine.instantQuery(head, e, t).result,
    // The same in-process path the server wires (server/cmd/server.ts).
    notifyFn: (a) => router.receive(a, { fromRules: true }),
    appendable: head,
    clock,
    resendDelayMs: M,
  });
  const parsed = parseRuleFile(RULES, 'tiers.yml');
  assert.deepEqual(parsed.errors, []);
  await m.applyGroups(parsed.groups);
  m.start();
  await clock.advanceTo(until);
  await m.stop();
  router.stop();
  return router;
}

interface Seen {
  path: string;
  status: string;
  alerts: Array<{ status: string; severity: string; fingerprint: string }>;
}

function seen(): Seen[] {
  return hook.requests.map((r) => ({
    path: r.path,
    status: String(r.body['status']),
    alerts: (r.body['alerts'] as Array<{ status: string; labels: Record<string, string>; fingerprint: string }>).map((a) => ({
      status: a.status,
      severity: a.labels['severity']!,
      fingerprint: a.fingerprint,
    })),
  }));
}

/** Fails on any alert reported resolved and later firing again, in payloads (in order) or history. */
function assertNoResolvedThenFired(events: Array<{ fp: string; status: string }>): void {
  const resolved = new Set<string>();
  for (const e of events) {
    if (e.status === 'resolved') resolved.add(e.fp);
    else assert.ok(!resolved.has(e.fp), `alert ${e.fp} fired again after it was reported resolved`);
  }
}

function lifecycle(router: AlertRouter, fp: string): string[] {
  return router.history
    .query({ fingerprint: fp })
    .reverse()
    .filter((e) => e.type !== 'notification')
    .map((e) => `${e.type}${e.severity ? `:${e.severity}` : ''}`);
}

test('a ramp through rules and Alertmanager gives one identity: firing info, warning, critical, then resolved; 3 + 1 notifications', async () => {
  const router = await runRamp(amConfig());
  const got = seen();
  const fp = tieredFingerprint({ alertname: 'HighErrorRate', service: 'api', team: 'payments', severity: 'critical' });
  assert.deepEqual(
    got.map((n) => [n.path, n.status, n.alerts.map((a) => `${a.status}:${a.severity}:${a.fingerprint}`)]),
    [
      ['/hook', 'firing', [`firing:info:${fp}`]],
      ['/hook', 'firing', [`firing:warning:${fp}`]],
      ['/hook', 'firing', [`firing:critical:${fp}`]],
      ['/hook', 'resolved', [`resolved:critical:${fp}`]],
    ],
  );
  assertNoResolvedThenFired(got.flatMap((n) => n.alerts.map((a) => ({ fp: a.fingerprint, status: a.status }))));
  // One stored alert, not one per severity; the history tells the changes of that one alert.
  assert.equal(router.alertCount, 1);
  assert.equal(router.alert(fp)?.labels['severity'], 'critical');
  assert.deepEqual(lifecycle(router, fp), ['firing', 'escalated:warning', 'escalated:critical', 'resolved']);
  assertNoResolvedThenFired(
    router.history
      .query({ fingerprint: fp })
      .reverse()
      .map((e) => ({ fp, status: e.type === 'resolved' ? 'resolved' : 'firing' })),
  );
  assert.deepEqual(
    router.history
      .query({ type: 'escalated' })
      .reverse()
      .map((e) => [e.previousSeverity, e.severity]),
    [
      ['info', 'warning'],
      ['warning', 'critical'],
    ],
  );
});

test('routing follows the severity: the alert moves to the critical route, the old route sends no resolved', async () => {
  const router = await runRamp(
    amConfig(`  routes:
    - matchers: [severity="critical"]
      receiver: pager`),
  );
  const got = seen();
  assert.deepEqual(
    got.map((n) => `${n.path} ${n.status} ${n.alerts.map((a) => `${a.status}:${a.severity}`).join(',')}`),
    ['/hook firing firing:info', '/hook firing firing:warning', '/pager firing firing:critical', '/pager resolved resolved:critical'],
  );
  assert.equal(new Set(got.flatMap((n) => n.alerts.map((a) => a.fingerprint))).size, 1, 'one identity across both routes');
  assert.deepEqual(router.groups(), [], 'the old route group ended when the alert left it; the new one after the resolved notification');
});

test('inhibition sees the current severity of a tiered alert', () => {
  const clock = new ManualClock(T0);
  const router = new AlertRouter({
    clock,
    config: amConfig('', 'inhibit_rules:\n  - source_matchers: [severity="critical"]\n    target_matchers: [alertname="Latency"]\n    equal: [service]'),
  });
  const tiered = (severity: string, tier: number): void =>
    router.receive([{ labels: { alertname: 'HighErrorRate', service: 'api', severity }, tier }], { fromRules: true });
  tiered('warning', 1);
  router.receive([{ labels: { alertname: 'Latency', service: 'api' } }]);
  const latency = router.alert(fingerprint({ alertname: 'Latency', service: 'api' }))!;
  assert.equal(router.status(latency).state, 'active');
  clock.jump(15_000);
  tiered('critical', 2);
  const fp = tieredFingerprint({ alertname: 'HighErrorRate', service: 'api' });
  assert.deepEqual(router.status(latency).inhibitedBy, [fp]);
  clock.jump(15_000);
  tiered('warning', 1);
  assert.equal(router.status(latency).state, 'active', 'de-escalated: no longer a critical source');
  assert.deepEqual(lifecycle(router, fp), ['firing', 'escalated:critical', 'de-escalated:warning']);
  assert.equal(router.alertCount, 2);
});

test('alerts posted to /api/v2/alerts keep Alertmanager identity: every label counts, a posted tier is ignored', async () => {
  const srv = await startServer();
  try {
    const post = (severity: string, tier: number): Promise<Response> =>
      fetch(`${srv.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels: { alertname: 'HighErrorRate', service: 'api', severity }, tier }]),
      });
    assert.equal((await post('warning', 1)).status, 200);
    assert.equal((await post('critical', 2)).status, 200);
    const list = (await (await fetch(`${srv.url}/api/v2/alerts`)).json()) as Array<{ fingerprint: string; labels: Record<string, string> }>;
    assert.deepEqual(
      list.map((a) => a.fingerprint).sort(),
      [
        fingerprint({ alertname: 'HighErrorRate', service: 'api', severity: 'warning' }),
        fingerprint({ alertname: 'HighErrorRate', service: 'api', severity: 'critical' }),
      ].sort(),
    );
  } finally {
    await srv.stop();
  }
});
