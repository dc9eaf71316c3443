import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token_bucket.js';

test('a token bucket takes up to the burst, refills at the rate and says how long to wait', () => {
  let now = 0;
  const b = new TokenBucket(10, 20, () => now);
  assert.equal(b.take(15), 0);
  assert.equal(b.take(10), 1, '5 left, 5 more come in half a second: rounded up to 1 s');
  assert.equal(b.available(), 5, 'a refused take takes nothing');
  now += 1500;
  assert.equal(b.take(20), 0, '5 + 15 refilled');
  assert.equal(b.take(1), 1);
  assert.equal(b.take(21), Infinity, 'larger than the burst: never fits');
  now -= 10_000;
  assert.equal(b.available(), 0, 'a clock stepping back neither adds nor drains');
});

test('a rate of 0 is unlimited', () => {
  const b = new TokenBucket(0, 0);
  assert.equal(b.unlimited, true);
  assert.equal(b.take(1e12), 0);
});
