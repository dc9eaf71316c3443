/**
 * The remote_write `Histogram` message (prometheus/prompb/types.proto; remote_write 2.0 uses the
 * same fields) decoded into a {@link FloatHistogram}, for both receivers. The encoder for senders
 * is ./histogram_proto.ts.
 *
 * Field numbers:
 *   1 count_int (uint64) | 2 count_float (double), 3 sum (double), 4 schema (sint32),
 *   5 zero_threshold (double), 6 zero_count_int (uint64) | 7 zero_count_float (double),
 *   8 negative_spans, 9 negative_deltas (packed sint64), 10 negative_counts (packed double),
 *   11 positive_spans, 12 positive_deltas, 13 positive_counts, 14 reset_hint (enum),
 *   15 timestamp (int64), 16 custom_values (packed double)
 *   BucketSpan: 1 offset (sint32), 2 length (uint32)
 *
 * An integer histogram (count_int) carries its buckets as deltas, each bucket's change from the
 * one before it; a float histogram (count_float) carries absolute counts. The checks are
 * Prometheus' (spans adding up to the buckets, no negative count, a schema it knows, a count at
 * least the buckets' total, custom bounds that increase), each failing with the field it is about.
 */
import { CUSTOM_BUCKETS_SCHEMA, FloatHistogram, MAX_SCHEMA, MIN_SCHEMA, type CounterResetHint, type Span } from '../../core/model/histogram.js';
import { formatLabels, type Labels } from '../../core/model/labels.js';
import { ProtoError, ProtoReader } from './proto.js';

/** A histogram whose fields are well formed protobuf but do not make a valid histogram (or, from {@link decodeSeriesHistogram}, are not protobuf). */
export class InvalidHistogramError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(field === '' ? detail : `${field}: ${detail}`);
  }
}

/** {@link decodeHistogramMessage} whose refusal names the series (the receivers' 400). */
export function decodeSeriesHistogram(labels: Labels, buf: Buffer, start: number, end: number): { t: number; h: FloatHistogram } {
  try {
    return decodeHistogramMessage(buf, start, end);
  } catch (err) {
    if (err instanceof InvalidHistogramError || err instanceof ProtoError)
      throw new InvalidHistogramError('', `invalid native histogram of ${formatLabels(labels)}: ${err.message}`);
    throw err;
  }
}

const RESET_HINTS: readonly CounterResetHint[] = ['unknown', 'reset', 'not_reset', 'gauge'];

function unzigzag(u: number): number {
  // The reader gives varints past 2^63 as negative numbers: add 2^64 back before undoing zigzag.
  if (u < 0) u += 2 ** 64;
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

function readDouble(r: ProtoReader): number {
  r.need(8);
  const v = r.buf.readDoubleLE(r.pos);
  r.pos += 8;
  return v;
}

/** A repeated double, packed (wire type 2) or one element unpacked (wire type 1). */
function doubles(r: ProtoReader, wt: number, out: number[]): void {
  if (wt === 1) {
    out.push(readDouble(r));
    return;
  }
  if (wt !== 2) throw new ProtoError(`repeated double field has wire type ${wt}`);
  const s = r.bytes();
  const end = r.pos;
  if ((end - s) % 8 !== 0) throw new ProtoError(`packed double field of ${end - s} bytes, not a multiple of 8`);
  for (let p = s; p < end; p += 8) out.push(r.buf.readDoubleLE(p));
}

/** A repeated sint64, packed or one element unpacked. */
function sints(r: ProtoReader, wt: number, out: number[]): void {
  if (wt === 0) {
    out.push(unzigzag(r.varint()));
    return;
  }
  if (wt !== 2) throw new ProtoError(`repeated sint64 field has wire type ${wt}`);
  const s = r.bytes();
  const inner = new ProtoReader(r.buf, s, r.pos);
  while (inner.pos < inner.end) out.push(unzigzag(inner.varint()));
}

function span(r: ProtoReader): Span {
  const s = r.bytes();
  const inner = new ProtoReader(r.buf, s, r.pos);
  let offset = 0;
  let length = 0;
  while (inner.pos < inner.end) {
    const tag = inner.varint();
    if (tag === 0x08) offset = unzigzag(inner.varint());
    else if (tag === 0x10) length = inner.varint();
    else if (tag >>> 3 === 0) throw new ProtoError('invalid field number 0');
    else inner.skip(tag & 7);
  }
  return { offset, length };
}

/** Checks and wire types of one field; `expected` is the wire type the field must have. */
function expect(tag: number, expected: number, name: string): void {
  if ((tag & 7) !== expected) throw new ProtoError(`Histogram.${name} has wire type ${tag & 7}, want ${expected}`);
}

/** Absolute counts from deltas. */
function undelta(ds: readonly number[]): number[] {
  const out = new Array<number>(ds.length);
  let c = 0;
  for (let i = 0; i < ds.length; i++) out[i] = c += ds[i]!;
  return out;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function checkSpans(side: 'positive' | 'negative', spans: readonly Span[], buckets: number): void {
  let total = 0;
  // Bucket indexes are int32 in Prometheus (and in the chunk encodings): the spans must stay inside.
  let idx = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (i > 0 && s.offset < 0) throw new InvalidHistogramError(`${side}_spans[${i}]`, `offset ${s.offset} is negative (only the first span may start below 0)`);
    idx += s.offset;
    if (idx < INT32_MIN || idx + s.length - 1 > INT32_MAX) throw new InvalidHistogramError(`${side}_spans[${i}]`, `bucket index ${idx} is outside 32 bits`);
    idx += s.length;
    total += s.length;
  }
  if (total !== buckets) throw new InvalidHistogramError(`${side}_spans`, `spans cover ${total} buckets but ${buckets} ${side} bucket counts were sent`);
}

function checkCounts(field: string, counts: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(c >= 0)) throw new InvalidHistogramError(`${field}[${i}]`, `bucket count ${c} is negative or not a number`);
    total += c;
  }
  return total;
}

