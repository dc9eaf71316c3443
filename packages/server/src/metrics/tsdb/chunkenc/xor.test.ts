import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XorEncoder, XorIterator } from './xor.js';
import { STALE_NAN, isStaleNaN } from '../../../core/model/value.js';

function roundTrip(samples: Array<[number, number]>): Array<[number, number]> {
  const enc = new XorEncoder();
  for (const [t, v] of samples) enc.append(t, v);
  const out: Array<[number, number]> = [];
  const it = new XorIterator(enc.finish());
  while (it.next()) out.push([it.t(), it.v()]);
  return out;
}

test('round-trips regular and irregular timestamps with varied values', () => {
  const samples: Array<[number, number]> = [];
  let t = 1_700_000_000_000;
  let v = 0;
  for (let i = 0; i < 500; i++) {
    t += i % 7 === 0 ? 15_000 + (i % 13) * 997 : 15_000;
    if (i === 200) t += 3_000_000_000; // a delta-of-delta that needs the 64-bit form
    v = i % 11 === 0 ? v * -1.5 + 0.1 : v + (i % 3);
    samples.push([t, v]);
  }
  assert.deepEqual(roundTrip(samples), samples);
});

test('keeps special values: NaN, ±Inf, -0, tiny and huge numbers, negative timestamps', () => {
  const samples: Array<[number, number]> = [
    [-5_000, 1],
    [-1, -0],
    [0, NaN],
    [1, Infinity],
    [2, -Infinity],
    [3, Number.MIN_VALUE],
    [4, Number.MAX_VALUE],
    [5, 1e-300],
    [6, 42],
  ];
  const got = roundTrip(samples);
  assert.equal(got.length, samples.length);
  got.forEach(([t, v], i) => {
    assert.equal(t, samples[i]![0]);
    assert.ok(Object.is(v, samples[i]![1]), `sample ${i}: ${v} vs ${samples[i]![1]}`);
  });
});

test('keeps the staleness marker bit pattern', () => {
  // Appended directly: a literal array of numbers may hold its values as raw doubles, and V8 may
  // canonicalise a NaN's payload there (it does under coverage).
  const enc = new XorEncoder();
  enc.append(1000, 5);
  enc.append(2000, STALE_NAN);
  enc.append(3000, NaN);
  const it = new XorIterator(enc.finish());
  const stale: boolean[] = [];
  while (it.next()) stale.push(isStaleNaN(it.v()));
  assert.deepEqual(stale, [false, true, false]);
});

test('an iterator on a live encoder sees only what was appended before it was made', () => {
  const enc = new XorEncoder();
  enc.append(1, 1);
  enc.append(2, 2);
  const it = enc.iterator();
  enc.append(3, 3);
  const ts: number[] = [];
  while (it.next()) ts.push(it.t());
  assert.deepEqual(ts, [1, 2]);
});

test('seek finds the first sample at or after t', () => {
  const enc = new XorEncoder();
  for (let i = 0; i < 10; i++) enc.append(i * 10, i);
  const it = new XorIterator(enc.finish());
  assert.ok(it.seek(35));
  assert.equal(it.t(), 40);
  assert.ok(it.seek(40));
  assert.equal(it.t(), 40);
  assert.ok(!it.seek(1000));
});

test('compresses a regular counter to about a byte per sample or less', () => {
  const enc = new XorEncoder();
  for (let i = 0; i < 120; i++) enc.append(1_700_000_000_000 + i * 15_000, 1000 + i * 3);
  const bytes = enc.finish().length;
  assert.ok(bytes / 120 < 2.5, `${bytes} bytes for 120 samples`);
});

test('delta-of-deltas at the edges of each width class come back with their sign', () => {
  // Each class holds -2^(n-1)+1 … 2^(n-1); exactly 2^(n-1) is written positive and must read so.
  const dods = [8192, -8191, 8193, 65536, -65535, 65537, 524288, -524287, 524289];
  const samples: Array<[number, number]> = [[1_700_000_000_000, 1]];
  let delta = 1_000_000;
  samples.push([samples[0]![0] + delta, 2]);
  for (const dod of dods) {
    delta += dod;
    samples.push([samples.at(-1)![0] + delta, samples.length]);
  }
  assert.deepEqual(roundTrip(samples), samples);
});

test('readFloats decodes in bulk exactly what next() does, from any position, up to maxt, staleness markers dropped or kept', () => {
  const samples: Array<[number, number]> = [];
  let t = 1_700_000_000_000;
  let v = 1;
  for (let i = 0; i < 300; i++) {
    // Every delta-of-delta class (0, 14, 17, 20 and 64 bits, both signs) and value window changes.
    const gaps = [0, 0, 5_000, -4_000, 60_000, -50_000, 500_000, -400_000, 3_000_000_000, -2_999_000_000];
    t += 15_000 + Math.max(gaps[i % gaps.length]!, -14_000);
    v = i % 17 === 0 ? STALE_NAN : i % 13 === 0 ? NaN : i % 5 === 0 ? v * -3.7e9 : i % 3 === 0 ? v : v + 0.25;
    samples.push([t, v]);
  }
  const enc = new XorEncoder();
  for (const [st, sv] of samples) enc.append(st, sv);
  const bytes = enc.finish();
  const key = (x: number): string => (isStaleNaN(x) ? 'stale' : String(x));
  for (const from of [1, 2, 50, 299, 300])
    for (const maxt of [samples[0]![0], samples[120]![0], samples[120]![0] + 1, Infinity])
      for (const dropStale of [false, true]) {
        const it = new XorIterator(bytes);
        for (let k = 0; k < from; k++) it.next();
        const sink = { ts: new Float64Array(4), vs: new Float64Array(4), n: 0, start: 0 };
        assert.equal(it.readFloats(maxt, sink, dropStale), true);
        const want = samples.slice(from - 1).filter(([st, sv]) => st <= maxt && !(dropStale && isStaleNaN(sv)));
        const got = Array.from(sink.ts.subarray(0, sink.n), (st, i): [number, number] => [st, sink.vs[i]!]);
        assert.deepEqual(
          got.map(([st, sv]) => [st, key(sv)]),
          want.map(([st, sv]) => [st, key(sv)]),
          `from ${from}, maxt ${maxt}, dropStale ${dropStale}`,
        );
      }
});

test('seek (decoding in bulk) lands where stepping with next() does', () => {
  const enc = new XorEncoder();
  const ts: number[] = [];
  let t = 1_000;
  for (let i = 0; i < 200; i++) {
    t += i % 9 === 0 ? 61_234 : 15_000;
    ts.push(t);
    enc.append(t, i % 4 === 0 ? i * 1.5 : -i);
  }
  const bytes = enc.finish();
  for (const target of [0, ts[0]!, ts[0]! + 1, ts[57]!, ts[57]! - 1, ts[199]!, ts[199]! + 1, ts[120]! - 0.5]) {
    const bulk = new XorIterator(bytes);
    const want = ts.findIndex((x) => x >= target);
    assert.equal(bulk.seek(target), want >= 0, `seek ${target}`);
    if (want < 0) continue;
    assert.equal(bulk.t(), ts[want]);
    assert.equal(bulk.v(), want % 4 === 0 ? want * 1.5 : -want);
    // It reads on from there as next() would.
    const rest: number[] = [];
    while (bulk.next()) rest.push(bulk.t());
    assert.deepEqual(rest, ts.slice(want + 1));
  }
});
