import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FloatHistogram, type CounterResetHint, type Span } from '../../../core/model/histogram.js';
import { isStaleNaN, STALE_NAN } from '../../../core/model/value.js';
import { blockChunkIterator, blockChunkSampleCount, histogramBlockChunk } from './blockchunk.js';

/** Bit-exact equality of two floats (NaN payloads and the sign of zero included). */
function sameBits(a: number, b: number): boolean {
  const x = new Float64Array([a, b]);
  const w = new Uint32Array(x.buffer);
  return w[0] === w[2] && w[1] === w[3];
}

function assertSame(got: FloatHistogram, want: FloatHistogram, at: string): void {
  assert.equal(got.counterResetHint, want.counterResetHint, `${at}: hint`);
  assert.equal(got.schema, want.schema, `${at}: schema`);
  assert.deepEqual(got.positiveSpans, want.positiveSpans, `${at}: positive spans`);
  assert.deepEqual(got.negativeSpans, want.negativeSpans, `${at}: negative spans`);
  assert.deepEqual(got.customValues, want.customValues, `${at}: custom bounds`);
  const fields: Array<[number, number, string]> = [
    [got.zeroThreshold, want.zeroThreshold, 'zero threshold'],
    [got.zeroCount, want.zeroCount, 'zero count'],
    [got.count, want.count, 'count'],
    [got.sum, want.sum, 'sum'],
    ...got.positiveBuckets.map((b, i): [number, number, string] => [b, want.positiveBuckets[i]!, `positive bucket ${i}`]),
    ...got.negativeBuckets.map((b, i): [number, number, string] => [b, want.negativeBuckets[i]!, `negative bucket ${i}`]),
  ];
  assert.equal(got.positiveBuckets.length, want.positiveBuckets.length);
  assert.equal(got.negativeBuckets.length, want.negativeBuckets.length);
  for (const [g, w, what] of fields) assert.ok(sameBits(g, w), `${at}: ${what} ${g} != ${w}`);
}

function roundTrip(ts: number[], hs: FloatHistogram[]): Uint8Array {
  const bytes = histogramBlockChunk(ts, hs, hs.length);
  assert.equal(blockChunkSampleCount(bytes), hs.length);
  const it = blockChunkIterator(bytes);
  for (let i = 0; i < hs.length; i++) {
    assert.ok(it.next(), `sample ${i} present`);
    assert.equal(it.t(), ts[i]);
    assert.ok(Number.isNaN(it.v()));
    assertSame(it.h!()!, hs[i]!, `sample ${i}`);
  }
  assert.equal(it.next(), false);
  return bytes;
}

const spans1: Span[] = [
  { offset: -2, length: 3 },
  { offset: 4, length: 2 },
];

test('a counter histogram with steady integer growth costs a few bytes a sample', () => {
  const ts: number[] = [];
  const hs: FloatHistogram[] = [];
  for (let i = 0; i < 120; i++) {
    const buckets = [1, 5, 9, 4, 2].map((b) => b * i);
    ts.push(1_700_000_000_000 + i * 15_000);
    hs.push(
      FloatHistogram.of({
        counterResetHint: i === 0 ? 'unknown' : 'not_reset',
        schema: 3,
        zeroThreshold: 1e-128,
        zeroCount: i,
        count: buckets.reduce((a, b) => a + b, 0) + i,
        sum: i * 12.375,
        positiveSpans: spans1,
        positiveBuckets: buckets,
      }),
    );
  }
  const bytes = roundTrip(ts, hs);
  assert.ok(bytes.length / 120 < 6, `${(bytes.length / 120).toFixed(2)} bytes a sample`);
});

test('layout changes, negative and custom buckets, float counts, staleness and every hint survive', () => {
  const hs = [
    FloatHistogram.of({ schema: 0, count: 3, sum: 1.5, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 2] }),
    FloatHistogram.of({ schema: 0, count: 5, sum: 2.5, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 2], counterResetHint: 'not_reset' }),
    FloatHistogram.of({
      schema: -2,
      count: 7.25,
      sum: -0,
      zeroCount: 0.25,
      zeroThreshold: 0.001,
      negativeSpans: [{ offset: 1, length: 2 }],
      negativeBuckets: [3.5, 3.5],
      counterResetHint: 'reset',
    }),
    FloatHistogram.of({
      schema: -2,
      count: 7.25,
      sum: STALE_NAN,
      zeroCount: 0.25,
      zeroThreshold: 0.001,
      negativeSpans: [{ offset: 1, length: 2 }],
      negativeBuckets: [3.5, 3.5],
    }),
    FloatHistogram.of({
      schema: -53,
      customValues: [0.1, 1, 10],
      count: 4,
      sum: 9,
      positiveSpans: [{ offset: 0, length: 4 }],
      positiveBuckets: [1, 1, 1, 1],
      counterResetHint: 'gauge',
    }),
    FloatHistogram.of({ schema: 8, count: 0, sum: 0 }),
  ];
  roundTrip(
    hs.map((_, i) => i * 1000 - 5000),
    hs,
  );
  const it = blockChunkIterator(histogramBlockChunk([1, 2, 3, 4, 5, 6], hs, 6));
  for (let i = 0; i < 4; i++) it.next();
  assert.ok(isStaleNaN(it.h!()!.sum), 'a staleness marker in the sum is still one');
});

test('random histograms come back bit for bit', () => {
  // Plain objects: fast-check's records have no prototype, which strict equality would tell apart.
  const span = fc.record({ offset: fc.integer({ min: -5, max: 5 }), length: fc.integer({ min: 1, max: 4 }) }).map((s) => ({ ...s }));
  const count = fc.oneof(fc.nat(1000), fc.double({ noNaN: true, min: 0, max: 1e6 }), fc.constant(2 ** 52));
  const hist = fc
    .record({
      schema: fc.integer({ min: -4, max: 8 }),
      pos: fc.array(span, { maxLength: 3 }),
      neg: fc.array(span, { maxLength: 2 }),
      counts: fc.array(count, { minLength: 40, maxLength: 40 }),
      sum: fc.double(),
      hint: fc.constantFrom<CounterResetHint>('unknown', 'reset', 'not_reset', 'gauge'),
    })
    .map((r) => {
      const np = r.pos.reduce((n, s) => n + s.length, 0);
      const nn = r.neg.reduce((n, s) => n + s.length, 0);
      return FloatHistogram.of({
        counterResetHint: r.hint,
        schema: r.schema,
        count: r.counts[0]!,
        zeroCount: r.counts[1]!,
        sum: r.sum,
        positiveSpans: r.pos,
        positiveBuckets: r.counts.slice(2, 2 + np),
        negativeSpans: r.neg,
        negativeBuckets: r.counts.slice(2 + np, 2 + np + nn),
      });
    });
  fc.assert(
    fc.property(
      fc.array(hist, { minLength: 1, maxLength: 30 }),
      fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 30, maxLength: 30 }),
      (hs, gaps) => {
        const ts: number[] = [];
        let t = -1_000_000;
        for (let i = 0; i < hs.length; i++) ts.push((t += gaps[i]!));
        roundTrip(ts, hs);
      },
    ),
    { numRuns: 300 },
  );
});

test('a cut-short or scrambled chunk throws instead of yielding made-up histograms', () => {
  const hs = [FloatHistogram.of({ count: 3, sum: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 2] })];
  const bytes = histogramBlockChunk([1000], hs, 1);
  const short = bytes.subarray(0, bytes.length - 4);
  assert.throws(() => {
    const it = blockChunkIterator(short);
    while (it.next());
  });
});
