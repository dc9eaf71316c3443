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
import { startOtlpReceiver, type ReceivedSpan } from '../../../packages/sdk/dist/testkit/otlp-receiver.js';
import { GATEWAY_SERVICE } from './gateway.js';

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
  const shopLogs = captureLogs();
  const shop = await startShop({
    port: 0,
    acquireTimeoutMs: 300,
    gateway: { timeoutMs: 1000, faultLatencyMs: [1500, 2500] },
    // Spans go to Vigil's /v1/traces as in the demo; whatever it answers, the incident plays out the same.
    // A tenth of the traces: this test is about timing, and the next one checks the spans themselves.
    vigil: { logDestination: shopLogs, loki: { url: `http://${vigilAddr}`, flushIntervalMs: 1000 }, traces: { exportIntervalMs: 500, sampleRatio: 0.1 } },
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
    assert.equal(shop.vigil.tracing?.endpoint, `http://${vigilAddr}/v1/traces`, 'traces go beside the logs by default');
    // Failed exports (a Vigil without the traces endpoint answers 404) are one line a minute per service, not one per batch.
    for (const service of ['shop', GATEWAY_SERVICE]) {
      const n = shopLogs.lines.filter((l) => l['msg'] === 'trace export failed' && l['service'] === service).length;
      assert.ok(n <= 1, `${n} export warnings from ${service}`);
    }
  } finally {
    await traffic.stop(3000);
    await shop.close();
    await vigil.stop();
    await hook.close();
    cleanup();
  }
});

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

