/**
 * The scrape loop's fast path: a series whose key bytes match the previous body's series at the
 * same position is taken from the cache without lexing its labels. These bodies change in every
 * way a target's can between scrapes; each series must keep exactly its own samples.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/time/manual_clock.js';
import { Matcher } from '../../core/model/matcher.js';
import { ExemplarStorage } from '../exemplars/storage.js';
import { compileRelabel } from '../relabel/relabel.js';
import { Head } from '../tsdb/head.js';
import { ScrapeLoop } from './loop.js';
import { settingsOf } from './manager.js';
import { populateTarget, type Target } from './target.js';
import { httpTransport } from './transport.js';
import { scrapeConfig, serve, stored } from '../../testkit/scrape.js';

const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of closers) await c();
});

const T0 = 1_700_000_000_000;
const STEP = 15_000;

async function setup(raw: Record<string, unknown> = {}, contentType = 'text/plain; version=0.0.4') {
  const state = { body: '', status: 200 };
  const srv = await serve((_req, res) => {
    res.writeHead(state.status, { 'content-type': contentType });
    res.end(state.body);
  });
  closers.push(srv.close);
  const cfg = scrapeConfig({ scrape_interval: '15s', static_configs: [{ targets: [srv.host] }], ...raw });
  const r = populateTarget(cfg.staticConfigs[0]!.labels, cfg.staticConfigs[0]!.targets[0]!, { ...cfg, relabel: compileRelabel(cfg.relabelConfigs) });
  assert.ok('target' in r);
  const transport = httpTransport(cfg);
  closers.push(() => transport.close());
  const head = new Head();
  const clock = new ManualClock(T0);
  const exemplars = new ExemplarStorage({ maxExemplars: 100 });
  const loop = new ScrapeLoop({ target: r.target as Target, settings: settingsOf(cfg), appendable: head, transport, now: () => clock.now(), exemplars });
  closers.push(() => loop.stop(false));
  let round = 0;
  const scrape = async (body: string, up = true): Promise<void> => {
    state.body = body;
    if (round++ > 0) clock.jump(STEP);
    await loop.scrapeOnce();
    if (up) assert.equal(loop.health, 'up', loop.lastError);
  };
  return { head, loop, scrape, exemplars, state };
}

const at = (k: number): number => T0 + k * STEP;

/** A family of `n` series `m{i="0"} … m{i="n-1"}` with value `v(i)`. */
function family(n: number, v: (i: number) => string, skip = new Set<number>()): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) if (!skip.has(i)) out.push(`m{i="${i}"} ${v(i)}`);
  return out;
}

function samplesOf(head: Head, i: string): Array<[number, number | 'stale']> {
  const s = stored(head, 'm').find((x) => x.labels['i'] === i);
  assert.ok(s, `series m{i="${i}"} stored`);
  return s.samples;
}

test('a series added, removed, moved or relabelled mid-body keeps its own samples', async () => {
  const { head, loop, scrape } = await setup();
  await scrape(['# HELP m A family.', '# TYPE m gauge', ...family(50, (i) => String(i))].join('\n') + '\n');
  // Round 1: a new series in the middle, one gone, two swapped, one label value changed in place.
  const r1 = family(50, (i) => String(100 + i), new Set([20]));
  r1.splice(10, 0, 'm{i="new"} 7');
  [r1[31], r1[32]] = [r1[32]!, r1[31]!];
  const k41 = r1.findIndex((l) => l.startsWith('m{i="41"}'));
  r1[k41] = r1[k41]!.replace('i="41"', 'i="41b"');
  await scrape(['# HELP m A family.', '# TYPE m gauge', ...r1].join('\n') + '\n');
  // Round 2: back to the original list: the positions all shift again.
  await scrape(['# HELP m A family.', '# TYPE m gauge', ...family(50, (i) => String(200 + i))].join('\n') + '\n');

  assert.deepEqual(samplesOf(head, '5'), [
    [at(0), 5],
    [at(1), 105],
    [at(2), 205],
  ]);
  assert.deepEqual(samplesOf(head, 'new'), [
    [at(1), 7],
    [at(2), 'stale'],
  ]);
  assert.deepEqual(samplesOf(head, '20'), [
    [at(0), 20],
    [at(1), 'stale'],
    [at(2), 220],
  ]);
  for (const i of ['31', '32', '49']) {
    const n = Number(i);
    assert.deepEqual(samplesOf(head, i), [
      [at(0), n],
      [at(1), 100 + n],
      [at(2), 200 + n],
    ]);
  }
  assert.deepEqual(samplesOf(head, '41'), [
    [at(0), 41],
    [at(1), 'stale'],
    [at(2), 241],
  ]);
  assert.deepEqual(samplesOf(head, '41b'), [
    [at(1), 141],
    [at(2), 'stale'],
  ]);
  assert.equal(stored(head, 'm').length, 52);
  const added = stored(head, 'scrape_series_added')[0]!.samples.map((s) => s[1]);
  assert.deepEqual(added, [50, 2, 0], 'only the new and the relabelled series are new');
  assert.deepEqual(loop.metadata.get('m'), { type: 'gauge', help: 'A family.', unit: '' });
});

