/**
 * Queries cannot take the server down (issue 19, item 2), through the real HTTP API of in-process
 * servers: the concurrency limit and its queue, the queue timeout (503 + Retry-After), the query
 * timeout firing during evaluation, a client going away cancelling its query, max_samples (422),
 * LogQL's byte budget, rule groups timing out at their interval, `/-/ready` answered while a heavy
 * query runs, and `stats=all`. Assertions are on order and outcome, never on durations.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { getJson, postWrite, startServer, tempDir, waitFor, writeBody } from '../../testkit/helpers.js';

/**
 * A query with no selector that takes many seconds (150 subqueries of 345,600 steps), in bounded
 * memory: longer than any timeout below, so each test sees it running however busy the machine is.
 */
const HEAVY = Array.from({ length: 150 }, () => 'sum_over_time((vector(1) + 1)[4d:1s])').join(' + ');
const LIGHT = '1 + 1';

type Server = Awaited<ReturnType<typeof startServer>>;
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function server(patch: Parameters<typeof startServer>[0]): Promise<Server> {
  const s = await startServer(patch);
  servers.push(s);
  return s;
}

/** One sample of Vigil's own /metrics, by name and labels as written (`name{a="b"}`). */
async function selfMetric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} on /metrics`);
  return Number(line.slice(series.length + 1));
}

function query(url: string, expr: string, signal?: AbortSignal, extra = ''): Promise<Response> {
  return fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}${extra}`, signal ? { signal } : {});
}

/** Resolves once the gate shows `running` queries evaluating and `queued` waiting. */
async function gateShows(url: string, running: number, queued: number): Promise<void> {
  await waitFor(
    `${running} running and ${queued} queued`,
    async () =>
      (await selfMetric(url, 'vigil_engine_queries_running')) === running && (await selfMetric(url, 'vigil_engine_queries_queued')) === queued
        ? true
        : undefined,
    30_000,
    50,
  );
}

test('a query waits for a slot; the query timeout fires during evaluation', async () => {
  const s = await server((c) => {
    c.query.maxConcurrency = 1;
    // Long enough for the test to see one query running and one queued on a busy machine (it polls /metrics).
    c.query.timeoutMs = 4000;
  });
  const order: string[] = [];
  const heavy = query(s.url, HEAVY).then(async (r) => {
    order.push('heavy');
    return { status: r.status, body: (await r.json()) as { errorType?: string; error?: string } };
  });
  await gateShows(s.url, 1, 0);
  assert.equal(await selfMetric(s.url, 'prometheus_engine_queries_concurrent_max'), 1);
  const light = query(s.url, LIGHT, undefined, '&stats=all').then(async (r) => {
    order.push('light');
    return { status: r.status, body: (await r.json()) as { data: { stats: { timings: { execQueueTime: number } } } } };
  });
  await gateShows(s.url, 1, 1);
  assert.equal(await selfMetric(s.url, 'prometheus_engine_queries'), 2, 'running and waiting');
  const h = await heavy;
  assert.equal(h.status, 503);
  assert.equal(h.body.errorType, 'timeout');
  assert.match(h.body.error!, /query timed out in query execution/);
  const l = await light;
  assert.equal(l.status, 200);
  assert.deepEqual(order, ['heavy', 'light'], 'the waiting query ran once the slot was free');
  assert.ok(l.body.data.stats.timings.execQueueTime > 0, 'time spent queued is reported');
  assert.equal(await selfMetric(s.url, 'vigil_engine_queries_ended_total{reason="timeout"}'), 1);
});

