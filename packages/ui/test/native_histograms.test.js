/* global fetch, URLSearchParams, localStorage, document, URL */
// Native histograms in Explore, in Debian's Chromium (playwright-core), against a started Vigil whose
// TSDB holds an hour of a latency histogram (schema 3, two routes, 15 s apart) written through its
// appender: around 40 ms all along, with a slow mode near 1.2 s for ten minutes. Explore must draw
// them as a heatmap (buckets on a log axis, colour by observations per second), name the bucket under
// the pointer with the value the API's samples give, and show p50/p90/p99 agreeing with the server's
// histogram_quantile. Screenshots go to packages/ui/test-artifacts/. Runs from packages/ui/dist/test/.
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

const { startServer } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { FloatHistogram } = await import(path.join(repo, 'packages/server/dist-test/core/model/histogram.js'));
const { labelsFrom } = await import(path.join(repo, 'packages/server/dist-test/core/model/labels.js'));

const skip = noChromium;

const SCHEMA = 3;
const STEP_MS = 15_000;
const SLOW_FROM_MIN = 35;
const SLOW_TO_MIN = 45;

let vigil, browser, page, end;

/** A deterministic uniform generator (a linear congruential one), so every run draws the same data. */
function random(seed) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** The schema-3 bucket index of a positive value: bucket i holds (2^((i-1)/8), 2^(i/8)]. */
const bucketOf = (v) => Math.ceil(Math.log2(v) * 2 ** SCHEMA);

/** The bounds of the bucket holding `v`, and its geometric middle (where the pointer aims, clear of the edges). */
function bucketAround(v) {
  const i = bucketOf(v);
  return { lower: 2 ** ((i - 1) / 2 ** SCHEMA), upper: 2 ** (i / 2 ** SCHEMA), middle: 2 ** ((i - 0.5) / 2 ** SCHEMA) };
}

/** A cumulative histogram from bucket counts by index: spans over the used indices, absolute counts. */
function histogramOf(counts, count, sum) {
  const idx = [...counts.keys()].sort((a, b) => a - b);
  const spans = [];
  const buckets = [];
  let prev;
  for (const i of idx) {
    if (prev !== undefined && i === prev + 1) spans[spans.length - 1].length++;
    else spans.push({ offset: prev === undefined ? i : i - prev - 1, length: 1 });
    buckets.push(counts.get(i));
    prev = i;
  }
  return FloatHistogram.of({ schema: SCHEMA, count, sum, positiveSpans: spans, positiveBuckets: buckets });
}

/** An hour of one route's latency histogram, appended sample by sample. */
function writeRoute(app, route, seed, perStep, t0) {
  const rnd = random(seed);
  const counts = new Map();
  let count = 0;
  let sum = 0;
  let ref = 0;
  const labels = labelsFrom({ __name__: 'rpc_duration_seconds', job: 'api', route });
  for (let k = 0; k <= 60 * 4; k++) {
    const t = t0 + k * STEP_MS;
    const minute = k / 4;
    const slow = minute >= SLOW_FROM_MIN && minute < SLOW_TO_MIN;
    for (let n = 0; n < perStep; n++) {
      // Log-normal around 40 ms; while slow, three requests in ten wait about 1.2 s.
      const gauss = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      const v = slow && rnd() < 0.3 ? 1.2 * Math.exp(0.15 * gauss) : 0.04 * Math.exp(0.5 * gauss);
      const b = bucketOf(v);
      counts.set(b, (counts.get(b) ?? 0) + 1);
      count++;
      sum += v;
    }
    ref = app.appendHistogram(ref, labels, t, histogramOf(counts, count, sum));
  }
}

before(async () => {
  if (skip) return;
  fs.mkdirSync(artifacts, { recursive: true });
  vigil = await startServer();
  end = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const app = vigil.server.db.appender();
  writeRoute(app, '/checkout', 7, 300, end - 60 * 60_000);
  writeRoute(app, '/search', 11, 150, end - 60 * 60_000);
  app.commit();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await vigil?.stop();
});

async function api(pathAndQuery) {
  const body = await fetch(`${vigil.url}${pathAndQuery}`).then((r) => r.json());
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data;
}

async function instant(q, timeSec) {
  return (await api(`/api/v1/query?${new URLSearchParams({ query: q, time: String(timeSec) })}`)).result;
}

/** Opens Explore on the histogram and waits for the heatmap and the quantile figures. */
async function openHeatmap(theme) {
  await page.goto(`${vigil.url}/ui/`);
  await page.evaluate((t) => (t ? localStorage.setItem('vigil.theme', t) : localStorage.removeItem('vigil.theme')), theme);
  await page.goto(`${vigil.url}/ui/explore?${new URLSearchParams({ expr: 'rpc_duration_seconds', range: '1h' })}`);
  await page.waitForSelector('.chart.heat[data-draw-ms]', { timeout: 30_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('.heatmap .q-value')].every((e) => e.textContent !== '…'), null, { timeout: 30_000 });
}

