import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { AlertmanagerConfigError, parseAlertmanagerConfig, parseAlertmanagerConfigIn } from './config.js';
import { matchRoutes } from './dispatch.js';
import { intervalContains, parseTimeInterval } from './timeinterval.js';
import { fingerprint, parseMatchers } from './types.js';

const FULL = `global:
  resolve_timeout: 2m
  smtp_smarthost: smtp.example.com:587
  smtp_from: vigil@example.com
  slack_api_url: https://hooks.slack.com/services/T/B/X
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
templates: ['/etc/vigil/*.tmpl']
route:
  receiver: email
  group_by: ['...']
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      group_by: [alertname, service]
      continue: true
    - match: {severity: critical}
      match_re: {service: 'pay.*'}
      receiver: chat
      repeat_interval: 30m
      mute_time_intervals: [nights]
    - matchers: [severity=~"high|critical"]
      receiver: chat
      active_time_intervals: [office]
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
        location: Europe/Berlin
mute_time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: '00:00', end_time: '06:00'}]
inhibit_rules:
  - source_matchers: [alertname=PoolExhausted]
    target_matchers: [alertname=HighErrorRate]
    equal: [service]
  - source_match: {severity: critical}
    target_match: {severity: high}
receivers:
  - name: email
    email_configs: [{to: team@example.com}]
  - name: pager
    pagerduty_configs: [{routing_key: k}]
    slack_configs: [{channel: '#p'}]
  - name: chat
    slack_configs: [{channel: '#c', send_resolved: true}]
    discord_configs: [{webhook_url: 'https://discord.com/api/webhooks/1/x'}]
    msteams_configs: [{webhook_url: 'https://example.webhook.office.com/x'}]
    opsgenie_configs: [{api_key: x}]
`;

test('parses a full configuration with inheritance and legacy matchers', () => {
  const c = parseAlertmanagerConfig(FULL, 'am.yml');
  assert.equal(c.global.resolveTimeoutMs, 120_000);
  assert.equal(c.route.groupByAll, true);
  assert.equal(c.route.groupWaitMs, 30_000);
  const [pager, chatPay, chat] = c.route.routes;
  assert.deepEqual(pager!.groupBy, ['alertname', 'service']);
  assert.equal(chatPay!.groupByAll, true, 'group_by is inherited');
  assert.equal(chatPay!.repeatIntervalMs, 30 * 60_000);
  assert.equal(chatPay!.matchers.map(String).join(','), 'severity="critical",service=~"pay.*"');
  assert.equal(chat!.key, '{}/{severity=~"high|critical"}');
  assert.equal(c.receivers[1]!.integrations.map((i) => i.type).join(), 'slack,pagerduty');
  assert.equal(c.receivers[0]!.integrations[0]!.type === 'email' && c.receivers[0]!.integrations[0]!.smarthost, 'smtp.example.com:587');
  assert.deepEqual(c.warnings, ['receiver chat: opsgenie_configs is not supported by Vigil and is ignored']);
  assert.equal(c.inhibitRules[1]!.sourceMatchers[0]!.toString(), 'severity="critical"');
  assert.deepEqual(c.templates, ['/etc/vigil/*.tmpl']);
  const routes = (labels: Record<string, string>): string[] => matchRoutes(c.route, labels).map((r) => r.receiver);
  assert.deepEqual(routes({ severity: 'critical', service: 'payment' }), ['pager', 'chat']);
  assert.deepEqual(routes({ severity: 'critical', service: 'cart' }), ['pager', 'chat']);
  assert.deepEqual(routes({ severity: 'low' }), ['email']);
});