test('queue timeout: 503 with Retry-After; /-/ready answers while a heavy query runs; a client going away cancels its query', async () => {
  const s = await server((c) => {
    c.query.maxConcurrency = 1;
    c.query.queueTimeoutMs = 300;
  });
  const abort = new AbortController();
  let heavyAnswered = false;
  const heavy = query(s.url, HEAVY, abort.signal).then(
    () => (heavyAnswered = true),
    (err: Error) => err.name,
  );
  await gateShows(s.url, 1, 0);
  const ready = await fetch(`${s.url}/-/ready`);
  assert.equal(ready.status, 200);
  assert.equal(heavyAnswered, false, '/-/ready answered before the heavy query');
  const refused = await query(s.url, LIGHT);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  const body = (await refused.json()) as { errorType: string; error: string };
  assert.equal(body.errorType, 'unavailable');
  assert.match(body.error, /query\.queue_timeout \(300ms\).*query\.max_concurrency/);
  assert.equal(heavyAnswered, false, 'refused while the heavy query still ran');
  assert.equal(await selfMetric(s.url, 'vigil_engine_queries_ended_total{reason="queue_timeout"}'), 1);
  // The client goes away: the evaluation stops (the slot frees) without answering.
  abort.abort();
  assert.equal(await heavy, 'AbortError');
  await gateShows(s.url, 0, 0);
  assert.equal(await selfMetric(s.url, 'vigil_engine_queries_ended_total{reason="canceled"}'), 1);
  assert.equal((await query(s.url, LIGHT)).status, 200, 'the slot is free again');
});

test('max_samples: refused with 422 as Prometheus words it, counted as samples are selected', async () => {
  const s = await server((c) => {
    c.query.maxSamples = 100;
  });
  const t = Date.now() - 60_000;
  const series = Array.from({ length: 150 }, (_, i) => ({
    labels: labelsFrom({ __name__: 'wide', i: String(i) }),
    samples: [[t, i]] as Array<[number, number]>,
  }));
  assert.equal((await postWrite(s.url, writeBody(series))).status, 204);
  const res = await getJson(`${s.url}/api/v1/query?query=${encodeURIComponent('count(wide)')}&time=${t / 1000}`);
  assert.equal(res.status, 422);
  assert.equal(res.body.errorType, 'execution');
  assert.equal(res.body.error, 'query processing would load too many samples into memory in query execution');
  assert.equal(await selfMetric(s.url, 'vigil_engine_queries_ended_total{reason="max_samples"}'), 1);
  // Under the budget, the same data answers.
  const ok = await getJson(`${s.url}/api/v1/query?query=${encodeURIComponent('count(wide{i=~"1.?"})')}&time=${t / 1000}`);
  assert.equal(ok.status, 200);
});

test('LogQL: a query reading more than max_bytes_read is refused with 422', async () => {
  const s = await server((c) => {
    c.query.maxBytesRead = 1024;
  });
  const ns = BigInt(Date.now() - 60_000) * 1_000_000n;
  const values = Array.from({ length: 40 }, (_, i) => [String(ns + BigInt(i)), `line ${i} ${'x'.repeat(60)}`]);
  const push = await fetch(`${s.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream: { app: 'big' }, values }] }),
  });
  assert.equal(push.status, 204);
  for (const q of ['{app="big"}', 'sum(count_over_time({app="big"} |= "line" [1h]))', 'sum(bytes_over_time({app="big"}[1h]))']) {
    const res = await getJson(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent(q)}&limit=1000&since=1h`);
    assert.equal(res.status, 422, q);
    assert.match(res.body.error!, /max_query_bytes_read 1024/);
  }
  assert.equal(await selfMetric(s.url, 'vigil_engine_queries_ended_total{reason="max_bytes"}'), 3);
  const small = await getJson(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="big"}')}&limit=5&since=1h&direction=backward`);
  assert.equal(small.status, 200, 'a query that reads five lines stays within the budget');
});

