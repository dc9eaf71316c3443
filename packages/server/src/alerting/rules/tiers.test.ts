// Dynamic severity (threshold + severity_tiers) on driven time: a synthetic error-ratio ramp gives one
// alert identity going info → warning → critical → resolved, notified once per tier and once resolved,
// never as a resolved alert plus a new one; de-escalation waits for `for`. Also the file checks, the
// promtool-format unit test and the export to plain rules that promtool and amtool accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { Head } from '../../metrics/tsdb/head.js';
import { peerBinary, tempDir } from '../../testkit/helpers.js';
import { captureOutput, ownTestdata } from '../../testkit/rules.js';
import { rulesExportCommand } from '../../server/cmd/exportcli.js';
import { rulesCommand } from '../../server/cmd/rulescli.js';
import { alertJson } from '../../server/api/rules.js';
import { parseRuleFile } from './file.js';
import { RuleManager } from './manager.js';
import type { NotifiedAlert, RuleQueryResult } from './types.js';

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

/** Runs the tiered rule over `ratio(t)` (a gauge scraped every 15 s) until `until`; returns what was sent. */
async function run(ratio: (t: number) => number, until: number): Promise<{ sent: NotifiedAlert[][]; m: RuleManager }> {
  const head = new Head({ maxFutureMs: Infinity });
  const app = head.appender();
  for (let t = T0 - 5 * M; t <= until; t += 15_000) app.append(0, labelsFrom({ __name__: 'error_ratio', service: 'api' }), t, ratio(t));
  app.commit();
  const clock = new ManualClock(T0);
  const engine = new Engine({ now: () => clock.now() });
  const sent: NotifiedAlert[][] = [];
  const m = new RuleManager({
    queryFn: (e, t): RuleQueryResult => engine.instantQuery(head, e, t).result,
    notifyFn: (a) => void sent.push(a),
    appendable: head,
    clock,
    // Longer than the test: every send is a state change, not a periodic re-send.
    resendDelayMs: 3600_000,
  });
  const parsed = parseRuleFile(RULES, 'tiers.yml');
  assert.deepEqual(parsed.errors, []);
  await m.applyGroups(parsed.groups);
  m.start();
  await clock.advanceTo(until);
  await m.stop();
  return { sent, m };
}

test('a ramp gives one alert identity going info → warning → critical → resolved, with one notification per tier', async () => {
  // 0 for 5 minutes, then +1 point of error ratio a minute up to 12%, held 5 minutes, then 0.
  const ramp = (t: number): number => {
    const min = (t - T0) / M;
    if (min < 5 || min >= 22) return 0;
    return Math.min(0.12, Math.floor(min - 4) * 0.01);
  };
  // Resolved alerts are kept 15 minutes: stop before this one is dropped, to read its record.
  const { sent, m } = await run(ramp, T0 + 30 * M);
  const notes = sent.flat();
  const ids = new Set(notes.map((a) => `${a.labels['alertname']}/${a.labels['service']}/${a.startsAt}`));
  assert.equal(ids.size, 1, 'one alert identity (same name, labels but severity, start)');
  // A firing alert is valid for hours (4 re-send delays); a resolved one ends when it resolved.
  const seq = notes.map((a) => `${Date.parse(a.endsAt) <= T0 + 30 * M ? 'resolved' : 'firing'}:${a.labels['severity']}`);
  assert.deepEqual(seq, ['firing:info', 'firing:warning', 'firing:critical', 'resolved:critical']);
  assert.equal(sent.length, 4, 'each change its own send');
  const rule = m.alertingRules()[0]!;
  const alert = [...rule.active.values()][0]!;
  assert.deepEqual(
    alert.tierChanges!.map((c) => c.severity),
    ['info', 'warning', 'critical'],
    'one history entry per change',
  );
  // ratio ≥ 2% from minute 6 (info, firing after for = 1m), ≥ 4% from minute 8, ≥ 10% from minute 14
  // (the group evaluates at a fixed offset within its interval, so times are relative to the first).
  const first = alert.tierChanges![0]!.t;
  assert.ok(first >= T0 + 6 * M && first < T0 + 6 * M + 15_000);
  assert.deepEqual(
    alert.tierChanges!.map((c) => (c.t - first) / M),
    [0, 2, 8],
  );
  // The rules API shows the rule's tiers and each alert's changes.
  assert.deepEqual(
    (alertJson(alert)['severityHistory'] as Array<{ severity: string; time: string }>).map((h) => [h.severity, Date.parse(h.time) - first]),
    [
      ['info', 0],
      ['warning', 2 * M],
      ['critical', 8 * M],
    ],
  );
  assert.deepEqual(
    rule.tiers!.tiers.map((t) => t.name),
    ['info', 'warning', 'critical'],
  );
});

