/* global fetch, URL, URLSearchParams, document, window, getComputedStyle */
// Browser tests of what traces add to the pages an on-call engineer uses, against a started Vigil
// that took real OTLP spans: the service map drawn from the service-graph metrics the trace metrics
// generator writes (nodes, rates, error share, latency, no overlap, a click to the node's traces and
// golden signals), the TraceQL editor on the Traces page (Grafana's grammar for highlighting, the
// server's parse error under it), "slowest traces during this alert" on a firing alert, and the
// overview's RED cards from span metrics for services that only send traces. Debian's Chromium via
// playwright-core; screenshots go to packages/ui/test-artifacts/. Runs from packages/ui/dist/test/.
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

const { startServer, waitFor } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { encodeTracesData } = await import(path.join(repo, 'packages/server/dist-test/traces/ingest/otlp_encode.js'));
const { formatValue, serviceMapQueries, formatSpanDuration } = await import('./lib.js');

const RULES = `groups:
  - name: smap
    interval: 1s
    rules:
      - alert: CheckoutSlow
        expr: vector(1) > 0
        labels:
          severity: critical
          service: shop
`;

/** Traces per batch; two batches a second apart, so rate() over the flushed counters sees an increase. */
const PER_BATCH = 8;
/** Every fourth trace's payment call fails. */
const failing = (i) => i % 4 === 1;
/** Root durations in ms, all distinct, growing with the trace's number: trace 15 is the slowest. */
const durMs = (n) => 120 + 20 * n;
const traceId = (n) => `5e${String(n).padStart(30, '0')}`;

/**
 * One checkout as the demo makes it, with Tempo's pairs for the service graph: the user's request
 * into frontend (root server span), frontend → shop (client/server), shop → the orders database
 * (client span naming db.name), shop → payment-gateway (client/server, failing when asked), and shop
 * → notifier through a queue (producer/consumer).
 */
function checkout(n, startMs) {
  const ms = 1_000_000n;
  const t0 = BigInt(startMs) * ms;
  const d = durMs(n);
  const fail = failing(n % PER_BATCH);
  const span = (id, parent, service, name, kind, from, to, attrs = {}, error = false) => ({
    traceId: traceId(n),
    spanId: `${String(n).padStart(2, '0')}000000000000${id}`.slice(-16),
    parentSpanId: parent ? `${String(n).padStart(2, '0')}000000000000${parent}`.slice(-16) : '',
    name,
    kind,
    startTimeUnixNano: t0 + BigInt(Math.round(from)) * ms,
    endTimeUnixNano: t0 + BigInt(Math.round(to)) * ms,
    status: { code: error ? 'error' : 'unset', message: error ? 'card processor timed out' : '' },
    attributes: attrs,
    resource: { 'service.name': service },
    scope: { name: 'smap-test', version: '1' },
    events: [],
    links: [],
  });
  return [
    span('01', '', 'frontend', 'GET /checkout', 'server', 0, d, { 'http.route': '/checkout' }, fail),
    span('02', '01', 'frontend', 'POST /api/checkout', 'client', 2, d - 2),
    span('03', '02', 'shop', 'POST /checkout', 'server', 4, d - 4, {}, fail),
    span('04', '03', 'shop', 'SELECT orders', 'client', 6, 6 + d / 4, { 'db.system': 'postgresql', 'db.name': 'orders' }),
    span('05', '03', 'shop', 'POST /charge', 'client', 8 + d / 4, d - 10),
    span('06', '05', 'payment-gateway', 'POST /charge', 'server', 10 + d / 4, d - 12, {}, fail),
    span('07', '03', 'shop', 'publish order.created', 'producer', d - 9, d - 8),
    span('08', '07', 'notifier', 'order.created', 'consumer', d - 7, d - 6),
  ];
}

let vigil, browser, page;

