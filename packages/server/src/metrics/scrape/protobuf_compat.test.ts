// Vigil and a real Prometheus 2.42 (`--enable-feature=native-histograms`) scrape the same protobuf
// targets at the same time: the native histograms, the classic series and the counters they store
// (read back through /api/v1/query_range) are equal, and so are the counters' exemplars.
//
// Each target answers each scraper with the same sequence of bodies (the n-th scrape by Prometheus
// gets what the n-th scrape by Vigil gets), so the stored sequences can be compared whatever the
// two schedules are. Prometheus 2.42 cannot keep a histogram's classic series beside its native
// one (`always_scrape_classic_histograms` came later), so the classic reference is made by
// serving Prometheus the same histogram without its native fields, while Vigil, with
// always_scrape_classic_histograms, gets the full message and must store the same classic series.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseScrapeConfigs } from './config.js';
import { freePort, getJson, peerBinary, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { DualHistogram, encodeMetricFamilies, PROTOBUF_CONTENT_TYPE, type EncFamily } from '../../testkit/prom_protobuf.js';
import { serve } from '../../testkit/scrape.js';

const children: ChildProcess[] = [];
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c();
});

/** Bodies 1…ROUNDS change; later scrapes get the last one again. */
const ROUNDS = 5;

/** A seeded generator, so every run observes the same values. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * The families of round `k` (0 = nothing observed yet), for `classicOnly` scrapers without the
 * native fields: two native+classic histograms, a classic-only one, a counter with exemplars.
 */
function bodies(start: number): Array<{ full: Buffer; classicOnly: Buffer }> {
  const rnd = prng(42);
  const fast = new DualHistogram([0.01, 0.1, 1], 3);
  const slow = new DualHistogram([1, 10, 100], 0, 0.001);
  const sizes = new DualHistogram([100, 1000, 10000], 0);
  let requests = 0;
  const out: Array<{ full: Buffer; classicOnly: Buffer }> = [];
  for (let k = 0; k <= ROUNDS; k++) {
    if (k > 0) {
      for (let i = 0; i < 20; i++) fast.observe(rnd() * 2);
      for (let i = 0; i < 5; i++) slow.observe((rnd() - 0.3) * 200);
      slow.observe(0);
      for (let i = 0; i < 10; i++) sizes.observe(rnd() * 20000, { labels: { trace_id: `s${k}.${i}` }, value: i, ts: start + k });
      requests += 3;
    }
    const families = (classicOnly: boolean): EncFamily[] => [
      {
        name: 'req_total',
        help: 'Requests.',
        type: 'counter',
        metrics: [
          {
            labels: { code: '200' },
            counter: { value: requests, ...(k > 0 ? { exemplar: { labels: { trace_id: `t${k}` }, value: k / 10, ts: start + k } } : {}) },
          },
        ],
      },
      {
        name: 'lat_seconds',
        help: 'Latency.',
        type: 'histogram',
        metrics: [
          { labels: { path: '/fast' }, histogram: fast.encode(classicOnly) },
          { labels: { path: '/slow' }, histogram: slow.encode(classicOnly) },
        ],
      },
      { name: 'size_bytes', help: 'Sizes.', type: 'histogram', metrics: [{ histogram: sizes.encode(true) }] },
      {
        name: 'queue_depth',
        help: 'A gauge histogram with float counts.',
        type: 'gaugehistogram',
        metrics: [
          {
            histogram: {
              countFloat: 1.5 * k + 0.25,
              sum: k * 2.5,
              schema: 1,
              zeroThreshold: 0.01,
              zeroCountFloat: 0.25,
              positiveSpans: [{ offset: k, length: 2 }],
              positiveCounts: [k * 0.5, k],
            },
          },
        ],
      },
    ];
    out.push({ full: encodeMetricFamilies(families(false)), classicOnly: encodeMetricFamilies(families(true)) });
  }
  return out;
}

