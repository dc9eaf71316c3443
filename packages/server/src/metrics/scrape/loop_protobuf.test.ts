import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramString } from '../../core/model/histogram.js';
import { labelsToRecord } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { isStaleNaN } from '../../core/model/value.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { ExemplarStorage } from '../exemplars/storage.js';
import { compileRelabel } from '../relabel/relabel.js';
import type { Queryable } from '../storage/interface.js';
import { Head } from '../tsdb/head.js';
import { ScrapeLoop } from './loop.js';
import { settingsOf } from './manager.js';
import { populateTarget, type Target } from './target.js';
import { httpTransport } from './transport.js';
import { scrapeConfig, serve, stored } from '../../testkit/scrape.js';
import { DualHistogram, encodeMetricFamilies, PROTOBUF_CONTENT_TYPE } from '../../testkit/prom_protobuf.js';

const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of closers) await c();
});

const T0 = 1_700_000_000_000;

/** A protobuf target whose body the test sets between scrapes. */
async function protobufTarget() {
  const state: { body: Buffer; accept: string } = { body: Buffer.alloc(0), accept: '' };
  const srv = await serve((req, res) => {
    state.accept = req.headers.accept ?? '';
    res.writeHead(200, { 'content-type': PROTOBUF_CONTENT_TYPE }).end(state.body);
  });
  closers.push(srv.close);
  return { ...srv, state };
}

function loopFor(host: string, raw: Record<string, unknown>, head: Head, clock: ManualClock, exemplars?: ExemplarStorage): ScrapeLoop {
  const cfg = scrapeConfig({ scrape_interval: '15s', static_configs: [{ targets: [host] }], ...raw });
  const r = populateTarget(cfg.staticConfigs[0]!.labels, cfg.staticConfigs[0]!.targets[0]!, { ...cfg, relabel: compileRelabel(cfg.relabelConfigs) });
  assert.ok('target' in r);
  const transport = httpTransport(cfg);
  closers.push(() => transport.close());
  const loop = new ScrapeLoop({
    target: r.target as Target,
    settings: settingsOf(cfg),
    appendable: head,
    transport,
    now: () => clock.now(),
    ...(exemplars ? { exemplars } : {}),
  });
  closers.push(() => loop.stop(false));
  return loop;
}

/** Every histogram sample of the series matching `nameRe`, as text (`stale` for a staleness marker). */
function storedHistograms(store: Queryable, nameRe: string): Record<string, Array<[number, string]>> {
  const q = store.querier(-Infinity, Infinity);
  try {
    const set = q.select({ start: -8e15, end: 8e15 }, [new Matcher('=~', '__name__', nameRe)]);
    const out: Record<string, Array<[number, string]>> = {};
    while (set.next()) {
      const s = set.at();
      const it = s.iterator();
      const samples: Array<[number, string]> = [];
      while (it.next()) {
        const h = it.h?.();
        samples.push([it.t(), h ? histogramString(h) : isStaleNaN(it.v()) ? 'stale' : String(it.v())]);
      }
      out[JSON.stringify(labelsToRecord(s.labels))] = samples;
    }
    return out;
  } finally {
    q.close();
  }
}

