// Exemplars end to end in one Vigil: remote_write TimeSeries.exemplars and an OpenMetrics scrape
// go in, /api/v1/query_exemplars answers in Prometheus' shape, /metrics counts them, a restart
// keeps them, and bad exemplars are dropped while their samples are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { nopLogger } from '../../core/util/log.js';
import { WriteRequestEncoder, type EncoderExemplar } from '../../metrics/remotewrite/proto.js';
import { defaultConfig, parseConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { getJson, postWrite, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { scrapeConfig, serve } from '../../testkit/scrape.js';

interface ApiExemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}
interface ApiSeries {
  seriesLabels: Record<string, string>;
  exemplars: ApiExemplar[];
}

const T = Date.UTC(2026, 0, 1) / 1000;

function writeRequest(series: Array<{ labels: Record<string, string>; samples: Array<[number, number]>; exemplars?: EncoderExemplar[] }>): Buffer {
  const enc = new WriteRequestEncoder();
  for (const s of series)
    enc.addSeries(
      labelsFrom(s.labels),
      s.samples.map((x) => x[0]),
      s.samples.map((x) => x[1]),
      s.exemplars ?? [],
    );
  return snappyEncode(enc.finish());
}

function trace(id: string, extra: Record<string, string> = {}): ReturnType<typeof labelsFrom> {
  return labelsFrom({ trace_id: id, ...extra });
}

async function exemplars(url: string, params: Record<string, string>): Promise<{ status: number; body: { status: string; data?: unknown; error?: string } }> {
  return getJson(`${url}/api/v1/query_exemplars?${new URLSearchParams(params).toString()}`);
}

/** The value of the sample whose line starts with `series` on /metrics. */
async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('remote_write exemplars: stored, queried by the selectors of a PromQL query, too long ones dropped with their samples kept', async (t) => {
  const vigil = await startServer((c) => (c.selfScrape = false));
  t.after(() => vigil.stop());
  const bucket = { __name__: 'checkout_latency_seconds_bucket', job: 'shop', le: '0.5' };
  const long = 'x'.repeat(130);
  const bucketExemplars = [
    { labels: trace('4bf92f3577b34da6a3ce929d0e0e4736'), value: 0.31, ts: T * 1000 + 1500 },
    { labels: trace('00f067aa0ba902b7', { span_id: 'b7ad6b7169203331' }), value: 0.42, ts: T * 1000 + 15_000 },
  ];
  const body = writeRequest([
    {
      labels: bucket,
      samples: [
        [T * 1000, 3],
        [T * 1000 + 15_000, 4],
      ],
      exemplars: bucketExemplars,
    },
    // A series of its own with only an exemplar, as Prometheus sends them, and an exemplar whose labels are too long.
    { labels: { ...bucket, le: '1' }, samples: [], exemplars: [{ labels: trace('only-exemplar'), value: 0.9, ts: T * 1000 + 2000 }] },
    { labels: { ...bucket, le: '+Inf' }, samples: [[T * 1000, 7]], exemplars: [{ labels: trace(long), value: 2, ts: T * 1000 }] },
    { labels: { __name__: 'other_metric', job: 'shop' }, samples: [[T * 1000, 1]], exemplars: [{ labels: trace('other'), value: 1, ts: T * 1000 }] },
  ]);
  const w = await postWrite(vigil.url, body);
  assert.equal(w.status, 204, w.text);

  const r = await exemplars(vigil.url, {
    query: 'histogram_quantile(0.9, sum by (le) (rate(checkout_latency_seconds_bucket{job="shop"}[5m])))',
    start: String(T),
    end: String(T + 60),
  });
  assert.equal(r.status, 200);
  const data = (r.body.data as ApiSeries[]).sort((a, b) => (a.seriesLabels['le']! < b.seriesLabels['le']! ? -1 : 1));
  assert.deepEqual(data, [
    {
      seriesLabels: bucket,
      exemplars: [
        { labels: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }, value: '0.31', timestamp: T + 1.5 },
        { labels: { span_id: 'b7ad6b7169203331', trace_id: '00f067aa0ba902b7' }, value: '0.42', timestamp: T + 15 },
      ],
    },
    { seriesLabels: { ...bucket, le: '1' }, exemplars: [{ labels: { trace_id: 'only-exemplar' }, value: '0.9', timestamp: T + 2 }] },
  ]);
  // The sample beside the too-long exemplar was stored.
  const q = await getJson(`${vigil.url}/api/v1/query?query=${encodeURIComponent('checkout_latency_seconds_bucket{le="+Inf"}')}&time=${T}`);
  assert.equal((q.body.data as { result: Array<{ value: [number, string] }> }).result[0]!.value[1], '7');

  // Two selectors: series matching either; the time range cuts exemplars off inclusively.
  const two = await exemplars(vigil.url, {
    query: 'other_metric + on() checkout_latency_seconds_bucket{le="0.5"}',
    start: String(T + 1.5),
    end: String(T + 14),
  });
  const got = (two.body.data as ApiSeries[]).map((s) => `${s.seriesLabels['__name__']}:${s.exemplars.map((e) => e.labels['trace_id']).join(',')}`);
  assert.deepEqual(got.sort(), ['checkout_latency_seconds_bucket:4bf92f3577b34da6a3ce929d0e0e4736']);
  const both = await exemplars(vigil.url, { query: 'other_metric + on() checkout_latency_seconds_bucket{le="0.5"}' });
  assert.equal((both.body.data as ApiSeries[]).length, 2);

  // Self-metrics under Vigil's names and Prometheus'.
  for (const prefix of ['vigil', 'prometheus']) {
    assert.equal(await metric(vigil.url, `${prefix}_tsdb_exemplar_exemplars_appended_total`), 4);
    assert.equal(await metric(vigil.url, `${prefix}_tsdb_exemplar_exemplars_in_storage`), 4);
    assert.equal(await metric(vigil.url, `${prefix}_tsdb_exemplar_series_with_exemplars_in_storage`), 3);
    assert.equal(await metric(vigil.url, `${prefix}_tsdb_exemplar_max_exemplars`), 100_000);
    assert.equal(await metric(vigil.url, `${prefix}_tsdb_exemplar_out_of_order_exemplars_total`), 0);
  }
  assert.equal(await metric(vigil.url, 'vigil_tsdb_exemplar_label_too_long_total'), 1);

  // The newest exemplar again (as a retry brings it) is a duplicate, skipped silently; an older one is out of
  // order (as in Prometheus, each is compared with the series' newest exemplar only).
  assert.equal((await postWrite(vigil.url, writeRequest([{ labels: bucket, samples: [], exemplars: [bucketExemplars[1]!] }]))).status, 204);
  const older = writeRequest([{ labels: bucket, samples: [], exemplars: [{ labels: trace('late'), value: 0.1, ts: T * 1000 }] }]);
  assert.equal((await postWrite(vigil.url, older)).status, 204);
  assert.equal(await metric(vigil.url, 'vigil_tsdb_exemplar_exemplars_appended_total'), 4);
  assert.equal(await metric(vigil.url, 'prometheus_tsdb_exemplar_out_of_order_exemplars_total'), 1);
});

