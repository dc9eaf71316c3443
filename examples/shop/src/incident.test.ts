// The demo scenario end to end: Vigil scrapes the shop, evaluates the shop's own rule file, and when
// the database pool runs dry the DatabasePoolExhausted alert fires, naming the pool, with links to
// the dashboard and runbook, and reaches the routed receiver; /health says 200 all along. The shop
// ships its logs to Vigil, and the log rule on them fires too, linking to the failing requests' lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureLogs } from '@vigil/sdk';
import { startShop, POOL_NAME } from './main.js';
import { startTraffic } from './traffic.js';
import { freePort, tempDir, waitFor } from '../../../packages/server/dist-test/testkit/helpers.js';
import { loadConfig } from '../../../packages/server/dist-test/server/config/config.js';
import { VigilServer } from '../../../packages/server/dist-test/server/cmd/server.js';
import { nopLogger } from '../../../packages/server/dist-test/core/util/log.js';
import { startCatcher } from '../../../packages/server/dist-test/testkit/alertmanager.js';

interface Notification {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

test('pool exhaustion fires the routed alert within a minute, with pool, dashboard and runbook', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-incident-');
  const hook = await startCatcher();
  const received = (): Notification[] => hook.requests.map((r) => r.body as unknown as Notification);
  // Vigil's port is chosen first so the shop can ship its logs there from the start.
  const vigilAddr = `127.0.0.1:${await freePort()}`;
  const shop = await startShop({
    port: 0,
    acquireTimeoutMs: 300,
    gateway: { timeoutMs: 1000, faultLatencyMs: [1500, 2500] },
    vigil: { logDestination: captureLogs(), loki: { url: `http://${vigilAddr}`, flushIntervalMs: 1000 } },
  });
  const traffic = startTraffic({ url: shop.url, sessionsPerSecond: 30, thinkMs: [5, 30], addToCartRate: 1, checkoutRate: 1, timeoutMs: 5000 });
  const rules = fileURLToPath(new URL('../rules/shop.rules.yml', import.meta.url));
  const logRules = fileURLToPath(new URL('../rules/shop.logrules.yml', import.meta.url));
  const file = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    file,
    `listen: ${vigilAddr}
storage: { path: ${dir}/data }
self_scrape: false
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: shop
    static_configs: [{ targets: ['${shop.url.replace('http://', '')}'] }]
rule_files: ['${rules}']
log_rule_files: ['${logRules}']
alertmanager_config:
  route: { receiver: oncall, group_by: [alertname, service], group_wait: 0s, group_interval: 5s }
  receivers: [{ name: oncall, webhook_configs: [{ url: '${hook.url}/' }] }]
`,
  );
  const vigil = new VigilServer(loadConfig(file), { logger: nopLogger, configFile: file });
  await vigil.start();
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const faultAt = Date.now();
    shop.setFault(true);
    const note = await waitFor(
      'the DatabasePoolExhausted notification',
      async () => received().find((n) => n.alerts.some((a) => a.labels['alertname'] === 'DatabasePoolExhausted' && a.status === 'firing')),
      90_000,
      250,
    );
    const firedAfterS = (Date.now() - faultAt) / 1000;
    assert.ok(firedAfterS < 60, `fired ${firedAfterS.toFixed(1)} s after the fault`);
    const alert = note.alerts.find((a) => a.labels['alertname'] === 'DatabasePoolExhausted')!;
    assert.equal(alert.labels['pool'], POOL_NAME);
    assert.equal(alert.labels['severity'], 'critical');
    assert.match(alert.annotations['summary']!, new RegExp(`Database pool ${POOL_NAME} of shop`));
    assert.match(alert.annotations['description']!, /20 of 20 connections/);
    assert.match(alert.annotations['dashboard_url']!, /^http:\/\/.*database_connections_active/);
    assert.match(alert.annotations['runbook_url']!, /runbook#database-pool-exhaustion/);
    assert.match(decodeURIComponent(alert.annotations['logs_url']!), /\/ui\/logs\?query=\{service="shop"\} \|= "database pool exhausted"/);
    assert.equal((await fetch(`${shop.url}/health`)).status, 200, 'the health check still says healthy');
    const api = (await (await fetch(`http://${vigil.address()}/api/v1/alerts`)).json()) as {
      data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
    };
    assert.ok(api.data.alerts.some((a) => a.labels['alertname'] === 'DatabasePoolExhausted' && a.state === 'firing'));
    console.log(`# DatabasePoolExhausted reached the receiver ${firedAfterS.toFixed(1)} s after the fault`);

    // The log rule over the shipped lines fires as well; its logs_url lists the failing requests.
    const logNote = await waitFor(
      'the PoolExhaustionLogged notification',
      async () => received().find((n) => n.alerts.some((a) => a.labels['alertname'] === 'PoolExhaustionLogged' && a.status === 'firing')),
      60_000,
      250,
    );
    const logAlert = logNote.alerts.find((a) => a.labels['alertname'] === 'PoolExhaustionLogged')!;
    assert.equal(logAlert.labels['service'], 'shop');
    const link = new URL(logAlert.annotations['logs_url']!);
    assert.equal(link.searchParams.get('query'), '{service="shop"} |= "database pool exhausted"');
    const q = new URLSearchParams({
      query: link.searchParams.get('query')!,
      start: `${Date.parse(link.searchParams.get('from')!)}000000`,
      end: `${Date.parse(link.searchParams.get('to')!)}000000`,
      limit: '1000',
    });
    const res = (await (await fetch(`http://${vigilAddr}/loki/api/v1/query_range?${q}`)).json()) as { data: { result: Array<{ values: [string, string][] }> } };
    const lines = res.data.result.flatMap((r) => r.values.map((v) => JSON.parse(v[1]) as { msg: string; request_id?: string }));
    assert.ok(lines.length > 10, `${lines.length} lines behind the log alert`);
    assert.ok(lines.every((l) => l.msg === 'database pool exhausted' && typeof l.request_id === 'string'));
    console.log(`# PoolExhaustionLogged reached the receiver ${((Date.now() - faultAt) / 1000).toFixed(1)} s after the fault, linking ${lines.length} lines`);
  } finally {
    await traffic.stop(3000);
    await shop.close();
    await vigil.stop();
    await hook.close();
    cleanup();
  }
});
