import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationTemplates, callTemplate } from './receivers/templates.js';
import { compareAlerts, goData, templateData, type TemplateAlert, type TemplateData } from './template.js';
import { fingerprint, type Alert, type LabelSet } from './types.js';
import { formatV } from '../template/index.js';

// Vigil's hand-written defaults before they became templates: the oracle the named templates must match.
function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}
const utc = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
const labelsLine = (l: LabelSet, skip: string[] = []): string =>
  Object.keys(l)
    .filter((k) => !skip.includes(k))
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(' ');
function oldTitle(d: TemplateData): string {
  const firing = d.alerts.filter((a) => a.status === 'firing').length;
  const head = d.status === 'firing' ? `[FIRING:${firing}]` : '[RESOLVED]';
  const groupVals = Object.keys(d.groupLabels)
    .sort()
    .map((k) => d.groupLabels[k]);
  const extra = Object.keys(d.commonLabels)
    .filter((k) => !(k in d.groupLabels))
    .sort()
    .map((k) => d.commonLabels[k]);
  const name = groupVals.length ? groupVals.join(' ') : (d.commonLabels['alertname'] ?? 'alerts');
  return `${head} ${name}${extra.length ? ` (${extra.join(' ')})` : ''}`;
}
const oldSummary = (a: TemplateAlert): string =>
  a.annotations['summary'] ??
  a.annotations['message'] ??
  a.annotations['description'] ??
  `${a.labels['alertname'] ?? 'alert'} ${labelsLine(a.labels, ['alertname'])}`;
function oldText(d: TemplateData): string {
  const lines: string[] = [];
  const sorted = [...d.alerts].sort((a, b) => (a.status === b.status ? a.startsAtMs - b.startsAtMs : a.status === 'firing' ? -1 : 1));
  for (const a of sorted) {
    const sev = a.labels['severity'] ? ` [${a.labels['severity']}]` : '';
    lines.push(`${a.status === 'firing' ? '🔥 FIRING' : '✅ RESOLVED'}${sev}: ${oldSummary(a)}`);
    if (a.annotations['description'] && a.annotations['description'] !== oldSummary(a)) lines.push(`  ${a.annotations['description']}`);
    lines.push(
      a.status === 'firing'
        ? `  since ${utc(a.startsAtMs)} (${ago(d.now - a.startsAtMs)} ago)`
        : `  from ${utc(a.startsAtMs)} to ${utc(a.endsAtMs)} (lasted ${ago(a.endsAtMs - a.startsAtMs)})`,
    );
    if (a.acknowledgedBy) lines.push(`  acknowledged by ${a.acknowledgedBy}`);
    lines.push(`  labels: ${labelsLine(a.labels)}`);
    if (a.annotations['runbook_url']) lines.push(`  runbook: ${a.annotations['runbook_url']}`);
    if (a.generatorURL) lines.push(`  source: ${a.generatorURL}`);
  }
  if (d.truncatedAlerts > 0) lines.push(`…and ${d.truncatedAlerts} more`);
  return lines.join('\n');
}

const NOW = Date.parse('2024-03-05T12:00:00Z');

function alert(
  labels: Record<string, string>,
  opts: { annotations?: Record<string, string>; startsAt?: number; endsAt?: number; generatorURL?: string } = {},
): Alert {
  return {
    labels,
    annotations: opts.annotations ?? {},
    startsAt: opts.startsAt ?? NOW - 754_000,
    endsAt: opts.endsAt ?? NOW + 3_600_000,
    generatorURL: opts.generatorURL ?? '',
    updatedAt: NOW,
    timeout: false,
    fingerprint: fingerprint(labels),
  };
}

const SCENARIOS: Array<{ name: string; groupLabels: Record<string, string>; alerts: Alert[]; acked?: string; truncated?: number }> = [
  {
    name: 'one firing alert with summary, description, runbook and source',
    groupLabels: { alertname: 'HighErrorRate' },
    alerts: [
      alert(
        { alertname: 'HighErrorRate', service: 'payment', severity: 'critical' },
        {
          annotations: { summary: 'payment errors at 12%', description: 'p99 <b>&', runbook_url: 'http://runbooks/pay' },
          generatorURL: 'http://prom/graph?g0.expr=x',
        },
      ),
    ],
  },
  {
    name: 'firing and resolved, oldest first, acknowledged',
    groupLabels: { alertname: 'Disk', service: 'db' },
    acked: 'alice',
    alerts: [
      alert({ alertname: 'Disk', service: 'db', instance: 'b' }, { startsAt: NOW - 3 * 86_400_000 - 7_200_000 }),
      alert({ alertname: 'Disk', service: 'db', instance: 'a' }, { startsAt: NOW - 5_000, annotations: { message: 'disk full', description: 'disk full' } }),
      alert(
        { alertname: 'Disk', service: 'db', instance: 'c' },
        { startsAt: NOW - 9_000_000, endsAt: NOW - 60_000, annotations: { description: 'only a description' } },
      ),
    ],
  },
  {
    name: 'all resolved, no group labels, truncated',
    groupLabels: {},
    truncated: 2,
    alerts: [alert({ alertname: 'X', job: 'node' }, { startsAt: NOW - 100_000, endsAt: NOW - 1_000 })],
  },
  { name: 'no alertname anywhere', groupLabels: {}, alerts: [alert({ job: 'a' }), alert({ job: 'b' })] },
];

function dataOf(s: (typeof SCENARIOS)[number]): TemplateData {
  const d = templateData({
    receiver: 'team',
    groupKey: '{}:{}',
    groupLabels: s.groupLabels,
    externalURL: 'http://vigil.example',
    alerts: s.alerts,
    now: NOW,
    ...(s.acked ? { ackedBy: () => s.acked } : {}),
  });
  d.truncatedAlerts = s.truncated ?? 0;
  return d;
}