/** A protobuf target counting each scraper's scrapes (by User-Agent) and answering its n-th scrape with round n. */
async function target(rounds: Array<{ full: Buffer; classicOnly: Buffer }>, classicForPrometheus: boolean) {
  const scrapes = new Map<string, number>();
  const srv = await serve((req, res) => {
    const who = /^Prometheus\//.test(req.headers['user-agent'] ?? '') ? 'prometheus' : 'vigil';
    const count = (scrapes.get(who) ?? 0) + 1;
    scrapes.set(who, count);
    const r = rounds[Math.min(count, ROUNDS)]!;
    res.writeHead(200, { 'content-type': PROTOBUF_CONTENT_TYPE }).end(who === 'prometheus' && classicForPrometheus ? r.classicOnly : r.full);
  });
  cleanups.push(srv.close);
  return { ...srv, scrapes };
}

type RangeSeries = { metric: Record<string, string>; values?: Array<[number, string]>; histograms?: Array<[number, unknown]> };

/** `query` over [start, end] at a step much finer than the scrape interval, each series' values with repeats removed. */
async function sequences(base: string, query: string, start: number, end: number): Promise<Record<string, string[]>> {
  const q = `${base}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${start / 1000}&end=${end / 1000}&step=0.1`;
  const r = await getJson(q);
  assert.equal(r.body.status, 'success', `${q}: ${JSON.stringify(r.body)}`);
  const out: Record<string, string[]> = {};
  for (const s of (r.body.data as { result: RangeSeries[] }).result) {
    const key = JSON.stringify(Object.entries(s.metric).sort());
    const seq: string[] = [];
    for (const [, v] of [...(s.values ?? []), ...(s.histograms ?? [])].sort((a, b) => a[0] - b[0])) {
      const text = JSON.stringify(v);
      if (seq[seq.length - 1] !== text) seq.push(text);
    }
    out[key] = seq;
  }
  return out;
}

type ApiHistogram = { count: string; sum: string; buckets?: Array<[number, string, string, string]> };

/**
 * Takes Prometheus' text for a bucket bound where Vigil's differs from it by rounding alone.
 * Prometheus reads the bounds of schemas above 0 from a table whose entries are not always the
 * correctly rounded powers of two that Vigil computes (2^-1/8 is 0.9170040432046711 there,
 * 0.9170040432046712 here), so the same bucket prints one unit in the last place apart. Everything
 * else (counts, sums, which buckets, boundary rules) must match exactly.
 */
function alignBounds(ours: Record<string, string[]>, theirs: Record<string, string[]>): void {
  const close = (a: string, b: string): boolean => a === b || Math.abs(Number(a) - Number(b)) <= 4e-16 * Math.abs(Number(b));
  for (const [key, seq] of Object.entries(ours)) {
    const ref = theirs[key];
    if (!ref || ref.length !== seq.length) continue;
    seq.forEach((text, i) => {
      const a = JSON.parse(text) as ApiHistogram | string;
      const b = JSON.parse(ref[i]!) as ApiHistogram | string;
      if (typeof a !== 'object' || typeof b !== 'object' || a.buckets?.length !== b.buckets?.length) return;
      a.buckets?.forEach((bk, j) => {
        const rb = b.buckets![j]!;
        if (close(bk[1], rb[1]) && close(bk[2], rb[2])) a.buckets![j] = [bk[0], rb[1], rb[2], bk[3]];
      });
      seq[i] = JSON.stringify(a);
    });
  }
}

