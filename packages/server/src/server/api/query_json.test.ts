/**
 * The streamed JSON of large results is the text `JSON.stringify` gives for the same envelope,
 * whether a matrix series carries point objects or only the parallel arrays of a lazy series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lazyMatrixSeries, pointArraysOf } from '../../core/eval/value.js';
import { labelsFrom } from '../../core/model/labels.js';
import { toApiJson, type Matrix } from '../../metrics/promql/engine/value.js';
import { queryJsonChunks, writtenInPieces } from './query_json.js';

async function text(value: Matrix, warnings: string[], stats: unknown): Promise<string> {
  let out = '';
  for await (const chunk of queryJsonChunks(value, warnings, stats)) out += chunk;
  return out;
}

test('a lazy series makes its points on first read, equal to plain ones', () => {
  const ts = new Float64Array([1000, 61_500, 1_700_000_000_123]);
  const vs = [1, NaN, -0.000001];
  const lazy = lazyMatrixSeries(labelsFrom({ a: 'b' }), ts, vs);
  assert.deepEqual(pointArraysOf(lazy), { ts, vs });
  const plain = { metric: labelsFrom({ a: 'b' }), points: [...ts].map((t, i) => ({ t, v: vs[i]! })) };
  assert.equal(pointArraysOf(plain), undefined);
  assert.deepStrictEqual(lazy, plain);
  assert.equal(lazy.points, lazy.points, 'made once');
  assert.equal(JSON.stringify(lazy), JSON.stringify(plain));
  assert.deepEqual(Object.keys(lazy), ['metric', 'points']);
});

test('streamed matrix JSON equals JSON.stringify of the envelope, from arrays or points', async () => {
  const values = [0, 1.5, -2, NaN, Infinity, -Infinity, 1e-7, 123456789012345680000, -0, 0.1 + 0.2];
  const series = Array.from({ length: 3000 }, (_, i) => {
    const ts = values.map((_, k) => 1_700_000_000_000 + i * 17 + k * 15_001);
    const vs = values.map((v) => v * (i % 3 === 0 ? 1 : i));
    const metric = labelsFrom({ __name__: 'm', i: String(i), q: 'quote " and \\ and \u2028' });
    return i % 2 === 0 ? lazyMatrixSeries(metric, new Float64Array(ts), vs) : { metric, points: ts.map((t, k) => ({ t, v: vs[k]! })) };
  });
  const value: Matrix = { type: 'matrix', series };
  const stats = { timings: { evalTotalTime: 0.5 } };
  const want = JSON.stringify({ status: 'success', data: { ...toApiJson(value), stats }, warnings: ['w'] });
  assert.equal(await text(value, ['w'], stats), want);
  assert.equal(await text(value, [], undefined), JSON.stringify({ status: 'success', data: toApiJson(value) }));
});

test('results of over 1000 series or over 10,000 points are written in pieces', () => {
  const series = (n: number, points: number): Matrix => ({
    type: 'matrix',
    series: Array.from({ length: n }, (_, i) => {
      const ts = Float64Array.from({ length: points }, (_, k) => k * 15_000);
      return i % 2 === 0
        ? lazyMatrixSeries(labelsFrom({ i: String(i) }), ts, new Float64Array(points))
        : { metric: labelsFrom({ i: String(i) }), points: [...ts].map((t) => ({ t, v: 1 })) };
    }),
  });
  assert.equal(writtenInPieces(series(2, 5000)), false);
  assert.equal(writtenInPieces(series(2, 5001)), true);
  assert.equal(writtenInPieces(series(1000, 1)), false);
  assert.equal(writtenInPieces(series(1001, 1)), true);
  assert.equal(writtenInPieces(series(1, 20_000)), true);
  const sample = { metric: labelsFrom({}), t: 0, v: 1 };
  assert.equal(writtenInPieces({ type: 'vector', samples: Array.from({ length: 1001 }, () => sample) }), true);
  assert.equal(writtenInPieces({ type: 'vector', samples: [sample] }), false);
  assert.equal(writtenInPieces({ type: 'scalar', t: 0, v: 1 }), false);
});
