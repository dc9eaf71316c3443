/**
 * Fuzzing the remote_write 1.0 decoders: snappy block decoding, the WriteRequest protobuf and its
 * native histograms. Malformed input must end in SnappyError / ProtoError / InvalidHistogramError
 * (the receiver's 400), never another
 * exception, and every call must finish within the harness's time budget.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeSnappyInto, SnappyDecoder, SnappyError, snappyEncode } from '../../core/util/snappy.js';
import { decodeLabels, decodeWriteRequest, ProtoError, WriteRequestEncoder, type WriteRequestSink } from '../../metrics/remotewrite/proto.js';
import { bytes, fuzz, mutated, pb, protoShaped } from './harness.js';
import type { Labels } from '../../core/model/labels.js';
import { ExemplarStorage, type ExemplarInput } from '../../metrics/exemplars/storage.js';
import { decodeHistogramMessage, InvalidHistogramError } from '../../metrics/remotewrite/histogram_decode.js';
import { FloatHistogram } from '../../core/model/histogram.js';
import { encodeHistogramWriteRequest } from '../rw_histogram.js';

// Snappy output limit as the receiver sets it; small so a forged length header is refused, not allocated.
const MAX_DECODED = 1 << 20;

test('snappy: arbitrary bytes decode or throw SnappyError', () => {
  const dec = new SnappyDecoder();
  fuzz(bytes(), (b) => dec.decode(b, MAX_DECODED), SnappyError, 1000);
});

test('snappy: valid blocks with random flips and truncations decode or throw SnappyError', () => {
  // Repetitive text compresses into copy elements, so edits land in copy offsets and lengths as well as literals.
  const plain = fc.oneof(
    bytes(2048),
    fc.tuple(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 60 })).map(([s, n]) => Buffer.from(s.repeat(n), 'utf8')),
  );
  const dec = new SnappyDecoder();
  fuzz(mutated(plain.map((p) => snappyEncode(p))), (b) => dec.decode(b, MAX_DECODED), SnappyError, 1000);
  // No reusable scratch buffer: the path the decompress workers take for a first request.
  fuzz(mutated(plain.map((p) => snappyEncode(p))), (b) => decodeSnappyInto(b, undefined, MAX_DECODED), SnappyError, 300);
});

/** A sink that does what the receiver does with each series: decodes its label bytes. */
function decodeAll(buf: Buffer): void {
  const sink: WriteRequestSink = {
    series(b, start, end, labels) {
      if (!labels) decodeLabels(b, start, end);
      return 0;
    },
    sample() {},
    metadata() {},
    unsupported() {},
  };
  decodeWriteRequest(buf, sink);
}

const label = fc.record({ name: fc.string({ maxLength: 12 }), value: fc.string({ maxLength: 24 }) });
const series = fc.record({
  labels: fc.uniqueArray(label, { maxLength: 5, selector: (l) => l.name }).map((ls) => ls.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
  samples: fc.array(fc.tuple(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.double()), { maxLength: 5 }),
});

/** Valid WriteRequests from the production encoder, with metadata now and then. */
const validWriteRequest: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(series, { maxLength: 4 }), fc.option(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }))))
  .map(([ss, meta]) => {
    const enc = new WriteRequestEncoder();
    for (const s of ss)
      enc.addSeries(
        s.labels,
        s.samples.map((x) => x[0]),
        s.samples.map((x) => x[1]),
      );
    if (meta) enc.addMetadata(meta[0], 'counter', meta[1]);
    return enc.finish();
  });

/** A TimeSeries with histogram (4) and exemplar (3) fields, which the decoder counts and skips. */
const withExtras: fc.Arbitrary<Buffer> = fc
  .tuple(protoShaped, protoShaped)
  .map(([h, e]) => pb.ld(1, Buffer.concat([pb.ld(1, Buffer.concat([pb.ld(1, '__name__'), pb.ld(2, 'x')])), pb.ld(3, e), pb.ld(4, h)])));

test('WriteRequest: arbitrary and protobuf-shaped bytes decode or throw ProtoError', () => {
  fuzz(bytes(), decodeAll, ProtoError, 1000);
  fuzz(protoShaped, decodeAll, ProtoError, 1000);
  fuzz(withExtras, decodeAll, ProtoError, 300);
});

test('WriteRequest: valid requests with random flips and truncations decode or throw ProtoError', () => {
  fuzz(mutated(validWriteRequest), decodeAll, ProtoError, 1000);
});

