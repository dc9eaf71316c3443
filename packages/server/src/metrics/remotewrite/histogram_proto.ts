/**
 * The remote_write `Histogram` message (prometheus/prompb/types.proto, shared by 1.0 and 2.0) from a
 * native histogram, for the sender: integer counts as `count_int`, `zero_count_int` and bucket
 * deltas (each bucket's change from the one before it), as Prometheus sends integer histograms;
 * other counts as floats.
 */
import type { FloatHistogram, Span } from '../../core/model/histogram.js';
import { ByteWriter } from '../../core/util/bytes.js';

const RESET_HINTS = { unknown: 0, reset: 1, not_reset: 2, gauge: 3 } as const;
const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;

function tag(w: ByteWriter, field: number, wire: number): void {
  w.uvarint(field * 8 + wire);
}

function zigzag(x: number): number {
  return x < 0 ? -2 * x - 1 : 2 * x;
}

function isCount(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

/** Scratch for nested messages: their length goes in front of them. */
const inner = new ByteWriter(256);

function nested(w: ByteWriter, field: number, fill: (b: ByteWriter) => void): void {
  inner.reset();
  fill(inner);
  tag(w, field, BYTES);
  w.uvarint(inner.length);
  w.bytes(inner.view());
}

function spans(w: ByteWriter, field: number, ss: readonly Span[]): void {
  for (const s of ss)
    nested(w, field, (b) => {
      tag(b, 1, VARINT);
      b.uvarint(zigzag(s.offset));
      tag(b, 2, VARINT);
      b.uvarint(s.length);
    });
}

function buckets(w: ByteWriter, field: number, bs: readonly number[], integer: boolean): void {
  if (bs.length === 0) return;
  nested(w, integer ? field : field + 1, (b) => {
    let prev = 0;
    for (const x of bs) {
      if (integer) {
        b.uvarint(zigzag(x - prev));
        prev = x;
      } else b.f64(x);
    }
  });
}

/** Appends the `Histogram` message for `h` at `t` (without its own tag and length) to `w`. */
export function writeHistogramMessage(w: ByteWriter, h: FloatHistogram, t: number): void {
  const integer = isCount(h.count) && isCount(h.zeroCount) && h.positiveBuckets.every(isCount) && h.negativeBuckets.every(isCount);
  if (integer) {
    tag(w, 1, VARINT);
    w.uvarint(h.count);
  } else {
    tag(w, 2, FIXED64);
    w.f64(h.count);
  }
  tag(w, 3, FIXED64);
  w.f64(h.sum);
  tag(w, 4, VARINT);
  w.uvarint(zigzag(h.schema));
  tag(w, 5, FIXED64);
  w.f64(h.zeroThreshold);
  if (integer) {
    tag(w, 6, VARINT);
    w.uvarint(h.zeroCount);
  } else {
    tag(w, 7, FIXED64);
    w.f64(h.zeroCount);
  }
  spans(w, 8, h.negativeSpans);
  buckets(w, 9, h.negativeBuckets, integer);
  spans(w, 11, h.positiveSpans);
  buckets(w, 12, h.positiveBuckets, integer);
  tag(w, 14, VARINT);
  w.uvarint(RESET_HINTS[h.counterResetHint]);
  tag(w, 15, VARINT);
  // int64: a negative time is ten bytes of two's complement, which uvarint cannot write.
  if (t < 0) throw new RangeError(`cannot send a histogram stamped before 1970 (${t})`);
  w.uvarint(t);
  if (h.customValues.length > 0)
    nested(w, 16, (b) => {
      for (const v of h.customValues) b.f64(v);
    });
}

/** The `Histogram` message for `h` at `t`, as a buffer of its own. */
export function encodeHistogramMessage(h: FloatHistogram, t: number): Buffer {
  const w = new ByteWriter(128);
  writeHistogramMessage(w, h, t);
  return Buffer.from(w.view());
}
