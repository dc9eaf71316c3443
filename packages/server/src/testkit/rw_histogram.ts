/**
 * Native histograms as remote_write 1.0 carries them (the `Histogram` message of
 * prometheus/prompb/types.proto, which 2.0 shares), for tests and benchmarks that send them to a
 * real Prometheus: integer counts as `count_int`, `zero_count_int` and bucket deltas, other counts
 * as floats.
 */
import type { FloatHistogram, Span } from '../core/model/histogram.js';
import type { Labels } from '../core/model/labels.js';
import { encodeLabels } from '../metrics/remotewrite/proto.js';
import { f64Field, lenField, packed, varField } from './rw2.js';

const RESET_HINTS = { unknown: 0, reset: 1, not_reset: 2, gauge: 3 } as const;

function zigzag(x: number): number {
  return x < 0 ? -2 * x - 1 : 2 * x;
}

function spans(no: number, ss: readonly Span[]): Buffer[] {
  return ss.map((s) => lenField(no, Buffer.concat([varField(1, zigzag(s.offset)), varField(2, s.length)])));
}

/** Each bucket as the change from the bucket before it (the first from 0), as `*_deltas` hold them. */
function deltas(buckets: readonly number[]): number[] {
  let prev = 0;
  return buckets.map((b) => {
    const d = b - prev;
    prev = b;
    return zigzag(d);
  });
}

function packedDoubles(xs: readonly number[]): Buffer {
  const b = Buffer.alloc(8 * xs.length);
  xs.forEach((x, i) => b.writeDoubleLE(x, 8 * i));
  return b;
}

/** The `Histogram` message for `h` at `t`. */
export function encodeHistogramMessage(h: FloatHistogram, t: number): Buffer {
  const integer = [h.count, h.zeroCount, ...h.positiveBuckets, ...h.negativeBuckets].every((x) => Number.isSafeInteger(x) && x >= 0);
  const parts: Buffer[] = [
    integer ? varField(1, h.count) : f64Field(2, h.count),
    f64Field(3, h.sum),
    varField(4, zigzag(h.schema)),
    f64Field(5, h.zeroThreshold),
    integer ? varField(6, h.zeroCount) : f64Field(7, h.zeroCount),
    ...spans(8, h.negativeSpans),
  ];
  if (h.negativeBuckets.length > 0) parts.push(integer ? lenField(9, packed(deltas(h.negativeBuckets))) : lenField(10, packedDoubles(h.negativeBuckets)));
  parts.push(...spans(11, h.positiveSpans));
  if (h.positiveBuckets.length > 0) parts.push(integer ? lenField(12, packed(deltas(h.positiveBuckets))) : lenField(13, packedDoubles(h.positiveBuckets)));
  parts.push(varField(14, RESET_HINTS[h.counterResetHint]), varField(15, t));
  return Buffer.concat(parts);
}

/** An unsnappied remote_write 1.0 WriteRequest of histogram series. */
export function encodeHistogramWriteRequest(series: ReadonlyArray<{ labels: Labels; ts: readonly number[]; hs: readonly FloatHistogram[] }>): Buffer {
  return Buffer.concat(
    series.map((s) => lenField(1, Buffer.concat([encodeLabels(s.labels).bytes, ...s.hs.map((h, i) => lenField(4, encodeHistogramMessage(h, s.ts[i]!)))]))),
  );
}