const bad: Array<[string, string, RegExp]> = [
  ['route:\n  receiver: x\nreceivers:\n  - name: y\n', 'am.yml:2: route.receiver: undefined receiver "x" used in route', /./],
  ['route:\n  receiver: a\n  group_wait: 5q\nreceivers:\n  - name: a\n', 'am.yml:3: route.group_wait:', /unknown unit/],
  [
    'route:\n  receiver: a\n  routes:\n    - matchers: ["a=~("]\n      receiver: a\nreceivers:\n  - name: a\n',
    'am.yml:4: route.routes.0.matchers.0:',
    /error parsing regexp: missing closing \): `\(`/,
  ],
  [
    'route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://x\n        bogus: 1\n',
    'am.yml:7: receivers.0.webhook_configs.0.bogus:',
    /field bogus not found/,
  ],
  [
    'route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n      - channel: x\n',
    'am.yml:6: receivers.0.slack_configs.0:',
    /no global Slack API URL/,
  ],
  ['route:\n  receiver: a\n  group_by: [a, "..."]\nreceivers:\n  - name: a\n', 'am.yml:3: route.group_by:', /wildcard/],
  [
    'route:\n  receiver: a\n  routes:\n    - receiver: a\n      mute_time_intervals: [none]\nreceivers:\n  - name: a\n',
    'am.yml:5: route.routes.0.mute_time_intervals.0:',
    /undefined time interval/,
  ],
  ['route:\n  receiver: a\nreceivers:\n  - name: a\n  - name: a\n', 'am.yml:5: receivers.1.name:', /not unique/],
  [
    'route:\n  receiver: a\nreceivers:\n  - name: a\ntime_intervals:\n  - name: t\n    time_intervals:\n      - weekdays: [funday]\n',
    'am.yml:8: time_intervals.0.time_intervals.0:',
    /unknown name/,
  ],
  ['route: [\n', 'am.yml:', /invalid YAML/],
];

test('errors name file, line and field', () => {
  for (const [text, prefix, detail] of bad) {
    assert.throws(
      () => parseAlertmanagerConfig(text, 'am.yml'),
      (err: unknown) => err instanceof AlertmanagerConfigError && err.message.startsWith(prefix) && detail.test(err.message),
      `${prefix} for ${JSON.stringify(text)}`,
    );
  }
});

test('inline in Vigil configuration: errors point into vigil.yml', () => {
  const text = 'listen: 127.0.0.1:9466\nalertmanager_config:\n  route:\n    receiver: nope\n  receivers:\n    - name: a\n';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  assert.throws(
    () => parseAlertmanagerConfigIn(doc, lines, 'vigil.yml', ['alertmanager_config']),
    /^AlertmanagerConfigError: vigil\.yml:4: route\.receiver: undefined receiver/,
  );
  const ok = parseAlertmanagerConfigIn(parseDocument(text.replace('nope', 'a')), new LineCounter(), 'vigil.yml', ['alertmanager_config']);
  assert.equal(ok.route.receiver, 'a');
  assert.match(ok.original, /receiver: a/);
});

test('time intervals: weekdays, times, days of month from the end, zones', () => {
  const office = parseTimeInterval({ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }], location: 'Europe/Berlin' });
  assert.equal(intervalContains(office, Date.parse('2024-01-03T08:30:00Z')), true); // Wed 09:30 Berlin
  assert.equal(intervalContains(office, Date.parse('2024-01-03T07:30:00Z')), false);
  assert.equal(intervalContains(office, Date.parse('2024-01-06T10:00:00Z')), false); // Saturday
  const lastDays = parseTimeInterval({ days_of_month: ['-3:-1'], months: ['february'] });
  assert.equal(intervalContains(lastDays, Date.parse('2024-02-27T12:00:00Z')), true);
  assert.equal(intervalContains(lastDays, Date.parse('2024-02-26T12:00:00Z')), false);
  assert.equal(intervalContains(lastDays, Date.parse('2024-03-30T12:00:00Z')), false);
  assert.throws(() => parseTimeInterval({ times: [{ start_time: '10:00', end_time: '09:00' }] }), /before end_time/);
});

test('fingerprints match Alertmanager; matcher syntax', () => {
  // Values computed by Alertmanager (model.LabelSet.Fingerprint).
  assert.equal(fingerprint({}), 'cbf29ce484222325');
  assert.equal(fingerprint({ alertname: 'x' }).length, 16);
  assert.deepEqual(parseMatchers('{a="1", b=~"x,y", c!=3}').map(String), ['a="1"', 'b=~"x,y"', 'c!="3"']);
  assert.throws(() => parseMatchers('a'), /bad matcher format/);
});
