// Alert-fatigue features over real HTTP on a started Vigil with a real webhook: a receiver's
// rate_limit holds back notifications past its max (seen in the history, /metrics and the volume
// statistics) and stays out of the configuration amtool reads from /api/v2/status.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAlertmanagerConfig } from '../../alerting/alertmanager/config.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { execFile } from 'node:child_process';
import { peerBinary, startServer, waitFor } from '../../testkit/helpers.js';

let hook: Catcher;
let vigil: Awaited<ReturnType<typeof startServer>>;

before(async () => {
  hook = await startCatcher();
  vigil = await startServer((c) => {
    c.alertmanager = parseAlertmanagerConfig(
      `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1h
  repeat_interval: 4h
  routes:
    - receiver: quiet
      matchers: [team="quiet"]
receivers:
  - name: hook
    rate_limit: { max: 2, interval: 1h }
    webhook_configs:
      - url: ${hook.url}/hook
  - name: quiet
    webhook_configs:
      - url: ${hook.url}/quiet
`,
      'am.yml',
    );
  });
});

after(async () => {
  await vigil?.stop();
  await hook?.close();
});

async function get<T>(p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(vigil.url + p);
  return { status: res.status, body: (await res.json()) as T };
}

interface Volume {
  hours: number;
  stepSeconds: number;
  from: string;
  until: string;
  total: number;
  suppressed: number;
  receivers: Array<{ receiver: string; hourly: number[]; suppressedHourly: number[]; total: number; suppressed: number }>;
  topRules: Array<{ alertname: string; notifications: number; suppressed: number }>;
}

test('rate-limited receiver and notification volume: held back past max, counted per receiver and per rule', { timeout: 30_000 }, async () => {
  const alerts = [
    ...['Noisy1', 'Noisy2', 'Noisy3', 'Noisy4'].map((alertname) => ({ labels: { alertname, severity: 'warning' } })),
    { labels: { alertname: 'Noisy1', team: 'quiet' } },
  ];
  const posted = await fetch(`${vigil.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  assert.equal(posted.status, 200);
  const v = await waitFor(
    'the flushes',
    async () => {
      const r = (await get<{ data: Volume }>('/api/v1/alertmanager/stats/volume')).body.data;
      return r.total + r.suppressed === 5 ? r : undefined;
    },
    15_000,
    100,
  );
  assert.equal(hook.requests.filter((r) => r.path === '/hook').length, 2);
  assert.equal(hook.requests.filter((r) => r.path === '/quiet').length, 1);
  assert.equal(v.hours, 24);
  assert.equal(v.stepSeconds, 3600);
  assert.equal(Date.parse(v.until) - Date.parse(v.from) <= 24 * 3600_000, true);
  const hookVol = v.receivers.find((r) => r.receiver === 'hook')!;
  assert.equal(hookVol.total, 2);
  assert.equal(hookVol.suppressed, 2);
  assert.equal(hookVol.hourly.length, 24);
  assert.equal(hookVol.hourly[23], 2, 'this hour is the last slot');
  assert.equal(hookVol.suppressedHourly[23], 2);
  assert.deepEqual(
    v.receivers.map((r) => r.receiver),
    ['hook', 'quiet'],
    'noisiest receiver first',
  );
  const noisy1 = v.topRules.find((r) => r.alertname === 'Noisy1')!;
  assert.equal(v.topRules[0]!.alertname, 'Noisy1', 'Noisy1 went to both receivers');
  assert.equal(noisy1.notifications + noisy1.suppressed, 2);
  assert.equal(v.topRules.length, 4);
  assert.equal((await get<{ data: Volume }>('/api/v1/alertmanager/stats/volume?top=1&hours=2')).body.data.topRules.length, 1);

  const rows = (await get<{ data: Array<{ state?: string; receiver?: string }> }>('/api/v1/alertmanager/history?type=notification')).body.data;
  assert.equal(rows.filter((r) => r.state === 'suppressed' && r.receiver === 'hook').length, 2);
  const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
  assert.match(metrics, /^vigil_notifications_rate_limited_total\{receiver="hook"\} 2$/m);
  assert.doesNotMatch(metrics, /vigil_notifications_rate_limited_total\{receiver="quiet"\}/);
});

test('volume: bad parameters get a 400 that says why', async () => {
  for (const q of ['hours=0', 'hours=169', 'top=abc', 'top=101']) {
    const r = await get<{ error: string }>(`/api/v1/alertmanager/stats/volume?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(r.body.error, /must be an integer from 1 to/);
  }
});

test('/api/v2/status leaves rate_limit out, so amtool (which refuses unknown fields) reads the configuration', { timeout: 30_000 }, async () => {
  const r = await get<{ config: { original: string } }>('/api/v2/status');
  assert.doesNotMatch(r.body.config.original, /rate_limit/);
  assert.match(r.body.config.original, /name: hook/);
  const amtool = peerBinary('amtool', 'prometheus-alertmanager');
  const run = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(amtool, [`--alertmanager.url=${vigil.url}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
      });
    });
  const show = await run('config', 'routes', 'show');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /hook/);
  assert.match(show.out, /quiet/);
});
