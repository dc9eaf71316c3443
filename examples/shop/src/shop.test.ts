import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { captureLogs, seriesLines, seriesValue } from '@vigil/sdk';
import { startShop, POOL_NAME, parseShopArgs, type ShopOptions } from './main.js';
import { startTraffic } from './traffic.js';
import { parseDemoArgs } from './demo.js';
import { startServer, waitFor } from '../../../packages/server/dist-test/testkit/helpers.js';
import { parseScrapeConfigs } from '../../../packages/server/dist-test/metrics/scrape/config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Faster timings than the demo's, same shape: the gateway's fault latency exceeds its timeout.
const FAST: ShopOptions = { port: 0, acquireTimeoutMs: 300, gateway: { timeoutMs: 1000, faultLatencyMs: [1500, 2500] } };
const POOL = `{pool="${POOL_NAME}",service="shop",environment="demo"}`;
const errorsTotal = (text: string) => seriesLines(text, 'errors_total').reduce((s, l) => s + Number(l.split(' ').pop()), 0);

test('the fault exhausts the pool: 20/20, callers waiting, errors climbing, /health still 200', async () => {
  const logs = captureLogs();
  const shop = await startShop({ ...FAST, vigil: { logDestination: logs, defaultMetrics: false } });
  const traffic = startTraffic({ url: shop.url, sessionsPerSecond: 30, thinkMs: [5, 30], addToCartRate: 1, checkoutRate: 1, timeoutMs: 5000 });
  try {
    // Wait for the first successful payment rather than a fixed time: a loaded machine is slower.
    let text = await waitFor(
      'a successful payment',
      async () => {
        const t = await (await fetch(`${shop.url}/metrics`)).text();
        return (seriesValue(t, 'business_payment_total{status="success",service="shop",environment="demo"}') ?? 0) > 0 ? t : undefined;
      },
      15_000,
      100,
    );
    assert.ok((seriesValue(text, `database_connections_active${POOL}`) ?? 99) < 20, 'pool not exhausted before the fault');
    assert.equal(seriesValue(text, `database_connections_max${POOL}`), 20);
    const errorsBefore = errorsTotal(text);
    assert.ok((seriesValue(text, 'business_payment_total{status="success",service="shop",environment="demo"}') ?? 0) > 0, 'payments succeed');

    const on = await fetch(`${shop.url}/admin/fault`, { method: 'POST', body: JSON.stringify({ enabled: true }) });
    assert.deepEqual(await on.json(), { enabled: true });
    text = await waitFor(
      'pool at 20/20 with waiters',
      async () => {
        const t = await (await fetch(`${shop.url}/metrics`)).text();
        return seriesValue(t, `database_connections_active${POOL}`) === 20 && (seriesValue(t, `database_connections_waiting${POOL}`) ?? 0) > 0 ? t : undefined;
      },
      10_000,
      50,
    );
    assert.equal(seriesValue(text, `database_connections_idle${POOL}`), 0);
    const health = await fetch(`${shop.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    await sleep(1500);
    text = await (await fetch(`${shop.url}/metrics`)).text();
    assert.ok(errorsTotal(text) > errorsBefore + 10, `errors climb: ${errorsBefore} → ${errorsTotal(text)}`);
    assert.ok((seriesValue(text, `database_connection_acquire_timeouts_total${POOL}`) ?? 0) > 0);
    assert.ok(
      seriesLines(text, 'errors_total').some((l) => l.includes('type="POOL_TIMEOUT",severity="medium"')),
      seriesLines(text, 'errors_total').join('\n'),
    );
    assert.ok(seriesLines(text, 'http_server_request_duration_seconds_count').some((l) => l.includes('route="/checkout",status_code="503"')));
    const exhausted = logs.withMsg('database pool exhausted');
    assert.ok(exhausted.length > 0);
    assert.match(String(exhausted[0]?.['request_id']), /^[0-9a-f-]{36}$/);
    assert.equal(exhausted[0]?.['pool'], POOL_NAME);
    assert.match(String(exhausted[0]?.['user_id']), /^user-/);
    assert.equal((await fetch(`${shop.url}/health`)).status, 200);
  } finally {
    await traffic.stop(3000);
    await shop.close();
  }
});

test('the alert rules evaluate as intended against a live Vigil scraping the shop', async () => {
  const shop = await startShop({ ...FAST, vigil: { logDestination: captureLogs() } });
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.scrapeConfigs = parseScrapeConfigs(
      [{ job_name: 'shop', scrape_interval: '1s', scrape_timeout: '900ms', static_configs: [{ targets: [shop.url.replace('http://', '')] }] }],
      c.global,
      process.cwd(),
    );
  });
  const traffic = startTraffic({ url: shop.url, sessionsPerSecond: 30, thinkMs: [5, 30], addToCartRate: 1, checkoutRate: 1, timeoutMs: 5000 });
  const query = async (expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const res = await fetch(`${vigil.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      error?: string;
    };
    assert.equal(body.status, 'success', `${expr}: ${body.error ?? ''}`);
    return body.data?.result ?? [];
  };
  const rulesText = readFileSync(fileURLToPath(new URL('../rules/shop.rules.yml', import.meta.url)), 'utf8');
  const rules = new Map([...rulesText.matchAll(/- alert: (\w+)\n\s+expr: (.+)\n/g)].map((m) => [m[1] as string, m[2] as string]));
  assert.deepEqual([...rules.keys()], ['HighErrorRate', 'DatabasePoolExhausted', 'PaymentSuccessRateLow']);
  try {
    await waitFor('shop scraped', async () => ((await query('up{job="shop"}'))[0]?.value[1] === '1' ? true : undefined), 15_000);
    await sleep(3000);
    for (const [name, expr] of rules) assert.deepEqual(await query(expr), [], `${name} quiet before the fault`);
    shop.setFault(true);
    const fired = await waitFor(
      'all three rule expressions true',
      async () => {
        const r = await Promise.all([...rules.values()].map((e) => query(e)));
        return r.every((x) => x.length > 0) ? r : undefined;
      },
      30_000,
      500,
    );
    const [errors, pool, payments] = fired as [(typeof fired)[0], (typeof fired)[0], (typeof fired)[0]];
    assert.deepEqual(errors[0]?.metric, { service: 'shop' });
    assert.ok(Number(errors[0]?.value[1]) > 0.05);
    assert.deepEqual(pool[0]?.metric, { service: 'shop', pool: POOL_NAME });
    assert.equal(pool[0]?.value[1], '20');
    assert.ok(Number(payments[0]?.value[1]) < 0.95);
  } finally {
    await traffic.stop(3000);
    await shop.close();
    await vigil.stop();
  }
});

test('CLI flags', () => {
  assert.deepEqual(parseShopArgs(['--fault', '--port', '9000']), { port: 9000, host: '127.0.0.1', fault: true });
  assert.deepEqual(parseShopArgs([]), { port: 8765, host: '127.0.0.1', fault: false });
  assert.throws(() => parseShopArgs(['--nope']));
  assert.equal(parseDemoArgs(['--fault-after=30']).faultAfterS, 30);
});
