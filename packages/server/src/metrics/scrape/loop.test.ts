import { ManualClock } from '../../core/time/manual_clock.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import * as zlib from 'node:zlib';
import { Matcher } from '../../core/model/matcher.js';
import { compileRelabel } from '../relabel/relabel.js';
import type { Appendable } from '../storage/interface.js';
import { Head } from '../tsdb/head.js';
import type { ScrapeConfig } from './config.js';
import { ScrapeLoop, scrapeOffset } from './loop.js';
import { settingsOf } from './manager.js';
import { populateTarget, type Target } from './target.js';
import { scrapeConfig, serve, stored } from '../../testkit/scrape.js';
import { httpTransport, type ScrapeTransport } from './transport.js';

const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of closers) await c();
});

/** A target server whose body the test sets between scrapes. */
async function target(opts: { contentType?: string; status?: number; check?: (req: http.IncomingMessage) => boolean; gzip?: boolean } = {}) {
  const state = { body: '', status: opts.status ?? 200, contentType: opts.contentType ?? 'text/plain; version=0.0.4', lastAccept: '' };
  const srv = await serve((req, res) => {
    state.lastAccept = req.headers.accept ?? '';
    if (opts.check && !opts.check(req)) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    const gz = opts.gzip && /gzip/.test(req.headers['accept-encoding'] ?? '');
    res.writeHead(state.status, { 'content-type': state.contentType, ...(gz ? { 'content-encoding': 'gzip' } : {}) });
    res.end(gz ? zlib.gzipSync(state.body) : state.body);
  });
  closers.push(srv.close);
  return { ...srv, state };
}

function loopFor(
  host: string,
  raw: Record<string, unknown>,
  store: Appendable,
  now: () => number,
): { loop: ScrapeLoop; cfg: ScrapeConfig; transport: ScrapeTransport } {
  const cfg = scrapeConfig({ scrape_interval: '15s', static_configs: [{ targets: [host] }], ...raw });
  const r = populateTarget(cfg.staticConfigs[0]!.labels, cfg.staticConfigs[0]!.targets[0]!, { ...cfg, relabel: compileRelabel(cfg.relabelConfigs) });
  assert.ok('target' in r);
  const settings = settingsOf(cfg);
  const transport = httpTransport(cfg);
  closers.push(() => transport.close());
  const loop = new ScrapeLoop({ target: r.target as Target, settings, appendable: store, transport, now });
  closers.push(() => loop.stop(false));
  return { loop, cfg, transport };
}

const T0 = 1_700_000_000_000;

test('scrapes a text target: samples, target labels and the synthetic series in one batch', async () => {
  const t = await target();
  t.state.body =
    '# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 7\nhttp_requests_total{code="500"} 1\ntemp 21.5\n';
  const head = new Head();
  const clock = new ManualClock(T0);
  const { loop } = loopFor(t.host, {}, head, () => clock.now());
  await loop.scrapeOnce();
  assert.equal(loop.health, 'up', loop.lastError);
  assert.match(t.state.lastAccept, /openmetrics-text;version=1.0.0/);
  assert.deepEqual(stored(head, 'http_requests_total'), [
    { labels: { __name__: 'http_requests_total', code: '200', instance: t.host, job: 'test' }, samples: [[T0, 7]] },
    { labels: { __name__: 'http_requests_total', code: '500', instance: t.host, job: 'test' }, samples: [[T0, 1]] },
  ]);
  const report = Object.fromEntries(stored(head, 'up|scrape_.*').map((s) => [s.labels['__name__'], s.samples[0]![1]]));
  assert.deepEqual(report, { up: 1, scrape_duration_seconds: 0, scrape_samples_scraped: 3, scrape_samples_post_metric_relabeling: 3, scrape_series_added: 3 });
  assert.deepEqual(loop.metadata.get('http_requests_total'), { type: 'counter', help: 'Requests.', unit: '' });
  // A second scrape reuses cached refs: no series added.
  clock.jump(15_000);
  await loop.scrapeOnce();
  assert.deepEqual(stored(head, 'scrape_series_added')[0]!.samples, [
    [T0, 3],
    [T0 + 15_000, 0],
  ]);
});