test('stats=all: Prometheus timings and samples, per step for range queries', async () => {
  const s = await server(() => {});
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
  const series = ['a', 'b'].map((job) => ({
    labels: labelsFrom({ __name__: 'up', job }),
    samples: Array.from({ length: 11 }, (_, i) => [t0 + i * 60_000, 1] as [number, number]),
  }));
  assert.equal((await postWrite(s.url, writeBody(series))).status, 204);
  const range = `&start=${t0 / 1000}&end=${t0 / 1000 + 240}&step=60`;
  const plain = await getJson(`${s.url}/api/v1/query_range?query=up${range}`);
  assert.equal((plain.body.data as Record<string, unknown>)['stats'], undefined, 'no stats unless asked');
  const all = await getJson(`${s.url}/api/v1/query_range?query=up${range}&stats=all`);
  const stats = (all.body.data as { stats: { timings: Record<string, number>; samples: Record<string, unknown> } }).stats;
  assert.deepEqual(Object.keys(stats.timings).sort(), [
    'evalTotalTime',
    'execQueueTime',
    'execTotalTime',
    'innerEvalTime',
    'queryPreparationTime',
    'resultSortTime',
  ]);
  for (const v of Object.values(stats.timings)) assert.equal(typeof v, 'number');
  assert.ok(stats.timings['execTotalTime']! >= stats.timings['evalTotalTime']!);
  // Two series, each with a sample in every step's lookback: two samples per step.
  assert.deepEqual(
    stats.samples['totalQueryableSamplesPerStep'],
    [0, 60, 120, 180, 240].map((d) => [t0 / 1000 + d, 2]),
  );
  assert.equal(stats.samples['totalQueryableSamples'], 10);
  assert.ok((stats.samples['peakSamples'] as number) >= 10);
  const totals = await getJson(`${s.url}/api/v1/query?query=${encodeURIComponent('sum_over_time(up[5m])')}&time=${t0 / 1000 + 600}&stats=true`);
  const st = (totals.body.data as { stats: { samples: Record<string, unknown> } }).stats;
  assert.equal(st.samples['totalQueryableSamplesPerStep'], undefined, 'per step only with stats=all');
  // A 5m window ending at the last sample holds 5 samples of each series (left-open window).
  assert.equal(st.samples['totalQueryableSamples'], 10);
});

test('a rule group whose evaluation outlasts its interval times out instead of piling up', async () => {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'slow.yml');
  writeFileSync(file, `groups:\n  - name: slow\n    interval: 1s\n    rules:\n      - record: heavy:sum\n        expr: '${HEAVY}'\n`);
  try {
    const s = await server((c) => {
      c.ruleFiles = [file];
    });
    const rule = await waitFor(
      'the rule to fail',
      async () => {
        const res = await getJson(`${s.url}/api/v1/rules`);
        const r = (res.body.data as { groups: Array<{ rules: Array<{ health: string; lastError?: string }> }> }).groups[0]?.rules[0];
        return r?.health === 'err' ? r : undefined;
      },
      60_000,
      100,
    );
    assert.match(rule.lastError!, /timed out/);
  } finally {
    cleanup();
  }
});

test('a large result is written in pieces, in the same envelope', async () => {
  const s = await server(() => {});
  const t = Math.floor(Date.now() / 1000) * 1000 - 120_000;
  const series = Array.from({ length: 1500 }, (_, i) => ({
    labels: labelsFrom({ __name__: 'many', i: String(i).padStart(4, '0') }),
    samples: [
      [t, i],
      [t + 60_000, i + 0.5],
    ] as Array<[number, number]>,
  }));
  assert.equal((await postWrite(s.url, writeBody(series))).status, 204);
  const inst = await getJson(`${s.url}/api/v1/query?query=many&time=${t / 1000}`);
  assert.equal(inst.status, 200);
  const vec = inst.body.data as { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  assert.equal(vec.resultType, 'vector');
  assert.equal(vec.result.length, 1500);
  for (const r of vec.result) assert.deepEqual(r.value, [t / 1000, String(Number(r.metric['i']))]);
  const range = await getJson(`${s.url}/api/v1/query_range?query=many&start=${t / 1000}&end=${t / 1000 + 60}&step=60&stats=all`);
  const m = range.body.data as {
    resultType: string;
    result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    stats: { samples: { totalQueryableSamples: number } };
  };
  assert.equal(m.resultType, 'matrix');
  assert.deepEqual(
    m.result.map((r) => r.metric['i']),
    series.map((x) => x.labels.find((l) => l.name === 'i')!.value),
    'sorted by labels',
  );
  assert.deepEqual(m.result[7]!.values, [
    [t / 1000, '7'],
    [t / 1000 + 60, '7.5'],
  ]);
  assert.equal(m.stats.samples.totalQueryableSamples, 3000);
});
