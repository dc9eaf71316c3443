// The remote_write Histogram decoder: what the sender's encoder writes comes back equal (integer
// and float counts, every schema kind, reset hints, a stale sum), and each kind of bad histogram
// is refused naming its field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram, type HistogramFields } from '../../core/model/histogram.js';
import { isStaleNaN, STALE_NAN } from '../../core/model/value.js';
import { labelsFrom } from '../../core/model/labels.js';
import { encodeHistogramMessage } from './histogram_proto.js';
import { decodeHistogramMessage, decodeSeriesHistogram, InvalidHistogramError } from './histogram_decode.js';
import { lenField, varint } from '../../testkit/rw2.js';

function roundTrip(h: FloatHistogram, t: number): { t: number; h: FloatHistogram } {
  const b = encodeHistogramMessage(h, t);
  return decodeHistogramMessage(b, 0, b.length);
}

const exponential: Partial<HistogramFields> = {
  schema: 2,
  zeroThreshold: 0.001,
  zeroCount: 3,
  count: 3 + 4 + 9 + 1 + 2 + 7,
  sum: 12.5,
  positiveSpans: [
    { offset: -2, length: 2 },
    { offset: 3, length: 2 },
  ],
  positiveBuckets: [4, 9, 1, 2],
  negativeSpans: [{ offset: 1, length: 1 }],
  negativeBuckets: [7],
};

test('histograms come back as sent: integer and float counts, schemas -4, 8 and custom buckets, reset hints', () => {
  const cases: FloatHistogram[] = [
    FloatHistogram.of(exponential),
    FloatHistogram.of({ ...exponential, counterResetHint: 'not_reset' }),
    FloatHistogram.of({ ...exponential, counterResetHint: 'gauge', zeroCount: 0.5, count: 23.75, positiveBuckets: [4, 9.25, 1, 2] }),
    FloatHistogram.of({ ...exponential, schema: -4, counterResetHint: 'reset' }),
    FloatHistogram.of({ ...exponential, schema: 8 }),
    FloatHistogram.of({ schema: -53, count: 6, sum: 1.5, customValues: [0.1, 0.5, 1], positiveSpans: [{ offset: 1, length: 3 }], positiveBuckets: [1, 2, 3] }),
    FloatHistogram.of({}),
  ];
  for (const h of cases) {
    const got = roundTrip(h, 1_700_000_000_123);
    assert.equal(got.t, 1_700_000_000_123);
    assert.ok(got.h.equals(h), `${JSON.stringify(h)} came back as ${JSON.stringify(got.h)}`);
    assert.equal(got.h.counterResetHint, h.counterResetHint);
  }
  // Deltas that go down are decoded to absolute counts (the encoder wrote 4, +5, -8, +1).
  assert.deepEqual(roundTrip(FloatHistogram.of(exponential), 0).h.positiveBuckets, [4, 9, 1, 2]);
});

test('a stale marker in the sum survives decoding bit for bit', () => {
  const got = roundTrip(FloatHistogram.of({ sum: STALE_NAN }), 5000);
  assert.ok(isStaleNaN(got.h.sum));
});

// Hand-built messages, so that fields can be wrong in ways the encoder never writes.
function tag(field: number, wire: number): number[] {
  return varint(field * 8 + wire);
}
const zz = (x: number): number => (x < 0 ? -2 * x - 1 : 2 * x);
const uint = (field: number, x: number): Buffer => Buffer.from([...tag(field, 0), ...varint(x)]);
const sint = (field: number, x: number): Buffer => uint(field, zz(x));
function dbl(field: number, x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return Buffer.concat([Buffer.from(tag(field, 1)), b]);
}
const span = (field: number, offset: number, length: number): Buffer => lenField(field, Buffer.concat([sint(1, offset), uint(2, length)]));
const deltas = (field: number, ds: number[]): Buffer => lenField(field, Buffer.from(ds.flatMap((d) => varint(zz(d)))));
const doubles = (field: number, xs: number[]): Buffer => lenField(field, Buffer.concat(xs.map((x) => dbl(16, x).subarray(2))));

function refusal(msg: Buffer[]): InvalidHistogramError {
  const b = Buffer.concat(msg);
  try {
    decodeHistogramMessage(b, 0, b.length);
  } catch (err) {
    assert.ok(err instanceof InvalidHistogramError, String(err));
    return err;
  }
  assert.fail('the histogram was accepted');
}

