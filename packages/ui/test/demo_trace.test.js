/* global fetch, URL, getComputedStyle */
// Issue 14's demo story in Debian's Chromium, against a started Vigil scraping the demo shop with the
// shop's own rules, its logs shipped to Vigil and every trace sent there: the fault goes on, the
// DatabasePoolExhausted alert fires, and from the alert an on-call engineer reaches the slow span and
// its log lines in three clicks: the alert's Logs → a "database pool exhausted" line's trace → the
// trace's log lines. The trace's db.pool.acquire span is the long red bar on the critical path, and
// the request id on the trace's server span is the one its log lines carry. The alert's "Slowest
// traces" search is checked on the way. Screenshots of each step go to packages/ui/test-artifacts/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiRoot = path.resolve(here, '../..');
const repo = path.resolve(uiRoot, '../..');
const artifacts = path.join(uiRoot, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const skip = !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : false;

const { chromium } = await import('playwright-core');
const { freePort, tempDir, waitFor } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { loadConfig } = await import(path.join(repo, 'packages/server/dist-test/server/config/config.js'));
const { VigilServer } = await import(path.join(repo, 'packages/server/dist-test/server/cmd/server.js'));
const { nopLogger } = await import(path.join(repo, 'packages/server/dist-test/core/util/log.js'));
const { startShop } = await import(path.join(repo, 'examples/shop/dist/main.js'));
const { startTraffic } = await import(path.join(repo, 'examples/shop/dist/traffic.js'));

let tmp, vigil, base, shop, traffic, browser, page;

async function shot(name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
}

before(async () => {
  if (skip) return;
  tmp = tempDir('vigil-demo-trace-');
  const addr = `127.0.0.1:${await freePort()}`;
  base = `http://${addr}`;
  // The shop's rules, with the demo's Vigil address in their links replaced by this test's.
  const rules = fs.readFileSync(path.join(repo, 'examples/shop/rules/shop.rules.yml'), 'utf8').replaceAll('127.0.0.1:9466', addr);
  fs.writeFileSync(path.join(tmp.dir, 'shop.rules.yml'), rules);
  shop = await startShop({
    port: 0,
    acquireTimeoutMs: 300,
    gateway: { timeoutMs: 1000, faultLatencyMs: [1500, 2500] },
    vigil: { logDestination: { write() {} }, loki: { url: base, flushIntervalMs: 500 }, traces: { endpoint: `${base}/v1/traces`, exportIntervalMs: 500 } },
  });
  const file = path.join(tmp.dir, 'vigil.yml');
  fs.writeFileSync(
    file,
    `listen: ${addr}
storage: { path: ${tmp.dir}/data }
self_scrape: false
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: shop
    static_configs: [{ targets: ['${shop.url.replace('http://', '')}'] }]
rule_files: ['${path.join(tmp.dir, 'shop.rules.yml')}']
alertmanager_config:
  route: { receiver: oncall, group_by: [alertname, service], group_wait: 0s }
  receivers: [{ name: oncall }]
`,
  );
  vigil = new VigilServer(loadConfig(file), { logger: nopLogger, configFile: file });
  await vigil.start();
  traffic = startTraffic({ url: shop.url, sessionsPerSecond: 30, thinkMs: [5, 30], addToCartRate: 1, checkoutRate: 1, timeoutMs: 5000 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await traffic?.stop(3000);
  await shop?.close();
  await vigil?.stop();
  tmp?.cleanup();
});

test(
  'demo story: pool exhaustion alert → its lines → the trace, db.pool.acquire the long red bar → the same request’s log lines',
  { skip, timeout: 240_000 },
  async () => {
    await new Promise((r) => setTimeout(r, 3000));
    shop.setFault(true);
    const alerts = async () => (await fetch(`${base}/api/v2/alerts?active=true`)).json();
    await waitFor(
      'DatabasePoolExhausted to fire',
      async () => ((await alerts()).some((a) => a.labels.alertname === 'DatabasePoolExhausted') ? true : undefined),
      120_000,
      500,
    );

    // The alert, as the on-call engineer first sees it.
    await page.goto(`${base}/ui/alerts`);
    const alert = 'li.alert[data-alertname="DatabasePoolExhausted"]';
    await page.waitForSelector(alert);
    await shot('demo-1-alert');

    // On the way: the alert's slowest traces of its service, from /api/search, slowest first.
    await page.click(`${alert} a[data-link="traces"]`);
    await page.waitForSelector('[data-testid="trace-results"] tbody tr');
    assert.match(page.url(), /\/ui\/traces\?service=shop&sort=duration/);
    const durations = await page.$$eval('[data-testid="trace-results"] tbody tr td.num.mono', (tds) => tds.map((td) => td.textContent));
    const ms = durations.map((d) => (d.endsWith(' s') ? parseFloat(d) * 1000 : d.endsWith(' µs') ? parseFloat(d) / 1000 : parseFloat(d)));
    assert.ok(ms.length > 0);
    assert.deepEqual(
      ms,
      [...ms].sort((a, b) => b - a),
      `slowest first: ${durations.join(', ')}`,
    );
    assert.ok(await page.$('[data-testid="trace-scatter"] circle'), 'the scatter has dots');
    // Under the fault some of them failed: marked by the second search ((query) && { status = error }).
    const marks = await page.$$eval('[data-testid="trace-results"] tbody tr', (trs) => trs.map((tr) => tr.dataset.error));
    assert.ok(marks.includes('true') && marks.every((m) => m === 'true' || m === 'false'), `error marks: ${[...new Set(marks)].join(', ')}`);
    assert.ok(await page.$('[data-testid="trace-scatter"] circle.error'), 'failed traces are red dots');
    await shot('demo-2-slowest-traces');
    await page.goBack();

    // Click 1: the alert's Logs link, its logs_url: the shop's "database pool exhausted" lines.
    await page.waitForSelector(alert);
    await page.click(`${alert} .actions a:text-is("Logs")`);
    const line = 'ul.loglines li.logline:has(.msg:text("database pool exhausted")) a.trace-link';
    // Lines reach Vigil a flush after they are written; the page is reloaded until one carries a trace whose spans are in.
    const traceId = await waitFor(
      'a pool-exhausted line whose trace Vigil holds',
      async () => {
        await page.reload();
        await page.waitForSelector('ul.loglines li.logline', { timeout: 10_000 }).catch(() => undefined);
        for (const id of await page.$$eval(line, (as) => as.map((a) => a.dataset.traceId))) {
          const spans = await fetch(`${base}/api/v2/traces/${id}`).then((r) => (r.ok ? r.json() : undefined));
          const names = (spans?.trace?.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
          if (names.includes('db.pool.acquire') && names.includes('POST /checkout')) return id;
        }
        return undefined;
      },
      60_000,
      1000,
    );
    await shot('demo-3-alert-logs');

    // Click 2: that line's trace.
    await page.click(`${line}[data-trace-id="${traceId}"]`);
    await page.waitForSelector('.waterfall [data-span-name="db.pool.acquire"]');
    assert.equal(new URL(page.url()).pathname, `/ui/traces/${traceId}`);
    const acquire = page.locator('.wf-row[data-span-name="db.pool.acquire"]');
    assert.match((await acquire.getAttribute('class')) ?? '', /\berror\b/, 'db.pool.acquire is an error span');
    assert.match((await acquire.getAttribute('class')) ?? '', /\bcritical\b/, 'and on the critical path');
    // The long red bar: red, and most of the trace's width (the wait took the whole acquire timeout).
    const bars = await page.$$eval('.wf-row[data-span-name] [data-testid="span-bar"]', (els) =>
      els.map((el) => ({ name: el.closest('.wf-row').dataset.spanName, width: el.getBoundingClientRect().width, bg: getComputedStyle(el).backgroundColor })),
    );
    const root = bars.find((b) => b.name === 'POST /checkout');
    const bar = bars.find((b) => b.name === 'db.pool.acquire');
    assert.ok(bar.width / root.width > 0.8, `the pool wait is ${Math.round((bar.width / root.width) * 100)}% of the request`);
    const [r, g, b] = bar.bg.match(/\d+/g).map(Number);
    assert.ok(r > 150 && g < 100 && b < 100, `red bar (${bar.bg})`);
    await shot('demo-4-trace');

    // Opening the span shows why: the pool, the timeout, the exception event. Opening the server span gives the request id.
    await acquire.click();
    await page.waitForSelector('[data-testid="span-detail"] tr[data-attr="db.client.connection.pool.name"]');
    assert.match(await page.textContent('[data-testid="span-detail"]'), /orders-db[\s\S]*POOL_TIMEOUT/);
    await shot('demo-5-span');
    await page.click('.wf-row[data-span-name="POST /checkout"]');
    const requestId = await page.textContent('[data-testid="span-detail"] tr[data-attr="http.request.id"] td:last-child');
    assert.ok(requestId && requestId.length > 4, `request id ${requestId}`);

    // Click 3: the trace's log lines: "database pool exhausted", carrying the same request id.
    await page.click('a[data-link="trace-logs"]');
    await page.waitForSelector('[data-testid="request-lines"] li.logline');
    const row = page.locator('[data-testid="request-lines"] li.logline:has(.msg:text("database pool exhausted"))');
    await row.locator('button.logline-head').click();
    assert.equal((await row.locator('tr[data-field="request_id"] td.mono').textContent()).trim(), requestId);
    assert.equal((await row.locator('tr[data-field="trace_id"] td.mono a').first().textContent()).trim(), traceId);
    await shot('demo-6-trace-logs');

    // And a span's own logs link: the span's service over its time, lines carrying the trace id.
    await page.goBack();
    await page.waitForSelector('.wf-row[data-span-name="db.pool.acquire"]');
    await page.click('.wf-row[data-span-name="db.pool.acquire"]');
    await page.click('a[data-link="span-logs"]');
    await page.waitForSelector('ul.loglines li.logline');
    assert.match(await page.textContent('ul.loglines'), /database pool exhausted/);
    await shot('demo-7-span-logs');
  },
);
