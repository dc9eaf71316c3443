/* global fetch, URL, URLSearchParams, document */
// Browser tests of what an on-call engineer reads: alert values with significant digits and units,
// log lines as time/level/message columns with expandable fields and stack traces, facets that
// filter, Explore's axis following the chosen range, and the overview's four golden signals.
// Debian's Chromium (headless, via playwright-core) against a real Vigil with rules, pushed
// metrics (remote_write) and pushed JSON logs (Loki push), shaped like the demo's. Screenshots go to
// packages/ui/test-artifacts/. Runs from packages/ui/dist/test/ (build.js copies it).
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
const { labelsFrom } = await import(path.join(repo, 'packages/server/dist-test/core/model/labels.js'));
const { encodeTracesData } = await import(path.join(repo, 'packages/server/dist-test/traces/ingest/otlp_encode.js'));

const skip = noChromium;

/** The demo's pool-exhaustion error, as pino serialises it: a multi-line stack under err.stack. */
const STACK = [
  'Error: timed out waiting for a database connection (pool orders-db, 20 of 20 in use)',
  '    at Pool.acquire (/app/examples/shop/dist/db.js:48:19)',
  '    at async checkout (/app/examples/shop/dist/main.js:131:22)',
  '    at async handle (/app/examples/shop/dist/main.js:214:9)',
].join('\n');

const RULES = `groups:
  - name: readable
    interval: 1s
    rules:
      - alert: ReadableValue
        expr: vector(3.3912) > 1
        labels:
          severity: critical
          service: shop
        annotations:
          summary: 'Queue depth is {{ $value | humanize }}'
          description: 'Raw template value {{ $value }}, humanized {{ $value | humanize }}.'
      - alert: SlowCheckout
        expr: max(checkout_latency_seconds) > 0.001
        for: 1h
        labels:
          severity: high
`;

let vigil, browser, page;

