/**
 * TraceQL metrics over the hand-drawn traces (A's six spans in the first second, B's three in the
 * second, C's two in the third), with hand-computed series on a 1 s grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureTraces, generateTraces, T0_MS, TRACE_A, TRACE_C } from '../../testkit/traces.js';
import { compileMetrics, MAX_SERIES, queryInstant, queryRange, type TimeSeries, TraceqlExecError } from './metrics.js';
import { TraceqlParseError } from './parser.js';

const grid = { startMs: T0_MS, endMs: T0_MS + 3000, stepMs: 1000 };

/** Series as `promLabels → [[offset from T0 in ms, value]]`, values rounded to 9 digits. */
function compact(series: TimeSeries[]): Record<string, [number, number][]> {
  return Object.fromEntries(
    series.map((s) => [s.promLabels, s.samples.map((p) => [Number(p.timestampMs) - T0_MS, Number(p.value.toPrecision(9))] as [number, number])]),
  );
}

test('count_over_time and rate, with and without by()', async () => {
  const count = await queryRange('{ } | count_over_time()', fixtureTraces, grid);
  assert.deepEqual(count.series, [
    {
      labels: [],
      promLabels: '{}',
      samples: [
        { timestampMs: String(T0_MS), value: 6 },
        { timestampMs: String(T0_MS + 1000), value: 3 },
        { timestampMs: String(T0_MS + 2000), value: 2 },
      ],
    },
  ]);
  assert.deepEqual(count.metrics, { inspectedTraces: 3, inspectedSpans: 11 });

  const rate = await queryRange('{ } | rate() by (resource.service.name)', fixtureTraces, { ...grid, stepMs: 500 });
  assert.deepEqual(compact(rate.series), {
    // Per 500 ms: shop has A1–A3 in [0, 500), A4 at 430 ms too; B's three at 1000–1012 ms.
    '{resource.service.name="payment"}': [
      [0, 4],
      [2000, 4],
    ],
    '{resource.service.name="shop"}': [
      [0, 8],
      [1000, 6],
    ],
  });
  assert.deepEqual(rate.series.find((s) => s.promLabels.includes('shop'))!.labels, [{ key: 'resource.service.name', value: { stringValue: 'shop' } }]);

  const errors = await queryRange('{ status = error } | count_over_time() by (resource.service.name, span.http.method)', fixtureTraces, grid);
  assert.deepEqual(compact(errors.series), {
    '{resource.service.name="payment", span.http.method="POST"}': [[2000, 1]],
    '{resource.service.name="shop"}': [[0, 2]],
  });
});

test('quantile_over_time reports durations in seconds, one series per quantile with a p label', async () => {
  const res = await queryRange('{ } | quantile_over_time(duration, 0.5, 1) by (resource.service.name)', fixtureTraces, grid);
  assert.deepEqual(compact(res.series), {
    // shop [0,1s): 20, 400, 450, 500 ms → median 425 ms; [1s,2s): 2, 10, 20 ms → 10 ms.
    '{resource.service.name="shop", p="0.5"}': [
      [0, 0.425],
      [1000, 0.01],
    ],
    '{resource.service.name="shop", p="1"}': [
      [0, 0.5],
      [1000, 0.02],
    ],
    // payment [0,1s): 5, 15 ms; [2s,3s): 900, 1000 ms.
    '{resource.service.name="payment", p="0.5"}': [
      [0, 0.01],
      [2000, 0.95],
    ],
    '{resource.service.name="payment", p="1"}': [
      [0, 0.015],
      [2000, 1],
    ],
  });
  const p = res.series.find((s) => s.promLabels === '{resource.service.name="shop", p="0.5"}')!;
  assert.deepEqual(p.labels, [
    { key: 'resource.service.name', value: { stringValue: 'shop' } },
    { key: 'p', value: { doubleValue: 0.5 } },
  ]);
});

