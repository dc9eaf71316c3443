import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHistogram, readHistogramToken } from './histogram_notation.js';

describe('promqltest histogram notation', () => {
  it('parses every field', () => {
    const h = parseHistogram(
      'schema:1 sum:-0.3 count:3.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5 counter_reset_hint:gauge',
    );
    assert.equal(h.schema, 1);
    assert.equal(h.sum, -0.3);
    assert.equal(h.count, 3.1);
    assert.equal(h.zeroCount, 7.1);
    assert.equal(h.zeroThreshold, 0.05);
    assert.deepEqual(h.positiveSpans, [{ offset: -3, length: 3 }]);
    assert.deepEqual(h.positiveBuckets, [5.1, 10, 7]);
    assert.deepEqual(h.negativeSpans, [{ offset: -5, length: 2 }]);
    assert.deepEqual(h.negativeBuckets, [4.1, 5]);
    assert.equal(h.counterResetHint, 'gauge');
    const c = parseHistogram('schema:-53 sum:3 count:3 custom_values:[5 10] buckets:[1 2]');
    assert.deepEqual(c.customValues, [5, 10]);
    assert.equal(parseHistogram('').schema, 0, 'an empty histogram has schema 0');
  });

  it('refuses unknown fields and hints', () => {
    assert.throws(() => parseHistogram('schema:0 colour:red'), /unknown histogram field/);
    assert.throws(() => parseHistogram('counter_reset_hint:sometimes'), /counter_reset_hint/);
    assert.throws(() => readHistogramToken('{{schema:0', 0), /unterminated/);
  });

  it('expands series forms', () => {
    const text = '{{sum:1 count:1 buckets:[1]}}+{{sum:2 count:2 buckets:[2]}}x2 rest';
    const r = readHistogramToken(text, 0);
    assert.deepEqual(
      r.samples.map((h) => [h.count, h.sum, ...h.positiveBuckets]),
      [
        [1, 1, 1],
        [3, 3, 3],
        [5, 5, 5],
      ],
    );
    assert.equal(text.slice(r.end), ' rest');
    const down = readHistogramToken('{{count:5}}-{{count:2}}x2', 0).samples.map((h) => h.count);
    assert.deepEqual(down, [5, 3, 1]);
    assert.equal(readHistogramToken('{{count:5}}x3', 0).samples.length, 4);
  });
});