test('a failing checkout is one trace across shop and payment gateway, its pool wait a red span, its log lines linked', { timeout: 90_000 }, async () => {
  const rx = await startOtlpReceiver();
  const logs = captureLogs();
  const acquireTimeoutMs = 300;
  const shop = await startShop({
    port: 0,
    acquireTimeoutMs,
    gateway: { timeoutMs: 1000, faultLatencyMs: [1500, 2500] },
    vigil: { logDestination: logs, defaultMetrics: false, traces: { endpoint: rx.url, exportIntervalMs: 200 } },
  });
  const traffic = startTraffic({ url: shop.url, sessionsPerSecond: 30, thinkMs: [5, 30], addToCartRate: 1, checkoutRate: 1, timeoutMs: 5000 });
  const inTrace = (id: string): ReceivedSpan[] => rx.spans.filter((s) => s.traceId === id);
  const one = (spans: ReceivedSpan[], pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
    const found = spans.filter(pred);
    assert.equal(found.length, 1, `one ${what} among ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
    return found[0]!;
  };
  try {
    await waitFor('a paid order', async () => (logs.withMsg('order placed').length > 0 ? true : undefined), 15_000, 100);
    shop.setFault(true);
    // A checkout refused for want of a connection, and one whose payment call timed out.
    const refused = await waitFor(
      'a checkout refused with the pool exhausted, its spans exported',
      async () =>
        logs.withMsg('database pool exhausted').find((l) => inTrace(String(l['trace_id'])).some((s) => s.kind === SERVER && s.name === 'POST /checkout')),
      45_000,
      100,
    );
    const failedPayment = await waitFor(
      'a payment that timed out, its spans from both services exported',
      async () =>
        logs.withMsg('payment failed').find((l) => inTrace(String(l['trace_id'])).some((s) => s.service === GATEWAY_SERVICE && s.name === 'card.authorize')),
      45_000,
      100,
    );

    // The refused checkout: the pool-acquire span took the full acquire timeout and failed.
    const t1 = inTrace(String(refused['trace_id']));
    const server1 = one(t1, (s) => s.kind === SERVER, 'server span');
    assert.equal(server1.service, 'shop');
    assert.equal(server1.attributes['http.response.status_code'], 503);
    assert.equal(server1.status.code, ERROR);
    const checkout1 = one(t1, (s) => s.name === 'checkout', 'checkout span');
    const acquireTrack = one(t1, (s) => s.name === 'db.acquire', 'db.acquire span');
    const acquire = one(t1, (s) => s.name === 'db.pool.acquire', 'pool acquire span');
    assert.equal(checkout1.parentSpanId, server1.spanId);
    assert.equal(acquireTrack.parentSpanId, checkout1.spanId);
    assert.equal(acquire.parentSpanId, acquireTrack.spanId);
    assert.equal(acquire.status.code, ERROR);
    assert.match(acquire.status.message, /timeout exceeded when trying to connect/);
    assert.ok(acquire.durationMs >= acquireTimeoutMs - 5, `the acquire waited ${acquire.durationMs} ms of ${acquireTimeoutMs}`);
    assert.ok(acquire.durationMs / server1.durationMs > 0.8, 'the wait is most of the request');
    assert.equal(acquire.attributes['db.client.connection.pool.name'], POOL_NAME);
    assert.equal(acquire.attributes['db.client.connection.timed_out'], true);
    // OpenTelemetry names an exception's type by its code when it has one.
    assert.ok(
      acquire.events.some(
        (e) =>
          e.name === 'exception' && e.attributes['exception.type'] === 'POOL_TIMEOUT' && /timeout exceeded/.test(String(e.attributes['exception.message'])),
      ),
    );
    const lines1 = logs.lines.filter((l) => l['trace_id'] === server1.traceId);
    assert.deepEqual(lines1.map((l) => l['msg']).sort(), ['database pool exhausted', 'request failed']);
    assert.ok(lines1.every((l) => l['request_id'] === refused['request_id']));

    // The timed-out payment: one trace, shop → payment gateway, the client span between them.
    const t2 = inTrace(String(failedPayment['trace_id']));
    const server2 = one(t2, (s) => s.kind === SERVER && s.service === 'shop', 'shop server span');
    assert.equal(server2.attributes['http.response.status_code'], 502);
    const charge = one(t2, (s) => s.name === 'payment.charge', 'payment.charge span');
    assert.equal(charge.status.code, ERROR);
    assert.match(charge.status.message, /did not answer within 1000 ms/);
    const client = one(t2, (s) => s.kind === CLIENT && s.parentSpanId === charge.spanId, 'client span of the charge');
    assert.equal(client.service, 'shop');
    assert.equal(client.status.code, ERROR);
    const gw = one(t2, (s) => s.kind === SERVER && s.service === GATEWAY_SERVICE, 'gateway server span');
    assert.equal(gw.parentSpanId, client.spanId);
    assert.equal(gw.name, 'POST /charge');
    // The shop gave up before the gateway answered: no status code, the abort said.
    assert.equal(gw.attributes['http.request.aborted'], true);
    assert.equal(gw.attributes['http.response.status_code'], undefined);
    assert.equal(gw.resource['deployment.environment'], 'demo');
    const authorize = one(t2, (s) => s.name === 'card.authorize', 'card.authorize span');
    assert.equal(authorize.parentSpanId, gw.spanId);
    assert.ok(authorize.durationMs >= 1500, `authorize took ${authorize.durationMs} ms under the fault`);
    const insert = one(t2, (s) => s.name === 'INSERT orders-db', 'order insert');
    assert.equal(insert.kind, CLIENT);
    // The order's connection was acquired and held through the gateway call: the root cause.
    assert.equal(one(t2, (s) => s.name === 'db.pool.acquire', 'pool acquire span').status.code, 0);
    // Both services' log lines of the request carry its trace id.
    const services = new Set(logs.lines.filter((l) => l['trace_id'] === server2.traceId).map((l) => l['service']));
    assert.deepEqual([...services].sort(), [GATEWAY_SERVICE, 'shop']);
    console.log(
      `# refused checkout: db.pool.acquire ${acquire.durationMs.toFixed(0)} ms of ${server1.durationMs.toFixed(0)} ms; ` +
        `timed-out payment: ${t2.length} spans across ${new Set(t2.map((s) => s.service)).size} services`,
    );
  } finally {
    await traffic.stop(3000);
    await shop.close();
    await rx.close();
  }
});
