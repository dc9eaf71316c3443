/**
 * A native histogram as bytes, for the WAL's histogram records: every field as the model holds it
 * (spans, absolute float counts, custom bounds), floats as raw float64 so NaN payloads (a stale
 * marker in the sum) and exact counts come back bit for bit.
 */
import { FloatHistogram, type CounterResetHint, type Span } from '../../core/model/histogram.js';
import type { ByteReader, ByteWriter } from '../../core/util/bytes.js';

/** Counter-reset hints as numbers, in Prometheus' order (also the block chunk's 2-bit code). */
export const HINTS: readonly CounterResetHint[] = ['unknown', 'reset', 'not_reset', 'gauge'];

/** The number {@link HINTS} gives `hint`. */
export function hintCode(hint: CounterResetHint): number {
  return hint === 'unknown' ? 0 : hint === 'reset' ? 1 : hint === 'not_reset' ? 2 : 3;
}

function writeSpans(w: ByteWriter, spans: readonly Span[], buckets: readonly number[]): void {
  w.uvarint(spans.length);
  for (const s of spans) {
    w.svarint(s.offset);
    w.uvarint(s.length);
  }
  for (const b of buckets) w.f64(b);
}

/** Writes `h`: hint, schema, zero threshold and count, count, sum, both span lists with their buckets, custom bounds. */
export function writeHistogram(w: ByteWriter, h: FloatHistogram): void {
  w.u8(hintCode(h.counterResetHint));
  w.svarint(h.schema);
  w.f64(h.zeroThreshold);
  w.f64(h.zeroCount);
  w.f64(h.count);
  w.f64(h.sum);
  writeSpans(w, h.positiveSpans, h.positiveBuckets);
  writeSpans(w, h.negativeSpans, h.negativeBuckets);
  w.uvarint(h.customValues.length);
  for (const v of h.customValues) w.f64(v);
}

/** Reads a count of things taking at least `each` bytes: a count larger than the rest of the record is damage. */
function count(r: ByteReader, each: number): number {
  const n = r.uvarint();
  if (n * each > r.end - r.pos) throw new RangeError(`histogram claims ${n} entries in ${r.end - r.pos} bytes`);
  return n;
}

function readSpans(r: ByteReader): { spans: Span[]; buckets: number[] } {
  const n = count(r, 2);
  const spans: Span[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const offset = r.svarint();
    const length = r.uvarint();
    spans.push({ offset, length });
    total += length;
  }
  if (total * 8 > r.end - r.pos) throw new RangeError(`histogram spans claim ${total} buckets in ${r.end - r.pos} bytes`);
  const buckets = new Array<number>(total);
  for (let i = 0; i < total; i++) buckets[i] = r.f64();
  return { spans, buckets };
}

/** Reads what {@link writeHistogram} wrote; throws on damage (including a histogram that fails its checks). */
export function readHistogram(r: ByteReader): FloatHistogram {
  const counterResetHint = HINTS[r.u8()];
  if (counterResetHint === undefined) throw new RangeError('unknown counter-reset hint');
  const schema = r.svarint();
  const zeroThreshold = r.f64();
  const zeroCount = r.f64();
  const count_ = r.f64();
  const sum = r.f64();
  const pos = readSpans(r);
  const neg = readSpans(r);
  const nc = count(r, 8);
  const customValues = new Array<number>(nc);
  for (let i = 0; i < nc; i++) customValues[i] = r.f64();
  return FloatHistogram.of({
    counterResetHint,
    schema,
    zeroThreshold,
    zeroCount,
    count: count_,
    sum,
    positiveSpans: pos.spans,
    positiveBuckets: pos.buckets,
    negativeSpans: neg.spans,
    negativeBuckets: neg.buckets,
    customValues,
  });
}