test('scrapes an OpenMetrics target with gzip, honoring timestamps and units', async () => {
  const t = await target({ contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', gzip: true });
  t.state.body =
    '# TYPE job_seconds counter\n# UNIT job_seconds seconds\n# HELP job_seconds Work.\njob_seconds_total 3.5 1700000000.5\njob_seconds_created 1699999999\n# EOF\n';
  const head = new Head();
  const { loop } = loopFor(t.host, {}, head, () => T0 + 10_000);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'up', loop.lastError);
  assert.deepEqual(stored(head, 'job_seconds_total')[0]!.samples, [[1_700_000_000_500, 3.5]]);
  assert.deepEqual(loop.metadata.get('job_seconds'), { type: 'counter', help: 'Work.', unit: 'seconds' });
});

test('a failing target is down with the HTTP status, up is 0, its series go stale', async () => {
  const t = await target();
  t.state.body = 'a 1\n';
  const head = new Head();
  const clock = new ManualClock(T0);
  const { loop } = loopFor(t.host, {}, head, () => clock.now());
  await loop.scrapeOnce();
  t.state.status = 500;
  clock.jump(15_000);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'down');
  assert.equal(loop.lastError, 'server returned HTTP status 500 Internal Server Error');
  assert.deepEqual(stored(head, 'a')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 'stale'],
  ]);
  assert.deepEqual(stored(head, 'up')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 0],
  ]);
});

test('an unreachable target reports the connection error', async () => {
  const t = await target();
  await t.close();
  const head = new Head();
  const { loop } = loopFor(t.host, {}, head, () => T0);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'down');
  assert.match(loop.lastError, /^Get "http:\/\/127\.0\.0\.1:\d+\/metrics": .*ECONNREFUSED/);
});

test('a malformed body fails the scrape with line:column and writes nothing of it', async () => {
  const t = await target();
  t.state.body = 'good 1\n';
  const head = new Head();
  const clock = new ManualClock(T0);
  const { loop } = loopFor(t.host, {}, head, () => clock.now());
  await loop.scrapeOnce();
  t.state.body = 'good 2\nnew_series 5\nbroken{a="1" 3\n';
  clock.jump(15_000);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'down');
  assert.match(loop.lastError, /^3:\d+: /);
  assert.deepEqual(
    stored(head, 'good')[0]!.samples,
    [
      [T0, 1],
      [T0 + 15_000, 'stale'],
    ],
    'the 2 was rolled back',
  );
  assert.deepEqual(stored(head, 'new_series'), [], 'no half-written series');
  assert.deepEqual(stored(head, 'up')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 0],
  ]);
});

test('a series that disappears gets a staleness marker; one that returns resumes', async () => {
  const t = await target();
  const head = new Head();
  const clock = new ManualClock(T0);
  const { loop } = loopFor(t.host, {}, head, () => clock.now());
  t.state.body = 'keep 1\ngone 1\n';
  await loop.scrapeOnce();
  t.state.body = 'keep 2\n';
  clock.jump(15_000);
  await loop.scrapeOnce();
  t.state.body = 'keep 3\ngone 3\n';
  clock.jump(15_000);
  await loop.scrapeOnce();
  assert.deepEqual(stored(head, 'gone')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 'stale'],
    [T0 + 30_000, 3],
  ]);
  assert.deepEqual(stored(head, 'keep')[0]!.samples, [
    [T0, 1],
    [T0 + 15_000, 2],
    [T0 + 30_000, 3],
  ]);
  // Stopping because the target went away ends every series, the synthetic ones too.
  clock.jump(1000);
  await loop.stop(true);
  assert.deepEqual(stored(head, 'keep')[0]!.samples.at(-1), [T0 + 31_000, 'stale']);
  assert.deepEqual(stored(head, 'up')[0]!.samples.at(-1), [T0 + 31_000, 'stale']);
  await loop.stop(true); // idempotent
});