async function shot(name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Counters and gauges of one service over the last minute, every 10 s: what the SDK exports. */
function serviceSeries(now) {
  const ts = [60, 50, 40, 30, 20, 10, 0].map((s) => now - s * 1000);
  const series = [];
  const add = (labels, f) => series.push({ labels: labelsFrom({ service: 'shop', job: 'shop', ...labels }), samples: ts.map((t, i) => [t, f(i)]) });
  const base = { __name__: 'http_server_request_duration_seconds_bucket', route: '/checkout', method: 'POST' };
  for (const [le, per] of [
    ['0.05', 40],
    ['0.1', 48],
    ['0.5', 50],
    ['+Inf', 50],
  ])
    add({ ...base, le, status_code: '200' }, (i) => per * i);
  add({ __name__: 'http_server_request_duration_seconds_count', route: '/checkout', method: 'POST', status_code: '200' }, (i) => 50 * i);
  add({ __name__: 'http_server_request_duration_seconds_count', route: '/checkout', method: 'POST', status_code: '503' }, (i) => i);
  add({ __name__: 'process_cpu_seconds_total' }, (i) => 1.5 * i);
  add({ __name__: 'process_resident_memory_bytes' }, () => 180 * 2 ** 20);
  add({ __name__: 'database_connections_active', pool: 'orders-db' }, () => 7);
  add({ __name__: 'database_connections_max', pool: 'orders-db' }, () => 20);
  series.push({ labels: labelsFrom({ __name__: 'checkout_latency_seconds', job: 'shop' }), samples: ts.map((t) => [t, 0.0123]) });
  return series;
}

/** JSON lines as the SDK's pino logger writes them, plus one plain-text stream. */
function demoLogs(now) {
  const ns = (msAgo) => String(BigInt(now - msAgo) * 1_000_000n);
  const line = (o) => JSON.stringify({ level: 'info', time: now, service: 'shop', environment: 'demo', ...o });
  const info = [];
  for (let i = 0; i < 6; i++) info.push([ns(30_000 - i * 1000), line({ request_id: `req-${i}`, amount_cents: 1200 + i, msg: 'order placed' })]);
  return {
    streams: [
      { stream: { service: 'shop', environment: 'demo', level: 'info' }, values: info },
      {
        stream: { service: 'shop', environment: 'demo', level: 'warn' },
        values: [
          [ns(20_000), line({ level: 'warn', request_id: 'req-w1', amount_cents: 990, msg: 'card declined' })],
          [ns(19_000), line({ level: 'warn', request_id: 'req-w2', amount_cents: 4100, msg: 'card declined' })],
        ],
      },
      {
        stream: { service: 'shop', environment: 'demo', level: 'error' },
        values: [
          [
            ns(10_000),
            line({
              level: 'error',
              request_id: 'req-e1',
              trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
              pool: 'orders-db',
              err: { type: 'Error', message: 'timed out waiting for a database connection', stack: STACK },
              msg: 'database pool exhausted',
            }),
          ],
        ],
      },
      { stream: { service: 'legacy', level: 'info' }, values: [[ns(5_000), 'GET /health 200 1.2ms']] },
    ],
  };
}

before(async () => {
  if (skip) return;
  vigil = await startServer((c) => {
    const file = path.join(c.storage.path, 'readable.rules.yml');
    fs.writeFileSync(file, RULES);
    c.ruleFiles = [file];
    // Span metrics flushed fast, for the traces-only service on the overview.
    c.traces.metricsGenerator.flushIntervalMs = 200;
  });
  const now = Date.now();
  const w = await postWrite(vigil.url, writeBody(serviceSeries(now)));
  assert.equal(w.status, 204, w.text);
  const push = await fetch(`${vigil.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(demoLogs(now)),
  });
  assert.equal(push.status, 204, await push.text());
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await vigil?.stop();
});

test('alerts: a firing value and a pending value are formatted (3.3912 → 3.39, 0.0123 s → 12.3 ms), never 3.39e+00', { skip }, async () => {
  // The API keeps Prometheus' format; the UI must not show it as it is.
  const api = await waitFor('the rules to be active', async () => {
    const r = await fetch(`${vigil.url}/api/v1/alerts`).then((x) => x.json());
    return r.data.alerts.length === 2 && r.data.alerts.some((a) => a.state === 'firing') ? r.data.alerts : undefined;
  });
  assert.equal(api.find((a) => a.labels.alertname === 'ReadableValue').value, '3.3912e+00');
  await waitFor('the alert to reach the alertmanager', async () => {
    const r = await fetch(`${vigil.url}/api/v2/alerts`).then((x) => x.json());
    return r.some((a) => a.labels.alertname === 'ReadableValue') || undefined;
  });
  await page.goto(`${vigil.url}/ui/alerts`);
  const firing = page.locator('li.alert[data-alertname="ReadableValue"]');
  await firing.locator('[data-testid="alert-value"] .value').waitFor();
  assert.equal(await firing.locator('[data-testid="alert-value"] .value').textContent(), '3.39');
  const text = await firing.textContent();
  assert.match(text, /Queue depth is 3\.391/, 'the summary uses humanize');
  assert.match(text, /Raw template value 3\.3912, humanized 3\.391\./);
  const pending = page.locator('li[data-pending="SlowCheckout"] .value');
  await pending.waitFor();
  assert.equal(await pending.textContent(), '12.3 ms', 'the unit comes from the metric name in the rule');
  assert.doesNotMatch(await page.textContent('main'), /\de[+-]\d\d/, 'no value in exponent notation anywhere on the page');
  await shot('readable-alerts');
});

test('logs: JSON lines show time, level and message columns; fields expand; the stack trace is a block; plain text stays as it is', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/logs?${new URLSearchParams({ query: '{service="shop"}', range: '15m' })}`);
  await page.waitForSelector('li.logline');
  assert.equal(await page.locator('li.logline').count(), 9);
  const err = page.locator('li.logline', { hasText: 'database pool exhausted' });
  assert.equal(await err.getAttribute('data-format'), 'json');
  assert.equal((await err.locator('[data-col="level"]').textContent()).trim(), 'error');
  const msg = await err.locator('[data-col="message"]').textContent();
  assert.ok(msg.startsWith('database pool exhausted'), msg);
  assert.match(msg, /stack trace/, 'the row says it carries a stack trace');
  assert.doesNotMatch(msg, /"level"|\{"/, 'the row shows the message, not raw JSON');
  assert.match(await err.locator('time').textContent(), /^\d{2}:\d{2}:\d{2}\.\d{3}$/);
  const order = page.locator('li.logline', { hasText: 'order placed' }).first();
  assert.equal((await order.locator('[data-col="level"]').textContent()).trim(), 'info');
  await err.locator('button.logline-head').click();
  const open = page.locator('li.logline.open');
  await open.locator('pre.stack-trace').waitFor();
  assert.equal(await open.locator('pre.stack-trace').textContent(), STACK, 'the stack is shown whole, line breaks kept');
  assert.equal(await open.locator('.stack').getAttribute('data-field'), 'err_stack');
  for (const [k, v] of [
    ['request_id', 'req-e1'],
    ['pool', 'orders-db'],
    ['err_type', 'Error'],
    ['err_message', 'timed out waiting for a database connection'],
  ])
    assert.equal((await open.locator(`tr[data-field="${k}"] td.mono`).first().textContent()).trim(), v, k);
  const lineHeight = await open.locator('pre.stack-trace').evaluate((el) => el.getBoundingClientRect().height);
  assert.ok(lineHeight > 40, `the stack takes several lines (${lineHeight}px)`);
  await shot('readable-logs');

  await page.goto(`${vigil.url}/ui/logs?${new URLSearchParams({ query: '{service="legacy"}', range: '15m' })}`);
  const plain = page.locator('li.logline').first();
  await plain.waitFor();
  assert.equal(await plain.getAttribute('data-format'), 'text');
  assert.equal((await plain.locator('[data-col="message"]').textContent()).trim(), 'GET /health 200 1.2ms');
});

test('logs: facets count the demo’s fields and a click filters by label or by field', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/logs?${new URLSearchParams({ query: '{service="shop"}', range: '15m' })}`);
  await page.waitForSelector('aside.facets details');
  const facetNames = await page.locator('aside.facets summary').allTextContents();
  for (const f of ['level', 'msg'])
    assert.ok(
      facetNames.some((n) => n.startsWith(`${f} `)),
      `${f} in ${facetNames.join(', ')}`,
    );
  assert.ok(!facetNames.some((n) => n.startsWith('request_id') || n.startsWith('err_stack')), 'ids and stacks are not facets');
  // A stream label narrows the selector.
  await page.click('aside.facets button[data-facet="level"][data-value="warn"]');
  await page.waitForFunction(() => document.querySelectorAll('li.logline').length === 2);
  assert.equal(new URL(page.url()).searchParams.get('query'), '{service="shop", level="warn"}');
  assert.ok((await page.locator('li.logline').allTextContents()).every((t) => t.includes('card declined')));
  // A line field adds a parser stage and a filter.
  await page.goto(`${vigil.url}/ui/logs?${new URLSearchParams({ query: '{service="shop"}', range: '15m' })}`);
  await page.click('aside.facets button[data-facet="msg"][data-value="order placed"]');
  await page.waitForFunction(() => document.querySelectorAll('li.logline').length === 6);
  assert.equal(new URL(page.url()).searchParams.get('query'), '{service="shop"} | json | msg="order placed"');
  assert.ok((await page.locator('li.logline').allTextContents()).every((t) => t.includes('order placed')));
});

test('explore: the time axis follows the chosen range (1 h: hh:mm, 7 d: dates) and spans it, not the data', { skip }, async () => {
  const expr = 'checkout_latency_seconds';
  const axis = async (range) => {
    await page.goto(`${vigil.url}/ui/explore?${new URLSearchParams({ expr, range })}`);
    await page.waitForSelector('.chart[data-x-labels]');
    const el = page.locator('.chart');
    return {
      labels: (await el.getAttribute('data-x-labels')).split('|').filter(Boolean),
      min: Number(await el.getAttribute('data-x-min')),
      max: Number(await el.getAttribute('data-x-max')),
    };
  };
  const now = Date.now() / 1000;
  const hour = await axis('1h');
  assert.ok(hour.labels.length >= 4 && hour.labels.length <= 13 && hour.labels.every((l) => /^\d{2}:\d{2}$/.test(l)), hour.labels.join(' '));
  assert.ok(Math.abs(hour.max - now) < 120 && Math.abs(hour.max - hour.min - 3600) < 1, `${hour.min}..${hour.max}`);
  await shot('readable-explore-1h');
  const week = await axis('7d');
  assert.ok(
    // One label a day, at midnight: what fits a week without labels running into each other.
    week.labels.length >= 6 && week.labels.length <= 8 && week.labels.every((l) => /^[A-Z][a-z]{2} \d{1,2}$/.test(l)),
    week.labels.join(' '),
  );
  // The data covers the last minute only; the axis still spans the week.
  assert.ok(Math.abs(week.max - week.min - 7 * 86_400) < 1, `${week.min}..${week.max}`);
  await shot('readable-explore-7d');
});

test('overview: the four golden signals head their cards, the pool under Saturation', { skip }, async () => {
  await page.goto(`${vigil.url}/ui/`);
  const row = page.locator('section[data-row="shop"]');
  await row.locator('a[data-signal="pool"]').waitFor();
  assert.deepEqual(await row.locator('.golden > section > h3').allTextContents(), ['Latency', 'Traffic', 'Errors', 'Saturation']);
  const under = async (g) => row.locator(`section[data-golden="${g}"] a[data-signal]`).evaluateAll((as) => as.map((a) => a.dataset.signal));
  assert.deepEqual(await under('latency'), ['latency']);
  assert.deepEqual(await under('traffic'), ['rps']);
  assert.ok((await under('errors')).includes('errors'));
  assert.deepEqual(await under('saturation'), ['cpu', 'memory', 'pool']);
  assert.equal((await row.locator('a[data-signal="pool"] .card-value').textContent()).trim(), '35%');
  assert.equal((await row.locator('a[data-signal="memory"] .card-value').textContent()).trim(), '180 MiB');
  // Cards of one signal never overlap those of the next.
  const boxes = await row
    .locator('.golden > section')
    .evaluateAll((ss) => ss.map((s) => s.getBoundingClientRect()).map((r) => [r.left, r.right, r.top, r.bottom]));
  for (let i = 1; i < boxes.length; i++) {
    const [a, b] = [boxes[i - 1], boxes[i]];
    assert.ok(a[1] <= b[0] + 0.5 || a[3] <= b[2] + 0.5, `sections ${i - 1} and ${i} overlap`);
  }
  await shot('readable-overview');
});

/** `n` server spans of `service` ending now, one in `errorEvery` failed, each `ms` long. */
function serverSpans(service, n, ms, errorEvery, seed) {
  const end = BigInt(Date.now()) * 1_000_000n;
  return Array.from({ length: n }, (_, i) => ({
    traceId: `${seed}${String(i).padStart(4, '0')}`.padStart(32, 'a'),
    spanId: String(i + 1).padStart(16, '0'),
    parentSpanId: '',
    name: 'process order',
    kind: 'server',
    startTimeUnixNano: end - BigInt(ms) * 1_000_000n,
    endTimeUnixNano: end,
    status: { code: i % errorEvery === 0 ? 'error' : 'unset', message: '' },
    attributes: {},
    resource: { 'service.name': service },
    scope: { name: 'test', version: '1' },
    events: [],
    links: [],
  }));
}

test('overview: a service that only sends traces gets RED cards from span metrics; a scraped one keeps its own', { skip }, async () => {
  // Two batches a second apart, so rate() over the flushed counters has an increase to see.
  for (const seed of ['b', 'c']) {
    for (const [service, n] of [
      ['mailer', 40],
      ['shop', 10],
    ]) {
      const res = await fetch(`${vigil.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeTracesData(serverSpans(service, n, 30, 4, seed)),
      });
      assert.equal(res.status, 200, await res.text());
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await page.goto(`${vigil.url}/ui/`);
  const row = page.locator('section[data-row="mailer"]');
  await row.locator('a[data-signal="span_errors"]').waitFor({ timeout: 20_000 });
  const signals = await row.locator('a[data-signal]').evaluateAll((as) => as.map((a) => a.dataset.signal));
  assert.deepEqual(signals, ['span_latency', 'span_rps', 'span_errors']);
  // One span in four failed.
  assert.equal((await row.locator('a[data-signal="span_errors"] .card-value').textContent()).trim(), '25%');
  // Its card opens the span-metrics query in Explore.
  assert.match(decodeURIComponent(await row.locator('a[data-signal="span_rps"]').getAttribute('href')), /traces_spanmetrics_calls_total\{service="mailer"/);
  const shop = await page.locator('section[data-row="shop"] a[data-signal]').evaluateAll((as) => as.map((a) => a.dataset.signal));
  assert.ok(shop.includes('rps') && !shop.some((s) => s.startsWith('span_')), shop.join(' '));
  await row.scrollIntoViewIfNeeded();
  await shot('readable-overview-traces-only');
});
