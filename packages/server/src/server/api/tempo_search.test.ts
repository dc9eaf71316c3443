/**
 * Tempo's search, tag and metrics APIs over real HTTP against a started Vigil, with the requests
 * Grafana's Tempo data source sends (TraceQL search from the query editor, tag names and values for
 * autocomplete), checked against hand-computed answers over the fixture traces (testkit/trace_fixture.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../testkit/helpers.js';
import { T1, T2, T3, ingestFixture } from '../../testkit/trace_fixture.js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nopLogger } from '../../core/util/log.js';
import { MemoryTraceStore } from '../../traces/storage/memory.js';
import type { TraceQueryable } from '../../traces/storage/interface.js';
import type { Span } from '../../traces/storage/types.js';
import { buildInfo } from '../selfmon/build_info.js';
import { Router } from './http.js';
import { WebPolicy } from './web_policy.js';
import { parseLogfmt, registerTempoSearch, tagsToTraceQL } from './tempo_search.js';

interface SearchTrace {
  traceID: string;
  rootServiceName: string;
  rootTraceName: string;
  startTimeUnixNano: string;
  durationMs: number;
  spanSets: { matched: number; spans: { spanID: string }[] }[];
  serviceStats: Record<string, { spanCount: number; errorCount?: number }>;
}

describe('Tempo query API', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let base = 0;
  before(async () => {
    srv = await startServer();
    base = await ingestFixture(srv.url);
  });
  after(async () => srv.stop());

  const get = async (path: string, params: Record<string, string> = {}): Promise<{ status: number; text: string; body: unknown }> => {
    const res = await fetch(`${srv.url}${path}?${new URLSearchParams(params).toString()}`);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, text, body };
  };
  const search = async (params: Record<string, string>): Promise<SearchTrace[]> => {
    const r = await get('/api/search', params);
    assert.equal(r.status, 200, r.text);
    const body = r.body as { traces: SearchTrace[]; metrics: { inspectedTraces: number } };
    assert.ok(typeof body.metrics.inspectedTraces === 'number');
    return body.traces;
  };
  const ids = (ts: SearchTrace[]): string[] => ts.map((t) => t.traceID);

  test('a TraceQL search as Grafana sends it answers Tempo’s shape', async () => {
    const range = { start: String(base - 60), end: String(base + 600) };
    const traces = await search({ q: '{ resource.service.name = "shop" && status = error }', limit: '20', spss: '3', ...range });
    assert.deepEqual(ids(traces), [T1]);
    const t = traces[0]!;
    assert.equal(t.rootServiceName, 'shop');
    assert.equal(t.rootTraceName, 'POST /checkout');
    assert.equal(t.startTimeUnixNano, (BigInt(base) * 1_000_000_000n).toString());
    assert.equal(t.durationMs, 1000);
    assert.equal(t.spanSets[0]!.matched, 2);
    assert.deepEqual(t.spanSets[0]!.spans.map((s) => s.spanID).sort(), ['1000000000000001', '1000000000000002']);
    assert.deepEqual(t.serviceStats, { shop: { spanCount: 2, errorCount: 2 }, payment: { spanCount: 1 } });
  });

  test('search results over the fixture match hand-computed expectations', async () => {
    assert.deepEqual(ids(await search({ q: '{ span.http.status_code = 200 }' })), [T3, T2]);
    assert.deepEqual(ids(await search({ q: '{}', limit: '2' })), [T3, T2]);
    assert.deepEqual(ids(await search({ q: '{ resource.service.name = "shop" } > { resource.service.name = "payment" }' })), [T1]);
    assert.deepEqual(ids(await search({ q: '{ resource.service.name = "shop" } | count() > 1' })), [T2, T1]);
    // avg span duration: T1 (1000+800+100)/3 ≈ 633 ms, T2 35 ms, T3 300 ms.
    assert.deepEqual(ids(await search({ q: '{ } | avg(duration) > 500ms' })), [T1]);
    assert.deepEqual(ids(await search({ q: '{ name = "charge" || name = "POST /charge" }' })), [T3, T1]);
    assert.deepEqual(ids(await search({ q: '{}', minDuration: '500ms' })), [T1]);
    assert.deepEqual(ids(await search({ q: '{}', maxDuration: '100ms' })), [T2]);
    assert.deepEqual(ids(await search({ q: '{}', start: String(base + 100), end: String(base + 200) })), [T3]);
    assert.deepEqual(ids(await search({ q: '{ resource.service.name = "nope" }' })), []);
    const [one] = await search({ q: '{ resource.service.name = "shop" }', spss: '1' });
    assert.equal(one!.spanSets[0]!.spans.length, 1);
  });

  test('the legacy logfmt tags search', async () => {
    assert.deepEqual(ids(await search({ tags: 'service.name=shop' })), [T2, T1]);
    assert.deepEqual(ids(await search({ tags: 'http.status_code=500' })), [T1]);
    assert.deepEqual(ids(await search({ tags: 'service.name=payment name="POST /charge"' })), [T3]);
    assert.deepEqual(parseLogfmt('a=1 b="x y" c='), [
      ['a', '1'],
      ['b', 'x y'],
      ['c', ''],
    ]);
    assert.equal(tagsToTraceQL([['k', '5']]), '{ (."k" = "5" || ."k" = 5) }');
  });

  test('bad input is a 400 with a clear message', async () => {
    const bad = await get('/api/search', { q: '{ .a = }' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^invalid TraceQL query: parse error at line 1, col \d+/);
    for (const [params, re] of [
      [{ q: '{}', minDuration: 'abc' }, /invalid minDuration/],
      [{ q: '{}', maxDuration: '1x' }, /invalid maxDuration/],
      [{ q: '{}', minDuration: '2s', maxDuration: '1s' }, /less than minDuration/],
      [{ q: '{}', limit: '-1' }, /invalid limit/],
      [{ q: '{}', start: 'yesterday' }, /invalid start/],
      [{ q: '{}', start: '200', end: '100' }, /end is before start/],
      [{ tags: '=x' }, /invalid tags/],
      [{ q: '{} | rate()' }, /metrics query/],
    ] as const) {
      const r = await get('/api/search', params);
      assert.equal(r.status, 400, `${JSON.stringify(params)}: ${r.text}`);
      assert.match(r.text, re);
    }
    assert.equal((await get('/api/v2/search/tag/bogus/values')).status, 400);
    assert.equal((await get('/api/search/tags', { scope: 'event-ish' })).status, 400);
    assert.equal((await get('/api/metrics/query_range', { q: '{ }' })).status, 400);
    assert.equal((await get('/api/metrics/query_range', { q: '{ } | rate()', step: 'x' })).status, 400);
    const tooFine = await get('/api/metrics/query_range', { q: '{ } | rate()', start: '1000', end: '200000', step: '1s' });
    assert.equal(tooFine.status, 422);
    assert.match(tooFine.text, /exceeded maximum resolution/);
  });

  test('tag names, v1 and v2 with scopes', async () => {
    const v1 = (await get('/api/search/tags')).body as { tagNames: string[] };
    assert.deepEqual(v1.tagNames, ['db.system', 'http.status_code', 'service.name']);
    const v2 = (await get('/api/v2/search/tags', { start: String(base - 60), end: String(base + 600) })).body as { scopes: { name: string; tags: string[] }[] };
    assert.deepEqual(
      v2.scopes.map((s) => s.name),
      ['span', 'resource', 'intrinsic'],
    );
    assert.deepEqual(v2.scopes[0]!.tags, ['db.system', 'http.status_code']);
    assert.deepEqual(v2.scopes[1]!.tags, ['service.name']);
    for (const i of ['duration', 'name', 'status', 'kind', 'rootServiceName', 'traceDuration', 'span:name']) assert.ok(v2.scopes[2]!.tags.includes(i), i);
    const onlyResource = (await get('/api/v2/search/tags', { scope: 'resource' })).body as { scopes: { name: string }[] };
    assert.deepEqual(
      onlyResource.scopes.map((s) => s.name),
      ['resource'],
    );
  });

  test('tag values, v1 strings and v2 typed, narrowed by q', async () => {
    assert.deepEqual((await get('/api/search/tag/service.name/values')).body, { tagValues: ['payment', 'shop'] });
    assert.deepEqual((await get('/api/v2/search/tag/resource.service.name/values')).body, {
      tagValues: [
        { type: 'string', value: 'payment' },
        { type: 'string', value: 'shop' },
      ],
    });
    assert.deepEqual((await get('/api/v2/search/tag/span.http.status_code/values')).body, {
      tagValues: [
        { type: 'int', value: '200' },
        { type: 'int', value: '500' },
      ],
    });
    assert.deepEqual((await get('/api/v2/search/tag/span.http.status_code/values', { q: '{ resource.service.name = "payment" }' })).body, {
      tagValues: [{ type: 'int', value: '200' }],
    });
    assert.deepEqual((await get('/api/v2/search/tag/name/values', { q: '{ resource.service.name = "shop" && status = error }' })).body, {
      tagValues: [
        { type: 'string', value: 'POST /checkout' },
        { type: 'string', value: 'db.pool.acquire' },
      ],
    });
    // What the editor sends while the user is still typing narrows nothing.
    const partial = (await get('/api/v2/search/tag/resource.service.name/values', { q: '{ resource.service.name = ' })).body as { tagValues: unknown[] };
    assert.equal(partial.tagValues.length, 2);
    const status = (await get('/api/v2/search/tag/status/values')).body as { tagValues: { type: string; value: string }[] };
    assert.deepEqual(status.tagValues, [
      { type: 'keyword', value: 'error' },
      { type: 'keyword', value: 'ok' },
      { type: 'keyword', value: 'unset' },
    ]);
  });

  test('echo and buildinfo', async () => {
    const echo = await get('/api/echo');
    assert.equal(echo.status, 200);
    assert.equal(echo.text, 'echo');
    const info = (await get('/api/status/buildinfo')).body as { version: string; goVersion: string };
    assert.match(info.version, /^\d+\.\d+\.\d+$/);
  });

  test('TraceQL metrics: query_range and instant query', async () => {
    const start = String(base - 60);
    const end = String(base + 180);
    const range = (await get('/api/metrics/query_range', { q: '{ } | count_over_time() by (resource.service.name)', start, end, step: '60s' })).body as {
      series: { labels: { key: string; value: { stringValue: string } }[]; samples: { timestampMs: string; value: number }[] }[];
    };
    const byService = new Map(range.series.map((s) => [s.labels[0]!.value.stringValue, s.samples.reduce((a, p) => a + p.value, 0)]));
    assert.deepEqual(Object.fromEntries(byService), { shop: 4, payment: 2 });
    const inst = (await get('/api/metrics/query', { q: '{ status = error } | count_over_time()', start, end })).body as { series: { value: number }[] };
    assert.deepEqual(
      inst.series.map((s) => s.value),
      [2],
    );
  });
});

test('a search stops at the timeout (504) and when the client goes away', async () => {
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const trace: Span[] = [
    {
      traceId: '00000000000000000000000000000001',
      spanId: '0000000000000001',
      parentSpanId: '',
      name: 'op',
      kind: 'server',
      startTimeUnixNano: t0,
      endTimeUnixNano: t0 + 1000n,
      status: { code: 'unset', message: '' },
      attributes: {},
      resource: { 'service.name': 's' },
      scope: { name: '', version: '' },
      events: [],
      links: [],
    },
  ];
  // A store whose candidates never end: only the signal can stop a search over it.
  let read = 0;
  const endless: TraceQueryable = Object.assign(new MemoryTraceStore(), {
    *search(): Iterable<Span[]> {
      for (;;) {
        read++;
        yield trace;
      }
    },
  });
  const serve = async (timeoutMs: number): Promise<{ url: string; close: () => void }> => {
    const router = new Router(nopLogger, new WebPolicy({ listen: '127.0.0.1:0' }));
    registerTempoSearch(router, endless, buildInfo('test'), { timeoutMs });
    const server = http.createServer(router.listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const q = encodeURIComponent('{ duration > 1h }');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/search?q=${q}`, close: () => server.close() };
  };
  const short = await serve(50);
  try {
    const res = await fetch(short.url);
    assert.equal(res.status, 504);
    assert.match(await res.text(), /query timed out/);
  } finally {
    short.close();
  }
  const long = await serve(60_000);
  try {
    const ac = new AbortController();
    const pending = fetch(long.url, { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(read > 0);
    ac.abort();
    assert.ok((await pending) instanceof Error);
    await new Promise((r) => setTimeout(r, 100));
    const after = read;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(read, after, 'the search went on after the client left');
  } finally {
    long.close();
  }
});