test('query_exemplars: POST form, errors in Prometheus words, null data for a query without selectors', async (t) => {
  const vigil = await startServer((c) => (c.selfScrape = false));
  t.after(() => vigil.stop());
  const post = await fetch(`${vigil.url}/api/v1/query_exemplars`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: 'up', start: '0', end: '10' }).toString(),
  });
  assert.equal(post.status, 200);
  assert.deepEqual(await post.json(), { status: 'success', data: [] });
  const none = await exemplars(vigil.url, { query: '1 + 1' });
  assert.deepEqual(none.body, { status: 'success', data: null });
  const missing = await exemplars(vigil.url, {});
  assert.equal(missing.status, 400);
  assert.match(missing.body.error!, /invalid parameter "query": parameter is required/);
  const bad = await exemplars(vigil.url, { query: 'rate(up[5m]' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error!, /^invalid parameter "query": /);
  const backwards = await exemplars(vigil.url, { query: 'up', start: '10', end: '5' });
  assert.equal(backwards.status, 400);
  assert.match(backwards.body.error!, /end timestamp must not be before start timestamp/);
  const badTime = await exemplars(vigil.url, { query: 'up', start: 'yesterday' });
  assert.equal(badTime.status, 400);
  assert.match(badTime.body.error!, /invalid parameter "start"/);
});

