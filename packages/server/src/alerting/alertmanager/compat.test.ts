/**
 * Differential test: the same alert sequence sent to Debian's prometheus-alertmanager and to Vigil,
 * with both webhooks caught and compared field by field (external URL aside); and the same template
 * file rendered by both into Slack messages, compared title and text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Router } from '../../server/api/http.js';
import { registerAlertmanagerApi } from '../../server/api/alertmanager.js';
import { freePort, peerBinary, tempDir, waitFor } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { loadAlertmanagerConfig } from './config.js';
import { AlertRouter } from './router.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';

let hook: Catcher;
let real: ChildProcess;
let realUrl: string;
let vigil: AlertRouter;
let vigilUrl: string;
let server: http.Server;
let tmp: ReturnType<typeof tempDir>;

const cfg = (recv: string): string => `global:
  resolve_timeout: 1h
templates: ['notify.tmpl']
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: [team="tmpl"]
      receiver: tmpl.slack
      group_by: [alertname, team]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
receivers:
  - name: hook
    webhook_configs:
      - url: ${hook.url}/${recv}
        send_resolved: true
  - name: tmpl.slack
    slack_configs:
      - api_url: ${hook.url}/${recv}-slack
        send_resolved: true
        text: '{{ template "my.text" . }}'
        pretext: '{{ .CommonLabels }}|{{ .CommonLabels.SortedPairs }}|{{ template "__alertmanager" . }}'
`;

/**
 * One template file for both: it overrides a default Alertmanager has (slack.default.title), calls
 * Alertmanager's own helper templates, and uses the data model and the functions prometheus-alertmanager
 * 0.25 has (trimSpace, since, date, tz and humanizeDuration came later).
 */
const TEMPLATES = `{{ define "slack.default.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ title (index .CommonLabels "service") }}{{ end }}

{{ define "my.alert" -}}
{{ .Status | toUpper }} {{ .Labels.alertname }} {{ .Labels.instance | toUpper }} [{{ .Annotations.summary }}] {{ .StartsAt.Format "2006-01-02T15:04:05.000Z07:00" }} {{ .StartsAt }} / {{ .EndsAt }} {{ .GeneratorURL }} {{ .Fingerprint }}
{{- end }}

{{ define "my.text" -}}
{{ template "__subject" . }}
receiver={{ .Receiver }} status={{ .Status }} alerts={{ len .Alerts }}
{{ range .Alerts.Firing }}{{ template "my.alert" . }}
{{ end -}}
{{ range .Alerts.Resolved }}{{ template "my.alert" . }} ended {{ .EndsAt.Format "Mon Jan _2 15:04:05.000 MST 2006" }}
{{ end -}}
common: {{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}
names={{ .CommonLabels.Names | join "," }} group={{ join "," .GroupLabels.Values }} rest={{ (.CommonLabels.Remove .GroupLabels.Names).Names }}
annotations: {{ range $k, $v := .CommonAnnotations }}{{ $k }}={{ $v }};{{ else }}none{{ end }}
{{ if match "^pay" (index .CommonLabels "service") }}payment path{{ else }}other{{ end }} {{ reReplaceAll "(.+)-(.+)" "$2/$1" "web-1" }} {{ safeHtml "<b>&" }} {{ stringSlice "a" "b" }} {{ toLower "ÀBC" }} {{ title "hELLO wORLD-foo_bar" }} {{ printf "%05.1f|%q|%v" 3.14159 "q" true }}
{{ with .Alerts.Firing }}{{ template "__text_alert_list" . }}{{ else }}all clear{{ end }}
{{- end }}
`;

