import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusXorIterator } from './prometheus_xor.js';

// A chunk as Debian's Prometheus 2.42 sent it over remote_read (STREAMED_XOR_CHUNKS), for one series
// written into it with these samples: irregular intervals whose delta-of-deltas sit at the edges of
// the 14, 17 and 20-bit classes (8192, 65536, 524288) and beyond (-524288), and values that
// exercise the XOR window (-0, NaN, Infinity, a huge number, repeats).
const BASE = 1796267880000;
const CHUNK =
  '000980b9c59ec7683fe00000000000009875301bffda000c1f5f1ff21e44003acfbc0017f1bf21e44003acfa00016022800000000001de00010000100000000001d000011fde900000000001ffffffffffff0000100040000000000000';
const WRITTEN: Array<[number, number]> = [
  [0, 0.5],
  [15000, 0.5],
  [30000, -3],
  [53192, 1e300],
  [68192, -0],
  [148728, 42],
  [163728, 42.25],
  [703016, NaN],
  [718016, Infinity],
];

test("Prometheus' XOR chunk: every sample comes back, bit for bit", () => {
  const it = new PrometheusXorIterator(Buffer.from(CHUNK, 'hex'));
  const got: Array<[number, number]> = [];
  while (it.next()) got.push([it.t() - BASE, it.v()]);
  assert.equal(got.length, WRITTEN.length);
  got.forEach(([t, v], i) => {
    assert.equal(t, WRITTEN[i]![0], `sample ${i} time`);
    assert.ok(Object.is(v, WRITTEN[i]![1]), `sample ${i}: ${v} vs ${WRITTEN[i]![1]}`);
  });
});

test("Prometheus' XOR chunk: seek, and a chunk cut short is an error, not garbage", () => {
  const it = new PrometheusXorIterator(Buffer.from(CHUNK, 'hex'));
  assert.ok(it.seek(BASE + 60_000));
  assert.equal(it.t(), BASE + 68192);
  const cut = new PrometheusXorIterator(Buffer.from(CHUNK, 'hex').subarray(0, 20));
  assert.throws(() => {
    while (cut.next());
  }, RangeError);
  assert.throws(() => new PrometheusXorIterator(Buffer.alloc(1)), /header/);
});