/** Decodes and checks the Histogram message at `buf[start, end)`; returns its timestamp and histogram. */
export function decodeHistogramMessage(buf: Buffer, start: number, end: number): { t: number; h: FloatHistogram } {
  const r = new ProtoReader(buf, start, end);
  let count: number | undefined;
  let countIsFloat = false;
  let zeroCount = 0;
  let zeroIsFloat = false;
  let sum = 0;
  let schema = 0;
  let zeroThreshold = 0;
  let hint = 0;
  let t = 0;
  const negSpans: Span[] = [];
  const posSpans: Span[] = [];
  const negDeltas: number[] = [];
  const posDeltas: number[] = [];
  const negCounts: number[] = [];
  const posCounts: number[] = [];
  const customValues: number[] = [];
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag >>> 3) {
      case 1:
        expect(tag, 0, 'count_int');
        count = r.varint();
        countIsFloat = false;
        break;
      case 2:
        expect(tag, 1, 'count_float');
        count = readDouble(r);
        countIsFloat = true;
        break;
      case 3:
        expect(tag, 1, 'sum');
        sum = readDouble(r);
        break;
      case 4:
        expect(tag, 0, 'schema');
        schema = unzigzag(r.varint());
        break;
      case 5:
        expect(tag, 1, 'zero_threshold');
        zeroThreshold = readDouble(r);
        break;
      case 6:
        expect(tag, 0, 'zero_count_int');
        zeroCount = r.varint();
        zeroIsFloat = false;
        break;
      case 7:
        expect(tag, 1, 'zero_count_float');
        zeroCount = readDouble(r);
        zeroIsFloat = true;
        break;
      case 8:
        expect(tag, 2, 'negative_spans');
        negSpans.push(span(r));
        break;
      case 9:
        sints(r, tag & 7, negDeltas);
        break;
      case 10:
        doubles(r, tag & 7, negCounts);
        break;
      case 11:
        expect(tag, 2, 'positive_spans');
        posSpans.push(span(r));
        break;
      case 12:
        sints(r, tag & 7, posDeltas);
        break;
      case 13:
        doubles(r, tag & 7, posCounts);
        break;
      case 14:
        expect(tag, 0, 'reset_hint');
        hint = r.varint();
        break;
      case 15:
        expect(tag, 0, 'timestamp');
        t = r.varint();
        break;
      case 16:
        doubles(r, tag & 7, customValues);
        break;
      case 0:
        throw new ProtoError('invalid field number 0');
      default:
        r.skip(tag & 7);
    }
  }
  // Which kind: the count's oneof, else whichever bucket encoding was sent (integer by default).
  const isFloat = count !== undefined ? countIsFloat : posCounts.length + negCounts.length > 0 || zeroIsFloat;
  if (isFloat && posDeltas.length + negDeltas.length > 0)
    throw new InvalidHistogramError(
      posDeltas.length > 0 ? 'positive_deltas' : 'negative_deltas',
      'a float histogram (count_float) carries absolute counts, not deltas',
    );
  if (!isFloat && posCounts.length + negCounts.length > 0)
    throw new InvalidHistogramError(
      posCounts.length > 0 ? 'positive_counts' : 'negative_counts',
      'an integer histogram (count_int) carries deltas, not float counts',
    );
  const positive = isFloat ? posCounts : undelta(posDeltas);
  const negative = isFloat ? negCounts : undelta(negDeltas);
  const bucketField = isFloat ? 'counts' : 'deltas';

  const custom = schema === CUSTOM_BUCKETS_SCHEMA;
  if (!custom && (schema < MIN_SCHEMA || schema > MAX_SCHEMA))
    throw new InvalidHistogramError('schema', `${schema} is not between ${MIN_SCHEMA} and ${MAX_SCHEMA} (or ${CUSTOM_BUCKETS_SCHEMA} for custom buckets)`);
  if (hint >= RESET_HINTS.length) throw new InvalidHistogramError('reset_hint', `unknown value ${hint}`);
  if (!(zeroThreshold >= 0)) throw new InvalidHistogramError('zero_threshold', `${zeroThreshold} is negative or not a number`);
  if (!(zeroCount >= 0)) throw new InvalidHistogramError(zeroIsFloat ? 'zero_count_float' : 'zero_count_int', `${zeroCount} is negative or not a number`);
  checkSpans('positive', posSpans, positive.length);
  checkSpans('negative', negSpans, negative.length);
  const buckets = checkCounts(`positive_${bucketField}`, positive) + checkCounts(`negative_${bucketField}`, negative) + zeroCount;
  const n = count ?? 0;
  if (!(n >= 0)) throw new InvalidHistogramError(isFloat ? 'count_float' : 'count_int', `${n} is negative or not a number`);
  // Floats add up with rounding: allow the last bits.
  if (n < buckets && (!isFloat || buckets - n > 1e-9 * buckets))
    throw new InvalidHistogramError(isFloat ? 'count_float' : 'count_int', `count ${n} is smaller than the ${buckets} observations in the buckets`);
  if (custom) {
    if (negative.length > 0 || zeroCount !== 0)
      throw new InvalidHistogramError('negative_spans', 'a histogram with custom buckets has no negative or zero buckets');
    for (let i = 0; i < customValues.length; i++) {
      const v = customValues[i]!;
      if (!Number.isFinite(v)) throw new InvalidHistogramError(`custom_values[${i}]`, `bound ${v} is not finite (the last bucket ends at +Inf by itself)`);
      if (i > 0 && !(v > customValues[i - 1]!)) throw new InvalidHistogramError(`custom_values[${i}]`, `bound ${v} does not increase`);
    }
    let idx = 0;
    for (const s of posSpans) {
      idx += s.offset;
      if (idx < 0 || idx + s.length > customValues.length + 1)
        throw new InvalidHistogramError('positive_spans', `buckets reach index ${idx + s.length - 1}, past the ${customValues.length + 1} custom buckets`);
      idx += s.length;
    }
  } else if (customValues.length > 0)
    throw new InvalidHistogramError('custom_values', `only schema ${CUSTOM_BUCKETS_SCHEMA} has custom bounds, not schema ${schema}`);

  let h: FloatHistogram;
  try {
    h = FloatHistogram.of({
      counterResetHint: RESET_HINTS[hint]!,
      schema,
      zeroThreshold,
      zeroCount,
      count: n,
      sum,
      positiveSpans: posSpans,
      positiveBuckets: positive,
      negativeSpans: negSpans,
      negativeBuckets: negative,
      customValues,
    });
  } catch (err) {
    // The checks above are meant to leave nothing for the model's own to find; if one does, it is still the sender's fault.
    if (err instanceof RangeError) throw new InvalidHistogramError('', err.message);
    throw err;
  }
  return { t, h };
}
