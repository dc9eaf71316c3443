/**
 * Fuzzing the remote_write 2.0 Request decoder and the OTLP metrics decoders (protobuf and JSON):
 * malformed input must end in ProtoError or InvalidHistogramError / OtlpMetricsError (the receivers' 400), never another
 * exception, and every call must finish within the harness's time budget.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { ProtoError } from '../../metrics/remotewrite/proto.js';
import { decodeV2Request } from '../../metrics/remotewrite/v2.js';
import { InvalidHistogramError } from '../../metrics/remotewrite/histogram_decode.js';
import { decodeMetricsProto } from '../../metrics/otlp/decode_proto.js';
import { decodeMetricsJson } from '../../metrics/otlp/decode_json.js';
import { OtlpMetricsError } from '../../metrics/otlp/errors.js';
import { encodeV2Request } from '../rw2.js';
import { FloatHistogram } from '../../core/model/histogram.js';
import { bytes, fuzz, mutated, mutatedText, protoShaped } from './harness.js';

const label = fc.record({ name: fc.string({ maxLength: 12 }), value: fc.string({ maxLength: 24 }) });
const v2Series = fc.record({
  labels: fc.uniqueArray(label, { minLength: 1, maxLength: 5, selector: (l) => l.name }),
  samples: fc.array(fc.tuple(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.double()), { maxLength: 5 }),
  histograms: fc.array(
    fc.record({
      t: fc.integer({ min: 0, max: 2 ** 45 }),
      schema: fc.integer({ min: -4, max: 8 }),
      counts: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 4 }),
      offset: fc.integer({ min: -5, max: 5 }),
      sum: fc.double(),
    }),
    { maxLength: 2 },
  ),
  createdTs: fc.integer({ min: 0, max: 2 ** 45 }),
  exemplar: fc.option(fc.tuple(label, fc.double(), fc.integer({ min: 0, max: 2 ** 45 }))),
  help: fc.option(fc.string({ maxLength: 20 })),
});

const validV2: fc.Arbitrary<Buffer> = fc.array(v2Series, { maxLength: 4 }).map((ss) =>
  encodeV2Request(
    ss.map((s) => ({
      labels: s.labels,
      ts: s.samples.map((x) => x[0]),
      vs: s.samples.map((x) => x[1]),
      histograms: s.histograms.map((x) => ({
        t: x.t,
        h: FloatHistogram.of({
          schema: x.schema,
          count: x.counts.reduce((a, b) => a + b, 0),
          sum: x.sum,
          positiveSpans: x.counts.length > 0 ? [{ offset: x.offset, length: x.counts.length }] : [],
          positiveBuckets: x.counts,
        }),
      })),
      createdTs: s.createdTs,
      exemplars: s.exemplar ? [{ labels: [s.exemplar[0]], value: s.exemplar[1], ts: s.exemplar[2] }] : [],
      ...(s.help !== null ? { metadata: { type: 'counter', help: s.help, unit: '' } } : {}),
    })),
  ),
);

test('remote_write 2.0 Request: arbitrary, protobuf-shaped and mutated valid bytes decode or throw ProtoError (InvalidHistogramError)', () => {
  const refusals = [ProtoError, InvalidHistogramError];
  fuzz(bytes(), decodeV2Request, refusals, 1000);
  fuzz(protoShaped, decodeV2Request, refusals, 1000);
  fuzz(mutated(validV2), decodeV2Request, refusals, 1000);
});

test('OTLP metrics protobuf: arbitrary, protobuf-shaped bytes decode or throw OtlpMetricsError', () => {
  fuzz(bytes(), decodeMetricsProto, OtlpMetricsError, 1000);
  fuzz(protoShaped, decodeMetricsProto, OtlpMetricsError, 1000);
});

const validJson: fc.Arbitrary<string> = fc
  .record({
    name: fc.string({ maxLength: 10 }),
    v: fc.double({ noNaN: true }),
    t: fc.bigInt({ min: 0n, max: 2n ** 63n }),
    kind: fc.constantFrom('gauge', 'sum', 'histogram', 'summary', 'exponentialHistogram'),
  })
  .map(({ name, v, t, kind }) =>
    JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: name } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name,
                  [kind]: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        timeUnixNano: String(t),
                        asDouble: v,
                        count: '2',
                        sum: v,
                        bucketCounts: ['1', '1'],
                        explicitBounds: [1],
                        quantileValues: [{ quantile: 0.5, value: v }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  );

test('OTLP metrics JSON: mutated valid requests decode or throw OtlpMetricsError', () => {
  fuzz(mutatedText(validJson), decodeMetricsJson, OtlpMetricsError, 1000);
});
