// Unit tests of the native-histogram heatmap's pure module (bundled for Node by build.js into dist/test/lib.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.js';

const h = (count, buckets) => ({ count: String(count), sum: '0', buckets: buckets.map(([lo, hi, c]) => [0, String(lo), String(hi), String(c)]) });

test('cumulative histograms become observations per second per bucket, summed over series, a counter reset restarting from the counts', () => {
  const a = [
    [100, h(10, [[0.5, 1, 10]])],
    [
      110,
      h(30, [
        [0.5, 1, 20],
        [1, 2, 10],
      ]),
    ],
    // A restart: the counts are the increase.
    [120, h(5, [[1, 2, 5]])],
  ];
  const b = [
    [110, h(4, [[1, 2, 4]])],
    [120, h(8, [[1, 2, 8]])],
  ];
  const m = lib.heatmapOf([a, b], true);
  const cells = m.cells.map((c) => `${c.t0}-${c.t1} ${c.lower}..${c.upper} ${c.value}`).sort();
  assert.deepEqual(cells, ['100-110 0.5..1 1', '100-110 1..2 1', '110-120 1..2 0.9']);
  assert.equal(m.measure, 'per second');
  assert.equal(m.maxValue, 1);
  assert.equal(m.yMin, 0.5);
  assert.equal(m.yMax, 2);
  assert.equal(lib.cellAt(m, 105, 1.5)?.value, 1);
  assert.equal(lib.cellAt(m, 105, 3), undefined);
});

test('rated histograms are drawn as they are; buckets at or below zero are counted, not drawn', () => {
  const m = lib.heatmapOf(
    [
      [
        [
          60,
          h(3, [
            [-1, -0.5, 1],
            [-0.001, 0.001, 1],
            [0.001, 0.002, 1],
          ]),
        ],
      ],
    ],
    false,
  );
  assert.equal(m.measure, 'value');
  assert.equal(m.belowZero, 1);
  assert.equal(m.cells.length, 2);
  assert.equal(m.cells[0].t0, 0);
});

test('quantile queries: rate over a selector, a subquery over other counters, the expression itself when already rated', () => {
  const sel = lib.quantileQueries('rpc_seconds{job="a"}', 3600, 15, 60);
  assert.equal(sel.line(0.99), 'histogram_quantile(0.99, sum(rate(rpc_seconds{job="a"}[60s])))');
  assert.equal(sel.total(0.5), 'histogram_quantile(0.5, sum(increase(rpc_seconds{job="a"}[3600s])))');
  assert.equal(sel.totalOver, 'range');
  assert.equal(
    lib.quantileQueries('sum by (route) (rpc_seconds)', 3600, 15, 60).line(0.5),
    'histogram_quantile(0.5, sum(rate((sum by (route) (rpc_seconds))[60s:15s])))',
  );
  const rated = lib.quantileQueries('rate(rpc_seconds[5m])', 3600, 15, 60);
  assert.equal(rated.line(0.9), 'histogram_quantile(0.9, sum(rate(rpc_seconds[5m])))');
  assert.equal(rated.totalOver, 'end');
  assert.equal(lib.isCumulative('histogram_sum(x)'), true);
  assert.equal(lib.isCumulative('sum(increase(x[1h]))'), false);
});

test('axis ends round outward to values that read well', () => {
  assert.equal(lib.nice(0.00507, 'down'), 0.005);
  assert.equal(lib.nice(2.18, 'up'), 3);
  assert.equal(lib.nice(0.2, 'down'), 0.2);
  assert.equal(lib.nice(0.2, 'up'), 0.2);
  assert.equal(lib.nice(1.4, 'up'), 1.5);
});
