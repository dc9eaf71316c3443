// Alert routing wired into `vigil start`: alertmanager_config in vigil.yml, alerts posted the way
// Prometheus posts them, delivered to a webhook, and amtool talking to Vigil's main port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../config/config.js';
import { VigilServer } from './server.js';
import { peerBinary, tempDir, waitFor } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { startCatcher } from '../../testkit/alertmanager.js';

test('alerts posted to Vigil reach the webhook of the configured route; amtool sees them', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir();
  const hook = await startCatcher();
  const received = (): Array<{ status: string; alerts: Array<{ labels: Record<string, string> }> }> => hook.requests.map((r) => r.body as never);
  const file = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    file,
    `listen: 127.0.0.1:0
storage:
  path: ${dir}/data
self_scrape: false
alertmanager_config:
  route:
    receiver: pager
    group_by: [alertname]
    group_wait: 100ms
    group_interval: 1s
  receivers:
    - name: pager
      webhook_configs:
        - url: ${hook.url}/hook
`,
  );
  const server = new VigilServer(loadConfig(file), { logger: nopLogger, configFile: file });
  await server.start();
  const url = `http://${server.address()}`;
  try {
    const now = new Date().toISOString();
    const post = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: { alertname: 'DatabasePoolExhausted', pool: 'payments', severity: 'critical' },
          annotations: { summary: 'pool at 20/20' },
          startsAt: now,
          generatorURL: `${url}/graph`,
        },
      ]),
    });
    assert.equal(post.status, 200);
    const msg = await waitFor('the webhook notification', async () => received()[0], 10_000, 50);
    assert.equal(msg.status, 'firing');
    assert.equal(msg.alerts[0]!.labels['pool'], 'payments');
    const amtool = peerBinary('amtool', 'prometheus-alertmanager');
    const { stdout } = await promisify(execFile)(amtool, ['--alertmanager.url', url, 'alert', 'query', '-o', 'json']);
    const alerts = JSON.parse(stdout) as Array<{ labels: Record<string, string> }>;
    assert.deepEqual(
      alerts.map((a) => a.labels['alertname']),
      ['DatabasePoolExhausted'],
    );
  } finally {
    await server.stop();
    await hook.close();
    cleanup();
  }
});
