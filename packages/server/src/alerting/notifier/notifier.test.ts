import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { SelfRegistry } from '../../core/selfmon/registry.js';
import { ConfigError } from '../../core/config_error.js';
import { parseConfig } from '../../server/config/config.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import type { NotifiedAlert } from '../rules/types.js';
import { parseAlertingConfig } from './config.js';
import { AlertmanagerNotifier, MAX_BATCH } from './notifier.js';

const alert = (name: string, extra: Record<string, string> = {}): NotifiedAlert => ({
  labels: { alertname: name, ...extra },
  annotations: { summary: `${name} is firing` },
  startsAt: '2026-12-02T00:00:00.000Z',
  endsAt: '2026-12-02T00:04:00.000Z',
  generatorURL: 'http://vigil.example/graph',
  tier: 1,
});

const hostOf = (c: Catcher): string => new URL(c.url).host;
const cfgOf = (yaml: string, dir = os.tmpdir()) => parseAlertingConfig(parseYaml(yaml) as unknown, dir, []);

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('alerting.alertmanagers notifier', () => {
  it('sends relabeled alerts in batches of at most 64 to every Alertmanager, over the v2 API', async () => {
    const [a, b] = [await startCatcher(), await startCatcher()];
    const n = new AlertmanagerNotifier(
      cfgOf(`
alertmanagers:
  - static_configs: [{ targets: ['${hostOf(a)}', '${hostOf(b)}'] }]
alert_relabel_configs:
  - { action: labeldrop, regex: replica }
  - { source_labels: [alertname], regex: Ignored, action: drop }
`),
    );
    try {
      n.start();
      const alerts = Array.from({ length: 100 }, (_, i) => alert(`A${i}`, { replica: 'r1' }));
      n.send([...alerts, alert('Ignored')]);
      await until(() => a.requests.length === 2 && b.requests.length === 2, 'two batches at each');
      for (const c of [a, b]) {
        assert.deepEqual(
          c.requests.map((r) => r.path),
          ['/api/v2/alerts', '/api/v2/alerts'],
        );
        const sent = c.requests.flatMap((r) => r.body as unknown as Array<Record<string, unknown>>);
        assert.equal((c.requests[0]!.body as unknown as unknown[]).length, MAX_BATCH);
        assert.equal(sent.length, 100, 'the dropped alert is not sent');
        assert.deepEqual(sent[0], {
          labels: { alertname: 'A0' },
          annotations: { summary: 'A0 is firing' },
          startsAt: '2026-12-02T00:00:00.000Z',
          endsAt: '2026-12-02T00:04:00.000Z',
          generatorURL: 'http://vigil.example/graph',
        });
      }
    } finally {
      await n.stop();
      await a.close();
      await b.close();
    }
  });

  it('counts a failing Alertmanager apart, drops the oldest alerts when the queue is full, and reports Prometheus metrics', async () => {
    const [good, bad] = [await startCatcher(), await startCatcher()];
    bad.failNext.push(500, 500, 500);
    const n = new AlertmanagerNotifier(cfgOf(`alertmanagers: [{ static_configs: [{ targets: ['${hostOf(good)}', '${hostOf(bad)}'] }] }]`), {
      queueCapacity: 5,
    });
    const reg = new SelfRegistry();
    n.register(reg);
    try {
      n.start();
      n.send(Array.from({ length: 8 }, (_, i) => alert(`Q${i}`)));
      await until(() => good.requests.length === 1, 'the batch at the good one');
      const names = (good.requests[0]!.body as unknown as Array<{ labels: { alertname: string } }>).map((x) => x.labels.alertname);
      assert.deepEqual(names, ['Q3', 'Q4', 'Q5', 'Q6', 'Q7'], 'the three oldest were dropped');
      const text = reg.render();
      assert.match(text, new RegExp(`prometheus_notifications_sent_total\\{alertmanager="${good.url}/api/v2/alerts"\\} 5`));
      assert.match(text, new RegExp(`prometheus_notifications_errors_total\\{alertmanager="${bad.url}/api/v2/alerts"\\} 5`));
      assert.match(text, /prometheus_notifications_dropped_total 3/);
      assert.match(text, /prometheus_notifications_alertmanagers_discovered 2/);
      assert.match(text, /prometheus_notifications_queue_capacity 5/);
    } finally {
      await n.stop();
      await good.close();
      await bad.close();
    }
  });

  it('finds Alertmanagers through file_sd and relabel_configs, honouring path_prefix, and follows the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-notifier-'));
    const [a, b] = [await startCatcher(), await startCatcher()];
    const sd = path.join(dir, 'am.json');
    writeFileSync(
      sd,
      JSON.stringify([
        { targets: [hostOf(a)], labels: { role: 'am' } },
        { targets: ['127.0.0.1:1'], labels: { role: 'other' } },
      ]),
    );
    const n = new AlertmanagerNotifier(
      cfgOf(
        `
alertmanagers:
  - path_prefix: /am
    file_sd_configs: [{ files: ['am.json'], refresh_interval: 1s }]
    relabel_configs: [{ source_labels: [role], regex: am, action: keep }]
`,
        dir,
      ),
    );
    try {
      n.start();
      await until(() => n.alertmanagers().length === 1, 'discovery');
      assert.deepEqual(n.alertmanagers(), [`${a.url}/am/api/v2/alerts`], 'the other role was relabeled away');
      n.send([alert('One')]);
      await until(() => a.requests.length === 1, 'the send');
      writeFileSync(sd, JSON.stringify([{ targets: [hostOf(b)], labels: { role: 'am' } }]));
      await until(() => n.alertmanagers()[0] === `${b.url}/am/api/v2/alerts`, 'the file change');
      n.send([alert('Two')]);
      await until(() => b.requests.length === 1, 'the send after the change');
      assert.equal(a.requests.length, 1);
    } finally {
      await n.stop();
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads alerting: from vigil.yml with errors that name the file, line and field', () => {
    const ok = parseConfig(
      'alerting:\n  builtin_router: false\n  alertmanagers:\n    - scheme: https\n      timeout: 3s\n      static_configs: [{ targets: [am:9093] }]\n',
      'v.yml',
    );
    assert.equal(ok.alerting.builtinRouter, false);
    assert.equal(ok.alerting.alertmanagers[0]!.scheme, 'https');
    assert.equal(ok.alerting.alertmanagers[0]!.timeoutMs, 3000);
    const bad: Array<[string, RegExp]> = [
      ['alerting:\n  alertmanagers:\n    - api_version: v1\n', /v\.yml:3: alerting\.alertmanagers\.0\.api_version: .*v2/],
      ['alerting:\n  alertmanagers:\n    - scheme: ftp\n', /v\.yml:3: alerting\.alertmanagers\.0\.scheme: unsupported scheme "ftp"/],
      ['alerting:\n  alertmanagers:\n    - targets: [x]\n', /v\.yml:3: alerting\.alertmanagers\.0.*targets/],
      ['alerting:\n  alert_relabel_configs:\n    - action: bogus\n', /v\.yml:3: alerting\.alert_relabel_configs\.0\.action/],
    ];
    for (const [yaml, re] of bad) {
      assert.throws(
        () => parseConfig(yaml, 'v.yml'),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
        yaml,
      );
    }
  });
});
