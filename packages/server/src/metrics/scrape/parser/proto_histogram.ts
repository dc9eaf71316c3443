/**
 * Histograms of the protobuf exposition as Vigil's native histograms: the native fields (integer
 * deltas or float counts), or the classic buckets as custom buckets (NHCB, schema −53).
 */
import { CUSTOM_BUCKETS_SCHEMA, FloatHistogram, type HistogramFields, type Span } from '../../../core/model/histogram.js';
import type { PbExemplar, PbHistogram } from './metricfamily.js';

/** Makes the scrape error for an invalid histogram from what is wrong with it. */
export type Fail = (detail: string) => Error;

/**
 * Prometheus' test for a native histogram: any span, a zero threshold or a zero count. A native
 * histogram without observations marks itself with a no-op span.
 */
export function isNative(h: PbHistogram): boolean {
  return h.positiveSpans.length > 0 || h.negativeSpans.length > 0 || h.zeroThreshold > 0 || h.zeroCount > 0 || h.zeroCountFloat > 0;
}

/** A native histogram's exemplars: its own list, else its classic buckets' ones; only those with a timestamp. */
export function nativeExemplars(h: PbHistogram): PbExemplar[] {
  const own = h.exemplars.length > 0 ? h.exemplars : h.buckets.flatMap((b) => (b.exemplar ? [b.exemplar] : []));
  return own.filter((e) => e.ts !== undefined);
}

/** The native histogram of `h`: float counts when the float count fields are set, else integer deltas made absolute. */
export function nativeHistogram(h: PbHistogram, gauge: boolean, fail: Fail): FloatHistogram {
  const float = h.sampleCountFloat > 0 || h.zeroCountFloat > 0;
  return makeHistogram(
    {
      counterResetHint: gauge ? 'gauge' : 'unknown',
      schema: h.schema,
      zeroThreshold: h.zeroThreshold,
      zeroCount: float ? h.zeroCountFloat : h.zeroCount,
      count: float ? h.sampleCountFloat : h.sampleCount,
      sum: h.sampleSum,
      positiveSpans: h.positiveSpans,
      positiveBuckets: float ? h.positiveCounts : absolute(h.positiveDeltas),
      negativeSpans: h.negativeSpans,
      negativeBuckets: float ? h.negativeCounts : absolute(h.negativeDeltas),
    },
    fail,
  );
}

/** A classic histogram as one with custom buckets (NHCB): the finite bounds, and per-bucket counts from the cumulative ones. */
export function customBuckets(h: PbHistogram, gauge: boolean, fail: Fail): FloatHistogram {
  const count = h.sampleCountFloat > 0 ? h.sampleCountFloat : h.sampleCount;
  const bounds: number[] = [];
  const counts: number[] = [];
  let prev = 0;
  let sawInf = false;
  for (const bk of h.buckets) {
    const c = bk.cumulativeCountFloat > 0 ? bk.cumulativeCountFloat : bk.cumulativeCount;
    counts.push(c - prev);
    prev = c;
    if (bk.upperBound === Infinity) {
      sawInf = true;
      break;
    }
    bounds.push(bk.upperBound);
  }
  if (!sawInf) counts.push(count - prev);
  const spans: Span[] = [{ offset: 0, length: counts.length }];
  return makeHistogram(
    {
      counterResetHint: gauge ? 'gauge' : 'unknown',
      schema: CUSTOM_BUCKETS_SCHEMA,
      count,
      sum: h.sampleSum,
      positiveSpans: spans,
      positiveBuckets: counts,
      customValues: bounds,
    },
    fail,
  );
}

function makeHistogram(f: Partial<HistogramFields>, fail: Fail): FloatHistogram {
  let h: FloatHistogram;
  try {
    h = FloatHistogram.of(f);
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (h.zeroCount < 0 || h.positiveBuckets.some((c) => c < 0) || h.negativeBuckets.some((c) => c < 0)) throw fail("a bucket's observation count is negative");
  return h.compact();
}

/** Integer bucket counts from their deltas (each bucket's change from the one before). */
function absolute(deltas: readonly number[]): number[] {
  const out = new Array<number>(deltas.length);
  let c = 0;
  for (let i = 0; i < deltas.length; i++) out[i] = c += deltas[i]!;
  return out;
}