/** An OpenMetrics target whose histogram buckets carry exemplars (one too long, one without a timestamp). */
function openMetricsBody(): string {
  return [
    '# TYPE shop_request_duration_seconds histogram',
    `shop_request_duration_seconds_bucket{le="0.1"} 3 # {trace_id="aaaaaaaaaaaaaaaa0000000000000001"} 0.05 ${T + 5}`,
    `shop_request_duration_seconds_bucket{le="1.0"} 5 # {trace_id="bbbbbbbbbbbbbbbb0000000000000002",span_id="00f067aa0ba902b7"} 0.7`,
    `shop_request_duration_seconds_bucket{le="+Inf"} 6 # {trace_id="${'c'.repeat(125)}"} 3.2 ${T + 5}`,
    'shop_request_duration_seconds_sum 5.0',
    'shop_request_duration_seconds_count 6',
    '# EOF',
    '',
  ].join('\n');
}

test("Vigil's own scrape of an OpenMetrics target stores its exemplars with the target's labels; a restart keeps them", { timeout: 60_000 }, async (t) => {
  const target = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(openMetricsBody());
  });
  t.after(() => target.close());
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const config = defaultConfig();
  config.storage.path = path.join(tmp.dir, 'data');
  config.listen = '127.0.0.1:0';
  config.selfScrape = false;
  config.scrapeConfigs = [scrapeConfig({ job_name: 'shop', scrape_interval: '1s', static_configs: [{ targets: [target.host] }] })];
  let server = new VigilServer(config, { logger: nopLogger });
  // Whichever server runs when the test ends is stopped, even after a failed assertion.
  t.after(() => server.stop());
  await server.start();
  let url = `http://${server.address()}`;
  const found = await waitFor(
    'scraped exemplars',
    async () => {
      const r = await exemplars(url, { query: 'shop_request_duration_seconds_bucket' });
      const d = r.body.data as ApiSeries[];
      return d.length === 2 ? d : undefined;
    },
    20_000,
    200,
  );
  const byLe = new Map(found.map((s) => [s.seriesLabels['le'], s]));
  const fast = byLe.get('0.1')!;
  assert.deepEqual(fast.seriesLabels, { __name__: 'shop_request_duration_seconds_bucket', instance: target.host, job: 'shop', le: '0.1' });
  // With its own timestamp: stored once however often it is scraped again.
  assert.deepEqual(fast.exemplars, [{ labels: { trace_id: 'aaaaaaaaaaaaaaaa0000000000000001' }, value: '0.05', timestamp: T + 5 }]);
  // Without one it takes the scrape's time, as in Prometheus.
  const slow = byLe.get('1.0')!.exemplars[0]!;
  assert.deepEqual(slow.labels, { span_id: '00f067aa0ba902b7', trace_id: 'bbbbbbbbbbbbbbbb0000000000000002' });
  assert.ok(Math.abs(slow.timestamp - Date.now() / 1000) < 30, String(slow.timestamp));
  // The +Inf bucket's exemplar (134 characters of labels) was dropped, its sample kept.
  assert.ok((await metric(url, 'vigil_tsdb_exemplar_label_too_long_total'))! >= 1);
  const inf = await getJson(`${url}/api/v1/query?query=${encodeURIComponent('shop_request_duration_seconds_bucket{le="+Inf"}')}`);
  assert.equal((inf.body.data as { result: Array<{ value: [number, string] }> }).result[0]!.value[1], '6');

  await server.stop();
  const before = found.find((s) => s.seriesLabels['le'] === '0.1')!.exemplars;
  config.scrapeConfigs = [];
  server = new VigilServer(config, { logger: nopLogger });
  await server.start();
  url = `http://${server.address()}`;
  const after = await exemplars(url, { query: 'shop_request_duration_seconds_bucket{le="0.1"}' });
  assert.deepEqual((after.body.data as ApiSeries[])[0]!.exemplars, before);
  const slowAfter = await exemplars(url, { query: 'shop_request_duration_seconds_bucket{le="1.0"}' });
  assert.ok((slowAfter.body.data as ApiSeries[])[0]!.exemplars.length >= 1);
});

