import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../core/model/histogram.js';
import { BucketLimitError, fitHistogram, schemaForFactor } from './histogram_limits.js';

test('schemaForFactor: the largest schema whose buckets grow by at least the factor', () => {
  const cases: Array<[number, number]> = [
    [0, 8],
    [1, 8],
    [1.005, 7],
    [1.1, 2],
    [1.5, 0],
    [2, 0],
    [4, -1],
    [65536, -4],
    [1e30, -4],
  ];
  for (const [factor, schema] of cases) assert.equal(schemaForFactor(factor), schema, `factor ${factor}`);
  // The picked schema's growth is at least the factor, the next finer one's is not.
  for (const f of [1.01, 1.1, 1.3, 3]) {
    const s = schemaForFactor(f);
    assert.ok(2 ** (2 ** -s) >= f && 2 ** (2 ** -(s + 1)) < f, `factor ${f}: schema ${s}`);
  }
});

const h = FloatHistogram.of({
  schema: 3,
  count: 12,
  sum: 20,
  zeroCount: 1,
  zeroThreshold: 0.001,
  positiveSpans: [{ offset: 0, length: 8 }],
  positiveBuckets: [1, 1, 1, 1, 1, 1, 1, 1],
  negativeSpans: [{ offset: 3, length: 3 }],
  negativeBuckets: [1, 1, 1],
});

test('fitHistogram: resolution halved until the bucket limit holds, counts kept', () => {
  const fit = fitHistogram(h, { bucketLimit: 4, maxSchema: 8 });
  assert.ok(fit.positiveBuckets.length + fit.negativeBuckets.length <= 4);
  // Schema 2 has 7 buckets, 1 has 5, 0 has 3.
  assert.equal(fit.schema, 0);
  assert.equal(fit.count, 12);
  assert.equal(fit.positiveBuckets.reduce((a, b) => a + b, 0) + fit.negativeBuckets.reduce((a, b) => a + b, 0) + fit.zeroCount, 12);
  assert.equal(fitHistogram(h, { bucketLimit: 11, maxSchema: 8 }), h);
  assert.equal(fitHistogram(h, { bucketLimit: 0, maxSchema: 1 }).schema, 1);
});

test('fitHistogram: a histogram that cannot fit is refused', () => {
  assert.throws(() => fitHistogram(h, { bucketLimit: 1, maxSchema: 8 }), BucketLimitError);
  const custom = FloatHistogram.of({ schema: -53, count: 3, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 1], customValues: [1, 2] });
  assert.throws(() => fitHistogram(custom, { bucketLimit: 2, maxSchema: 8 }), /histogram bucket limit exceeded/);
  assert.equal(fitHistogram(custom, { bucketLimit: 0, maxSchema: -4 }), custom);
});
