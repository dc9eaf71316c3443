/* global fetch, URL, getComputedStyle */
// Issue 14's demo story in Debian's Chromium, against a started Vigil scraping the demo shop with the
// shop's own rules, its logs shipped to Vigil and every trace sent there: the fault goes on, the
// DatabasePoolExhausted alert fires, and from the alert an on-call engineer reaches the slow span and
// its log lines in three clicks: the alert's Graph (p99 checkout latency, its graph_url) → a red
// exemplar diamond, a checkout that failed → the trace, whose db.pool.acquire span is the long red bar
// on the critical path → the trace's log lines, "database pool exhausted" with the request id of the
// trace's server span. On the way: the alert's "Slowest traces" search, and the same exemplars on the
// overview's latency card and on the shop dashboard's latency panel. Screenshots of each step go to
// packages/ui/test-artifacts/ (gitignored).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, noChromium } from './browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiRoot = path.resolve(here, '../..');
const repo = path.resolve(uiRoot, '../..');
const artifacts = path.join(uiRoot, 'test-artifacts');
const skip = noChromium;

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
  browser = await launchChromium();
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

/** The trace's span names, from Vigil's Tempo API, or undefined while it is not (yet) stored. */
async function spanNames(id) {
  const r = await fetch(`${base}/api/v2/traces/${id}`);
  if (!r.ok) return undefined;
  const t = await r.json();
  return (t?.trace?.resourceSpans ?? []).flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) => ss.spans.map((sp) => ({ name: sp.name, error: sp.status?.code === 2 || sp.status?.code === 'STATUS_CODE_ERROR' }))),
  );
}

/** A checkout whose pool acquire failed: its trace holds the server span and an errored db.pool.acquire. */
async function poolFailure(id) {
  const spans = await spanNames(id);
  return !!spans && spans.some((sp) => sp.name === 'POST /checkout') && spans.some((sp) => sp.name === 'db.pool.acquire' && sp.error);
}

test(
  'demo story: pool exhaustion alert → p99 checkout latency → a red exemplar → the trace, db.pool.acquire the long red bar → the same request’s log lines',
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
    // The graph the alert links to shows what Vigil holds when it opens: wait until that includes a
    // failed checkout's exemplar whose trace has arrived (exemplars come with a scrape, spans with an export).
    const latency = 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{service="shop",route="/checkout"}[1m])))';
    await waitFor(
      "a failed checkout's exemplar with its trace in Vigil",
      async () => {
        const r = await (
          await fetch(`${base}/api/v1/query_exemplars?query=${encodeURIComponent(latency)}&start=${Date.now() / 1000 - 600}&end=${Date.now() / 1000}`)
        ).json();
        for (const s of r.data ?? []) {
          if (s.seriesLabels.status_code !== '503') continue;
          for (const e of s.exemplars) if (await poolFailure(e.labels.trace_id)) return true;
        }
        return undefined;
      },
      60_000,
      1000,
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

    // Click 1: the alert's Graph, its graph_url: p99 checkout latency over the alert's range, with exemplars.
    await page.waitForSelector(alert);
    await page.click(`${alert} a[data-link="graph"]`);
    await page.waitForSelector('.chart .exemplar');
    const explore = new URL(page.url());
    assert.equal(explore.pathname, '/ui/explore');
    assert.equal(explore.searchParams.get('expr'), latency);
    assert.ok(explore.searchParams.get('from') && explore.searchParams.get('to'), `the alert's range: ${explore.search}`);
    assert.match(await page.textContent('[data-testid="result-summary"]'), /\d+ exemplars/);
    // Red diamonds are failed checkouts (their series' status_code is 5xx): the on-call engineer's pick.
    await page.locator('.chart').first().scrollIntoViewIfNeeded();
    const red = await page.$$eval('.chart .exemplar.error', (as) =>
      as.map((a) => {
        // Diamonds of close values overlap; the engineer points at one that is on top where it is drawn.
        const box = a.getBoundingClientRect();
        const top = a.ownerDocument.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
        return { id: a.dataset.traceId, v: Number(a.dataset.value), title: a.title, href: a.getAttribute('href'), onTop: top === a || a.contains(top) };
      }),
    );
    assert.ok(red.length > 0, 'failed checkouts among the exemplars');
    for (const d of red) assert.match(d.title, /status_code="5\d\d"/);
    let chosen;
    for (const d of red.sort((a, b) => Number(b.onTop) - Number(a.onTop) || b.v - a.v)) if (d.onTop && (await poolFailure(d.id))) chosen ??= d;
    assert.ok(chosen, `an uncovered red diamond whose trace failed in the pool, among ${red.length} (${red.filter((d) => d.onTop).length} uncovered)`);
    await page.hover(`.chart .exemplar[data-trace-id="${chosen.id}"]`);
    await shot('demo-3-latency-exemplars');

    // Click 2: that diamond opens its trace.
    await page.click(`.chart .exemplar[data-trace-id="${chosen.id}"]`);
    await page.waitForSelector('.waterfall [data-span-name="db.pool.acquire"]');
    const traceId = chosen.id;
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

    // The same exemplars on the overview's latency card (beside its link, over its sparkline) …
    await page.goto(`${base}/ui/?range=15m`);
    const cardEx = 'section[data-row="shop"] [data-testid="card-exemplars"] a.exemplar';
    await page.waitForSelector(cardEx, { timeout: 30_000 });
    // The newest failed checkout's diamond (the last drawn, so on top of any neighbour it touches).
    const cardErr = page.locator(`${cardEx}.error`).last();
    const cardHref = await cardErr.getAttribute('href');
    assert.match(cardHref ?? '', /^\/ui\/traces\/[0-9a-f]{32}$/);
    // Each diamond lies on the sparkline it belongs to.
    const within = await page.$$eval(cardEx, (as) =>
      as.every((a) => {
        const spark = a.closest('.card-box').querySelector('.spark').getBoundingClientRect();
        const d = a.getBoundingClientRect();
        const x = d.left + d.width / 2;
        const y = d.top + d.height / 2;
        return x >= spark.left - 1 && x <= spark.right + 1 && y >= spark.top - 1 && y <= spark.bottom + 1;
      }),
    );
    assert.ok(within, 'the overview diamonds sit on the sparkline');
    await shot('demo-8-overview-exemplars');
    assert.ok((await page.locator(cardEx).count()) <= 12, 'a dozen diamonds at most on a sparkline');
    await cardErr.click();
    await page.waitForSelector('.waterfall .wf-row');
    assert.equal(new URL(page.url()).pathname, cardHref);

    // … and on the shop dashboard's latency panel, whose p99 target has Grafana's exemplar switch on.
    await page.goto(`${base}/ui/dashboards/shop?range=15m`);
    const panel = page.locator('[data-panel="Latency p50 / p95 / p99"]');
    await panel.locator('.chart .exemplar').first().waitFor({ timeout: 30_000 });
    assert.ok((await panel.locator('.chart .exemplar.error').count()) > 0, 'failed checkouts on the dashboard too');
    await shot('demo-9-dashboard-exemplars');
  },
);