test('storage.exemplars.max_exemplars: read from the file, 0 turns exemplar storage off, bad values are refused', async (t) => {
  assert.equal(parseConfig('storage: { exemplars: { max_exemplars: 5000 } }\n', 'vigil.yml').storage.maxExemplars, 5000);
  assert.equal(parseConfig('listen: 127.0.0.1:0\n', 'vigil.yml').storage.maxExemplars, 100_000);
  assert.throws(() => parseConfig('storage: { exemplars: { max_exemplars: -1 } }\n', 'vigil.yml'), /max_exemplars: expected an integer from 0/);
  assert.throws(() => parseConfig('storage: { exemplars: { max_exemplar: 5 } }\n', 'vigil.yml'), /unknown field/);
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.storage.maxExemplars = 0;
  });
  t.after(() => vigil.stop());
  const body = writeRequest([{ labels: { __name__: 'm' }, samples: [[T * 1000, 1]], exemplars: [{ labels: trace('a'), value: 1, ts: T * 1000 }] }]);
  assert.equal((await postWrite(vigil.url, body)).status, 204);
  assert.deepEqual((await exemplars(vigil.url, { query: 'm' })).body.data, []);
  assert.equal(await metric(vigil.url, 'vigil_tsdb_exemplar_max_exemplars'), 0);
});

test("Grafana's exemplar call replayed: form POST of the panel's query with fractional-second start and end", async (t) => {
  const vigil = await startServer((c) => (c.selfScrape = false));
  t.after(() => vigil.stop());
  const bucket = { __name__: 'checkout_latency_seconds_bucket', job: 'shop', le: '0.5' };
  const body = writeRequest([
    {
      labels: bucket,
      samples: [[T * 1000, 1]],
      exemplars: [
        { labels: trace('4bf92f3577b34da6a3ce929d0e0e4736'), value: 0.31, ts: T * 1000 + 250 },
        { labels: trace('00f067aa0ba902b7aaaaaaaaaaaaaaaa'), value: 0.44, ts: T * 1000 + 90_000 },
      ],
    },
  ]);
  assert.equal((await postWrite(vigil.url, body)).status, 204);
  // What Grafana's Prometheus data source sends when a panel has "Exemplars" on: the panel's
  // expression with $__rate_interval already replaced, times as float seconds, as a form POST.
  const res = await fetch(`${vigil.url}/api/v1/query_exemplars`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Grafana/11.3.0' },
    body: new URLSearchParams({
      query: 'histogram_quantile(0.99, sum by (le) (rate(checkout_latency_seconds_bucket{job="shop"}[1m0s])))',
      start: String(T + 0.25),
      end: String(T + 60.5),
    }).toString(),
  });
  assert.equal(res.status, 200);
  const got = (await res.json()) as { status: string; data: ApiSeries[] };
  // Grafana reads seriesLabels for the tooltip, labels.trace_id for the trace link, timestamp (s) for the x position and value for y.
  assert.deepEqual(got, {
    status: 'success',
    data: [{ seriesLabels: bucket, exemplars: [{ labels: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }, value: '0.31', timestamp: T + 0.25 }] }],
  });
});