test('a value that turns NaN, and a series that is listed twice, through the fast path', async () => {
  const { head, scrape } = await setup();
  await scrape('m{i="0"} 1\nm{i="1"} 1\nm{i="2"} 1\n');
  await scrape('m{i="0"} NaN\nm{i="1"} 2\nm{i="2"} 2\n');
  // The same series twice in one body: the first value stands (as in Prometheus, the second is a duplicate).
  await scrape('m{i="0"} 3\nm{i="1"} 3\nm{i="1"} 4\nm{i="2"} 3\n');
  await scrape('m{i="0"} 4\nm{i="1"} 5\nm{i="1"} 6\nm{i="2"} 4\n');
  const s0 = samplesOf(head, '0');
  assert.equal(s0.length, 4);
  assert.ok(Number.isNaN(s0[1]![1]), 'a scraped NaN is stored as NaN');
  assert.notEqual(s0[1]![1], 'stale', 'and is not a staleness marker');
  assert.deepEqual(samplesOf(head, '1'), [
    [at(0), 1],
    [at(1), 2],
    [at(2), 3],
    [at(3), 5],
  ]);
  assert.deepEqual(samplesOf(head, '2').at(-1), [at(3), 4]);
});

test('metric relabelling, honor_labels and sample_limit see recognised series as they saw them first', async () => {
  const raw = {
    honor_labels: true,
    sample_limit: 3,
    metric_relabel_configs: [{ source_labels: ['i'], regex: 'drop.*', action: 'drop' }],
  };
  const { head, loop, scrape } = await setup(raw);
  const body = (v: number, extra = ''): string => `m{i="0",job="own"} ${v}\nm{i="drop1"} ${v}\nm{i="1"} ${v}\nm{i="drop2"} ${v}\n${extra}`;
  await scrape(body(1));
  await scrape(body(2));
  assert.deepEqual(samplesOf(head, '0'), [
    [at(0), 1],
    [at(1), 2],
  ]);
  assert.equal(stored(head, 'm').find((s) => s.labels['i'] === '0')!.labels['job'], 'own', 'honor_labels kept the target label');
  assert.equal(
    stored(head, 'm').find((s) => s.labels['i']!.startsWith('drop')),
    undefined,
  );
  assert.deepEqual(stored(head, 'scrape_samples_post_metric_relabeling')[0]!.samples.at(-1), [at(1), 2]);
  // Two more kept series after the recognised ones pass the limit: the whole scrape fails and
  // what the last good scrape had goes stale.
  await scrape(body(3, 'm{i="2"} 3\nm{i="3"} 3\n'), false);
  assert.equal(loop.health, 'down');
  assert.match(loop.lastError, /sample limit exceeded \(limit: 3\)/);
  assert.deepEqual(samplesOf(head, '0').at(-1), [at(2), 'stale']);
  assert.deepEqual(stored(head, 'scrape_samples_post_metric_relabeling')[0]!.samples.at(-1), [at(2), 4]);
  // Back under the limit: recognised again from the failed body's order, samples resume.
  await scrape(body(4));
  assert.deepEqual(samplesOf(head, '1').at(-1), [at(3), 4]);
});

test('OpenMetrics exemplars and timestamps of recognised series are kept', async () => {
  const { head, scrape, exemplars } = await setup({}, 'application/openmetrics-text; version=1.0.0');
  const body = (v: number, ts: number, trace: string): string =>
    `# TYPE c counter\nc_total{i="0"} ${v} ${ts / 1000} # {trace_id="${trace}"} ${v}\nc_total{i="1"} ${v}\n# EOF\n`;
  await scrape(body(1, at(0) - 500, 'aaa'));
  await scrape(body(2, at(1) - 500, 'bbb'));
  const s = stored(head, 'c_total').find((x) => x.labels['i'] === '0')!;
  assert.deepEqual(s.samples, [
    [at(0) - 500, 1],
    [at(1) - 500, 2],
  ]);
  const ex = exemplars.select(-Infinity, Infinity, [[new Matcher('=', '__name__', 'c_total')]]);
  const traces = ex.flatMap((e) => e.exemplars.map((x) => x.labels.find((l) => l.name === 'trace_id')?.value));
  assert.deepEqual(traces.sort(), ['aaa', 'bbb']);
});

test('the loop keeps bodies in its own two buffers: growing, shrinking, reordered and after a failed scrape, each series keeps its samples', async () => {
  const { head, scrape, state } = await setup();
  // Keys of one length, so a previous body overwritten by the next would put another series' key
  // at the offsets the fast path compares, and misattribute samples.
  const body = (ids: number[], v: (i: number) => number): string =>
    ['# TYPE m gauge', ...ids.map((i) => `m{i="${String(i).padStart(3, '0')}"} ${v(i)}`)].join('\n') + '\n';
  const up = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  await scrape(body(up(50), (i) => i));
  await scrape(body(up(500), (i) => 1000 + i)); // a larger body: new buffers
  state.status = 500; // no body to parse: the previous one must stay as it was
  await scrape('', false);
  state.status = 200;
  await scrape(body(up(500).reverse(), (i) => 3000 + i));
  await scrape(body(up(5), (i) => 4000 + i)); // far smaller: a buffer is given back
  await scrape(body(up(5).reverse(), (i) => 5000 + i));
  const of = (i: number): Array<[number, number | 'stale']> => samplesOf(head, String(i).padStart(3, '0'));
  assert.deepEqual(of(3), [
    [at(0), 3],
    [at(1), 1003],
    [at(2), 'stale'],
    [at(3), 3003],
    [at(4), 4003],
    [at(5), 5003],
  ]);
  assert.deepEqual(of(499), [
    [at(1), 1499],
    [at(2), 'stale'],
    [at(3), 3499],
    [at(4), 'stale'],
  ]);
  for (let i = 0; i < 500; i++) {
    assert.deepEqual(
      of(i).find((x) => x[0] === at(3)),
      [at(3), 3000 + i],
      `series ${i} in the reversed body`,
    );
    if (i < 5) assert.deepEqual(of(i).at(-1), [at(5), 5000 + i], `series ${i} in the last body`);
  }
});