test('min, max, avg and sum over time; attributes keep their unit', async () => {
  const max = await queryRange('{ } | max_over_time(duration)', fixtureTraces, grid);
  assert.deepEqual(compact(max.series), {
    '{}': [
      [0, 0.5],
      [1000, 0.02],
      [2000, 1],
    ],
  });
  const min = await queryRange('{ kind = server } | min_over_time(span:duration)', fixtureTraces, grid);
  assert.deepEqual(compact(min.series), {
    '{}': [
      [0, 0.015],
      [1000, 0.02],
      [2000, 1],
    ],
  });
  const events = await queryRange('{ } | max_over_time(event:timeSinceStart)', fixtureTraces, grid);
  assert.deepEqual(compact(events.series), { '{}': [[0, 0.4]] });
  const sum = await queryRange('{ } | sum_over_time(span.amount)', fixtureTraces, grid);
  assert.deepEqual(compact(sum.series), {
    '{}': [
      [0, 12.5],
      [2000, 99],
    ],
  });
  const avg = await queryRange('{ resource.service.name = "shop" } | avg_over_time(duration) by (kind)', fixtureTraces, grid);
  assert.deepEqual(compact(avg.series), {
    '{kind="client"}': [
      [0, 0.02],
      [1000, 0.002],
    ],
    '{kind="internal"}': [
      [0, 0.425],
      [1000, 0.01],
    ],
    '{kind="server"}': [
      [0, 0.5],
      [1000, 0.02],
    ],
  });
  assert.deepEqual(avg.series[0]!.labels, [{ key: 'kind', value: { stringValue: 'client' } }]);
});

test('histogram_over_time counts durations in power-of-two nanosecond buckets, labelled in seconds', async () => {
  const res = await queryRange('{ } | histogram_over_time(duration)', fixtureTraces, grid);
  // [0,1s): 500, 450, 400 ms ≤ 2^29 ns; 20 ms ≤ 2^25; 15 ms ≤ 2^24; 5 ms ≤ 2^23.
  // [1s,2s): 20 ms ≤ 2^25; 10 ms ≤ 2^24; 2 ms ≤ 2^21. [2s,3s): 1000 and 900 ms ≤ 2^30.
  assert.deepEqual(compact(res.series), {
    '{__bucket="0.002097152"}': [[1000, 1]],
    '{__bucket="0.008388608"}': [[0, 1]],
    '{__bucket="0.016777216"}': [
      [0, 1],
      [1000, 1],
    ],
    '{__bucket="0.033554432"}': [
      [0, 1],
      [1000, 1],
    ],
    '{__bucket="0.536870912"}': [[0, 3]],
    '{__bucket="1.073741824"}': [[2000, 2]],
  });
  assert.deepEqual(res.series[0]!.labels, [{ key: '__bucket', value: { doubleValue: 0.002097152 } }]);
  const byService = await queryRange('{ status = error } | histogram_over_time(duration) by (resource.service.name)', fixtureTraces, grid);
  assert.deepEqual(Object.keys(compact(byService.series)).sort(), [
    '{resource.service.name="payment", __bucket="1.073741824"}',
    '{resource.service.name="shop", __bucket="0.536870912"}',
  ]);
});

test('instant queries: one value over the whole range', async () => {
  const res = await queryInstant('{ } | rate() by (resource.service.name)', fixtureTraces, { startMs: T0_MS, endMs: T0_MS + 4000 });
  // shop: 7 spans, payment: 4, over 4 s.
  assert.deepEqual(
    res.series.map((s) => [s.promLabels, s.value]),
    [
      ['{resource.service.name="payment"}', 1],
      ['{resource.service.name="shop"}', 1.75],
    ],
  );
  const p90 = await queryInstant('{ kind = server } | quantile_over_time(duration, 0.5)', fixtureTraces, { startMs: T0_MS + 500, endMs: T0_MS + 3500 });
  // Servers starting in [0.5 s, 3.5 s): B1 (20 ms) and C1 (1 s).
  assert.deepEqual(
    p90.series.map((s) => [s.promLabels, s.value]),
    [['{p="0.5"}', 0.51]],
  );
  await assert.rejects(queryInstant('{} | rate()', fixtureTraces, { startMs: 10, endMs: 10 }), TraceqlExecError);
});

