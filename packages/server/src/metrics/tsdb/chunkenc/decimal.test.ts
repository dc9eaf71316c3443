import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecimalIterator, encodeDecimal } from './decimal.js';
import { XorEncoder } from './xor.js';
import { blockChunkIterator, toBlockChunk } from './blockchunk.js';
import { STALE_NAN, isStaleNaN } from '../../../core/model/value.js';

function roundTrip(ts: number[], vs: number[]): number[] | undefined {
  const bytes = encodeDecimal(ts, vs, ts.length);
  if (!bytes) return undefined;
  const it = new DecimalIterator(bytes);
  const out: number[] = [];
  for (let i = 0; it.next(); i++) {
    assert.equal(it.t(), ts[i]);
    out.push(it.v());
  }
  return out;
}

test('decimal values come back bit for bit', () => {
  const cases: number[][] = [
    [1, 2, 3, 5, 8, 13],
    [0.1, 0.2, 0.30000000000000004].slice(0, 2),
    [123.45, 123.5, 1000.01, 7, -3.25],
    [1e15, 1e15 + 1, 1e15 + 5],
    [42, 42, 42, 42],
    [0.000001, 0.000002],
  ];
  for (const vs of cases) {
    const ts = vs.map((_, i) => 1_700_000_000_000 + i * 15_000 + (i % 3));
    const got = roundTrip(ts, vs);
    assert.ok(got, `encodable: ${vs.join(',')}`);
    got.forEach((v, i) => assert.ok(Object.is(v, vs[i]), `${v} !== ${vs[i]}`));
  }
});

test('falls back when a value is not a short decimal', () => {
  for (const bad of [NaN, Infinity, -0, STALE_NAN, 0.1 + 0.2, Math.PI]) assert.equal(encodeDecimal([1, 2], [1, bad], 2), undefined);
});

test('a constant series costs little more than its timestamps', () => {
  const n = 120;
  const ts = Array.from({ length: n }, (_, i) => i * 15_000);
  const bytes = encodeDecimal(ts, new Array<number>(n).fill(5), n)!;
  // Header and first sample 28 bytes, then one bit per regular timestamp and none for the value.
  assert.ok(bytes.length <= 48, `${bytes.length} bytes`);
});

test('block chunks pick the smaller encoding and keep every value, stale markers included', () => {
  const mk = (vals: number[]): Uint8Array => {
    const e = new XorEncoder();
    vals.forEach((v, i) => e.append(i * 15_000, v));
    return e.finish();
  };
  const counters = Array.from({ length: 120 }, (_, i) => 1000 + i * 7 + (i % 5));
  const noisy = Array.from({ length: 120 }, (_, i) => Math.sin(i) * 1e3);
  const withStale = [1, 2, STALE_NAN, 3];
  for (const vals of [counters, noisy, withStale]) {
    const xor = mk(vals);
    const block = toBlockChunk(xor);
    const it = blockChunkIterator(block);
    const got: number[] = [];
    while (it.next()) got.push(it.v());
    assert.equal(got.length, vals.length);
    got.forEach((v, i) => assert.ok(Object.is(v, vals[i]) || (isStaleNaN(v) && isStaleNaN(vals[i]!)), `${v} vs ${vals[i]}`));
    assert.ok(block.length <= xor.length + 1);
  }
  assert.equal(toBlockChunk(mk(counters))[0], 1, 'counters use the decimal encoding');
  assert.equal(toBlockChunk(mk(noisy))[0], 0, 'noisy floats stay XOR');
});
