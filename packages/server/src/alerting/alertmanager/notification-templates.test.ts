/**
 * User template files end to end: written to a temporary directory, loaded with the configuration,
 * rendered into Slack, email, PagerDuty, Discord and Teams bodies; render failures fall back to the
 * defaults and are recorded; broken files are configuration errors naming file and line.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../testkit/helpers.js';
import { createLogger } from '../../core/util/log.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { AlertmanagerConfigError, loadAlertmanagerConfig, parseAlertmanagerConfig } from './config.js';
import { emailMessage } from './receivers/email.js';
import { fieldRenderer } from './receivers/integration.js';
import { AlertRouter } from './router.js';
import { templateData } from './template.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { fingerprint } from './types.js';

let hook: Catcher;
let tmp: ReturnType<typeof tempDir>;
before(async () => {
  hook = await startCatcher();
});
after(async () => {
  await hook.close();
});
beforeEach(() => {
  hook.requests.length = 0;
  tmp?.cleanup();
  tmp = tempDir('vigil-amtmpl-');
});

/** Writes files into the temporary directory and returns the configuration file's path. */
function write(files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tmp.dir, name)), { recursive: true });
    fs.writeFileSync(path.join(tmp.dir, name), text);
  }
  return path.join(tmp.dir, 'am.yml');
}

const USER_TEMPLATES = `{{/* Overrides a default and adds a text of our own. */}}
{{ define "slack.default.title" }}{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} on {{ .CommonLabels.service }}{{ end }}

{{ define "my.text" -}}
{{ len .Alerts.Firing }} firing, {{ len .Alerts.Resolved }} resolved for {{ .Receiver }}
{{ range .Alerts.Firing }}* {{ .Labels.instance }} {{ .Annotations.summary | toUpper }} since {{ .StartsAt.Format "15:04:05" }}
{{ end }}{{ range .Alerts.Resolved }}- {{ .Labels.instance }} resolved at {{ .EndsAt.Format "15:04" }}
{{ end }}common: {{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}
others: {{ (.CommonLabels.Remove .GroupLabels.Names).Values | join "," }} {{ title "in the payment path" }}
{{- end }}
`;

function amConfig(receiver: string, templates = "['templates/*.tmpl']"): string {
  return `global:
  resolve_timeout: 1h
route:
  receiver: team-pay
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
templates: ${templates}
receivers:
  - name: team-pay
${receiver}
`;
}

test('a user template file overrides slack.default.title and supplies the text; firing and resolved', async () => {
  const file = write({
    'templates/notify.tmpl': USER_TEMPLATES,
    'am.yml': amConfig(`    slack_configs:\n      - api_url: ${hook.url}/slack\n        send_resolved: true\n        text: '{{ template "my.text" . }}'`),
  });
  const cfg = loadAlertmanagerConfig(file);
  assert.deepEqual(cfg.notificationTemplates.files, [path.join('templates', 'notify.tmpl')]);
  const clock = new ManualClock(Date.parse('2024-03-05T10:00:00Z'));
  const am = new AlertRouter({ clock, config: cfg, externalURL: 'http://vigil.example' });
  am.start();
  const labels = (instance: string): Record<string, string> => ({ alertname: 'PoolExhausted', service: 'payment', severity: 'critical', instance });
  am.receive([
    { labels: labels('b'), annotations: { summary: 'pool full' } },
    { labels: labels('a'), annotations: { summary: 'pool full' } },
  ]);
  await clock.advance(10_000);
  const first = hook.requests[0]!.body as { attachments: Array<Record<string, string>> };
  assert.equal(first.attachments[0]!['title'], 'FIRING: PoolExhausted on payment');
  assert.equal(first.attachments[0]!['fallback'], 'FIRING: PoolExhausted on payment', 'the default fallback calls the overridden title');
  assert.equal(
    first.attachments[0]!['text'],
    '2 firing, 0 resolved for team-pay\n* a POOL FULL since 10:00:00\n* b POOL FULL since 10:00:00\ncommon: alertname=PoolExhausted service=payment severity=critical \nothers: payment,critical In The Payment Path',
  );
  assert.equal(first.attachments[0]!['color'], 'danger', 'fields the user did not touch keep Vigil defaults');
  am.receive([{ labels: labels('a'), annotations: { summary: 'pool full' }, endsAt: new Date(clock.now()).toISOString() }]);
  await clock.advance(60_000);
  const second = hook.requests[1]!.body as { attachments: Array<Record<string, string>> };
  assert.equal(second.attachments[0]!['title'], 'FIRING: PoolExhausted on payment');
  assert.equal(
    second.attachments[0]!['text'],
    '1 firing, 1 resolved for team-pay\n* b POOL FULL since 10:00:00\n- a resolved at 10:00\ncommon: alertname=PoolExhausted service=payment severity=critical \nothers: payment,critical In The Payment Path',
  );
  am.stop();
});

