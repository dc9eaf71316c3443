import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exponentialBound, FloatHistogram, HistogramSchemaError, type HistogramOpNotes, histogramString } from './histogram.js';

/** A histogram with one positive span starting at `offset`. */
function exp(schema: number, offset: number, buckets: number[], extra: Partial<Parameters<typeof FloatHistogram.of>[0]> = {}): FloatHistogram {
  const count = buckets.reduce((a, b) => a + b, 0) + (extra.zeroCount ?? 0);
  return FloatHistogram.of({ schema, count, sum: count, positiveSpans: [{ offset, length: buckets.length }], positiveBuckets: buckets, ...extra });
}

function nhcb(customValues: number[], buckets: number[]): FloatHistogram {
  const count = buckets.reduce((a, b) => a + b, 0);
  return FloatHistogram.of({ schema: -53, customValues, count, sum: 0, positiveSpans: [{ offset: 0, length: buckets.length }], positiveBuckets: buckets });
}

describe('FloatHistogram', () => {
  it('computes exponential bucket bounds', () => {
    assert.equal(exponentialBound(1, 0), 2);
    assert.equal(exponentialBound(-1, 0), 0.5);
    assert.equal(exponentialBound(1, -1), 4);
    assert.equal(exponentialBound(2, 1), 2);
    assert.ok(Math.abs(exponentialBound(1, 1) - Math.SQRT2) < 1e-15);
    assert.ok(Math.abs(exponentialBound(3, 2) - 2 ** 0.75) < 1e-15);
  });

  it('refuses malformed histograms', () => {
    assert.throws(() => FloatHistogram.of({ schema: 9 }), /schema 9/);
    assert.throws(() => FloatHistogram.of({ positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1] }), /positive spans/);
    assert.throws(() => FloatHistogram.of({ schema: -53, customValues: [2, 1] }), /strictly increasing/);
  });

  it('adds histograms of different schemas at the coarser one', () => {
    // Schema 1 buckets 1 and 2 are (1,√2] and (√2,2]: both fall into schema 0 bucket 1, (1,2].
    const a = exp(1, 1, [1, 2]);
    const b = exp(0, 1, [3]);
    const s = a.add(b);
    assert.equal(s.schema, 0);
    assert.deepEqual(s.positiveSpans, [{ offset: 1, length: 1 }]);
    assert.deepEqual(s.positiveBuckets, [6]);
    assert.equal(s.count, 6);
    assert.equal(b.add(a).schema, 0, 'the order does not matter');
  });

  it('subtracts and drops the buckets that become empty', () => {
    const a = exp(0, 0, [1, 2, 3]);
    const b = exp(0, 0, [1, 0, 1]);
    const d = a.sub(b);
    assert.deepEqual(d.positiveSpans, [{ offset: 1, length: 2 }]);
    assert.deepEqual(d.positiveBuckets, [2, 2]);
    assert.equal(d.count, 4);
  });

  it('multiplies and divides by scalars', () => {
    const h = exp(0, 0, [2, 4], { zeroCount: 2, zeroThreshold: 0.001 });
    const m = h.mul(0.5);
    assert.deepEqual([m.count, m.sum, m.zeroCount, ...m.positiveBuckets], [4, 4, 1, 1, 2]);
    assert.ok(h.div(2).equals(m));
  });

  it('reconciles custom buckets with different bounds on the bounds both have', () => {
    const notes: HistogramOpNotes = {};
    const s = nhcb([1, 2, 5], [1, 1, 1, 1]).add(nhcb([2, 5, 10], [1, 1, 1, 1]), notes);
    assert.deepEqual(s.customValues, [2, 5]);
    // (−∞,1] and (1,2] merge into (−∞,2]; (5,10] and (10,+∞) into (5,+∞).
    assert.deepEqual(s.positiveBuckets, [3, 2, 3]);
    assert.equal(notes.reconciled, true);
  });

  it('refuses to combine exponential and custom buckets', () => {
    assert.throws(() => exp(0, 0, [1]).add(nhcb([1], [1, 0])), HistogramSchemaError);
  });

  it('widens the zero bucket to a bucket boundary', () => {
    // Bucket 0 of schema 0 is (0.5,1]: a threshold of 0.7 cuts it, so the threshold becomes 1.
    const h = exp(0, 0, [1, 2]).widenZeroBucket(0.7);
    assert.equal(h.zeroThreshold, 1);
    assert.equal(h.zeroCount, 1);
    assert.deepEqual(h.positiveBuckets, [2]);
  });

  it('decides the counter-reset hint of a sum like Prometheus', () => {
    const notes: HistogramOpNotes = {};
    const reset = exp(0, 0, [1], { counterResetHint: 'reset' });
    const notReset = exp(0, 0, [1], { counterResetHint: 'not_reset' });
    assert.equal(reset.add(notReset, notes).counterResetHint, 'unknown');
    assert.equal(notes.counterResetCollision, true);
    assert.equal(reset.add(exp(0, 0, [1], { counterResetHint: 'gauge' })).counterResetHint, 'gauge');
    assert.equal(notReset.add(notReset).counterResetHint, 'not_reset');
  });

  it('detects counter resets', () => {
    const prev = exp(0, 0, [2, 2]);
    assert.equal(exp(0, 0, [2, 3]).detectReset(prev), false, 'every bucket grew or stayed');
    assert.equal(exp(0, 0, [1, 5]).detectReset(prev), true, 'a bucket went down although the count went up');
    assert.equal(exp(0, 0, [1, 5], { counterResetHint: 'not_reset' }).detectReset(prev), false, 'the hint is believed');
    assert.equal(exp(1, 0, [9]).detectReset(prev), true, 'a finer schema cannot follow a coarser one');
    assert.equal(exp(-1, 0, [2, 2]).detectReset(exp(0, 0, [1, 1])), false, 'a coarser schema is compared after reduction');
  });

  it('lists buckets with bounds and boundary rules, and prints like Prometheus', () => {
    const h = FloatHistogram.of({
      schema: 0,
      count: 6,
      sum: 1,
      zeroThreshold: 0.001,
      zeroCount: 2,
      positiveSpans: [{ offset: 0, length: 2 }],
      positiveBuckets: [1, 2],
      negativeSpans: [{ offset: 1, length: 1 }],
      negativeBuckets: [1],
    });
    assert.deepEqual(
      [...h.allBuckets()].map((b) => [b.boundaryRule, b.lower, b.upper, b.count]),
      [
        [1, -2, -1, 1],
        [3, -0.001, 0.001, 2],
        [0, 0.5, 1, 1],
        [0, 1, 2, 2],
      ],
    );
    assert.equal(histogramString(h), '{count:6, sum:1, [-2,-1):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}');
  });

  it('compares after compaction', () => {
    const a = FloatHistogram.of({ count: 1, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [0, 1, 0] });
    const b = FloatHistogram.of({ count: 1, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [1] });
    assert.ok(a.equals(b));
    assert.ok(!a.equals(b.mul(2)));
  });
});