/** Points the mouse at time `tSec` and value `y` on the heatmap (log y axis from its data attributes). */
async function hover(tSec, y) {
  const heat = await page.$('.chart.heat');
  const { yMin, yMax } = await heat.evaluate((e) => ({ yMin: Number(e.dataset.yMin), yMax: Number(e.dataset.yMax) }));
  const over = await (await page.$('.chart.heat .u-over')).boundingBox();
  const [from, to] = await page.evaluate(() => {
    const u = document.querySelector('.chart.heat');
    return [Number(u.dataset.xFrom), Number(u.dataset.xTo)];
  });
  const fx = (tSec - from) / (to - from);
  const fy = (Math.log(y) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin));
  await page.mouse.move(over.x + fx * over.width, over.y + (1 - fy) * over.height);
  await page.waitForFunction(() => document.querySelector('.chart.heat')?.dataset.hover !== undefined, null, { timeout: 5_000 });
  return JSON.parse(await heat.evaluate((e) => e.dataset.hover));
}

/** Observations per second in bucket (lower, upper] between the samples at `t - step` and `t`, all routes, from the query API. */
async function rateInBucket(t, stepSec, lower, upper) {
  const total = async (at) => {
    let n = 0;
    for (const s of await instant('rpc_duration_seconds', at))
      for (const [, lo, hi, c] of s.histogram[1].buckets ?? []) if (Number(lo) === lower && Number(hi) === upper) n += Number(c);
    return n;
  };
  return ((await total(t)) - (await total(t - stepSec))) / stepSec;
}