async function shot(name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function send(spans) {
  const res = await fetch(`${vigil.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTracesData(spans) });
  assert.equal(res.status, 200, await res.text());
}

async function instant(expr, timeMs = Date.now()) {
  const r = await fetch(`${vigil.url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(timeMs / 1000) })}`).then((x) => x.json());
  assert.equal(r.status, 'success', JSON.stringify(r));
  return r.data.result;
}

before(async () => {
  if (skip) return;
  vigil = await startServer((c) => {
    const file = path.join(c.storage.path, 'smap.rules.yml');
    fs.writeFileSync(file, RULES);
    c.ruleFiles = [file];
    c.selfScrape = false;
    c.traces.metricsGenerator.flushIntervalMs = 200;
  });
  // The alert is active before any span arrives, so all of them fall in [activeAt, now].
  await waitFor('the alert to fire', async () => {
    const r = await fetch(`${vigil.url}/api/v2/alerts`).then((x) => x.json());
    return r.some((a) => a.labels.alertname === 'CheckoutSlow') || undefined;
  });
  await new Promise((r) => setTimeout(r, 1100));
  for (const batch of [0, 1]) {
    const now = Date.now();
    const spans = [];
    for (let i = 0; i < PER_BATCH; i++) {
      const n = batch * PER_BATCH + i;
      // Ending by now: spans from the future are refused.
      spans.push(...checkout(n, now - durMs(n) - 50));
    }
    await send(spans);
    await new Promise((r) => setTimeout(r, 1000));
  }
  // Both batches flushed: the calls counter shows all sixteen.
  await waitFor('the service graph to count every call', async () => {
    const r = await instant('sum(traces_service_graph_request_total{client="frontend",server="shop"})');
    return r.length && Number(r[0].value[1]) === 2 * PER_BATCH ? true : undefined;
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  await browser?.close();
  await vigil?.stop();
});

test(
  'service map: services, the database and the user as nodes by call depth, rates and error share, latency on edges, nothing overlaps',
  { skip },
  async () => {
    // A fixed range, so the page's numbers and the API's below are the same evaluation.
    const to = Date.now();
    await page.goto(`${vigil.url}/ui/services?from=${to - 300_000}&to=${to}`);
    await page.waitForSelector('g.sm-node[data-node="payment-gateway"]');
    const nodes = await page.$$eval('g.sm-node', (gs) =>
      gs.map((g) => {
        const r = g.querySelector('rect').getBoundingClientRect();
        return {
          id: g.dataset.node,
          kind: g.dataset.kind,
          failing: g.classList.contains('failing'),
          rate: g.querySelector('[data-stat="rate"]').textContent,
          errors: g.querySelector('[data-stat="errors"]').textContent,
          box: { x: r.x, y: r.y, w: r.width, h: r.height },
        };
      }),
    );
    const by = Object.fromEntries(nodes.map((n) => [n.id, n]));
    assert.deepEqual(Object.keys(by).sort(), ['frontend', 'notifier', 'orders', 'payment-gateway', 'shop', 'user']);
    assert.deepEqual(
      ['user', 'frontend', 'shop', 'orders', 'payment-gateway', 'notifier'].map((id) => by[id].kind),
      ['user', 'service', 'service', 'database', 'service', 'service'],
    );
    // Columns by call depth: user → frontend → shop → its three callees.
    assert.ok(by.user.box.x < by.frontend.box.x && by.frontend.box.x < by.shop.box.x, 'callers left of callees');
    for (const id of ['orders', 'payment-gateway', 'notifier']) assert.equal(by[id].box.x, by['payment-gateway'].box.x, `${id} in the last column`);
    // One payment call in four failed, failing the checkout up to the user: red, and 25 %; the database and the queue did not.
    for (const id of ['user', 'frontend', 'shop', 'payment-gateway']) {
      assert.equal(by[id].errors, '25% err', id);
      assert.ok(by[id].failing, id);
    }
    for (const id of ['orders', 'notifier']) {
      assert.equal(by[id].errors, '0% err', id);
      assert.ok(!by[id].failing, id);
    }
    // The rates are the server's, as formatted everywhere in the UI.
    const q = serviceMapQueries('300s');
    const served = new Map();
    for (const s of await instant(q.requests, to)) served.set(s.metric.server, (served.get(s.metric.server) ?? 0) + Number(s.value[1]));
    for (const id of ['frontend', 'shop', 'payment-gateway', 'orders', 'notifier']) assert.equal(by[id].rate, formatValue(served.get(id), 'reqps'), id);
    assert.match(by.shop.rate, /^0\.0\d+ req\/s$/, 'sixteen calls in five minutes, extrapolated');
    // Each of the sixteen checkouts called every service once: the same rate everywhere.
    assert.equal(new Set(['frontend', 'shop', 'payment-gateway', 'orders', 'notifier', 'user'].map((id) => by[id].rate)).size, 1);

    const edges = await page.$$eval('g.sm-edge', (gs) =>
      gs.map((g) => {
        const r = g.querySelector('text').getBoundingClientRect();
        return {
          id: g.dataset.edge,
          label: g.querySelector('text').textContent,
          failing: g.classList.contains('failing'),
          box: { x: r.x, y: r.y, w: r.width, h: r.height },
        };
      }),
    );
    assert.deepEqual(edges.map((e) => e.id).sort(), ['frontend->shop', 'shop->notifier', 'shop->orders', 'shop->payment-gateway', 'user->frontend']);
    for (const e of edges) assert.match(e.label, /^p50 \d[\d.]* (µs|ms|s) · p99 \d[\d.]* (µs|ms|s)$/, `${e.id}: ${e.label}`);
    assert.deepEqual(
      edges
        .filter((e) => e.failing)
        .map((e) => e.id)
        .sort(),
      ['frontend->shop', 'shop->payment-gateway', 'user->frontend'],
      'failing calls are red',
    );
    // Readable: no two boxes, and no label and box or two labels, overlap.
    const boxes = [...nodes.map((n) => [n.id, n.box]), ...edges.map((e) => [e.id, e.box])];
    const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlap(boxes[i][1], boxes[j][1]), `${boxes[i][0]} overlaps ${boxes[j][0]}`);
    // Labels are legible: at least 12 px.
    const sizes = await page.$$eval('.service-map text', (ts) => ts.map((t) => parseFloat(getComputedStyle(t).fontSize)));
    assert.ok(Math.min(...sizes) >= 11, `smallest label ${Math.min(...sizes)} px`);
    await shot('service-map');
    // The same map in the dark theme, as it is read at night.
    await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
    await shot('service-map-dark');
    await page.evaluate(() => delete document.documentElement.dataset.theme);
  },
);

test(
  "service map: a click on a node opens its panel, its traces on the Traces page and its golden signals in Explore; a database's traces are the calls into it",
  { skip },
  async () => {
    await page.goto(`${vigil.url}/ui/services?range=5m`);
    await page.click('g.sm-node[data-node="shop"]');
    await page.waitForSelector('[data-testid="node-panel"][data-node="shop"]');
    assert.equal(new URL(page.url()).searchParams.get('node'), 'shop');
    const rows = await page.$$eval('[data-testid="node-panel"] table', (ts) =>
      ts.map((t) => [t.querySelector('caption').textContent, [...t.querySelectorAll('tr')].map((r) => r.cells[0].textContent)]),
    );
    assert.deepEqual(rows, [
      ['Calls', ['notifier', 'orders', 'payment-gateway']],
      ['Called by', ['frontend']],
    ]);
    await shot('service-map-panel');
    await page.click('[data-testid="node-panel"] a[data-link="node-traces"]');
    await page.waitForFunction(() => window.location.pathname === '/ui/traces');
    assert.equal(new URL(page.url()).searchParams.get('service'), 'shop');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="trace-results"] tbody tr').length === n, 2 * PER_BATCH);
    assert.equal(await page.textContent('[data-testid="trace-query"] code'), '{ resource.service.name = "shop" }');

    await page.goBack();
    await page.waitForSelector('[data-testid="node-panel"][data-node="shop"]');
    await page.click('[data-testid="node-panel"] a[data-link="span_errors"]');
    await page.waitForFunction(() => window.location.pathname === '/ui/explore');
    const expr = new URL(page.url()).searchParams.get('expr');
    assert.match(expr, /traces_spanmetrics_calls_total\{service="shop",span_kind=~"SPAN_KIND_SERVER\|SPAN_KIND_CONSUMER",status_code="STATUS_CODE_ERROR"\}/);
    // Explore runs it: shop's served spans failed one in four too (the failing payment fails the checkout).
    await page.waitForSelector('.chart[data-series="1"]', { timeout: 15_000 });

    await page.goto(`${vigil.url}/ui/services?range=5m&node=orders`);
    await page.waitForSelector('[data-testid="node-panel"][data-node="orders"]');
    assert.equal(await page.locator('[data-testid="node-panel"] a[data-link="span_rps"]').count(), 0, 'a database has no span metrics of its own');
    await page.click('[data-testid="node-panel"] a[data-link="node-traces"]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="trace-results"] tbody tr').length === n, 2 * PER_BATCH);
    assert.match(await page.textContent('[data-testid="trace-query"] code'), /span\.db\.name = "orders"/);
  },
);

test('TraceQL editor: Grafana grammar highlighting, Enter searches, the server parse error is shown under it with its column marked', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/traces?range=5m`);
  await page.waitForSelector('[data-testid="trace-results"] tbody tr');
  const box = page.locator('textarea[name="q"]');
  await box.fill('{ resource.service.name = "payment-gateway" && status = error } | count() > 0');
  // The grammar loads lazily; the highlighted copy then splits the query into coloured tokens.
  await page.waitForSelector('.editor-hl .tok-string');
  const tok = (kind) => page.$$eval(`.editor-hl .tok-${kind}`, (s) => s.map((x) => x.textContent));
  assert.deepEqual(await tok('string'), ['"payment-gateway"']);
  assert.deepEqual(await tok('label'), ['resource', 'service.name']);
  assert.deepEqual(await tok('metric'), ['status']);
  assert.deepEqual(await tok('keyword'), ['error']);
  assert.deepEqual(await tok('function'), ['count()']);
  assert.deepEqual(await tok('number'), ['0']);
  assert.equal(await page.locator('.editor-hl .tok-error').count(), 0, 'a valid query has no error mark');
  assert.equal(
    await page.textContent('.editor-hl'),
    '{ resource.service.name = "payment-gateway" && status = error } | count() > 0\n',
    'the copy is the text itself',
  );
  await box.press('Enter');
  await page.waitForFunction(() => new URL(window.location.href).searchParams.get('q')?.includes('payment-gateway'));
  // Two failing payments per batch.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="trace-results"] tbody tr').length === 4);
  const ids = await page.$$eval('[data-testid="trace-results"] tbody tr', (trs) => trs.map((tr) => tr.dataset.traceId).sort());
  assert.deepEqual(ids, [1, 5, 9, 13].map(traceId));

  // While typing, the grammar marks where it stops reading.
  await box.fill('{ span.http.route = }');
  await page.waitForSelector('.editor-hl .tok-error');
  // Submitted, the server's own message appears under the editor, and its column is marked.
  await box.press('Enter');
  const err = page.locator('.editor .editor-error');
  await err.waitFor();
  const text = await err.textContent();
  assert.match(text, /parse error at line 1, col (\d+)/);
  const col = Number(/col (\d+)/.exec(text)[1]);
  const marked = await page.$$eval('.editor-hl span', (ss) => {
    let at = 0;
    const out = [];
    for (const s of ss) {
      if (s.classList.contains('tok-error')) out.push([at, at + s.textContent.length]);
      at += s.textContent.length;
    }
    return out;
  });
  assert.ok(
    marked.some(([a, b]) => col - 1 >= a && col - 1 < b),
    `the mark ${JSON.stringify(marked)} covers column ${col}`,
  );
  assert.equal(await page.locator('.state.error').count(), 0, 'the refusal is shown at the editor, not as a page error');
  await shot('traceql-editor-error');
  // Editing the query takes the stale server message away.
  await box.fill('{ span.http.route = "/checkout" }');
  await page.waitForFunction(() => !document.querySelector('.editor .editor-error'));
});