test('the named default templates render what the hand-written defaults did', () => {
  const t = NotificationTemplates.builtin;
  for (const s of SCENARIOS) {
    const d = dataOf(s);
    for (const name of ['slack.default.title', 'email.default.subject', 'pagerduty.default.description', 'discord.default.title', 'msteams.default.title']) {
      assert.equal(t.execute(callTemplate(name), d), oldTitle(d), `${s.name}: ${name}`);
    }
    for (const name of ['slack.default.text', 'email.default.text', 'discord.default.message', 'msteams.default.text']) {
      assert.equal(t.execute(callTemplate(name), d), oldText(d), `${s.name}: ${name}`);
    }
  }
});

test('slack colour and email HTML defaults', () => {
  const t = NotificationTemplates.builtin;
  const color = (labels: Array<Record<string, string>>, resolved = false): string =>
    t.execute(
      callTemplate('slack.default.color'),
      templateData({
        receiver: 'r',
        groupKey: 'k',
        groupLabels: {},
        externalURL: '',
        alerts: labels.map((l) => alert(l, resolved ? { endsAt: NOW - 1 } : {})),
        now: NOW,
      }),
    );
  assert.equal(color([{ severity: 'warning' }, { severity: 'CRITICAL' }]), 'danger');
  assert.equal(color([{ severity: 'high' }]), 'warning');
  assert.equal(color([{ severity: 'info' }]), '#439FE0');
  assert.equal(color([{ severity: 'critical' }], true), 'good');
  const d = dataOf(SCENARIOS[0]!);
  const html = t.execute(callTemplate('email.default.html'), d, { html: true });
  assert.match(html, /^<html><body><h2 style="color:#D00000">\[FIRING:1\] HighErrorRate \(payment critical\)<\/h2><pre style="font-size:14px">🔥 FIRING/);
  assert.ok(html.includes('p99 &lt;b&gt;&amp;'), 'label and annotation values are escaped in HTML');
  assert.ok(html.includes('source: http://prom/graph?g0.expr=x'), html);
  assert.ok(html.endsWith('<p><a href="http://vigil.example">Open Vigil</a></p></body></html>'));
  // The same template in the text part is not escaped.
  assert.ok(t.execute(callTemplate('email.default.text'), d).includes('p99 <b>&'));
});

test('the data as templates see it: Alertmanager field order, quoted receiver, Go times, KV and extras', () => {
  const d = templateData({
    receiver: 'r.x(1)',
    groupKey: '{}:{alertname="Pool"}',
    groupLabels: { alertname: 'Pool' },
    externalURL: 'http://vigil.example',
    alerts: [
      alert(
        { alertname: 'Pool', job: 'j', service: 'pay', severity: 'critical' },
        { startsAt: Date.parse('2024-03-05T10:11:12.345Z'), annotations: { summary: 'pool <b>&' }, generatorURL: 'http://prom/graph' },
      ),
    ],
    now: NOW,
    ackedBy: () => 'bob',
  });
  const t = NotificationTemplates.builtin;
  const x = (text: string): string => t.execute(text, d);
  // What prometheus-alertmanager 0.25 printed for the same alert (fingerprint aside: the labels differ).
  assert.equal(x('{{ .Receiver }}'), 'r\\.x\\(1\\)');
  assert.equal(
    x('{{ index .Alerts 0 }}'),
    `{firing alertname=Pool, job=j, service=pay, severity=critical summary=pool <b>& 2024-03-05 10:11:12.345 +0000 UTC 0001-01-01 00:00:00 +0000 UTC http://prom/graph ${d.alerts[0]!.fingerprint}}`,
  );
  assert.equal(x('{{ template "__subject" . }}'), '[FIRING:1] Pool (j pay critical)');
  assert.equal(
    x('{{ template "__text_alert_list" .Alerts }}'),
    'Labels:\n - alertname = Pool\n - job = j\n - service = pay\n - severity = critical\nAnnotations:\n - summary = pool <b>&\nSource: http://prom/graph\n',
  );
  assert.equal(x('{{ .GroupKey }} {{ (index .Alerts 0).AcknowledgedBy }} {{ .TruncatedAlerts }} {{ len .Alerts.Resolved }}'), '{}:{alertname="Pool"} bob 0 0');
  assert.equal(
    x('{{ range .Alerts }}{{ .StartsAt.Format "Mon Jan _2 15:04:05.000 MST 2006" }} {{ .EndsAt.IsZero }} {{ since .StartsAt }}{{ end }}'),
    'Tue Mar  5 10:11:12.345 UTC 2024 true 1h48m47.655s',
  );
  assert.equal(formatV(goData(d)['CommonLabels']), 'alertname=Pool, job=j, service=pay, severity=critical');
});

test('alerts are ordered as Alertmanager orders a group: job, instance, then labels', () => {
  const a = [
    alert({ alertname: 'A', instance: 'b' }),
    alert({ alertname: 'A', job: 'z' }),
    alert({ alertname: 'A', job: 'a', instance: '2' }),
    alert({ alertname: 'A', job: 'a', instance: '1' }),
    alert({ alertname: 'B' }),
    alert({ alertname: 'A', x: '1', y: '2' }),
  ];
  const order = [...a].sort(compareAlerts).map((x) => JSON.stringify(x.labels));
  assert.deepEqual(order, [
    '{"alertname":"A","job":"a","instance":"1"}',
    '{"alertname":"A","job":"a","instance":"2"}',
    '{"alertname":"A","job":"z"}',
    '{"alertname":"A","instance":"b"}',
    '{"alertname":"B"}',
    '{"alertname":"A","x":"1","y":"2"}',
  ]);
});
