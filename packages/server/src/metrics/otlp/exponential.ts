/**
 * An OTLP exponential histogram point as a Prometheus native histogram, as Prometheus 3's OTLP
 * receiver converts it: the scale becomes the schema (a scale above 8, the finest schema, is
 * brought down to 8 by merging 2^(scale−8) neighbouring buckets; one below −4, the coarsest, is
 * refused), the zero bucket keeps its count and threshold (1e-128 when the sender sets none, as
 * the OpenTelemetry compatibility specification says), each side's dense buckets (offset + counts)
 * become sparse spans, and sum and count are kept; min and max have no place and are dropped.
 *
 * OTLP's bucket `i` covers (base^i, base^(i+1)], Prometheus' bucket `i` covers (base^(i−1), base^i]:
 * the index moves up by one. Empty buckets are left out of the spans (the compact form this
 * project's histograms are compared in; Prometheus keeps up to two empty ones inside a span, which
 * holds the same counts).
 */
import { FloatHistogram, MAX_SCHEMA, MIN_SCHEMA, type CounterResetHint, type Span } from '../../core/model/histogram.js';
import type { DataPoint } from './model.js';

/** The zero bucket's width when the sender sets none. */
export const DEFAULT_ZERO_THRESHOLD = 1e-128;

/** The native histogram of an exponential histogram point, or why it cannot be one. */
export function nativeHistogramOf(p: DataPoint, name: string, hint: CounterResetHint): FloatHistogram | string {
  const e = p.exp!;
  if (!Number.isInteger(e.scale) || e.scale < MIN_SCHEMA)
    return `exponential histogram ${name}: scale ${e.scale} is below ${MIN_SCHEMA}, the coarsest schema a native histogram has`;
  if (!(e.zeroThreshold >= 0) || e.zeroThreshold === Infinity)
    return `exponential histogram ${name}: zero_threshold ${e.zeroThreshold} is not a finite number at or above 0`;
  if (p.count < 0 || e.zeroCount < 0 || e.positiveCounts.some((c) => c < 0) || e.negativeCounts.some((c) => c < 0))
    return `exponential histogram ${name}: a negative count`;
  // Capped where 2^scaleDown is still finite (OTLP scales stop at 20; a larger one merges all into one bucket).
  const scaleDown = Math.min(Math.max(0, e.scale - MAX_SCHEMA), 1000);
  const pos = sparse(e.positiveOffset, e.positiveCounts, scaleDown);
  const neg = sparse(e.negativeOffset, e.negativeCounts, scaleDown);
  // Prometheus' own check of an integer histogram: the buckets hold every observation (at most
  // the count when the sum is NaN, as NaN observations fall in no bucket).
  const inBuckets = pos.total + neg.total + e.zeroCount;
  const sum = p.hasSum ? p.sum : 0;
  if (Number.isNaN(sum) ? inBuckets > p.count : inBuckets !== p.count)
    return `exponential histogram ${name}: the buckets hold ${inBuckets} observations (zero bucket included) but count is ${p.count}`;
  return FloatHistogram.of({
    counterResetHint: hint,
    schema: Math.min(e.scale, MAX_SCHEMA),
    zeroThreshold: e.zeroThreshold > 0 ? e.zeroThreshold : DEFAULT_ZERO_THRESHOLD,
    zeroCount: e.zeroCount,
    count: p.count,
    sum,
    positiveSpans: pos.spans,
    positiveBuckets: pos.buckets,
    negativeSpans: neg.spans,
    negativeBuckets: neg.buckets,
  });
}

/**
 * Dense OTLP buckets (counts of indexes offset, offset+1, ...) as Prometheus spans and absolute
 * counts, `2^scaleDown` neighbours merged into one, empty buckets left out.
 */
function sparse(offset: number, counts: readonly number[], scaleDown: number): { spans: Span[]; buckets: number[]; total: number } {
  const spans: Span[] = [];
  const buckets: number[] = [];
  const div = 2 ** scaleDown;
  let total = 0;
  let last = 0;
  let runStart = 0;
  let runLen = 0;
  let prevEnd = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    total += c;
    const idx = Math.floor((offset + i) / div) + 1;
    if (runLen > 0 && idx === last) {
      buckets[buckets.length - 1] = buckets[buckets.length - 1]! + c;
      continue;
    }
    if (runLen > 0 && idx === last + 1) runLen++;
    else {
      if (runLen > 0) {
        spans.push({ offset: runStart - prevEnd, length: runLen });
        prevEnd = runStart + runLen;
      }
      runStart = idx;
      runLen = 1;
    }
    buckets.push(c);
    last = idx;
  }
  if (runLen > 0) spans.push({ offset: runStart - prevEnd, length: runLen });
  return { spans, buckets, total };
}