test('de-escalation waits for `for`; a dip shorter than that keeps the higher tier', async () => {
  // Critical (12%) from minute 5; a 30 s dip to warning (5%) at minute 10; warning for good from minute 15.
  const ratio = (t: number): number => {
    const s = (t - T0) / 1000;
    if (s < 300) return 0;
    if (s >= 600 && s < 630) return 0.05;
    return s >= 900 ? 0.05 : 0.12;
  };
  const { sent, m } = await run(ratio, T0 + 20 * M);
  const alert = [...m.alertingRules()[0]!.active.values()][0]!;
  // The dip is seen by two evaluations 15 s apart, shorter than `for`; the lasting warning from 900 s
  // de-escalates 60 s after it was first seen (times relative to the first evaluation that fired).
  const first = alert.tierChanges![0]!.t;
  assert.deepEqual(
    alert.tierChanges!.map((c) => [c.severity, (c.t - first) / 1000]),
    [
      ['critical', 0],
      ['warning', 660],
    ],
  );
  // Critical once when it fired; the de-escalation is not news: it goes out with the next re-send.
  assert.deepEqual(
    sent.flat().map((a) => a.labels['severity']),
    ['critical'],
  );
});

test('check rules and test rules understand tiers; bad tier definitions name the file and line', async () => {
  const ok = captureOutput();
  assert.equal(await rulesCommand(['test', 'rules', join(ownTestdata(), 'tiers-rules.test.yml')], ok), 0, ok.stderr);
  assert.match(ok.stdout, /SUCCESS/);
  const cases: Array<[string, RegExp]> = [
    [RULES.replace('        threshold: 0.02\n', ''), /tiers\.yml: 8:25: group "tiers", rule 1, "HighErrorRate": threshold and severity_tiers go together/],
    [RULES.replace('threshold: 0.02', 'threshold: -1'), /tiers\.yml: 8:20: .*threshold: expected a number above 0/],
    [RULES.replace('critical: 5', 'critical: 2'), /tiers\.yml: 9:25: .*severity_tiers: critical: two tiers with ratio 2/],
    [RULES.replace('{ team: payments }', '{ team: payments, severity: page }'), /tiers\.yml: 9:25: .*labels: severity is set by severity_tiers/],
    [RULES.replace('alert: HighErrorRate', 'record: high_error_rate').replace('        for: 1m\n', ''), /invalid field 'severity_tiers' in recording rule/],
  ];
  for (const [text, re] of cases) {
    const p = parseRuleFile(text, 'tiers.yml');
    assert.ok(p.errors.length > 0, String(re));
    assert.match(p.errors.map((e) => e.message).join('\n'), re);
  }
});

test('rules export writes one plain rule per tier and inhibit rules keeping the highest; promtool and amtool accept them', () => {
  const { dir, cleanup } = tempDir();
  try {
    const inhibitFile = join(dir, 'inhibit.yml');
    const out = captureOutput();
    assert.equal(rulesExportCommand(['rules', 'export', '--inhibit', inhibitFile, join(ownTestdata(), 'tiers-rules.yml')], out), 0, out.stderr);
    const exported = parseRuleFile(out.stdout, 'exported.yml');
    assert.deepEqual(exported.errors, []);
    const rules = exported.groups[0]!.rules;
    assert.deepEqual(
      rules.map((r) => [r.name, r.labels['severity'], r.query.replace(/.* >= /, '>= ')]),
      [
        ['HighErrorRate', 'info', '>= 0.02'],
        ['HighErrorRate', 'warning', '>= 0.04'],
        ['HighErrorRate', 'critical', '>= 0.1'],
      ],
    );
    const rulesFile = join(dir, 'rules.yml');
    writeFileSync(rulesFile, out.stdout);
    const promtool = spawnSync(peerBinary('promtool', 'prometheus'), ['check', 'rules', rulesFile], { encoding: 'utf8' });
    assert.equal(promtool.status, 0, promtool.stderr);
    const am = join(dir, 'alertmanager.yml');
    writeFileSync(am, `route: { receiver: r }\nreceivers: [{ name: r }]\n${readFileSync(inhibitFile, 'utf8')}`);
    assert.match(readFileSync(inhibitFile, 'utf8'), /severity=~"info\|warning"/);
    const amtool = spawnSync(peerBinary('amtool', 'prometheus-alertmanager'), ['check-config', am], { encoding: 'utf8' });
    assert.equal(amtool.status, 0, amtool.stdout + amtool.stderr);
    assert.match(amtool.stdout, /2 inhibit rules/);
  } finally {
    cleanup();
  }
});