test('a protobuf scrape stores native histograms, counters and exemplars; a gone target leaves stale markers', async () => {
  const t = await protobufTarget();
  const h = new DualHistogram([0.5, 1], 1);
  h.observe(0.3, { labels: { trace_id: 'a1' }, value: 0.3, ts: T0 - 500 });
  const body = (): Buffer =>
    encodeMetricFamilies([
      { name: 'jobs_total', type: 'counter', metrics: [{ counter: { value: h.count, exemplar: { labels: { trace_id: 'c1' }, value: 1, ts: T0 - 100 } } }] },
      { name: 'lat_seconds', type: 'histogram', metrics: [{ histogram: h.encode() }] },
    ]);
  t.state.body = body();
  const head = new Head();
  const clock = new ManualClock(T0);
  const exemplars = new ExemplarStorage({ maxExemplars: 100 });
  const loop = loopFor(t.host, { scrape_native_histograms: true }, head, clock, exemplars);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'up', loop.lastError);
  assert.match(t.state.accept, /^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited;q=0\.6,/);
  h.observe(0.8);
  h.observe(-2);
  t.state.body = body();
  clock.jump(15_000);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'up', loop.lastError);
  const key = JSON.stringify({ __name__: 'lat_seconds', instance: t.host, job: 'test' });
  assert.deepEqual(storedHistograms(head, 'lat_seconds.*'), {
    [key]: [
      [T0, '{count:1, sum:0.3, [-2.938735877055719e-39,2.938735877055719e-39]:0, (0.25,0.3535533905932738]:1}'],
      [
        T0 + 15_000,
        '{count:3, sum:-0.8999999999999999, [-2,-1.4142135623730951):1, [-2.938735877055719e-39,2.938735877055719e-39]:0, (0.25,0.3535533905932738]:1, (0.7071067811865476,1]:1}',
      ],
    ],
  });
  assert.deepEqual(stored(head, 'jobs_total')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 3],
  ]);
  assert.deepEqual(stored(head, 'scrape_series_added')[0]!.samples, [
    [T0, 2],
    [T0 + 15_000, 0],
  ]);
  const ex = exemplars.select(0, T0 + 60_000, [[new Matcher('=~', '__name__', 'jobs_total|lat_seconds')]]);
  assert.deepEqual(ex.map((r) => [labelsToRecord(r.seriesLabels)['__name__'], r.exemplars.map((e) => [labelsToRecord(e.labels)['trace_id'], e.ts])]).sort(), [
    ['jobs_total', [['c1', T0 - 100]]],
    ['lat_seconds', [['a1', T0 - 500]]],
  ]);
  clock.jump(15_000);
  await loop.stop(true);
  assert.deepEqual(storedHistograms(head, 'lat_seconds')[key]!.at(-1), [T0 + 30_000, 'stale']);
});

test('a protobuf scrape with classic histograms kept, or converted to custom buckets', async () => {
  const t = await protobufTarget();
  const h = new DualHistogram([1, 10], 0);
  for (const v of [0.5, 5, 50]) h.observe(v);
  t.state.body = encodeMetricFamilies([
    { name: 'both', type: 'histogram', metrics: [{ histogram: h.encode() }] },
    { name: 'classic', type: 'histogram', metrics: [{ histogram: h.encode(true) }] },
  ]);
  const head = new Head();
  const loop = loopFor(
    t.host,
    { scrape_native_histograms: true, always_scrape_classic_histograms: true, convert_classic_histograms_to_nhcb: true },
    head,
    new ManualClock(T0),
  );
  await loop.scrapeOnce();
  assert.equal(loop.health, 'up', loop.lastError);
  const names = (re: string): string[] =>
    Object.keys(storedHistograms(head, re)).map(
      (k) => (JSON.parse(k) as Record<string, string>)['__name__']! + ((JSON.parse(k) as Record<string, string>)['le'] ?? ''),
    );
  assert.deepEqual(names('both.*'), ['both', 'both_bucket+Inf', 'both_bucket1.0', 'both_bucket10.0', 'both_count', 'both_sum']);
  assert.deepEqual(names('classic.*'), ['classic', 'classic_bucket+Inf', 'classic_bucket1.0', 'classic_bucket10.0', 'classic_count', 'classic_sum']);
  const classic = Object.values(storedHistograms(head, 'classic'))[0]!;
  assert.deepEqual(classic, [[T0, '{count:3, sum:55.5, (-Inf,1]:1, (1,10]:1, (10,+Inf]:1}']]);
});

test('a malformed protobuf body fails the scrape with the problem named, and stores nothing of it', async () => {
  const t = await protobufTarget();
  const good = encodeMetricFamilies([{ name: 'g', type: 'gauge', metrics: [{ gauge: 1 }] }]);
  t.state.body = Buffer.concat([good, Buffer.from([0x20, 0x0a])]);
  const head = new Head();
  const loop = loopFor(t.host, { scrape_native_histograms: true }, head, new ManualClock(T0));
  await loop.scrapeOnce();
  assert.equal(loop.health, 'down');
  assert.match(
    loop.lastError,
    new RegExp(`protobuf exposition, byte ${good.length}: MetricFamily of 32 bytes runs past the end of the body \\(1 bytes left\\)`),
  );
  assert.deepEqual(stored(head, 'g'), []);
  assert.deepEqual(stored(head, 'up')[0]!.samples, [[T0, 0]]);
});