test('alerts: a firing alert with a service lists its slowest traces since it became active, each opening its waterfall', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/alerts`);
  const alert = page.locator('li.alert[data-alertname="CheckoutSlow"]');
  await alert.locator('[data-testid="slow-traces"] li').first().waitFor({ timeout: 15_000 });
  const rows = await alert
    .locator('[data-testid="slow-traces"] li')
    .evaluateAll((ls) => ls.map((l) => [l.dataset.traceId, l.querySelector('.mono').textContent]));
  // The five slowest of sixteen: traces 15 down to 11.
  assert.deepEqual(
    rows.map((r) => r[0]),
    [15, 14, 13, 12, 11].map(traceId),
  );
  assert.deepEqual(
    rows.map((r) => r[1]),
    [15, 14, 13, 12, 11].map((n) => formatSpanDuration(durMs(n))),
  );
  assert.match(await alert.locator('[data-testid="slow-traces"]').textContent(), /Slowest traces of shop since the alert became active/);
  await shot('alert-slow-traces');
  await alert.locator(`[data-testid="slow-traces"] li[data-trace-id="${traceId(15)}"] a`).click();
  await page.waitForSelector('.wf-row[data-span-name="POST /charge"]');
  assert.equal(new URL(page.url()).pathname, `/ui/traces/${traceId(15)}`);
});

test('overview: services that only send traces get RED cards from span metrics, marked as coming from traces', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/`);
  const row = page.locator('section[data-row="payment-gateway"]');
  await row.locator('a[data-signal="span_errors"]').waitFor({ timeout: 20_000 });
  assert.deepEqual(await row.locator('a[data-signal]').evaluateAll((as) => as.map((a) => a.dataset.signal)), ['span_latency', 'span_rps', 'span_errors']);
  assert.equal((await row.locator('a[data-signal="span_errors"] .card-value').textContent()).trim(), '25%');
  assert.equal((await row.locator('a[data-signal="span_latency"] .card-title').textContent()).trim(), 'Latency p99 (traces)');
  // The row says where its numbers come from, and that mark opens the service's traces.
  const mark = row.locator('a[data-link="row-traces"]');
  assert.equal((await mark.textContent()).trim(), 'from traces');
  assert.equal(await page.locator('section[data-row="frontend"] a[data-link="row-traces"]').count(), 1);
  await row.scrollIntoViewIfNeeded();
  await shot('overview-span-red');
  await mark.click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="trace-results"] tbody tr').length === n, 2 * PER_BATCH);
  assert.equal(new URL(page.url()).searchParams.get('service'), 'payment-gateway');
});