test('Explore draws native histograms as a heatmap with p50/p90/p99, and its hover names the bucket and its rate', { skip, timeout: 120_000 }, async (t) => {
  await openHeatmap(undefined);
  const heat = await page.$('.chart.heat');
  const d = await heat.evaluate((e) => ({ ...e.dataset }));
  assert.ok(Number(d.cells) > 500, `cells drawn: ${d.cells}`);
  assert.ok(Number(d.yMin) < 0.02 && Number(d.yMax) > 1.2, `the y axis holds the fast and the slow mode: ${d.yMin}..${d.yMax}`);
  assert.match(d.yLabels, /ms/, `bucket boundaries labelled in time units: ${d.yLabels}`);
  // Thousands of cells under three lines: drawn well inside a second even on a loaded machine.
  assert.ok(Number(d.drawMs) < 1000, `first draw took ${d.drawMs} ms`);
  t.diagnostic(`heatmap: ${d.cells} cells, first draw ${d.drawMs} ms`);
  const summary = await page.textContent('[data-testid="histogram-summary"]');
  assert.match(summary, /2 native-histogram series \(summed\)/);
  const step = Number(/step (\d+)s/.exec(summary)?.[1]);
  assert.ok(step > 0, summary);
  await page.screenshot({ path: path.join(artifacts, 'explore-native-histogram.png') });

  // The figures: histogram_quantile over the hour, as the server computes it (the window ends at
  // the page's load, a few seconds before this query: the figures agree closely, not exactly).
  const figures = Object.fromEntries(await page.$$eval('.heatmap .quantile', (qs) => qs.map((q) => [q.dataset.q, q.querySelector('.q-value').textContent])));
  const seconds = (text) => {
    const m = /^([\d.]+)\s*(ms|s|µs)$/.exec(text.trim());
    assert.ok(m, `a duration: ${text}`);
    return Number(m[1]) * (m[2] === 'ms' ? 1e-3 : m[2] === 'µs' ? 1e-6 : 1);
  };
  const nowSec = Date.now() / 1000;
  for (const [name, q] of [
    ['p50', 0.5],
    ['p90', 0.9],
    ['p99', 0.99],
  ]) {
    const [r] = await instant(`histogram_quantile(${q}, sum(increase(rpc_duration_seconds[3600s])))`, nowSec);
    const want = Number(r.value[1]);
    const got = seconds(figures[name]);
    assert.ok(Math.abs(got - want) / want < 0.05, `${name}: shown ${figures[name]}, server ${want}`);
  }
  assert.ok(seconds(figures.p50) > 0.02 && seconds(figures.p50) < 0.08, `p50 near 40 ms: ${figures.p50}`);
  assert.ok(seconds(figures.p99) > 0.8, `p99 in the slow mode: ${figures.p99}`);
  const legend = await page.textContent('.chart.heat .u-legend');
  for (const q of ['p50', 'p90', 'p99']) assert.ok(legend.includes(q), legend);

  // Hover in the slow ten minutes at 1.2 s: that bucket, with the rate the samples give.
  const slowT = end / 1000 - (60 - (SLOW_FROM_MIN + SLOW_TO_MIN) / 2) * 60;
  const slowBucket = bucketAround(1.2);
  const cell = await hover(slowT, slowBucket.middle);
  const close = (a, b) => Math.abs(a - b) < 1e-9 * b;
  assert.ok(close(cell.lower, slowBucket.lower) && close(cell.upper, slowBucket.upper), `the bucket under the pointer holds 1.2 s: ${JSON.stringify(cell)}`);
  assert.ok(Math.abs(cell.t - slowT) <= step, `the column under the pointer: ${cell.t} vs ${slowT}`);
  const want = await rateInBucket(cell.t, step, cell.lower, cell.upper);
  assert.ok(want > 0, 'observations in that bucket then');
  assert.ok(Math.abs(cell.value - want) < 1e-9 * Math.max(1, want), `hover ${cell.value}/s, from the samples ${want}/s`);
  const tip = await page.textContent('.heat-tip');
  assert.match(tip, /\d{2}:\d{2}:\d{2}\s+·\s+[\d.]+ s – [\d.]+ s\s+·\s+[\d.]+\/s observations/, tip);
  await page.screenshot({ path: path.join(artifacts, 'explore-native-histogram-hover.png') });

  // Before the incident, at 40 ms: the bucket holding the fast mode.
  await page.mouse.move(0, 0);
  const quietT = end / 1000 - 50 * 60;
  const fastBucket = bucketAround(0.04);
  const fast = await hover(quietT, fastBucket.middle);
  assert.ok(close(fast.lower, fastBucket.lower) && close(fast.upper, fastBucket.upper), JSON.stringify(fast));
  assert.ok(fast.value > 0 && close(fast.value, await rateInBucket(fast.t, step, fast.lower, fast.upper)), JSON.stringify(fast));

  // An aggregation of the counters goes through a subquery for its quantiles; the figures stay the same.
  await page.goto(`${vigil.url}/ui/explore?${new URLSearchParams({ expr: 'sum by (job) (rpc_duration_seconds)', range: '1h' })}`);
  await page.waitForSelector('.chart.heat[data-draw-ms]', { timeout: 30_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('.heatmap .q-value')].every((e) => e.textContent !== '…'), null, { timeout: 30_000 });
  const summed = Object.fromEntries(await page.$$eval('.heatmap .quantile', (qs) => qs.map((q) => [q.dataset.q, q.querySelector('.q-value').textContent])));
  for (const q of ['p50', 'p90', 'p99']) assert.ok(Math.abs(seconds(summed[q]) / seconds(figures[q]) - 1) < 0.1, `${q}: ${summed[q]} vs ${figures[q]}`);

  // The dark theme, for the screenshot a tired eye reads at night.
  await openHeatmap('dark');
  await hover(slowT, slowBucket.middle);
  await page.screenshot({ path: path.join(artifacts, 'explore-native-histogram-dark.png') });

  // The table view lists the histogram samples instead of failing on their missing value.
  await page.goto(`${vigil.url}/ui/explore?${new URLSearchParams({ expr: 'rpc_duration_seconds', view: 'table' })}`);
  await page.waitForSelector('table.data tbody tr');
  const rows = await page.$$eval('table.data tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.equal(rows.length, 2);
  for (const r of rows) assert.match(r, /histogram: count \d+, sum [\d.]+, \d+ buckets/);
});

test('a dashboard stat panel over native histograms says so and links to the heatmap, instead of failing', { skip, timeout: 60_000 }, async () => {
  const dashboard = {
    uid: 'histograms',
    title: 'Histogram panels',
    panels: [
      { type: 'stat', title: 'Raw histogram', gridPos: { x: 0, y: 0, w: 12, h: 6 }, targets: [{ expr: 'rpc_duration_seconds' }] },
      {
        type: 'stat',
        title: 'p99',
        gridPos: { x: 12, y: 0, w: 12, h: 6 },
        targets: [{ expr: 'histogram_quantile(0.99, sum(rate(rpc_duration_seconds[5m])))' }],
      },
    ],
  };
  await page.goto(`${vigil.url}/ui/dashboards`);
  await page.click('text=Import…');
  await page.fill('textarea[aria-label="Dashboard JSON"]', JSON.stringify(dashboard));
  await page.click('.editor-panel button.primary');
  const raw = '[data-dashboard="histograms"] [data-panel="Raw histogram"]';
  await page.waitForSelector(`${raw} [data-testid="panel-histograms"]`, { timeout: 30_000 });
  assert.match(await page.textContent(`${raw} [data-testid="panel-histograms"]`), /native histograms/);
  const link = new URL(await page.getAttribute(`${raw} [data-testid="panel-histograms"] a`, 'href'), vigil.url);
  assert.equal(link.pathname, '/ui/explore');
  assert.equal(link.searchParams.get('expr'), 'rpc_duration_seconds');
  // The quantile beside it is one number, drawn as usual.
  await page.waitForSelector('[data-dashboard="histograms"] [data-panel="p99"] .card-value');
  assert.match(await page.textContent('[data-dashboard="histograms"] [data-panel="p99"] .card-value'), /\d/);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-native-histogram-panels.png') });
});
