// remote_read against Debian's Prometheus 2.42 on loopback: the fixture hour written into
// Prometheus (through its remote-write receiver) and into a local Vigil; a Vigil reading Prometheus
// through remote_read must answer every query as the local one does, with the data all remote,
// split between local and remote (read_recent off: the remote only for older time), or overlapping
// (read_recent on: samples in both count once).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { freePort, postWrite, startServer, tempDir, waitFor, writeBody } from '../../testkit/helpers.js';
import { prometheusReceiver, type Receiver } from '../../testkit/remote_receivers.js';
import { FIXTURE_QUERIES, fixtureSeries, SPAN_MS, type FixtureSeries } from '../../testkit/remote_query_data.js';
import { parseConfig, type VigilConfig } from '../config/config.js';
import { labelsFrom } from '../../core/model/labels.js';
import { STALE_NAN } from '../../core/model/value.js';
import { RemoteReadStore, type RemoteReadConfig } from '../../metrics/remoteread/store.js';
import { parseExpr } from '../../metrics/promql/parser/index.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { fetchingContract } from '../../testkit/contracts/fetching_queryable.js';

type Server = Awaited<ReturnType<typeof startServer>>;

/** Points `c` at remote_read endpoints as vigil.yml would (`entries`: the YAML list under `remote_read:`). */
function remoteRead(c: VigilConfig, entries: string): void {
  c.remoteRead = parseConfig(`remote_read:\n${entries}`, path.join(c.baseDir, 'vigil.yml')).remoteRead;
  c.selfScrape = false;
}

/** One `remote_read:` entry read from its YAML (one line, flow style or `url: …`). */
function entry(yaml: string): RemoteReadConfig {
  return parseConfig(`remote_read:\n  - ${yaml}\n`, '/tmp/vigil.yml').remoteRead[0]!;
}

/** The fixture's samples from `from` on (inclusive), for a store that holds only the recent part. */
function since(series: FixtureSeries[], from: number): FixtureSeries[] {
  return series.map((s) => ({ labels: s.labels, samples: s.samples.filter(([t]) => t >= from) }));
}

