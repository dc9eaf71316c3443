import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { labelsFrom } from '../../core/model/labels.js';
import { getJson, peerBinary, postWrite, startServer, writeBody } from '../../testkit/helpers.js';

let srv: Awaited<ReturnType<typeof startServer>>;
const T0 = 1_700_000_000_000;
const sec = (ms: number): number => ms / 1000;

before(async () => {
  srv = await startServer();
  const series = ['a', 'b'].map((job, j) => ({
    labels: labelsFrom({ __name__: 'http_requests_total', job, code: '200' }),
    samples: Array.from({ length: 61 }, (_, i) => [T0 + i * 15_000, (j + 1) * i * 3] as [number, number]),
  }));
  assert.equal((await postWrite(srv.url, writeBody(series))).status, 204);
});
after(async () => srv.stop());

test('instant query: GET and form POST give the Prometheus envelope', async () => {
  const q = encodeURIComponent('sum by (job) (rate(http_requests_total[5m]))');
  const got = await getJson(`${srv.url}/api/v1/query?query=${q}&time=${sec(T0 + 900_000)}`);
  assert.equal(got.status, 200);
  const data = got.body.data as { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  assert.equal(data.resultType, 'vector');
  assert.deepEqual(
    data.result.map((r) => [r.metric, r.value[0]]),
    [
      [{ job: 'a' }, sec(T0 + 900_000)],
      [{ job: 'b' }, sec(T0 + 900_000)],
    ],
  );
  // 3 per 15 s is 0.2/s; the float arithmetic of rate's extrapolation may differ in the last bit.
  assert.ok(Math.abs(Number(data.result[0]!.value[1]) - 0.2) < 1e-12);
  assert.ok(Math.abs(Number(data.result[1]!.value[1]) - 0.4) < 1e-12);
  const res = await fetch(`${srv.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `query=${encodeURIComponent('scalar(count(http_requests_total))')}&time=${new Date(T0 + 60_000).toISOString()}`,
  });
  assert.deepEqual(((await res.json()) as { data: unknown }).data, { resultType: 'scalar', result: [sec(T0 + 60_000), '2'] });
});

test('range query returns a matrix with one point per step', async () => {
  const got = await getJson(`${srv.url}/api/v1/query_range?query=http_requests_total{job="a"}&start=${sec(T0)}&end=${sec(T0 + 60_000)}&step=30s`);
  assert.deepEqual(got.body.data, {
    resultType: 'matrix',
    result: [
      {
        metric: { __name__: 'http_requests_total', code: '200', job: 'a' },
        values: [
          [sec(T0), '0'],
          [sec(T0 + 30_000), '6'],
          [sec(T0 + 60_000), '12'],
        ],
      },
    ],
  });
});

test('a range result of many points from few series (written in pieces) is the JSON of its points', async () => {
  // 2 series × 9001 steps: over the 10,000 points above which the result is written series by series.
  const res = await fetch(`${srv.url}/api/v1/query_range?query=http_requests_total&start=${sec(T0)}&end=${sec(T0 + 900_000)}&step=0.1`);
  assert.equal(res.status, 200);
  const steps = Array.from({ length: 9001 }, (_, k) => T0 + k * 100);
  const want = {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: ['a', 'b'].map((job, j) => ({
        metric: { __name__: 'http_requests_total', code: '200', job },
        values: steps.map((t) => [sec(t), String((j + 1) * Math.floor((t - T0) / 15_000) * 3)]),
      })),
    },
  };
  assert.equal(await res.text(), JSON.stringify(want));
});

test('errors map to 400 bad_data, 422 execution, with Prometheus messages', async () => {
  const parse = await getJson(`${srv.url}/api/v1/query?query=${encodeURIComponent('sum(rate(x[5m])')}`);
  assert.equal(parse.status, 400);
  assert.equal(parse.body.errorType, 'bad_data');
  assert.match(parse.body.error!, /^1:\d+: parse error: /);
  assert.equal((await getJson(`${srv.url}/api/v1/query`)).status, 400);
  const step = await getJson(`${srv.url}/api/v1/query_range?query=1&start=0&end=10&step=0`);
  assert.equal(step.status, 400);
  const points = await getJson(`${srv.url}/api/v1/query_range?query=1&start=0&end=100000&step=1`);
  assert.equal(points.status, 400);
  assert.match(points.body.error!, /11000 points/);
  const exec = await getJson(
    `${srv.url}/api/v1/query?time=${sec(T0 + 60_000)}&query=${encodeURIComponent('http_requests_total + on(code) http_requests_total')}`,
  );
  assert.equal(exec.status, 422);
  assert.equal(exec.body.errorType, 'execution');
});

test('format_query, buildinfo and the TSDB status', async () => {
  const f = await getJson(`${srv.url}/api/v1/format_query?query=${encodeURIComponent('sum(rate(foo{a="b"}[5m]))by(job)')}`);
  assert.equal(f.body.data, 'sum by (job) (rate(foo{a="b"}[5m]))');
  const b = await getJson(`${srv.url}/api/v1/status/buildinfo`);
  assert.match((b.body.data as { version: string }).version, /^\d+\.\d+\.\d+$/);
  const t = await getJson(`${srv.url}/api/v1/status/tsdb`);
  const data = t.body.data as { headStats: { numSeries: number }; seriesCountByMetricName: Array<{ name: string; value: number }> };
  assert.equal(data.headStats.numSeries, 2);
  assert.deepEqual(data.seriesCountByMetricName, [{ name: 'http_requests_total', value: 2 }]);
  for (const p of ['runtimeinfo', 'flags', 'config']) assert.equal((await getJson(`${srv.url}/api/v1/status/${p}`)).status, 200);
});

test('promtool query instant and range work against Vigil', async () => {
  const promtool = peerBinary('promtool', 'prometheus');
  const run = promisify(execFile);
  const instant = await run(promtool, ['query', 'instant', '--time', String(sec(T0 + 900_000)), srv.url, 'sum(http_requests_total)']);
  assert.match(instant.stdout, /=> 540 @\[/);
  const range = await run(promtool, [
    'query',
    'range',
    '--start',
    String(sec(T0)),
    '--end',
    String(sec(T0 + 30_000)),
    '--step',
    '15s',
    srv.url,
    'http_requests_total{job="b"}',
  ]);
  assert.match(range.stdout, /0 @\[/);
  assert.match(range.stdout, /12 @\[/);
});