/** A sink that takes exemplars as the receiver does: collected per request, then handed to exemplar storage. */
function decodeWithExemplars(buf: Buffer): void {
  const seriesLabels: Labels[] = [];
  const exemplars: ExemplarInput[] = [];
  const sink: WriteRequestSink = {
    series(b, start, end, labels) {
      seriesLabels.push(labels ?? decodeLabels(b, start, end));
      return seriesLabels.length - 1;
    },
    sample() {},
    exemplar(handle, ls, labels, value, ts) {
      exemplars.push({ seriesLabels: ls ?? seriesLabels[handle]!, labels, value, ts });
    },
  };
  decodeWriteRequest(buf, sink);
  exemplarStore.append(exemplars);
}
const exemplarStore = new ExemplarStorage({ maxExemplars: 64 });

const exemplar = fc.record({
  labels: fc.uniqueArray(label, { maxLength: 3, selector: (l) => l.name }).map((ls) => ls.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
  value: fc.double(),
  ts: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
});

/** Valid WriteRequests whose series carry exemplars, some with no samples at all (as Prometheus sends them). */
const withExemplars: fc.Arbitrary<Buffer> = fc.array(fc.tuple(series, fc.array(exemplar, { maxLength: 3 })), { maxLength: 4 }).map((ss) => {
  const enc = new WriteRequestEncoder();
  for (const [s, ex] of ss)
    enc.addSeries(
      s.labels,
      s.samples.map((x) => x[0]),
      s.samples.map((x) => x[1]),
      ex,
    );
  return enc.finish();
});

test('WriteRequest exemplars: valid, mutated and protobuf-shaped exemplar fields decode and store, or throw ProtoError', () => {
  fuzz(withExemplars, decodeWithExemplars, ProtoError, 300);
  fuzz(mutated(withExemplars), decodeWithExemplars, ProtoError, 1000);
  fuzz(withExtras, decodeWithExemplars, ProtoError, 500);
});

test('remote_write body: mutated snappy-compressed WriteRequests end in SnappyError or ProtoError', () => {
  // The whole receiver path: decompress, then decode what came out.
  const dec = new SnappyDecoder();
  fuzz(mutated(validWriteRequest.map((b) => snappyEncode(b))), (b) => decodeAll(dec.decode(b, MAX_DECODED)), [SnappyError, ProtoError], 500);
});

/** A sink that decodes each histogram as the receiver does. */
function decodeWithHistograms(buf: Buffer): void {
  const sink: WriteRequestSink = {
    series(b, start, end, labels) {
      if (!labels) decodeLabels(b, start, end);
      return 0;
    },
    sample() {},
    histogram(_handle, b, start, end) {
      decodeHistogramMessage(b, start, end);
    },
  };
  decodeWriteRequest(buf, sink);
}

/** Valid WriteRequests of native histograms from the sender's encoder: integer or float counts, any schema, custom buckets. */
const withHistograms: fc.Arbitrary<Buffer> = fc
  .array(
    fc.record({
      schema: fc.oneof(fc.integer({ min: -4, max: 8 }), fc.constant(-53)),
      counts: fc.array(fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.double({ min: 0, max: 1e6, noNaN: true })), { maxLength: 5 }),
      offset: fc.integer({ min: -10, max: 10 }),
      sum: fc.double(),
      t: fc.integer({ min: 0, max: 2 ** 45 }),
    }),
    { maxLength: 4 },
  )
  .map((hs) =>
    encodeHistogramWriteRequest(
      hs.map((x, i) => {
        const custom = x.schema === -53;
        const h = FloatHistogram.of({
          schema: x.schema,
          count: x.counts.reduce((a, b) => a + b, 0),
          sum: x.sum,
          positiveSpans: x.counts.length > 0 ? [{ offset: custom ? 0 : x.offset, length: x.counts.length }] : [],
          positiveBuckets: x.counts,
          customValues: custom ? x.counts.map((_, k) => k + 0.5) : [],
        });
        return { labels: [{ name: '__name__', value: `h${i}` }], ts: [x.t], hs: [h] };
      }),
    ),
  );

test('WriteRequest histograms: valid, mutated and protobuf-shaped Histogram fields decode, or throw ProtoError or InvalidHistogramError', () => {
  const refusals = [ProtoError, InvalidHistogramError];
  fuzz(withHistograms, decodeWithHistograms, refusals, 300);
  fuzz(mutated(withHistograms), decodeWithHistograms, refusals, 1000);
  fuzz(withExtras, decodeWithHistograms, refusals, 500);
});