async function api(base: string, p: string, params: Record<string, string | string[]>): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  // Label values are GET only, as in Prometheus.
  const res = p.includes('/label/')
    ? await fetch(`${base}${p}?${form.toString()}`)
    : await fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('remote_read from Prometheus 2.42', { timeout: 180_000 }, () => {
  const tmp = tempDir('vigil-rread-');
  let prom: Receiver;
  let local: Server;
  /** Reads everything from Prometheus (its own TSDB is empty). */
  let remoteOnly: Server;
  /** Holds the last 20 minutes; `read_recent: false` asks Prometheus only for what lies before. */
  let split: Server;
  /** Holds the last 30 minutes, and asks Prometheus for all of it (`read_recent: true`): an overlap. */
  let overlap: Server;
  const t0 = Math.floor((Date.now() - SPAN_MS - 10 * 60_000) / 60_000) * 60_000;
  const tEval = t0 + 50 * 60_000;
  const rangeStart = t0 + 10 * 60_000;
  const rangeEnd = t0 + 55 * 60_000;
  // A gauge that went away: a staleness marker 15 s after its last sample ends it at once.
  const gone: FixtureSeries = {
    labels: labelsFrom({ __name__: 'gone_gauge', job: 'batch' }),
    samples: [...Array.from({ length: 20 }, (_, i): [number, number] => [t0 + i * 15_000, i]), [t0 + 20 * 15_000, STALE_NAN]],
  };
  const series = [...fixtureSeries(t0), gone];

  before(async () => {
    prom = await prometheusReceiver(tmp.dir);
    await prom.start();
    // In ten-minute slices, oldest first: Prometheus' head takes samples up to an hour behind its newest.
    for (let from = t0; from <= t0 + SPAN_MS; from += 10 * 60_000) {
      const part = series.map((s) => ({ labels: s.labels, samples: s.samples.filter(([t]) => t >= from && t < from + 10 * 60_000) }));
      const r = await postWrite(prom.url, writeBody(part));
      assert.equal(r.status, 204, `write to Prometheus: ${r.text}`);
    }
    const readUrl = `${prom.url}/api/v1/read`;
    local = await startServer((c) => void (c.selfScrape = false));
    remoteOnly = await startServer((c) => remoteRead(c, `  - url: ${readUrl}\n    name: prom\n`));
    split = await startServer((c) => remoteRead(c, `  - url: ${readUrl}\n    read_recent: false\n`));
    overlap = await startServer((c) => remoteRead(c, `  - url: ${readUrl}\n    read_recent: true\n`));
    for (const [s, data] of [
      [local, series],
      [split, since(series, t0 + 40 * 60_000)],
      [overlap, since(series, t0 + 30 * 60_000)],
    ] as const) {
      const r = await postWrite(s.url, writeBody(data));
      assert.equal(r.status, 204, r.text);
    }
  });

  after(async () => {
    for (const s of [overlap, split, remoteOnly, local]) await s?.stop();
    await prom?.stop();
    tmp.cleanup();
  });

  /** Asks `p` of the local Vigil and of `other`; the answers' data must be the same. */
  async function same(other: Server, p: string, params: Record<string, string | string[]>, what: string): Promise<unknown> {
    const [a, b] = [await api(other.url, p, params), await api(local.url, p, params)];
    assert.equal(a.status, 200, `${what}: ${JSON.stringify(a.body)}`);
    assert.equal(b.status, 200, `${what}: ${JSON.stringify(b.body)}`);
    assert.equal(a.body['warnings'], undefined, `${what}: ${JSON.stringify(a.body['warnings'])}`);
    assert.deepEqual(a.body['data'], b.body['data'], what);
    return a.body['data'];
  }

  for (const [name, server] of [
    ['all remote', () => remoteOnly],
    ['split, read_recent: false', () => split],
    ['overlapping, read_recent: true', () => overlap],
  ] as const) {
    test(`instant and range queries answer as all-local (${name})`, async () => {
      for (const query of FIXTURE_QUERIES) {
        const data = (await same(server(), '/api/v1/query', { query, time: String(tEval / 1000) }, `${query} instant`)) as { result: unknown };
        if (query !== '1+1') assert.ok((data.result as unknown[]).length > 0, `${query}: empty answer`);
        const params = { query, start: String(rangeStart / 1000), end: String(rangeEnd / 1000), step: '60' };
        await same(server(), '/api/v1/query_range', params, `${query} range`);
      }
    });

    test(`series, label names and label values answer as all-local (${name})`, async () => {
      const range = { start: String((t0 + 60_000) / 1000), end: String(rangeEnd / 1000) };
      await same(server(), '/api/v1/series', { 'match[]': ['http_requests_total{code="500"}', 'node_memory_bytes'], ...range }, 'series');
      await same(server(), '/api/v1/labels', range, 'labels');
      await same(server(), '/api/v1/labels', { 'match[]': '{job="node"}', ...range }, 'labels of job="node"');
      await same(server(), '/api/v1/label/__name__/values', range, 'metric names');
      await same(server(), '/api/v1/label/instance/values', { 'match[]': 'http_requests_total{code=~"2.."}', ...range }, 'instances');
    });
  }

  test('a staleness marker read from the remote ends the series, as it does locally', async () => {
    const afterMarker = String((t0 + 21 * 15_000) / 1000);
    const before = String((t0 + 19 * 15_000) / 1000);
    assert.equal(((await same(remoteOnly, '/api/v1/query', { query: 'gone_gauge', time: before }, 'before')) as { result: unknown[] }).result.length, 1);
    assert.deepEqual(((await same(remoteOnly, '/api/v1/query', { query: 'gone_gauge', time: afterMarker }, 'after')) as { result: unknown[] }).result, []);
  });

  test('fetches are timed on /metrics by source, answer encoding and status', async () => {
    const m = await (await fetch(`${remoteOnly.url}/metrics`)).text();
    const n = Number(/^vigil_remote_read_duration_seconds_count\{remote_name="prom",response_type="streamed",code="200"\} (\d+)$/m.exec(m)?.[1]);
    assert.ok(n >= FIXTURE_QUERIES.length, m);
  });

  test('history Vigil wrote with its external labels is read back through them (filter_external_labels)', async () => {
    // Vigil A forwards what it takes to Prometheus with `cluster: eu1` added; B (the same external
    // labels, no data of its own) reads it back with the label as a matcher, removed again, so its
    // answers equal A's local ones; C (`cluster: us2`) asks for its own cluster and finds nothing.
    const setUp = (yaml: string) => (c: VigilConfig) => {
      const p = parseConfig(yaml, path.join(c.baseDir, 'vigil.yml'));
      Object.assign(c, { global: p.global, remoteWriteTo: p.remoteWriteTo, remoteRead: p.remoteRead, selfScrape: false });
    };
    const a = await startServer(
      setUp(
        `global: { external_labels: { cluster: eu1 } }\nremote_write:\n  - url: ${prom.url}/api/v1/write\n    queue_config: { batch_send_deadline: 100ms }\n`,
      ),
    );
    const b = await startServer(setUp(`global: { external_labels: { cluster: eu1 } }\nremote_read:\n  - url: ${prom.url}/api/v1/read\n`));
    const c = await startServer(setUp(`global: { external_labels: { cluster: us2 } }\nremote_read:\n  - url: ${prom.url}/api/v1/read\n`));
    try {
      const now = Math.floor(Date.now() / 1000) * 1000;
      const samples = Array.from({ length: 20 }, (_, i): [number, number] => [now - (19 - i) * 5_000, i * 3]);
      const written = [{ labels: labelsFrom({ __name__: 'roundtrip_total', job: 'rt' }), samples }];
      assert.equal((await postWrite(a.url, writeBody(written))).status, 204);
      await waitFor(
        'A to forward its samples',
        async () => {
          const m = /^prometheus_remote_storage_queue_highest_sent_timestamp_seconds\{[^}]*\} (\S+)$/m.exec(await (await fetch(`${a.url}/metrics`)).text());
          return Number(m?.[1]) >= now / 1000 ? true : undefined;
        },
        20_000,
        100,
      );
      const at = { query: 'roundtrip_total', time: String(now / 1000) };
      const range = { query: 'rate(roundtrip_total[30s])', start: String((now - 60_000) / 1000), end: String(now / 1000), step: '5' };
      for (const [p, params] of [
        ['/api/v1/query', at],
        ['/api/v1/query_range', range],
      ] as const) {
        const [fromB, fromA, fromC] = [await api(b.url, p, params), await api(a.url, p, params), await api(c.url, p, params)];
        assert.equal(fromB.status, 200, JSON.stringify(fromB.body));
        assert.ok((fromA.body['data'] as { result: unknown[] }).result.length > 0);
        assert.deepEqual(fromB.body['data'], fromA.body['data'], p);
        assert.deepEqual((fromC.body['data'] as { result: unknown[] }).result, [], `${p}: another cluster's data`);
      }
      // Prometheus itself holds the series with the label A added.
      const direct = await api(prom.url, '/api/v1/series', { 'match[]': 'roundtrip_total' });
      assert.deepEqual(direct.body['data'], [{ __name__: 'roundtrip_total', cluster: 'eu1', job: 'rt' }]);
    } finally {
      for (const s of [c, b, a]) await s.stop();
    }
  });

  test('read_recent: false asks the remote only for time before the oldest local sample', async () => {
    // Only the last 20 minutes are local: a query within them is answered without the remote, so
    // it still answers (and without a warning) when the remote's answer could not add anything.
    const store = new RemoteReadStore(entry(`url: ${prom.url}/api/v1/read`), { localStartTime: () => t0 + 40 * 60_000 });
    const engine = new Engine();
    const sel = (q: string, t: number) => engine.selections(parseExpr(q), t, t);
    assert.deepEqual(store.plan(sel('node_memory_bytes', t0 + 50 * 60_000)), [], 'recent time: not asked');
    const [old] = store.plan(sel('rate(node_memory_bytes[30m])', t0 + 50 * 60_000));
    assert.equal(old!.query.start, t0 + 20 * 60_000);
    assert.equal(old!.query.end, t0 + 40 * 60_000, 'cut at the oldest local sample');
    store.close();
  });

  test('SAMPLES, the fallback for servers without streamed chunks, reads the same series as streamed XOR chunks', async () => {
    const cfg = entry(`{ url: '${prom.url}/api/v1/read', read_recent: true }`);
    const streamed = new RemoteReadStore(cfg);
    const samples = new RemoteReadStore(cfg, { responseTypes: ['samples'] });
    const engine = new Engine();
    const selections = engine.selections(parseExpr('http_requests_total{code="500"} or node_memory_bytes'), t0, t0 + SPAN_MS, { lookbackDelta: 1 });
    const read = async (s: RemoteReadStore) => {
      const q = (await s.fetch(selections, new AbortController().signal)).querier(t0 - 1, t0 + SPAN_MS);
      const out: Array<{ labels: unknown; points: Array<[number, number]> }> = [];
      for (const sel of selections) {
        const set = q.select({ start: sel.start, end: sel.end }, sel.matchers);
        assert.deepEqual(set.warnings(), []);
        while (set.next()) {
          const it = set.at().iterator();
          const points: Array<[number, number]> = [];
          while (it.next()) points.push([it.t(), it.v()]);
          out.push({ labels: set.at().labels, points });
        }
      }
      return out;
    };
    const a = await read(streamed);
    const b = await read(samples);
    assert.equal(a.length, 4 + 2, 'four 500 series and two gauges');
    assert.equal(a[0]!.points.length, SPAN_MS / 15_000 + 1);
    assert.deepEqual(a, b);
    // The expected series and values, straight from the fixture.
    const want = series.find((s) => JSON.stringify(s.labels) === JSON.stringify(a[0]!.labels))!;
    assert.deepEqual(a[0]!.points, want.samples);
    assert.deepEqual(streamed.answers, { streamed: 1, samples: 0 });
    assert.deepEqual(samples.answers, { streamed: 0, samples: 1 });
    streamed.close();
    samples.close();
  });

  test('a remote that cannot be reached is a warning, and the local data still answers', async () => {
    const port = await freePort();
    const s = await startServer((c) => remoteRead(c, `  - url: http://127.0.0.1:${port}/api/v1/read\n    name: gone\n    remote_timeout: 5s\n`));
    try {
      assert.equal((await postWrite(s.url, writeBody(since(series, t0 + 40 * 60_000)))).status, 204);
      // Within the local data's time the remote is not asked (read_recent is off by default).
      const recent = await api(s.url, '/api/v1/query', { query: 'max(node_memory_bytes)', time: String(tEval / 1000) });
      assert.equal(recent.status, 200, JSON.stringify(recent.body));
      assert.equal(recent.body['warnings'], undefined);
      // A range query that cannot run is refused before anything is fetched.
      const tooLong = await api(s.url, '/api/v1/query_range', { query: 'node_memory_bytes', start: '0', end: '100000', step: '1' });
      assert.equal(tooLong.status, 400, JSON.stringify(tooLong.body));
      assert.doesNotMatch(await (await fetch(`${s.url}/metrics`)).text(), /vigil_remote_read_duration_seconds_count/);
      const r = await api(s.url, '/api/v1/query', { query: 'max(max_over_time(node_memory_bytes[30m]))', time: String(tEval / 1000) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.match(String((r.body['warnings'] as string[] | undefined)?.[0]), /^remote_read gone: unreachable: /, JSON.stringify(r.body));
      assert.equal((r.body['data'] as { result: unknown[] }).result.length, 1);
      const m = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(m, /^vigil_remote_read_duration_seconds_count\{remote_name="gone",response_type="none",code="unreachable"\} 1$/m);
    } finally {
      await s.stop();
    }
  });
});

fetchingContract('RemoteReadStore over Prometheus 2.42', Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000, async (series) => {
  const tmp = tempDir('vigil-rread-contract-');
  const prom = await prometheusReceiver(tmp.dir);
  await prom.start();
  const r = await postWrite(prom.url, writeBody(series));
  assert.equal(r.status, 204, r.text);
  const source = new RemoteReadStore(entry(`{ url: '${prom.url}/api/v1/read', read_recent: true }`));
  return {
    source,
    close: async () => {
      source.close();
      await prom.stop();
      tmp.cleanup();
    },
  };
});