test('series that change order, length or place between scrapes keep their own samples', async () => {
  const t = await target();
  const head = new Head();
  const clock = new ManualClock(T0);
  const { loop } = loopFor(t.host, {}, head, () => clock.now());
  // The loop first checks the series at the same position as last time; every mismatch must fall back.
  const bodies = ['a 1\nb{x="1"} 1\nc 1\n', 'b{x="1"} 2\na 2\nc 2\n', 'a 3\nnew 3\nb{x="1"} 3\nc 3\n', 'a 4\nb{x="11"} 4\nb{x="1"} 4\n', 'c 5\na 5\n'];
  for (const [i, body] of bodies.entries()) {
    t.state.body = body;
    if (i > 0) clock.jump(15_000);
    await loop.scrapeOnce();
    assert.equal(loop.health, 'up', loop.lastError);
  }
  const at = (k: number): number => T0 + k * 15_000;
  assert.deepEqual(stored(head, 'a')[0]!.samples, [
    [at(0), 1],
    [at(1), 2],
    [at(2), 3],
    [at(3), 4],
    [at(4), 5],
  ]);
  assert.deepEqual(stored(head, 'c')[0]!.samples, [
    [at(0), 1],
    [at(1), 2],
    [at(2), 3],
    [at(3), 'stale'],
    [at(4), 5],
  ]);
  assert.deepEqual(stored(head, 'new')[0]!.samples, [
    [at(2), 3],
    [at(3), 'stale'],
  ]);
  const bs = stored(head, 'b');
  assert.deepEqual(bs.find((s) => s.labels['x'] === '1')!.samples, [
    [at(0), 1],
    [at(1), 2],
    [at(2), 3],
    [at(3), 4],
    [at(4), 'stale'],
  ]);
  assert.deepEqual(bs.find((s) => s.labels['x'] === '11')!.samples, [
    [at(3), 4],
    [at(4), 'stale'],
  ]);
});

test('basic auth and bearer credentials are sent; a wrong password is a 401', async () => {
  const basic = await target({ check: (req) => req.headers.authorization === `Basic ${Buffer.from('u:p').toString('base64')}` });
  basic.state.body = 'ok 1\n';
  const head = new Head();
  const good = loopFor(basic.host, { basic_auth: { username: 'u', password: 'p' } }, head, () => T0).loop;
  await good.scrapeOnce();
  assert.equal(good.health, 'up', good.lastError);
  const bad = loopFor(basic.host, { basic_auth: { username: 'u', password: 'x' } }, new Head(), () => T0).loop;
  await bad.scrapeOnce();
  assert.equal(bad.lastError, 'server returned HTTP status 401 Unauthorized');
  const bearer = await target({ check: (req) => req.headers.authorization === 'Bearer s3cret' });
  bearer.state.body = 'ok 1\n';
  const b = loopFor(bearer.host, { authorization: { credentials: 's3cret' } }, new Head(), () => T0).loop;
  await b.scrapeOnce();
  assert.equal(b.health, 'up', b.lastError);
});

test('sample_limit fails the whole scrape and reports how many samples there were', async () => {
  const t = await target();
  t.state.body = 'a 1\nb 1\nc 1\n';
  const head = new Head();
  const { loop } = loopFor(t.host, { sample_limit: 2 }, head, () => T0);
  await loop.scrapeOnce();
  assert.equal(loop.health, 'down');
  assert.match(loop.lastError, /sample limit exceeded/);
  assert.deepEqual(stored(head, 'a|b|c'), []);
  assert.deepEqual(stored(head, 'scrape_samples_post_metric_relabeling')[0]!.samples, [[T0, 3]]);
  assert.deepEqual(stored(head, 'up')[0]!.samples, [[T0, 0]]);
});

test('label_limit and body_size_limit fail the scrape', async () => {
  const t = await target();
  t.state.body = 'm{a="1",b="2",c="3"} 1\n';
  const l1 = loopFor(t.host, { label_limit: 3 }, new Head(), () => T0).loop;
  await l1.scrapeOnce();
  assert.match(l1.lastError, /label_limit exceeded \(metric: m, number of labels: 6, limit: 3\)/);
  const l2 = loopFor(t.host, { body_size_limit: '10B' }, new Head(), () => T0).loop;
  await l2.scrapeOnce();
  assert.match(l2.lastError, /body size limit exceeded/);
});

