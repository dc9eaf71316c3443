/**
 * remote_write 1.0 requests of native histograms, for tests and benchmarks that send them to a real
 * Prometheus (the `Histogram` message is the sender's, metrics/remotewrite/histogram_proto.ts).
 */
import type { FloatHistogram } from '../core/model/histogram.js';
import type { Labels } from '../core/model/labels.js';
import { encodeHistogramMessage } from '../metrics/remotewrite/histogram_proto.js';
import { encodeLabels } from '../metrics/remotewrite/proto.js';
import { lenField } from './rw2.js';

/** An unsnappied remote_write 1.0 WriteRequest of histogram series. */
export function encodeHistogramWriteRequest(series: ReadonlyArray<{ labels: Labels; ts: readonly number[]; hs: readonly FloatHistogram[] }>): Buffer {
  return Buffer.concat(
    series.map((s) => lenField(1, Buffer.concat([encodeLabels(s.labels).bytes, ...s.hs.map((h, i) => lenField(4, encodeHistogramMessage(h, s.ts[i]!)))]))),
  );
}
