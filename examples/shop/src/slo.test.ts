// The demo's SLOs end to end: Vigil scrapes the shop and runs the rules generated from
// slos/shop.slo.yml; fault-free traffic burns nothing, and when the pool fault hits, the checkout
// availability SLO's fast-burn alert (severity page) reaches the receiver within two minutes. The
// demo's alertmanager.yml sends page to the pager receiver and ticket to email, next to its inboxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureLogs } from '@vigil/sdk';
import { startShop } from './main.js';
import { startTraffic } from './traffic.js';
import { tempDir, waitFor } from '../../../packages/server/dist-test/testkit/helpers.js';
import { loadConfig } from '../../../packages/server/dist-test/server/config/config.js';
import { VigilServer } from '../../../packages/server/dist-test/server/cmd/server.js';
import { nopLogger } from '../../../packages/server/dist-test/core/util/log.js';
import { startCatcher } from '../../../packages/server/dist-test/testkit/alertmanager.js';
import { loadAlertmanagerConfig } from '../../../packages/server/dist-test/alerting/alertmanager/config.js';
import { matchRoutes } from '../../../packages/server/dist-test/alerting/alertmanager/dispatch.js';

interface Notification {
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

const sloFile = fileURLToPath(new URL('../slos/shop.slo.yml', import.meta.url));

test("the demo's routing sends SLO pages to the pager and tickets to email, each with its inbox", () => {
  const am = loadAlertmanagerConfig(fileURLToPath(new URL('../alertmanager.yml', import.meta.url)));
  const receiverOf = (labels: Record<string, string>): string[] => matchRoutes(am.route, labels).map((r) => r.receiver);
  const slo = { alertname: 'CheckoutErrorBudgetBurn', service: 'shop', sloth_service: 'shop', sloth_slo: 'checkout-availability', team: 'payments' };
  assert.deepEqual(receiverOf({ ...slo, severity: 'page', sloth_severity: 'page' }), ['pagerduty-slack-email']);
  assert.deepEqual(receiverOf({ ...slo, severity: 'ticket', sloth_severity: 'ticket' }), ['email']);
  for (const name of ['pagerduty-slack-email', 'email']) {
    const r = am.receivers.find((x) => x.name === name)!;
    assert.ok(
      r.integrations.some((i) => i.type === 'inbox'),
      `${name} keeps its inbox`,
    );
  }
});

test('the pool fault pages through the checkout SLO within two minutes; clean traffic burns nothing', { timeout: 180_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-slo-');
  const hook = await startCatcher();
  const received = (): Notification[] => hook.requests.map((r) => r.body as unknown as Notification);
  const shop = await startShop({
    port: 0,
    acquireTimeoutMs: 300,
    gateway: { timeoutMs: 1000, faultLatencyMs: [1500, 2500] },
    vigil: { logDestination: captureLogs() },
  });
  const traffic = startTraffic({ url: shop.url, sessionsPerSecond: 30, thinkMs: [5, 30], addToCartRate: 1, checkoutRate: 1, timeoutMs: 5000 });
  const file = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    file,
    `listen: 127.0.0.1:0
storage: { path: ${dir}/data }
self_scrape: false
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: shop
    static_configs: [{ targets: ['${shop.url.replace('http://', '')}'] }]
slo_files: ['${sloFile}']
alertmanager_config:
  route: { receiver: oncall, group_by: [alertname, sloth_slo, severity], group_wait: 0s, group_interval: 5s }
  receivers: [{ name: oncall, webhook_configs: [{ url: '${hook.url}/' }] }]
`,
  );
  const vigil = new VigilServer(loadConfig(file), { logger: nopLogger, configFile: file });
  await vigil.start();
  const api = `http://${vigil.address()}`;
  const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> =>
    (
      (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      }
    ).data.result;
  try {
    // Fault-free traffic first: the SLIs are recorded, the burn rate stays far below any threshold.
    await waitFor(
      'checkout SLI recorded',
      async () => ((await query('slo:sli_error:ratio_rate5m{sloth_slo="checkout-availability"}')).length > 0 ? true : undefined),
      // Generous: on a loaded machine the first scrapes and evaluations can lag.
      60_000,
    ).catch(async (err: Error) => {
      // Say why: the scrape (the target's health and error) or nothing scraped for /checkout yet.
      const targets = await (await fetch(`${api}/api/v1/targets`)).text();
      const checkouts = await query('sum(http_server_request_duration_seconds_count{route="/checkout"})');
      throw new Error(`${err.message}; checkouts scraped: ${JSON.stringify(checkouts)}; targets: ${targets.slice(0, 600)}`);
    });
    await new Promise((r) => setTimeout(r, 10_000));
    const cleanBurn = await query('slo:current_burn_rate:ratio');
    assert.equal(cleanBurn.length, 2);
    for (const s of cleanBurn) assert.ok(Number(s.value[1]) < 1, `clean burn rate ${s.metric['sloth_slo']} = ${s.value[1]}`);
    assert.deepEqual(received(), [], 'no SLO notification on fault-free traffic');

    const faultAt = Date.now();
    shop.setFault(true);
    const note = await waitFor(
      'the checkout availability page',
      async () =>
        received().find((n) =>
          n.alerts.some((a) => a.status === 'firing' && a.labels['alertname'] === 'CheckoutErrorBudgetBurn' && a.labels['severity'] === 'page'),
        ),
      150_000,
      250,
    );
    const pagedAfterS = (Date.now() - faultAt) / 1000;
    assert.ok(pagedAfterS < 120, `paged ${pagedAfterS.toFixed(1)} s after the fault`);
    const alert = note.alerts.find((a) => a.labels['alertname'] === 'CheckoutErrorBudgetBurn')!;
    assert.equal(alert.labels['sloth_slo'], 'checkout-availability');
    assert.equal(alert.labels['team'], 'payments');
    assert.match(alert.annotations['summary']!, /error budget of checkout-availability/);
    // With minutes of history every window holds the same few minutes, so the 6x pair (30m and 6h) is
    // the first to cross: the 5m burn rate is at least that, not necessarily 14.4x yet. The burn-rate
    // series is recorded by another group than the alert, on its own schedule: its first evaluation
    // after the fault may still be due when the page arrives.
    let burn: Awaited<ReturnType<typeof query>> = [];
    await waitFor(
      'the recorded 5m burn rate to pass 6x',
      async () => {
        burn = await query('slo:current_burn_rate:ratio{sloth_slo="checkout-availability"}');
        return Number(burn[0]?.value[1]) > 6 ? true : undefined;
      },
      60_000,
      500,
    ).catch(() => undefined);
    assert.ok(Number(burn[0]?.value[1]) > 6, `burn rate ${burn[0]?.value[1]}`);
    console.log(
      `# CheckoutErrorBudgetBurn (page) reached the receiver ${pagedAfterS.toFixed(1)} s after the fault; burn rate ${Number(burn[0]!.value[1]).toFixed(0)}x`,
    );
    const latency = await waitFor(
      'the checkout latency page',
      async () =>
        received().find((n) =>
          n.alerts.some((a) => a.status === 'firing' && a.labels['alertname'] === 'CheckoutLatencyBudgetBurn' && a.labels['severity'] === 'page'),
        ),
      90_000,
      250,
    );
    assert.ok(latency);
    console.log(`# CheckoutLatencyBudgetBurn (page) reached the receiver ${((Date.now() - faultAt) / 1000).toFixed(1)} s after the fault`);
  } finally {
    await traffic.stop(3000);
    await shop.close();
    await vigil.stop();
    await hook.close();
    cleanup();
  }
});