test('honor_labels false exports conflicting labels; metric_relabel_configs drop series', async () => {
  const t = await target();
  t.state.body = 'm{job="inner",exported_job="x"} 1\ngo_gc 1\n';
  const head = new Head();
  const { loop } = loopFor(t.host, { metric_relabel_configs: [{ source_labels: ['__name__'], regex: 'go_.*', action: 'drop' }] }, head, () => T0);
  await loop.scrapeOnce();
  assert.deepEqual(stored(head, 'm')[0]!.labels, { __name__: 'm', exported_exported_job: 'inner', exported_job: 'x', instance: t.host, job: 'test' });
  assert.deepEqual(stored(head, 'go_gc'), []);
  assert.deepEqual(stored(head, 'scrape_samples_post_metric_relabeling')[0]!.samples, [[T0, 1]]);
  const head2 = new Head();
  const honor = loopFor(t.host, { honor_labels: true }, head2, () => T0).loop;
  await honor.scrapeOnce();
  assert.deepEqual(stored(head2, 'm', [new Matcher('=', 'job', 'inner')]).length, 1);
});

test('scrape offsets spread 1,000 targets over the interval', () => {
  const interval = 15_000;
  const buckets = new Array<number>(15).fill(0);
  for (let i = 0; i < 1000; i++) {
    const r = populateTarget({}, { __address__: `10.0.${i >> 8}.${i & 255}:9100` }, { ...scrapeConfig({ scrape_interval: '15s' }), relabel: [] });
    assert.ok('target' in r);
    const off = scrapeOffset(r.target.hash, 0, interval);
    assert.ok(off >= 0 && off < interval);
    buckets[Math.floor(off / 1000)]!++;
  }
  // Each one-second slot gets about 67 targets; none is empty or crowded.
  for (const n of buckets) assert.ok(n > 30 && n < 110, `uneven spread: ${buckets.join(',')}`);
});

test('start() scrapes on schedule and stop() is bounded and idempotent', async () => {
  const t = await target();
  t.state.body = 'x 1\n';
  const head = new Head();
  const { loop } = loopFor(t.host, { scrape_interval: '100ms', scrape_timeout: '100ms' }, head, Date.now);
  loop.start();
  loop.start();
  const deadline = Date.now() + 5000;
  while (stored(head, 'up').length === 0 || stored(head, 'up')[0]!.samples.length < 2) {
    assert.ok(Date.now() < deadline, 'two scheduled scrapes within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all([loop.stop(false), loop.stop(false)]);
});

test('scrape timestamps within 2 ms of their slot are stamped with the slot, as Prometheus aligns them', async () => {
  const t = await target();
  t.state.body = 'a 1\n';
  const head = new Head();
  let now = T0;
  const { loop } = loopFor(t.host, {}, head, () => now);
  // Late by 1 and 2 ms, then by 3 (beyond the tolerance), a millisecond early, then a slot skipped.
  for (const at of [T0, T0 + 15_001, T0 + 30_002, T0 + 45_003, T0 + 59_999, T0 + 90_001]) {
    now = at;
    await loop.scrapeOnce();
    assert.equal(loop.health, 'up', loop.lastError);
  }
  const stamps = [T0, T0 + 15_000, T0 + 30_000, T0 + 45_003, T0 + 60_000, T0 + 90_000];
  assert.deepEqual(
    stored(head, 'a')[0]!.samples.map((s) => s[0]),
    stamps,
  );
  assert.deepEqual(
    stored(head, 'up')[0]!.samples.map((s) => s[0]),
    stamps,
  );
});

test('scrape timestamps are not aligned at intervals of 200 ms or less', async () => {
  const t = await target();
  t.state.body = 'a 1\n';
  const head = new Head();
  let now = T0;
  const { loop } = loopFor(t.host, { scrape_interval: '200ms', scrape_timeout: '200ms' }, head, () => now);
  for (const at of [T0, T0 + 201]) {
    now = at;
    await loop.scrapeOnce();
  }
  assert.deepEqual(
    stored(head, 'a')[0]!.samples.map((s) => s[0]),
    [T0, T0 + 201],
  );
});
