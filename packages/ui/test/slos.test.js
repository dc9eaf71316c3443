/* global fetch, window, URL */
// The SLO page in Debian's Chromium (playwright-core): a started Vigil with two inline SLOs over
// series written through remote_write (one service healthy, one failing 5% of requests against a
// 99.9% objective). The page must list both, the one out of budget first, with objective,
// availability, budget remaining, a burn-down line and a burn rate per alert window.
// Runs from packages/ui/dist/test/ (build.js copies it).
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

const { startServer, waitFor, writeBody, postWrite } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { parseSLOFile } = await import(path.join(repo, 'packages/server/dist-test/alerting/slo/index.js'));
const { labelsFrom } = await import(path.join(repo, 'packages/server/dist-test/core/model/labels.js'));

const skip = noChromium;

const spec = (service, objective) => `version: prometheus/v1
service: ${service}
slos:
  - name: requests
    objective: ${objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="${service}",code="500"}[{{.window}}])) or on() vector(0)
        total_query: sum(rate(http_requests_total{service="${service}"}[{{.window}}]))
    alerting:
      name: ${service}Burn
`;

let vigil, browser, page;

before(async () => {
  if (skip) return;
  const parsed = parseSLOFile(`${spec('search', 99)}---\n${spec('checkout', 99.9)}`, 'slos.yml');
  assert.deepEqual(parsed.errors, []);
  vigil = await startServer((c) => {
    c.slos = parsed;
    c.selfScrape = false;
    c.global = { ...c.global, evaluationIntervalMs: 1000 };
  });
  // Ten minutes of requests, 10 a second: checkout fails 5% (a 50x burn of its 0.1% budget), search never.
  const now = Date.now();
  const series = [];
  for (const [service, code, share] of [
    ['checkout', '200', 0.95],
    ['checkout', '500', 0.05],
    ['search', '200', 1],
  ]) {
    const samples = [];
    for (let i = 0, t = now - 10 * 60_000; t <= now; i++, t += 15_000) samples.push([t, i * 150 * share]);
    series.push({ labels: labelsFrom({ __name__: 'http_requests_total', service, code }), samples });
  }
  const w = await postWrite(vigil.url, writeBody(series));
  assert.equal(w.status, 204, w.text);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await vigil?.stop();
});

test('the SLO page lists SLOs by budget left, with objective, availability, budget and burn rate per window', { skip, timeout: 90_000 }, async () => {
  await waitFor(
    'both SLOs recorded',
    async () => {
      const r = await fetch(`${vigil.url}/api/v1/query?query=${encodeURIComponent('slo:period_error_budget_remaining:ratio')}`).then((x) => x.json());
      return r.data.result.length === 2 ? true : undefined;
    },
    30_000,
  );
  // The burn-down's range query covers the whole 30-day period at a step that keeps it small.
  const ranges = [];
  const onRequest = (req) => {
    const u = new URL(req.url());
    if (u.pathname.endsWith('/api/v1/query_range') && u.searchParams.get('query') === 'slo:period_error_budget_remaining:ratio') ranges.push(u.searchParams);
  };
  page.on('request', onRequest);
  await page.goto(`${vigil.url}/ui/slos`);
  await page.waitForSelector('tr.slo-row');
  page.off('request', onRequest);
  assert.ok(ranges.length >= 1, 'a burn-down range query');
  const first = ranges[0];
  const span = Number(first.get('end')) - Number(first.get('start'));
  assert.ok(Math.abs(span - 30 * 86400) < 1, `30 days: ${span} s`);
  assert.equal(Number(first.get('step')), 3 * 3600);
  // Minutes of history only: a second query over what exists, at a finer step.
  assert.equal(ranges.length, 2);
  assert.ok(Number(ranges[1].get('step')) < 3 * 3600);
  const rows = page.locator('tr.slo-row');
  assert.equal(await rows.count(), 2);
  // Least budget first: checkout has spent 50 times its budget's pace over these 10 minutes.
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-slo'))), ['checkout-requests', 'search-requests']);
  const checkout = rows.first();
  assert.equal(await checkout.locator('[data-col="objective"]').textContent(), '99.9%');
  assert.equal(await checkout.locator('[data-col="availability"]').textContent(), '95.000%');
  // The period's ratio (5%) over the budget (0.1%): 50x, so the remaining budget is 1 - 50 = -4900%.
  assert.match(await checkout.locator('[data-col="remaining"]').textContent(), /^-4900\.0%$/);
  assert.equal(await checkout.locator('[data-col="remaining"] .badge').getAttribute('class'), 'badge level-critical');
  const windows = await checkout
    .locator('[data-col="burn"] [data-window]')
    .evaluateAll((xs) => xs.map((x) => [x.getAttribute('data-window'), x.textContent.trim()]));
  assert.deepEqual(
    windows.map(([w]) => w),
    ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'],
  );
  assert.deepEqual(windows[0], ['5m', '5m 50x']);
  const search = rows.nth(1);
  assert.equal(await search.locator('[data-col="availability"]').textContent(), '100.000%');
  assert.equal(await search.locator('[data-col="remaining"]').textContent(), '100.0%');
  assert.match(await search.locator('[data-col="burn"]').textContent(), /5m 0\.00x/);
  // The alerts link filters the Alerts page by the SLO.
  assert.equal(await checkout.locator('a:has-text("alerts")').getAttribute('href'), '/ui/alerts?filter=sloth_id%3Dcheckout-requests');
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'slos.png'), fullPage: true });
  // The overview shows each service's SLO status next to its name.
  await page.goto(`${vigil.url}/ui/`);
  await page.waitForSelector('[data-testid="slo-status"][data-service="checkout"]');
  const badge = page.locator('[data-testid="slo-status"][data-service="checkout"]');
  assert.match(await badge.textContent(), /^1 SLO: budget -4900\.0% left · worst burn 50x \(\d+[mhd]\)$/);
  assert.match(await badge.getAttribute('class'), /level-critical/);
  assert.match(await page.locator('[data-testid="slo-status"][data-service="search"]').textContent(), /budget 100\.0% left · worst burn 0\.00x/);
  assert.equal(await badge.getAttribute('href'), '/ui/slos');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(artifacts, 'overview-slo-status.png'), fullPage: true });
  // Reachable from the navigation.
  await page.goto(`${vigil.url}/ui/`);
  await page.click('nav a:has-text("SLOs")');
  await page.waitForSelector('tr.slo-row');
  assert.equal(await page.evaluate(() => window.location.pathname), '/ui/slos');
});
