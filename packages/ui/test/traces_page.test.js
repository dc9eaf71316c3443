/* global fetch, URL, URLSearchParams, document, window */
// Browser tests of the Traces pages against a started Vigil holding the hand-made trace fixture
// (testkit/trace_fixture.ts: T1 a failed checkout whose db.pool.acquire failed, T2 a fast product
// list, T3 a payment charge): the search form's fields and free TraceQL, error marks, the slowest-first
// sort, the waterfall and span details, the 404 and 400 pages, and a log line's trace link.
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

const { startServer } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { ingestFixture, T1, T2, T3 } = await import(path.join(repo, 'packages/server/dist-test/testkit/trace_fixture.js'));

const BASE_SEC = Math.floor(Date.now() / 1000) - 600;
let vigil, browser, page;

before(async () => {
  if (skip) return;
  vigil = await startServer((c) => {
    c.selfScrape = false;
  });
  await ingestFixture(vigil.url, BASE_SEC);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
});

after(async () => {
  await browser?.close();
  await vigil?.stop();
});

const ids = () => page.$$eval('[data-testid="trace-results"] tbody tr', (trs) => trs.map((tr) => `${tr.dataset.traceId}:${tr.dataset.error}`));
/**
 * Waits until the list shows exactly `expected` (id:failed per row, in order): the list renders
 * before the failed-traces search and a re-sort answer, so a check made at once can see the last one.
 */
async function showing(expected) {
  await page
    .waitForFunction(
      (want) =>
        JSON.stringify([...document.querySelectorAll('[data-testid="trace-results"] tbody tr')].map((tr) => `${tr.dataset.traceId}:${tr.dataset.error}`)) ===
        JSON.stringify(want),
      expected,
      { timeout: 10_000 },
    )
    .catch(() => undefined);
  assert.deepEqual(await ids(), expected);
}
async function results(expected) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="trace-results"] tbody tr').length === n || (n === 0 && document.querySelector('.state.empty')),
    expected,
  );
}

