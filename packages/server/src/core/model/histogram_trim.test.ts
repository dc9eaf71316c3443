import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from './histogram.js';
import { trimHistogram } from './histogram_trim.js';

const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

describe('trim operators on native histograms', () => {
  it('interpolates in log space inside an exponential bucket and re-estimates the sum', () => {
    // Four observations in (1,2]; cutting at √2 keeps half, at their geometric middle √(1·√2).
    const h = FloatHistogram.of({ count: 4, sum: 6, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [4] });
    const below = trimHistogram(h, Math.SQRT2, true);
    assert.ok(near(below.count, 2));
    assert.ok(near(below.sum, 2 * 2 ** 0.25));
    const above = trimHistogram(h, Math.SQRT2, false);
    assert.ok(near(above.count, 2));
    assert.ok(near(above.sum, 2 * Math.sqrt(Math.SQRT2 * 2)));
  });

  it('interpolates linearly in custom buckets; the +Inf bucket is kept whole above and dropped below', () => {
    // (−∞,5] taken as [0,5]: 1; (5,10]: 6; (10,+∞): 2.
    const h = FloatHistogram.of({
      schema: -53,
      customValues: [5, 10],
      count: 9,
      sum: 60,
      positiveSpans: [{ offset: 0, length: 3 }],
      positiveBuckets: [1, 6, 2],
    });
    const below = trimHistogram(h, 7.5, true);
    assert.deepEqual(below.positiveBuckets, [1, 3]);
    assert.ok(near(below.sum, 1 * 2.5 + 3 * 6.25));
    const above = trimHistogram(h, 7.5, false);
    assert.deepEqual(above.positiveBuckets, [3, 2]);
    assert.ok(near(above.count, 5));
    assert.ok(near(above.sum, 3 * 8.75 + 2 * 10), 'the +Inf bucket counts at its lower bound');
  });

  it('leaves a histogram alone when nothing is trimmed, and empties it past every bucket', () => {
    const h = FloatHistogram.of({ count: 4, sum: 6, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [4] });
    assert.equal(trimHistogram(h, 0, false), h);
    assert.equal(trimHistogram(h, Infinity, true), h);
    const none = trimHistogram(h, Infinity, false);
    assert.deepEqual([none.count, none.sum, none.positiveBuckets.length], [0, 0, 0]);
  });

  it('trims the zero bucket linearly', () => {
    const h = FloatHistogram.of({ zeroThreshold: 0.1, zeroCount: 5, count: 5 });
    const t = trimHistogram(h, -0.05, false);
    assert.ok(near(t.zeroCount, 3.75));
    assert.ok(near(t.sum, 3.75 * 0.025));
  });
});