test('a field that fails to render goes out with its default, logged and recorded in the history', async () => {
  const broken = `{{ define "slack.default.text" }}{{ .NoSuchField }}{{ end }}\n{{ define "bad.title" }}\n{{ template "nowhere" . }}{{ end }}\n`;
  const file = write({
    'templates/broken.tmpl': broken,
    'am.yml': amConfig(
      `    slack_configs:\n      - api_url: ${hook.url}/slack\n        title: '{{ template "bad.title" . }}'\n        pretext: '{{ .CommonLabels.service }} needs you'`,
    ),
  });
  const cfg = loadAlertmanagerConfig(file);
  assert.ok(
    cfg.warnings.some((w) => w === `${path.join('templates', 'broken.tmpl')}:3: template: no such template "nowhere"`),
    cfg.warnings.join('\n'),
  );
  const lines: string[] = [];
  const clock = new ManualClock(Date.parse('2024-03-05T10:00:00Z'));
  const am = new AlertRouter({ clock, config: cfg, logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
  am.start();
  am.receive([{ labels: { alertname: 'Slow', service: 'cart', severity: 'warning' }, annotations: { summary: 'checkout slow' } }]);
  await clock.advance(10_000);
  const att = (hook.requests[0]!.body as { attachments: Array<Record<string, string>> }).attachments[0]!;
  // The title's own text failed (and the fallback, which follows it): the defaults. The user's
  // slack.default.text failed: Vigil's built-in one.
  assert.equal(att['title'], '[FIRING:1] Slow (cart warning)');
  assert.equal(att['fallback'], '[FIRING:1] Slow (cart warning)');
  assert.match(att['text']!, /^🔥 FIRING \[warning\]: checkout slow\n {2}since 2024-03-05 10:00:00 UTC \(10s ago\)/);
  assert.equal(att['pretext'], 'cart needs you');
  const failures = am.history.query({ type: 'notification' }).filter((e) => !e.ok);
  assert.deepEqual(
    failures.map((f) => f.error!.split(' failed')[0]).sort(),
    ['template for slack fallback', 'template for slack text', 'template for slack title'],
    JSON.stringify(failures),
  );
  assert.match(
    failures.map((f) => f.error).join('\n'),
    /slack title failed, sent the default instead: template: templates\/broken.tmpl:3:12: executing "bad.title" at <\{\{template "nowhere"\.\.\.>: template "nowhere" not defined/,
  );
  assert.match(failures.map((f) => f.error).join('\n'), /slack text failed.*can't evaluate field NoSuchField in type \*template.Data/);
  assert.equal(am.history.query({ type: 'notification' }).filter((e) => e.ok).length, 1, 'the notification itself was delivered');
  assert.equal(lines.filter((l) => l.includes('notification template failed')).length, 3);
  am.stop();
});

test('email, PagerDuty, Discord and Teams fields render through the set', async () => {
  const tmpl = `{{ define "email.default.subject" }}[{{ .Status }}] {{ .GroupLabels.alertname }}{{ end }}
{{ define "my.html" }}<h1>{{ .CommonAnnotations.summary }}</h1>{{ safeHtml "<hr>" }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ range . }}{{ .Labels.instance }};{{ end }}{{ end }}
{{ define "discord.default.title" }}D {{ .CommonLabels.alertname }}{{ end }}
{{ define "msteams.default.text" }}line1
line2{{ end }}
`;
  const file = write({
    'tmpl/all.tmpl': tmpl,
    'am.yml': amConfig(
      `    pagerduty_configs:\n      - routing_key: k\n        url: ${hook.url}/pd\n        details: {owner: '{{ .CommonLabels.team }}'}\n        component: '{{ .CommonLabels.service }}'\n    discord_configs:\n      - webhook_url: ${hook.url}/discord\n    msteams_configs:\n      - webhook_url: ${hook.url}/teams\n        title: 'T {{ .Status }}'`,
      "['tmpl/all.tmpl']",
    ),
  });
  const cfg = loadAlertmanagerConfig(file);
  const clock = new ManualClock(Date.parse('2024-03-05T10:00:00Z'));
  const am = new AlertRouter({ clock, config: cfg, externalURL: 'http://vigil.example' });
  am.start();
  am.receive([{ labels: { alertname: 'Pool', service: 'payment', team: 'pay', instance: 'i1' }, annotations: { summary: 'a <b> & c' } }]);
  await clock.advance(10_000);
  const body = (p: string): Record<string, unknown> => hook.requests.find((r) => r.path === p)!.body;
  const pd = body('/pd') as {
    client: string;
    client_url: string;
    payload: { summary: string; source: string; component: string; custom_details: Record<string, string> };
  };
  assert.deepEqual(pd.payload.custom_details, { firing: 'i1;', num_firing: '1', num_resolved: '0', owner: 'pay' });
  assert.deepEqual(
    [pd.client, pd.client_url, pd.payload.source, pd.payload.component, pd.payload.summary],
    ['Vigil', 'http://vigil.example', 'Vigil', 'payment', '[FIRING:1] Pool (i1 payment pay)'],
  );
  assert.equal((body('/discord') as { embeds: Array<{ title: string }> }).embeds[0]!.title, 'D Pool');
  const teams = body('/teams') as Record<string, string>;
  assert.deepEqual([teams['title'], teams['summary'], teams['text']], ['T firing', 'T firing', 'line1\n\nline2']);
  am.stop();
  // Email: subject from the file, HTML escaped except safeHtml, the text part unescaped.
  const emailCfg = parseAlertmanagerConfig(
    amConfig(
      `    email_configs:\n      - to: a@example.com\n        from: v@example.com\n        smarthost: localhost:25\n        html: '{{ template "my.html" . }}'\n        headers: {X-Team: '{{ .CommonLabels.team }}'}`,
      `['${path.join(tmp.dir, 'tmpl', '*.tmpl')}']`,
    ),
    'inline.yml',
  );
  const d = templateData({
    receiver: 'team-pay',
    groupKey: 'k',
    groupLabels: { alertname: 'Pool' },
    externalURL: '',
    alerts: [
      {
        labels: { alertname: 'Pool', team: 'pay' },
        annotations: { summary: 'a <b> & c' },
        startsAt: 0,
        endsAt: Date.parse('2030-01-01T00:00:00Z'),
        generatorURL: '',
        updatedAt: 0,
        timeout: false,
        fingerprint: fingerprint({ alertname: 'Pool', team: 'pay' }),
      },
    ],
    now: 1000,
  });
  const ec = emailCfg.receivers[0]!.integrations[0]!;
  assert.equal(ec.type, 'email');
  if (ec.type !== 'email') return;
  const msg = emailMessage(ec, 0, fieldRenderer({ now: () => 0, templates: emailCfg.notificationTemplates }, 'email', d));
  assert.match(msg, /^Subject: \[firing\] Pool$/m);
  assert.match(msg, /^X-Team: pay$/m);
  const parts = [...msg.matchAll(/base64\r\n\r\n([^-]+)/g)].map((m) => Buffer.from(m[1]!.replace(/\r\n/g, ''), 'base64').toString('utf8'));
  assert.match(parts[0]!, /^🔥 FIRING: a <b> & c/);
  assert.equal(parts[1], '<h1>a &lt;b&gt; &amp; c</h1><hr>');
});

test('a template reload picks up changed files', async () => {
  const file = write({
    'templates/t.tmpl': '{{ define "slack.default.title" }}v1{{ end }}',
    'am.yml': amConfig(`    slack_configs:\n      - api_url: ${hook.url}/slack\n        send_resolved: true`),
  });
  const clock = new ManualClock(Date.parse('2024-03-05T10:00:00Z'));
  const am = new AlertRouter({ clock, config: loadAlertmanagerConfig(file) });
  am.start();
  am.receive([{ labels: { alertname: 'A' } }]);
  await clock.advance(10_000);
  write({ 'templates/t.tmpl': '{{ define "slack.default.title" }}v2 {{ .Status }}{{ end }}' });
  am.applyConfig(loadAlertmanagerConfig(file));
  am.receive([{ labels: { alertname: 'A' }, endsAt: new Date(clock.now()).toISOString() }]);
  await clock.advance(70_000);
  const titles = hook.requests.map((r) => (r.body as { attachments: Array<{ title: string }> }).attachments[0]!.title);
  assert.deepEqual(titles, ['v1', 'v2 resolved']);
  am.stop();
});

test('configuration errors: template syntax errors name the file and line; missing literal paths and bad globs name the config line', () => {
  const slack = `    slack_configs:\n      - api_url: ${hook.url}/slack`;
  const file = write({
    'templates/ok.tmpl': '{{ define "a" }}a{{ end }}',
    'templates/bad.tmpl': '{{ define "x" }}\nfine\n{{ if .Status }}never closed\n{{ end }}',
    'am.yml': amConfig(slack),
  });
  assert.throws(
    () => loadAlertmanagerConfig(file),
    (err: Error) =>
      err instanceof AlertmanagerConfigError &&
      err.message === `${path.join('templates', 'bad.tmpl')}:4: template: unexpected EOF` &&
      err.file === path.join('templates', 'bad.tmpl') &&
      err.line === 4,
  );
  write({ 'am.yml': amConfig(slack, '\n  - templates/ok.tmpl\n  - templates/missing.tmpl') });
  assert.throws(
    () => loadAlertmanagerConfig(file),
    (err: Error) => err instanceof AlertmanagerConfigError && err.message === `${file}:10: templates.1: open templates/missing.tmpl: no such file or directory`,
  );
  write({ 'am.yml': amConfig(slack, "['templates/[ok.tmpl']") });
  assert.throws(() => loadAlertmanagerConfig(file), /am\.yml:8: templates\.0: templates\/\[ok\.tmpl: syntax error in pattern/);
  // A glob that matches nothing is fine, as in Alertmanager.
  write({ 'am.yml': amConfig(slack, "['nothing/*.tmpl']") });
  assert.equal(loadAlertmanagerConfig(file).notificationTemplates.files.length, 0);
  // Receiver fields are templates too: a syntax error is an error at the field, an unknown template a warning.
  write({ 'am.yml': amConfig(`${slack}\n        title: '{{ .Status'\n`, '[]') });
  assert.throws(() => loadAlertmanagerConfig(file), /am\.yml:13: receivers\.0\.slack_configs\.0\.title: template: unclosed action/);
  write({ 'am.yml': amConfig(`${slack}\n        text: '{{ template "nope" . }}{{ template "slack.default.text" . }}'\n`, '[]') });
  assert.deepEqual(loadAlertmanagerConfig(file).warnings, [`${file}:13: receivers.0.slack_configs.0.text: template: no such template "nope"`]);
});
