import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from '../../../core/model/histogram.js';
import { nativeFraction, nativeQuantile, nativeVariance } from './histogram_funcs.js';

// (1,2] and (2,4] with two observations each.
const exp = FloatHistogram.of({ schema: 0, count: 4, sum: 9, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [2, 2] });
// Custom bounds 10 and 20: (−∞,10] 4, (10,20] 4, (20,+∞) 2.
const nhcb = FloatHistogram.of({
  schema: -53,
  customValues: [10, 20],
  count: 10,
  sum: 100,
  positiveSpans: [{ offset: 0, length: 3 }],
  positiveBuckets: [4, 4, 2],
});

const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

describe('native histogram functions', () => {
  it('interpolates quantiles exponentially in exponential buckets', () => {
    assert.ok(near(nativeQuantile(0.25, exp).value, Math.SQRT2), 'halfway through (1,2] in log space');
    assert.ok(near(nativeQuantile(0.75, exp).value, 2 * Math.SQRT2), 'halfway through (2,4], found from the top');
    assert.equal(nativeQuantile(1, exp).value, 4);
    assert.equal(nativeQuantile(-1, exp).value, -Infinity);
    assert.equal(nativeQuantile(2, exp).value, Infinity);
    assert.ok(Number.isNaN(nativeQuantile(0.5, exp.mul(0)).value), 'no observations');
  });

  it('interpolates linearly in custom buckets, with zero below the first and the last bound above', () => {
    assert.ok(near(nativeQuantile(0.5, nhcb).value, 12.5));
    assert.ok(near(nativeQuantile(0.1, nhcb).value, 2.5), 'the first bucket starts at zero for positive bounds');
    assert.equal(nativeQuantile(0.95, nhcb).value, 20, 'the +Inf bucket gives its lower bound');
  });

  it('says when NaN observations decide the quantile', () => {
    const withNaN = exp.with({ count: 5, sum: NaN });
    const high = nativeQuantile(0.9, withNaN);
    assert.ok(Number.isNaN(high.value) && high.nanResult, 'the 90th percentile is among the NaNs');
    const low = nativeQuantile(0.2, withNaN);
    assert.ok(low.nanObservations && !low.nanResult && low.value > 1 && low.value < 2);
  });

  it('computes fractions', () => {
    assert.ok(near(nativeFraction(0, 15, nhcb), 0.6), '4 below 10, half of (10,20] below 15');
    assert.equal(nativeFraction(-Infinity, Infinity, exp), 1);
    assert.equal(nativeFraction(2, 1, exp), 0);
    assert.ok(near(nativeFraction(1, Math.SQRT2, exp), 0.25), 'log-space interpolation in (1,2]');
  });

  it('takes the geometric middle of exponential buckets for the variance', () => {
    const mean = 9 / 4;
    const want = (2 * (Math.SQRT2 - mean) ** 2 + 2 * (Math.sqrt(8) - mean) ** 2) / 4;
    assert.ok(near(nativeVariance(exp), want));
  });
});
