/**
 * The limits of issue 19 through the real HTTP APIs of a whole server: each refusal is a 4xx naming
 * its limit, what was accepted before stays intact and queryable, and /metrics shows the usage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { getJson, postWrite, startServer, tempDir, writeBody } from '../../testkit/helpers.js';
import { defaultConfig, type VigilConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { nopLogger } from '../../core/util/log.js';
import { serve } from '../../testkit/scrape.js';
import { DEFAULT_GLOBAL, parseScrapeConfigs } from '../../metrics/scrape/config.js';

type Server = Awaited<ReturnType<typeof startServer>>;

const now = (): number => Date.now();
const series = (name: string, extra: Record<string, string> = {}, v = 1): { labels: Labels; samples: Array<[number, number]> } => ({
  labels: labelsFrom({ __name__: name, ...extra }),
  samples: [[now(), v]],
});

async function instant(srv: Server, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await getJson(`${srv.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
}

/** The value of one sample on /metrics, or undefined when absent. */
async function selfMetric(srv: Server, name: string, limit: string): Promise<number | undefined> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{limit="${limit}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('series limits on remote_write and scrapes', () => {
  let srv: Server;
  let target: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    // A target exposing three new series: past the limit once the head is full.
    target = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('scraped_a 1\nscraped_b 2\nscraped_c 3\n'));
    srv = await startServer((c) => {
      c.selfScrape = false;
      c.limits.max_global_series = 6;
      c.limits.max_global_series_per_metric = 4;
      c.limits.max_label_names_per_series = 4;
      c.limits.max_label_name_length = 20;
      c.limits.max_label_value_length = 30;
      c.limits.ingestion_rate = 0;
    });
  });
  after(async () => {
    await srv.stop();
    await target.close();
  });

  test('label limits refuse the series with a 400 naming the limit, and nothing of the request is kept', async () => {
    const cases: Array<[string, ReturnType<typeof series>]> = [
      ['max_label_names_per_series', series('wide', { a: '1', b: '2', c: '3', d: '4' })],
      ['max_label_name_length', series('long_name', { a_label_name_longer_than_twenty: '1' })],
      ['max_label_value_length', series('long_value', { v: 'x'.repeat(31) })],
    ];
    for (const [limit, bad] of cases) {
      const r = await postWrite(srv.url, writeBody([series('fine_before'), bad]));
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, new RegExp(limit));
    }
    assert.deepEqual(await instant(srv, 'fine_before'), [], 'the valid part of a refused request was not half-applied');
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_label_value_length'), 1);
  });

  test('max_global_series_per_metric and max_global_series refuse new series; existing series keep taking samples', async () => {
    const per = [0, 1, 2, 3].map((i) => series('per_metric', { i: String(i) }));
    assert.equal((await postWrite(srv.url, writeBody(per))).status, 204);
    const fifth = await postWrite(srv.url, writeBody([series('per_metric', { i: '4' })]));
    assert.equal(fifth.status, 400, fifth.text);
    assert.match(fifth.text, /max_global_series_per_metric \(4\)/);

    assert.equal((await postWrite(srv.url, writeBody([series('other', { i: '0' }), series('other', { i: '1' })]))).status, 204);
    const seventh = await postWrite(srv.url, writeBody([series('per_metric', { i: '0' }, 2), series('third')]));
    assert.equal(seventh.status, 400, seventh.text);
    assert.match(seventh.text, /max_global_series \(6\)/);

    // The refused request's sample for an existing series was not applied either: the request is refused whole.
    assert.deepEqual(
      (await instant(srv, 'per_metric{i="0"}')).map((s) => s.value[1]),
      ['1'],
    );
    const ok = await postWrite(srv.url, writeBody([series('per_metric', { i: '0' }, 5)]));
    assert.equal(ok.status, 204, ok.text);
    assert.deepEqual(
      (await instant(srv, 'count({__name__=~".+"})')).map((s) => s.value[1]),
      ['6'],
    );
    assert.deepEqual(
      (await instant(srv, 'per_metric{i="0"}')).map((s) => s.value[1]),
      ['5'],
    );

    assert.equal(await selfMetric(srv, 'vigil_limit', 'max_global_series'), 6);
    assert.equal(await selfMetric(srv, 'vigil_limit_usage', 'max_global_series'), 6);
    assert.equal(await selfMetric(srv, 'vigil_limit_usage', 'max_global_series_per_metric'), 4);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_global_series'), 1);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_global_series_per_metric'), 1);
    const status = await getJson(`${srv.url}/api/v1/status/limits`);
    const row = (status.body.data as Array<{ limit: string; value: number; usage?: number; refused: number }>).find((r) => r.limit === 'max_global_series');
    assert.deepEqual(row, { limit: 'max_global_series', value: 6, usage: 6, refused: 1 });

    // A scrape that brings new series into a full head fails as a scrape, with the limit as its error.
    // The job is added only now, so no scrape ran before the head was full.
    srv.server.scrape.applyConfig(
      parseScrapeConfigs([{ job_name: 'flood', scrape_interval: '1h', static_configs: [{ targets: [target.host] }] }], DEFAULT_GLOBAL, '/'),
    );
    await srv.server.scrape.scrapeNow();
    const targets = await getJson(`${srv.url}/api/v1/targets`);
    const t = (targets.body.data as { activeTargets: Array<{ health: string; lastError: string }> }).activeTargets[0]!;
    assert.equal(t.health, 'down');
    assert.match(t.lastError, /max_global_series/);
    assert.deepEqual(await instant(srv, 'scraped_a'), []);
    assert.deepEqual(
      (await instant(srv, 'count({__name__=~".+"})')).map((s) => s.value[1]),
      ['6'],
      'the failed scrape left no series behind',
    );
  });
});