test('a text scrape with convert_classic_histograms_to_nhcb stores custom-bucket histograms, scrape after scrape', async () => {
  const state = { n: 0 };
  const srv = await serve((_req, res) => {
    state.n++;
    const k = state.n;
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(
        `# TYPE h histogram\nh_bucket{a="1",le="1"} ${k}\nh_bucket{a="1",le="+Inf"} ${2 * k}\nh_sum{a="1"} ${3 * k}\nh_count{a="1"} ${2 * k}\n` +
          `h_bucket{a="2",le="1"} 0\nh_bucket{a="2",le="+Inf"} ${k}\nh_sum{a="2"} ${k}\nh_count{a="2"} ${k}\n# TYPE g gauge\ng ${k}\n`,
      );
  });
  closers.push(srv.close);
  const head = new Head();
  const clock = new ManualClock(T0);
  const loop = loopFor(srv.host, { convert_classic_histograms_to_nhcb: true }, head, clock);
  for (let i = 0; i < 3; i++) {
    await loop.scrapeOnce();
    assert.equal(loop.health, 'up', loop.lastError);
    clock.jump(15_000);
  }
  const key = (a: string): string => JSON.stringify({ __name__: 'h', a, instance: srv.host, job: 'test' });
  assert.deepEqual(storedHistograms(head, 'h.*'), {
    [key('1')]: [
      [T0, '{count:2, sum:3, (-Inf,1]:1, (1,+Inf]:1}'],
      [T0 + 15_000, '{count:4, sum:6, (-Inf,1]:2, (1,+Inf]:2}'],
      [T0 + 30_000, '{count:6, sum:9, (-Inf,1]:3, (1,+Inf]:3}'],
    ],
    [key('2')]: [
      [T0, '{count:1, sum:1, (1,+Inf]:1}'],
      [T0 + 15_000, '{count:2, sum:2, (1,+Inf]:2}'],
      [T0 + 30_000, '{count:3, sum:3, (1,+Inf]:3}'],
    ],
  });
  assert.deepEqual(stored(head, 'g')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 2],
    [T0 + 30_000, 3],
  ]);
  assert.deepEqual(stored(head, 'scrape_series_added')[0]!.samples, [
    [T0, 3],
    [T0 + 15_000, 0],
    [T0 + 30_000, 0],
  ]);
});

test('native_histogram_bucket_limit and native_histogram_min_bucket_factor store histograms at a lower resolution', async () => {
  const t = await protobufTarget();
  const h = new DualHistogram([1], 3);
  for (const v of [0.3, 0.5, 0.7, 1.1, 1.5, 2.5, 3.5, 6]) h.observe(v);
  t.state.body = encodeMetricFamilies([{ name: 'lat', type: 'histogram', metrics: [{ histogram: h.encode() }] }]);
  const run = async (raw: Record<string, unknown>): Promise<string> => {
    const head = new Head();
    const loop = loopFor(t.host, { scrape_native_histograms: true, ...raw }, head, new ManualClock(T0));
    await loop.scrapeOnce();
    if (loop.health !== 'up') return loop.lastError;
    return Object.values(storedHistograms(head, 'lat'))[0]![0]![1];
  };
  assert.equal(
    await run({}),
    '{count:8, sum:16.1, [-2.938735877055719e-39,2.938735877055719e-39]:0, (0.29730177875068026,0.3242098886627524]:1, (0.4585020216023356,0.5]:1, ' +
      '(0.6484197773255048,0.7071067811865476]:1, (1.0905077326652577,1.189207115002721]:1, (1.4142135623730951,1.542210825407941]:1, ' +
      '(2.378414230005442,2.5936791093020193]:1, (3.3635856610148585,3.668016172818685]:1, (5.656854249492381,6.168843301631764]:1}',
  );
  // At most 3 buckets: schema 3 → 0 leaves 5, → −1 leaves 3.
  assert.equal(
    await run({ native_histogram_bucket_limit: 3 }),
    '{count:8, sum:16.1, [-2.938735877055719e-39,2.938735877055719e-39]:0, (0.25,1]:3, (1,4]:4, (4,16]:1}',
  );
  // Buckets at least 4 wide: schema −1 at most.
  assert.equal(
    await run({ native_histogram_min_bucket_factor: 4 }),
    '{count:8, sum:16.1, [-2.938735877055719e-39,2.938735877055719e-39]:0, (0.25,1]:3, (1,4]:4, (4,16]:1}',
  );
  assert.match(await run({ native_histogram_bucket_limit: 1 }), /^histogram bucket limit exceeded \(limit: 1\)$/);
});