test('bad histograms are refused naming the field', () => {
  const ok = [uint(1, 3), dbl(3, 1), sint(4, 0), span(11, 0, 2), deltas(12, [1, 1])];
  const b = Buffer.concat(ok);
  assert.deepEqual(decodeHistogramMessage(b, 0, b.length).h.positiveBuckets, [1, 2]);
  const cases: Array<[string, Buffer[], RegExp]> = [
    ['spans cover more buckets than sent', [uint(1, 3), span(11, 0, 3), deltas(12, [1, 1])], /^positive_spans: spans cover 3 buckets but 2/],
    ['spans cover fewer negative buckets', [uint(1, 3), span(8, 0, 1), deltas(9, [1, 1])], /^negative_spans: spans cover 1 buckets but 2/],
    ['a later span with a negative offset', [uint(1, 3), span(11, 0, 1), span(11, -2, 1), deltas(12, [1, 1])], /^positive_spans\[1\]: offset -2/],
    [
      'a bucket index past 32 bits',
      [uint(1, 2), span(11, 2 ** 31 - 2, 1), span(11, 5, 1), deltas(12, [1, 0])],
      /^positive_spans\[1\]: bucket index 2147483652 is outside 32 bits/,
    ],
    ['schema 9', [uint(1, 0), sint(4, 9)], /^schema: 9 is not between -4 and 8/],
    ['schema -5', [uint(1, 0), sint(4, -5)], /^schema: -5/],
    ['a delta that makes a count negative', [uint(1, 3), span(11, 0, 2), deltas(12, [2, -3])], /^positive_deltas\[1\]: bucket count -1 is negative/],
    ['a negative float count', [dbl(2, 3), span(11, 0, 1), doubles(13, [-1])], /^positive_counts\[0\]: bucket count -1/],
    ['a count below the buckets', [uint(1, 2), span(11, 0, 2), deltas(12, [1, 1])], /^count_int: count 2 is smaller than the 3 observations/],
    ['a float count below the buckets', [dbl(2, 2), dbl(7, 1), span(11, 0, 1), doubles(13, [1.5])], /^count_float: count 2 is smaller than the 2.5/],
    ['deltas in a float histogram', [dbl(2, 2), span(11, 0, 1), deltas(12, [2])], /^positive_deltas: a float histogram/],
    ['float counts in an integer histogram', [uint(1, 2), span(11, 0, 1), doubles(13, [2])], /^positive_counts: an integer histogram/],
    ['a negative zero threshold', [uint(1, 0), dbl(5, -1)], /^zero_threshold: -1/],
    ['an unknown reset hint', [uint(1, 0), uint(14, 7)], /^reset_hint: unknown value 7/],
    ['custom bounds that do not increase', [uint(1, 0), sint(4, -53), doubles(16, [1, 1])], /^custom_values\[1\]: bound 1 does not increase/],
    ['a custom bound of +Inf', [uint(1, 0), sint(4, -53), doubles(16, [1, Infinity])], /^custom_values\[1\]: bound Infinity is not finite/],
    [
      'custom buckets past the bounds',
      [uint(1, 3), sint(4, -53), doubles(16, [1]), span(11, 1, 2), deltas(12, [1, 1])],
      /^positive_spans: buckets reach index 2, past the 2/,
    ],
    ['custom buckets with a zero bucket', [uint(1, 1), sint(4, -53), uint(6, 1)], /^negative_spans: a histogram with custom buckets has no negative or zero/],
    ['custom bounds on an exponential schema', [uint(1, 0), sint(4, 3), doubles(16, [1])], /^custom_values: only schema -53/],
  ];
  for (const [what, msg, want] of cases) assert.match(refusal(msg).message, want, what);
});

test('decodeSeriesHistogram names the series; malformed protobuf is refused the same way', () => {
  const labels = labelsFrom({ __name__: 'latency_seconds', job: 'api' });
  const bad = Buffer.concat([uint(1, 0), sint(4, 12)]);
  assert.throws(() => decodeSeriesHistogram(labels, bad, 0, bad.length), {
    name: 'Error',
    message: 'invalid native histogram of latency_seconds{job="api"}: schema: 12 is not between -4 and 8 (or -53 for custom buckets)',
  });
  const truncated = Buffer.concat([dbl(3, 1)]).subarray(0, 5);
  assert.throws(
    () => decodeSeriesHistogram(labels, truncated, 0, truncated.length),
    (err: unknown) => {
      return err instanceof InvalidHistogramError && /latency_seconds.*truncated/.test(err.message);
    },
  );
});