test('trace search: the fields become TraceQL, failed traces are marked, slowest first on request, free TraceQL', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/traces?range=1h`);
  await results(3);
  // Newest first; T1 holds failed spans.
  await showing([`${T3}:false`, `${T2}:false`, `${T1}:true`]);
  assert.equal(await page.$$eval('[data-testid="trace-scatter"] circle', (c) => c.length), 3);
  await page.fill('input[name="service"]', 'shop');
  await page.selectOption('select[name="status"]', 'error');
  await page.click('form.trace-form button[type="submit"]');
  await results(1);
  await showing([`${T1}:true`]);
  assert.equal(await page.textContent('[data-testid="trace-query"] code'), '{ resource.service.name = "shop" && status = error }');
  const u = new URL(page.url());
  assert.deepEqual([u.searchParams.get('service'), u.searchParams.get('status')], ['shop', 'error']);

  await page.fill('input[name="service"]', '');
  await page.selectOption('select[name="status"]', '');
  await page.fill('input[name="minDuration"]', '200ms');
  await page.click('form.trace-form button[type="submit"]');
  await results(2);
  await showing([`${T3}:false`, `${T1}:true`]);
  await page.click('[data-testid="trace-query"] button');
  await page.waitForFunction(() => new URL(window.location.href).searchParams.get('sort') === 'duration');
  await results(2);
  await showing([`${T1}:true`, `${T3}:false`]);
  const durations = await page.$$eval('[data-testid="trace-results"] tbody td.num.mono', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(durations, ['1.00 s', '300 ms']);
  await page.screenshot({ path: path.join(artifacts, 'traces-search.png') });

  await page.fill('input[name="minDuration"]', '');
  await page.fill('textarea[name="q"]', '{ resource.service.name = "payment" && kind = server }');
  await page.click('form.trace-form button[type="submit"]');
  await results(2);
  assert.deepEqual((await ids()).sort(), [`${T1}:true`, `${T3}:false`]);
  // A query the server refuses shows its message under the editor.
  await page.fill('textarea[name="q"]', '{ .a = }');
  await page.click('form.trace-form button[type="submit"]');
  await page.waitForSelector('.editor .editor-error');
  assert.match(await page.textContent('.editor .editor-error'), /parse error at line 1, col \d+/);
});

test('the waterfall: tree, error spans red, critical path, span details and its logs link; unknown and bad ids say so', { skip }, async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.goto(`${vigil.url}/ui/traces?range=1h`);
  await page.click(`[data-testid="trace-results"] tr[data-trace-id="${T1}"] a`);
  await page.waitForSelector('.waterfall .wf-row[data-span-name]');
  assert.equal(new URL(page.url()).pathname, `/ui/traces/${T1}`);
  const rows = await page.$$eval('.wf-row[data-span-name]', (rs) =>
    rs.map((r) => ({ name: r.dataset.spanName, indent: parseFloat(r.querySelector('.wf-name').style.paddingLeft), cls: r.className })),
  );
  assert.deepEqual(
    rows.map((r) => r.name),
    ['POST /checkout', 'db.pool.acquire', 'charge'],
  );
  assert.ok(rows[1].indent > rows[0].indent && rows[2].indent === rows[1].indent, 'children indented under the root');
  assert.deepEqual(
    rows.map((r) => /\berror\b/.test(r.cls)),
    [true, true, false],
  );
  assert.ok(
    rows.every((r) => /\bcritical\b/.test(r.cls)),
    'sequential children: all on the critical path',
  );
  assert.match(await page.textContent('[data-testid="trace-summary"]'), /1\.00 s\s*3 spans\s*2 with errors/);
  assert.deepEqual((await page.$$eval('[data-testid="trace-summary"] .svc', (s) => s.map((x) => x.textContent.trim()))).sort(), ['payment', 'shop']);
  // Bars on one axis: the pool wait starts 1% in and spans 80% of the trace.
  const geo = await page.$$eval('.wf-row[data-span-name] [data-testid="span-bar"]', (bs) => bs.map((b) => [b.style.left, b.style.width]));
  assert.equal(geo[1][0], '1%');
  assert.match(geo[1][1], /^max\(80%, 2px\)$/);
  await page.click('.wf-row[data-span-name="db.pool.acquire"]');
  await page.waitForSelector('[data-testid="span-detail"] tr[data-attr="db.system"]');
  assert.equal(await page.textContent('[data-testid="span-detail"] tr[data-attr="db.system"] td:last-child'), 'postgres');
  assert.equal(await page.textContent('[data-testid="span-detail"] table[data-section="resource"] tr[data-attr="service.name"] td:last-child'), 'shop');
  // The open span is in the URL, so a copied link shows it open.
  assert.equal(new URL(page.url()).searchParams.get('span'), '1000000000000002');
  const logs = new URL(await page.getAttribute('a[data-link="span-logs"]', 'href'), vigil.url);
  assert.equal(logs.searchParams.get('query'), `{service="shop"} |= "${T1}"`);
  await page.screenshot({ path: path.join(artifacts, 'traces-waterfall.png') });

  await page.goto(`${vigil.url}/ui/traces/${'ab'.repeat(16)}`);
  await page.waitForSelector('text=No such trace');
  await page.goto(`${vigil.url}/ui/traces/not-a-trace`);
  await page.waitForSelector('.state.error');
  assert.match(await page.textContent('.state.error'), /invalid trace id/);
});

test("a log line's trace_id opens its trace", { skip }, async () => {
  const ns = `${Date.now()}000000`;
  const push = await fetch(`${vigil.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      streams: [{ stream: { service: 'shop' }, values: [[ns, JSON.stringify({ level: 'error', msg: 'database pool exhausted', trace_id: T1 })]] }],
    }),
  });
  assert.equal(push.status, 204, await push.text());
  await page.goto(`${vigil.url}/ui/logs?${new URLSearchParams({ query: '{service="shop"}', range: '1h' })}`);
  await page.click(`li.logline a.trace-link[data-trace-id="${T1}"]`);
  await page.waitForSelector('.wf-row[data-span-name="db.pool.acquire"]');
  assert.equal(new URL(page.url()).pathname, `/ui/traces/${T1}`);
});