test('native histograms, classic series and counters scraped from protobuf targets equal Prometheus 2.42', { timeout: 120_000 }, async () => {
  const start = Date.now();
  const rounds = bodies(start);
  const both = await target(rounds, false);
  const classic = await target(rounds, true);
  const { dir, cleanup } = tempDir('vigil-pbcompat-');
  cleanups.push(cleanup);
  const job = (name: string, host: string, extra: string): string =>
    `  - job_name: ${name}\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['${host}']\n${extra}`;
  const promYaml = `global:\n  scrape_interval: 1s\nscrape_configs:\n${job('native', both.host, '')}${job('classic', classic.host, '')}`;
  const vigilYaml =
    `scrape_configs:\n${job('native', both.host, '    scrape_native_histograms: true\n')}` +
    job('classic', classic.host, '    scrape_native_histograms: true\n    always_scrape_classic_histograms: true\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), promYaml);
  const promPort = await freePort();
  children.push(
    spawn(
      peerBinary('prometheus', 'prometheus'),
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--enable-feature=native-histograms',
        '--enable-feature=exemplar-storage',
      ],
      { stdio: 'ignore' },
    ),
  );
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.scrapeConfigs = parseScrapeConfigs((parse(vigilYaml) as { scrape_configs: unknown }).scrape_configs, c.global, dir);
  });
  cleanups.push(() => vigil.stop());
  const prom = `http://127.0.0.1:${promPort}`;

  // Every scraper past the last round on both targets, plus a scrape for the answers to be committed.
  await waitFor(
    'both scrapers to fetch every round from both targets',
    async () =>
      [both, classic].every((t) => (t.scrapes.get('prometheus') ?? 0) > ROUNDS + 1 && (t.scrapes.get('vigil') ?? 0) > ROUNDS + 1) ? true : undefined,
    60_000,
    250,
  );
  const end = Date.now();
  const compare = async (query: string, minSeries: number): Promise<void> => {
    const [ours, theirs] = await Promise.all([sequences(vigil.url, query, start - 1000, end), sequences(prom, query, start - 1000, end)]);
    alignBounds(ours, theirs);
    assert.ok(Object.keys(theirs).length >= minSeries, `Prometheus has ${Object.keys(theirs).length} series for ${query}`);
    assert.deepEqual(ours, theirs, query);
    // A bucket no observation of a round fell in repeats its value; the longest sequence has every round.
    assert.equal(Math.max(...Object.values(theirs).map((seq) => seq.length)), ROUNDS, `${query}: every round stored once`);
  };
  // Native histograms: two per target of the `native` job; none of the `classic` job in Prometheus.
  await compare('lat_seconds{job="native"}', 2);
  // Classic series: the classic-only histogram of both jobs, and the `classic` job's buckets kept beside the native ones.
  await compare('{__name__=~"size_bytes_(bucket|count|sum)"}', 10);
  await compare('{__name__=~"lat_seconds_(bucket|count|sum)",job="classic"}', 12);
  // None of the `native` job's histograms has classic series, in either.
  const nativeClassic = await sequences(vigil.url, '{__name__=~"lat_seconds_(bucket|count|sum)",job="native"}', start - 1000, end);
  assert.deepEqual(nativeClassic, {});
  await compare('req_total', 2);
  // A float gauge histogram (float counts, the gauge hint).
  await compare('queue_depth{job="native"}', 1);

  // The counters' exemplars, as both exemplar stores give them back.
  const exemplars = async (base: string): Promise<string[]> => {
    const r = await getJson(
      `${base}/api/v1/query_exemplars?query=${encodeURIComponent('{__name__=~"req_total|size_bytes_bucket"}')}&start=${(start - 1000) / 1000}&end=${(end + 1000) / 1000}`,
    );
    const data = r.body.data as Array<{
      seriesLabels: Record<string, string>;
      exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
    }>;
    return data.flatMap((s) => s.exemplars.map((e) => JSON.stringify([s.seriesLabels, e.labels, e.value, e.timestamp]))).sort();
  };
  const [ourEx, theirEx] = await Promise.all([exemplars(vigil.url), exemplars(prom)]);
  assert.ok(theirEx.length > 2 * ROUNDS, theirEx.join('\n'));
  assert.deepEqual(ourEx, theirEx);
});