test('topk and bottomk keep, per step, the highest and lowest series', async () => {
  const top = await queryRange('{ } | count_over_time() by (resource.service.name) | topk(1)', fixtureTraces, grid);
  assert.deepEqual(compact(top.series), {
    '{resource.service.name="payment"}': [[2000, 2]],
    '{resource.service.name="shop"}': [
      [0, 4],
      [1000, 3],
    ],
  });
  const bottom = await queryRange('{ } | count_over_time() by (resource.service.name) | bottomk(1)', fixtureTraces, grid);
  assert.deepEqual(compact(bottom.series), {
    '{resource.service.name="payment"}': [
      [0, 2],
      [2000, 2],
    ],
    '{resource.service.name="shop"}': [[1000, 3]],
  });
  const roots = await queryRange('{ nestedSetParent < 0 && true } | rate() by (resource.service.name)', fixtureTraces, grid);
  assert.deepEqual(compact(roots.series), {
    '{resource.service.name="shop"}': [
      [0, 1],
      [1000, 1],
    ],
  });
});

test('exemplars: one span per interval up to the limit, valued as the point or the span', async () => {
  const rate = await queryRange('{ status = error } | rate() by (resource.service.name)', fixtureTraces, { ...grid, exemplars: 5 });
  assert.deepEqual(
    rate.series.map((s) => [s.promLabels, s.exemplars]),
    [
      [
        '{resource.service.name="payment"}',
        [
          {
            labels: [
              { key: 'trace:id', value: { stringValue: TRACE_C } },
              { key: 'span:id', value: { stringValue: '00000000000000c1' } },
            ],
            value: 1,
            timestampMs: String(T0_MS + 2000),
          },
        ],
      ],
      [
        '{resource.service.name="shop"}',
        // A2 and A3 share the first interval: the first seen stands for it; the value is the point's (2/s).
        [
          {
            labels: [
              { key: 'trace:id', value: { stringValue: TRACE_A } },
              { key: 'span:id', value: { stringValue: '00000000000000a2' } },
            ],
            value: 2,
            timestampMs: String(T0_MS + 10),
          },
        ],
      ],
    ],
  );
  const max = await queryRange('{ } | max_over_time(duration)', fixtureTraces, { ...grid, exemplars: 2 });
  // Limit 2: the first two intervals get one each, valued as their span's duration in seconds.
  assert.deepEqual(
    max.series[0]!.exemplars!.map((e) => [e.labels[1]!.value['stringValue'], e.value, Number(e.timestampMs) - T0_MS]),
    [
      ['00000000000000a1', 0.5, 0],
      ['00000000000000b1', 0.02, 1000],
    ],
  );
  const none = await queryRange('{ } | rate()', fixtureTraces, grid);
  assert.equal(none.series[0]!.exemplars, undefined);
});

test('the grid: start aligned down to the step, spans outside [start, end) left out', async () => {
  const res = await queryRange('{ } | count_over_time()', fixtureTraces, { startMs: T0_MS + 500, endMs: T0_MS + 2001, stepMs: 2000 });
  // Start aligns down to T0; [T0, T0+2s) holds A and B, [T0+2s, end) holds C1 (2000 ms) but not C2 (2005 ms).
  assert.deepEqual(compact(res.series), {
    '{}': [
      [0, 9],
      [2000, 1],
    ],
  });
  const structural = await queryRange('{ resource.service.name = "shop" } >> { } | count_over_time()', fixtureTraces, grid);
  assert.deepEqual(compact(structural.series), {
    '{}': [
      [0, 5],
      [1000, 2],
    ],
  });
});

test('bad requests: search queries, metrics in search, resolution and series limits', async () => {
  assert.throws(
    () => compileMetrics('{ status = error }\n'),
    (e: unknown) => e instanceof TraceqlParseError && e.line === 2 && e.col === 1 && /must end in a metrics function/.test(e.message),
  );
  await assert.rejects(
    queryRange('{} | rate()', fixtureTraces, { startMs: 0, endMs: 12_000_000, stepMs: 1 }),
    (e: unknown) => e instanceof TraceqlExecError && e.code === 'execution',
  );
  await assert.rejects(queryRange('{} | rate()', fixtureTraces, { startMs: 10, endMs: 0, stepMs: 1 }), TraceqlExecError);
  await assert.rejects(queryRange('{} | rate()', fixtureTraces, { startMs: 0, endMs: 10, stepMs: 0 }), TraceqlExecError);
  await assert.rejects(
    queryRange('{} | rate() by (span:id)', generateTraces(200), { startMs: T0_MS, endMs: T0_MS + 3_600_000, stepMs: 60_000 }),
    new RegExp(`more than ${MAX_SERIES} series`),
  );
});
