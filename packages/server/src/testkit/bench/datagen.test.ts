import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnappyDecoder } from '../../core/util/snappy.js';
import { decodeLabels, decodeWriteRequest } from '../../metrics/remotewrite/proto.js';
import { labelsKey, type Labels } from '../../core/model/labels.js';
import { defaultEndMs, generateDataset, mulberry32, type DataOptions, type Dataset } from './datagen.js';

const STEP = 15_000;
const END = defaultEndMs(Date.UTC(2025, 0, 1, 12, 0, 0), STEP);
const OPTS: DataOptions = { series: 250, samples: 12, seriesPerRequest: 60, stepMs: STEP, endMs: END, seed: 7 };

interface Decoded {
  labels: Labels[];
  ts: number[];
  vs: number[];
}

/** Decodes one request body back into series labels and their (single) samples. */
function decode(body: Buffer): Decoded {
  const raw = new SnappyDecoder().decode(body);
  assert.ok(Buffer.isBuffer(raw));
  const out: Decoded = { labels: [], ts: [], vs: [] };
  decodeWriteRequest(raw, {
    series(buf, start, end, labels) {
      out.labels.push(labels ?? decodeLabels(buf, start, end));
      return out.labels.length - 1;
    },
    sample(handle, t, v) {
      assert.equal(handle, out.ts.length, 'one sample per series, in series order');
      out.ts.push(t);
      out.vs.push(v);
    },
  });
  return out;
}

let cached: Dataset | undefined;
function data(): Dataset {
  cached ??= generateDataset(OPTS);
  return cached;
}

test('mulberry32 is deterministic and in [0, 1)', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
  assert.notEqual(mulberry32(1)(), mulberry32(2)());
});

test('the same options give byte-identical requests; another seed does not', () => {
  const a = data();
  const b = generateDataset(OPTS);
  assert.equal(a.totalRequests, b.totalRequests);
  assert.equal(a.groups.length, b.groups.length);
  for (let g = 0; g < a.groups.length; g++) {
    const ra = a.groups[g]!.requests;
    const rb = b.groups[g]!.requests;
    assert.equal(ra.length, rb.length);
    for (let i = 0; i < ra.length; i++) assert.ok(ra[i]!.equals(rb[i]!), `group ${g} request ${i} differs`);
  }
  const c = generateDataset({ ...OPTS, seed: 8 });
  assert.ok(!a.groups[0]!.requests[0]!.equals(c.groups[0]!.requests[0]!));
});

test('series are split into groups of seriesPerRequest, the last one smaller', () => {
  const d = data();
  assert.equal(d.groups.length, 5);
  assert.deepEqual(
    d.groups.map((g) => [g.firstSeries, g.seriesCount, g.requests.length]),
    [
      [0, 60, 12],
      [60, 60, 12],
      [120, 60, 12],
      [180, 60, 12],
      [240, 10, 12],
    ],
  );
  assert.equal(d.totalRequests, 5 * 12);
  assert.equal(d.totalSamples, 250 * 12);
});

test("each request holds one sample of each of its group's series, and a group's requests go forward in time", () => {
  const d = data();
  let samples = 0;
  for (const g of d.groups) {
    const want = d.labels.slice(g.firstSeries, g.firstSeries + g.seriesCount).map(labelsKey);
    let prev: number[] | undefined;
    for (const body of g.requests) {
      const r = decode(body);
      assert.deepEqual(r.labels.map(labelsKey), want);
      samples += r.ts.length;
      for (let i = 0; i < r.ts.length; i++) {
        const t = r.ts[i]!;
        assert.ok(t <= END && t > END - OPTS.samples * STEP, `timestamp ${t} outside the data range`);
        assert.ok(Number.isFinite(r.vs[i]!));
        // Each series is scraped at a fixed phase, so its samples are exactly one step apart.
        if (prev) assert.equal(t - prev[i]!, STEP);
      }
      prev = r.ts;
    }
  }
  assert.equal(samples, d.totalSamples);
});

test('timestamps of the default end time fall within the last 2.5 hours', () => {
  const now = Date.now();
  const d = generateDataset({ ...OPTS, series: 20, samples: 480, seriesPerRequest: 20, endMs: defaultEndMs(now, STEP) });
  assert.ok(d.maxTimeMs <= now - 10 * 60_000);
  assert.ok(d.minTimeMs > now - 2.5 * 3_600_000);
  assert.equal(defaultEndMs(now, STEP) % STEP, 0);
});

test('series look like exporter output: sorted unique label sets with name, instance, job and about six labels', () => {
  const d = generateDataset({ ...OPTS, series: 3000, samples: 1, seriesPerRequest: 3000 });
  const keys = new Set(d.labels.map(labelsKey));
  assert.equal(keys.size, 3000, 'label sets are unique');
  const names = new Set<string>();
  let total = 0;
  for (const ls of d.labels) {
    const ns = ls.map((l) => l.name);
    assert.deepEqual([...ns].sort(), ns, 'labels sorted by name');
    for (const need of ['__name__', 'instance', 'job']) assert.ok(ns.includes(need), `missing ${need}`);
    assert.ok(ls.length >= 4 && ls.length <= 8, `${ls.length} labels`);
    names.add(ls[0]!.value);
    total += ls.length;
  }
  const avg = total / d.labels.length;
  assert.ok(avg > 5 && avg < 7, `average ${avg} labels`);
  assert.ok(names.size >= 40, `${names.size} metric names`);
});

test('counters mostly increase, with an occasional reset', () => {
  const d = generateDataset({ ...OPTS, series: 400, samples: 60, seriesPerRequest: 400 });
  const requests = d.groups[0]!.requests.map(decode);
  let counters = 0;
  let withReset = 0;
  for (let i = 0; i < d.labels.length; i++) {
    if (!d.labels[i]![0]!.value.endsWith('_total')) continue;
    counters++;
    let drops = 0;
    for (let s = 1; s < requests.length; s++) if (requests[s]!.vs[i]! < requests[s - 1]!.vs[i]!) drops++;
    assert.ok(drops <= 1, `counter ${labelsKey(d.labels[i]!)} dropped ${drops} times`);
    if (drops) withReset++;
  }
  assert.ok(counters > 50);
  assert.ok(withReset > 0 && withReset < counters * 0.2, `${withReset} of ${counters} counters reset`);
});