describe('ingestion_rate on remote_write', () => {
  let srv: Server;
  before(async () => {
    srv = await startServer((c) => {
      c.selfScrape = false;
      c.limits.ingestion_rate = 10;
      c.limits.ingestion_burst_size = 20;
    });
  });
  after(async () => srv.stop());

  test('past the burst: 429 with Retry-After naming ingestion_rate; larger than the burst: 400 naming ingestion_burst_size', async () => {
    const batch = (name: string, n: number): Buffer => writeBody(Array.from({ length: n }, (_, i) => series(name, { i: String(i) })));
    assert.equal((await postWrite(srv.url, batch('first', 15))).status, 204);
    const res = await fetch(`${srv.url}/api/v1/write`, {
      method: 'POST',
      headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' },
      body: batch('second', 10),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(await res.text(), /ingestion_rate \(10 samples\/s/);
    const huge = await postWrite(srv.url, batch('huge', 25));
    assert.equal(huge.status, 400, huge.text);
    assert.match(huge.text, /ingestion_burst_size \(20\)/);
    assert.deepEqual(
      (await instant(srv, 'count(first)')).map((s) => s.value[1]),
      ['15'],
    );
    assert.deepEqual(await instant(srv, 'second'), []);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'ingestion_rate'), 2);
  });
});

describe('log limits on the Loki push API', () => {
  let srv: Server;
  before(async () => {
    srv = await startServer((c) => {
      c.selfScrape = false;
      c.limits.max_streams = 2;
      c.limits.max_line_size = 100;
      c.limits.ingestion_rate_mb = 1000 / (1024 * 1024);
      c.limits.ingestion_burst_size_mb = 2000 / (1024 * 1024);
    });
  });
  after(async () => srv.stop());

  const ns = (): string => String(BigInt(Date.now()) * 1_000_000n);
  const push = (streams: Array<[Record<string, string>, string[]]>, tenant = 'fake'): Promise<Response> =>
    fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-scope-orgid': tenant },
      body: JSON.stringify({ streams: streams.map(([stream, lines]) => ({ stream, values: lines.map((l) => [ns(), l]) })) }),
    });
  async function lines(query: string): Promise<string[]> {
    const r = await getJson(`${srv.url}/loki/api/v1/query_range?direction=forward&limit=1000&query=${encodeURIComponent(query)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.data as { result: Array<{ values: string[][] }> }).result.flatMap((s) => s.values.map((v) => v[1]!));
  }

  test('max_streams refuses the lines of new streams and keeps the rest; max_line_size refuses long lines', async () => {
    const r = await push([
      [{ app: 'a' }, ['a1']],
      [{ app: 'b' }, ['b1']],
      [{ app: 'c' }, ['c1']],
    ]);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /max_streams \(2 streams\)/);
    assert.deepEqual((await lines('{app=~"a|b|c"}')).sort(), ['a1', 'b1']);
    assert.equal((await push([[{ app: 'a' }, ['a2']]])).status, 204, 'an existing stream still takes lines');

    const long = await push([[{ app: 'a' }, ['x'.repeat(101)]]]);
    assert.equal(long.status, 400);
    assert.match(await long.text(), /max_line_size/);
    assert.equal(await selfMetric(srv, 'vigil_limit_usage', 'max_streams'), 2);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_streams'), 1);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_line_size'), 1);
  });

  test('ingestion_rate_mb: 429 with Retry-After past the burst, what came before is kept', async () => {
    // 15 distinct lines of 90 bytes (identical lines at one timestamp would be one): 1350 bytes,
    // within the 2000-byte burst once, not twice.
    const batch = Array.from({ length: 15 }, (_, i) => `rate-${String(i).padStart(2, '0')}-${'y'.repeat(82)}`);
    assert.equal((await push([[{ app: 'a' }, batch]], 'rate')).status, 204);
    const r = await push([[{ app: 'a' }, batch]], 'rate');
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.match(await r.text(), /ingestion_rate_mb/);
    assert.equal((await lines('{app="a"}')).filter((l) => l.startsWith('rate-')).length, 15);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'ingestion_rate_mb'), 1);
  });
});

describe('alert and silence limits on the Alertmanager API', () => {
  let srv: Server;
  before(async () => {
    srv = await startServer((c) => {
      c.selfScrape = false;
      c.limits.max_alerts = 2;
      c.limits.max_silences = 1;
    });
  });
  after(async () => srv.stop());

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('max_alerts refuses new alerts with a 429, keeps the others and still takes updates', async () => {
    const r = await post('/api/v2/alerts', [{ labels: { alertname: 'A' } }, { labels: { alertname: 'B' } }, { labels: { alertname: 'C' } }]);
    assert.equal(r.status, 429);
    assert.match(await r.text(), /max_alerts \(2\)/);
    const held = (await (await fetch(`${srv.url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string> }>;
    assert.deepEqual(held.map((a) => a.labels['alertname']).sort(), ['A', 'B']);
    assert.equal((await post('/api/v2/alerts', [{ labels: { alertname: 'A' }, annotations: { summary: 'again' } }])).status, 200);
    assert.equal(await selfMetric(srv, 'vigil_limit_usage', 'max_alerts'), 2);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_alerts'), 1);
  });

  test('max_silences refuses a new silence with a 400 naming the limit; the first keeps muting', async () => {
    const silence = (v: string): unknown => ({
      matchers: [{ name: 'alertname', value: v, isRegex: false }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      createdBy: 't',
      comment: 'c',
    });
    const first = await post('/api/v2/silences', silence('A'));
    assert.equal(first.status, 200);
    const { silenceID } = (await first.json()) as { silenceID: string };
    const second = await post('/api/v2/silences', silence('B'));
    assert.equal(second.status, 400);
    assert.match(await second.text(), /max_silences: 1/);
    // An update that would replace the silence under the limit is refused before the old one is expired.
    const replace = await post('/api/v2/silences', { ...(silence('C') as object), id: silenceID });
    assert.equal(replace.status, 200, 'replacing the only silence stays within the limit');
    const list = (await (await fetch(`${srv.url}/api/v2/silences`)).json()) as Array<{ status: { state: string } }>;
    assert.equal(list.filter((s) => s.status.state === 'active').length, 1);
    assert.equal(await selfMetric(srv, 'vigil_limit_usage', 'max_silences'), 1);
    assert.equal(await selfMetric(srv, 'vigil_limit_refusals_total', 'max_silences'), 1);
  });
});