before(async () => {
  hook = await startCatcher();
  tmp = tempDir('vigil-amcompat-');
  const file = path.join(tmp.dir, 'am.yml');
  fs.writeFileSync(file, cfg('real'));
  fs.writeFileSync(path.join(tmp.dir, 'notify.tmpl'), TEMPLATES);
  // Vigil reads its own copy, next to the same template file.
  const vigilFile = path.join(tmp.dir, 'vigil-am.yml');
  fs.writeFileSync(vigilFile, cfg('vigil'));
  const port = await freePort();
  real = spawn(
    peerBinary('prometheus-alertmanager', 'prometheus-alertmanager'),
    [`--config.file=${file}`, `--storage.path=${path.join(tmp.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: 'ignore' },
  );
  realUrl = `http://127.0.0.1:${port}`;
  vigil = new AlertRouter({ config: loadAlertmanagerConfig(vigilFile) });
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
  const alerts = (body['alerts'] as Array<Record<string, unknown>>)
    .map((a) => ({ ...a }))
    .sort((a, b) => String(a['fingerprint']).localeCompare(String(b['fingerprint'])));
  return { ...body, alerts, externalURL: '' };
}

async function nth(recv: string, n: number): Promise<Record<string, unknown>> {
  return waitFor(
    `${recv} notification ${n}`,
    async () => {
      const got = hook.requests.filter((r) => r.path === `/${recv}`);
      return got.length >= n ? normalise(got[n - 1]!.body) : undefined;
    },
    15_000,
    50,
  );
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
  const byKey = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, Record<string, unknown>> =>
    Object.fromEntries([a, b].map((x) => [String(x['groupKey']), x]));
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
    {
      labels: { alertname: 'Pool', service: 'pay', severity: 'critical' },
      annotations: { summary: 'pool' },
      startsAt: t0,
      endsAt: end,
      generatorURL: 'http://prom/graph',
    },
    { labels: { alertname: 'Errors', service: 'pay', severity: 'warning' }, startsAt: t0, endsAt: end },
  ]);
  const [r3, v3, r4, v4] = [await nth('real', 3), await nth('vigil', 3), await nth('real', 4), await nth('vigil', 4)];
  assert.deepEqual(byKey(v3, v4), byKey(r3, r4));
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(hook.requests.filter((r) => r.path === '/vigil').length, hook.requests.filter((r) => r.path === '/real').length);
});

test('the same template file renders the same Slack title and text in both, firing, partly resolved and resolved', { timeout: 60_000 }, async () => {
  const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 90_123).toISOString();
  const alert = (instance: string, endsAt?: string): Record<string, unknown> => ({
    labels: { alertname: 'TmplPool', team: 'tmpl', service: 'payments', severity: 'critical', instance },
    annotations: { summary: '  pool  full ', runbook: 'http://runbooks/pool' },
    startsAt: t0,
    generatorURL: 'http://prom/graph?g0.expr=pool',
    ...(endsAt ? { endsAt } : {}),
  });
  const slack = async (recv: string, n: number): Promise<Record<string, string>> =>
    waitFor(
      `${recv} slack message ${n}`,
      async () => {
        const got = hook.requests.filter((r) => r.path === `/${recv}-slack`);
        return got.length >= n ? (got[n - 1]!.body['attachments'] as Array<Record<string, string>>)[0] : undefined;
      },
      15_000,
      50,
    );
  const same = async (n: number, what: string): Promise<{ real: Record<string, string>; vigil: Record<string, string> }> => {
    const [real, vigil] = [await slack('real', n), await slack('vigil', n)];
    assert.equal(vigil['title'], real['title'], `${what}: title`);
    assert.equal(vigil['text'], real['text'], `${what}: text`);
    return { real, vigil };
  };
  await post([alert('web-2'), alert('web-1')]);
  const firing = await same(1, 'firing');
  assert.equal(firing.real['title'], '[FIRING:2] TmplPool tmpl Payments');
  assert.match(
    firing.real['text']!,
    /^\[FIRING:2\] TmplPool tmpl \(payments critical\)\nreceiver=tmpl\\.slack status=firing alerts=2\nFIRING TmplPool WEB-1 \[ {2}pool {2}full \]/,
  );
  assert.match(firing.real['text']!, / 0001-01-01 00:00:00 \+0000 UTC http:\/\/prom\/graph\?g0\.expr=pool [0-9a-f]{16}\n/);
  assert.match(firing.real['text']!, /\npayment path 1\/web <b>& \[a b\] àbc Hello World-Foo_bar 003\.1\|"q"\|true\nLabels:\n - alertname = TmplPool\n/);
  // Where Vigil deliberately differs: label sets print as Alertmanager ≥ 0.26 prints them (0.25 had no
  // String method and printed Go maps), and Vigil calls itself Vigil.
  const labels = 'alertname=TmplPool, service=payments, severity=critical, team=tmpl';
  assert.equal(firing.vigil['pretext'], `${labels}|${labels}|Vigil`);
  assert.equal(
    firing.real['pretext'],
    'map[alertname:TmplPool service:payments severity:critical team:tmpl]|[{alertname TmplPool} {service payments} {severity critical} {team tmpl}]|Alertmanager',
  );
  await post([alert('web-1', new Date().toISOString()), alert('web-2')]);
  const partly = await same(2, 'partly resolved');
  assert.match(
    partly.real['text']!,
    /alerts=2\nFIRING TmplPool WEB-2 .*\nRESOLVED TmplPool WEB-1 .* ended \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3} UTC \d{4}\n/,
  );
  await post([alert('web-2', new Date().toISOString())]);
  const resolved = await same(3, 'resolved');
  assert.match(resolved.real['title']!, /^\[RESOLVED\] TmplPool tmpl Payments$/);
  assert.match(resolved.real['text']!, /\nall clear$/);
});