describe('a restart over a head that holds more series than a lowered limit', () => {
  test('replays every series from the WAL, keeps them queryable, and refuses only new series', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const first = await startServerIn(dir, (c) => (c.limits.max_global_series = 0));
      const ten = Array.from({ length: 10 }, (_, i) => series('before_restart', { i: String(i) }));
      assert.equal((await postWrite(first.url, writeBody(ten))).status, 204);
      await first.server.stop();

      const second = await startServerIn(dir, (c) => (c.limits.max_global_series = 3));
      try {
        assert.deepEqual(
          (await instant(second, 'count(before_restart)')).map((s) => s.value[1]),
          ['10'],
        );
        const more = await postWrite(second.url, writeBody([series('before_restart', { i: '0' }, 7)]));
        assert.equal(more.status, 204, more.text);
        const fresh = await postWrite(second.url, writeBody([series('after_restart')]));
        assert.equal(fresh.status, 400);
        assert.match(fresh.text, /max_global_series \(3\)/);
        assert.equal(await selfMetric(second, 'vigil_limit_usage', 'max_global_series'), 10);
      } finally {
        await second.server.stop();
      }
    } finally {
      cleanup();
    }
  });
});

describe('a restart over a log store that holds more streams than a lowered max_streams', () => {
  test('loads every stream, keeps them queryable, and refuses only lines of new streams', async () => {
    const { dir, cleanup } = tempDir();
    const push = (url: string, apps: string[]): Promise<Response> =>
      fetch(`${url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ streams: apps.map((app) => ({ stream: { app }, values: [[String(BigInt(Date.now()) * 1_000_000n), `line of ${app}`]] })) }),
      });
    try {
      const first = await startServerIn(dir, (c) => (c.limits.max_streams = 0));
      assert.equal((await push(first.url, ['s1', 's2', 's3'])).status, 204);
      await first.server.stop();

      const second = await startServerIn(dir, (c) => (c.limits.max_streams = 2));
      try {
        const r = await getJson(`${second.url}/loki/api/v1/query_range?limit=100&query=${encodeURIComponent('{app=~"s.*"}')}`);
        const got = (r.body.data as { result: Array<{ values: string[][] }> }).result.flatMap((x) => x.values.map((v) => v[1])).sort();
        assert.deepEqual(got, ['line of s1', 'line of s2', 'line of s3']);
        assert.equal((await push(second.url, ['s1'])).status, 204);
        const fresh = await push(second.url, ['s4']);
        assert.equal(fresh.status, 400);
        assert.match(await fresh.text(), /max_streams \(2 streams\)/);
        assert.equal(await selfMetric(second, 'vigil_limit_usage', 'max_streams'), 3);
      } finally {
        await second.server.stop();
      }
    } finally {
      cleanup();
    }
  });
});

/** A server on `dir`, kept when it stops (startServer's stop deletes its directory). */
async function startServerIn(dir: string, patch: (c: VigilConfig) => void): Promise<Server> {
  const config = defaultConfig();
  config.storage.path = dir;
  config.listen = '127.0.0.1:0';
  config.selfScrape = false;
  patch(config);
  const server = new VigilServer(config, { logger: nopLogger });
  await server.start();
  return { server, dir, url: `http://${server.address()}`, stop: () => server.stop() };
}
