/**
 * Fuzzing the OTLP traces decoders, JSON and protobuf: every body either decodes (into spans that
 * pass the id and time rules) or throws a TraceIngestError (the handler's 400); any other
 * exception would escape the handler as a 500.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_TRACE_LIMITS, TraceIngestError, type TraceLimits } from '../../traces/ingest/limits.js';
import { decodeOtlpTracesJson, decodeOtlpTracesProto, type DecodedTraces } from '../../traces/ingest/otlp.js';
import { decodeKeyValue, fastKeyValue, ProtoFields } from '../../core/otlp/protobuf.js';
import { bytes, fuzz, mutated, mutatedText, pb, protoShaped } from './harness.js';

// Small limits, so the attribute limits are reached too.
const limits: TraceLimits = { ...DEFAULT_TRACE_LIMITS, maxAttributesPerSpan: 4, maxAttributeValueBytes: 16, maxEventsPerSpan: 2 };

/** What every decoded span must satisfy, whatever the input was. */
function checked(r: DecodedTraces): DecodedTraces {
  for (const s of r.spans) {
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.match(s.parentSpanId, /^([0-9a-f]{16})?$/);
    assert.ok(s.startTimeUnixNano > 0n && s.endTimeUnixNano >= s.startTimeUnixNano);
    assert.ok(Object.keys(s.attributes).length <= limits.maxAttributesPerSpan);
  }
  assert.equal(r.rejected > 0, r.reasons.length > 0);
  return r;
}

const protoKey = fc.constantFrom('toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty');
const anyJson = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(protoKey, fc.string({ maxLength: 6 })), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const hexOf = (n: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u).toString('hex'));
const idJson = (n: number): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 6, arbitrary: hexOf(n) }, { weight: 1, arbitrary: hexOf(n - 1) }, { weight: 1, arbitrary: anyJson });
const nanosJson = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.integer({ min: 0 }), fc.constantFrom('', '-1', '1e9', 'x'), anyJson);
const anyValueJson: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ stringValue: fc.string({ maxLength: 20 }) }),
    fc.record({ intValue: fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String), fc.integer(), fc.string({ maxLength: 6 })) }),
    fc.record({ doubleValue: fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', 'x')) }),
    fc.record({ boolValue: anyJson }),
    fc.record({ arrayValue: fc.record({ values: fc.array(tie('v'), { maxLength: 3 }) }) }),
    fc.record({ kvlistValue: fc.record({ values: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: tie('v') }), { maxLength: 3 }) }) }),
    anyJson,
  ),
})).v;
const kvJson = fc.record({ key: fc.oneof(fc.string({ maxLength: 8 }), protoKey, anyJson), value: anyValueJson });
const spanJson = fc.record(
  {
    traceId: idJson(16),
    spanId: idJson(8),
    parentSpanId: fc.oneof(fc.constant(''), idJson(8)),
    name: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: anyJson }),
    kind: fc.oneof(fc.integer({ min: -1, max: 7 }), fc.constantFrom('SPAN_KIND_SERVER', 'SERVER'), anyJson),
    startTimeUnixNano: nanosJson,
    endTimeUnixNano: nanosJson,
    attributes: fc.oneof({ weight: 4, arbitrary: fc.array(kvJson, { maxLength: 6 }) }, { weight: 1, arbitrary: anyJson }),
    events: fc.oneof(
      fc.array(fc.record({ timeUnixNano: nanosJson, name: fc.string(), attributes: fc.array(kvJson, { maxLength: 2 }) }), { maxLength: 3 }),
      anyJson,
    ),
    links: fc.oneof(fc.array(fc.record({ traceId: idJson(16), spanId: idJson(8) }), { maxLength: 3 }), anyJson),
    status: fc.oneof(fc.record({ code: fc.oneof(fc.integer({ min: 0, max: 3 }), anyJson), message: fc.string() }), anyJson),
  },
  { requiredKeys: ['traceId', 'spanId', 'startTimeUnixNano', 'endTimeUnixNano'] },
);
const otlpJsonBody: fc.Arbitrary<string> = fc
  .array(
    fc.record({
      resource: fc.oneof(fc.record({ attributes: fc.array(kvJson, { maxLength: 3 }) }), anyJson),
      scopeSpans: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.array(fc.record({ scope: fc.oneof(fc.record({ name: fc.string() }), anyJson), spans: fc.array(spanJson, { maxLength: 3 }) }), {
            maxLength: 2,
          }),
        },
        { weight: 1, arbitrary: anyJson },
      ),
    }),
    { maxLength: 2 },
  )
  .map((resourceSpans) => JSON.stringify({ resourceSpans }));

test('OTLP traces JSON: arbitrary text, JSON values, and request-shaped bodies decode or throw TraceIngestError', () => {
  const decode = (s: string): unknown => checked(decodeOtlpTracesJson(s, limits));
  fuzz(fc.string({ maxLength: 200 }), decode, TraceIngestError, 300);
  fuzz(
    anyJson.map((v) => JSON.stringify(v)),
    decode,
    TraceIngestError,
    300,
  );
  fuzz(otlpJsonBody, decode, TraceIngestError, 1000);
  fuzz(mutatedText(otlpJsonBody), decode, TraceIngestError, 500);
});

const anyValueProto: fc.Arbitrary<Buffer> = fc.letrec<{ v: Buffer; kv: Buffer }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 20 }).map((s) => pb.ld(1, s)),
    fc.boolean().map((b) => pb.vi(2, b ? 1 : 0)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => pb.vi(3, n)),
    fc.double().map((d) => pb.dbl(4, d)),
    fc.array(tie('v'), { maxLength: 3 }).map((vs) => pb.ld(5, Buffer.concat((vs as Buffer[]).map((v) => pb.ld(1, v))))),
    fc.array(tie('kv'), { maxLength: 3 }).map((kvs) => pb.ld(6, Buffer.concat((kvs as Buffer[]).map((kv) => pb.ld(1, kv))))),
    fc.uint8Array({ maxLength: 8 }).map((u) => pb.ld(7, Buffer.from(u))),
  ),
  kv: fc.tuple(fc.string({ maxLength: 6 }), tie('v')).map(([k, v]) => Buffer.concat([pb.ld(1, k), pb.ld(2, v as Buffer)])),
})).v;
const kvProto = fc
  .tuple(fc.oneof(fc.constantFrom('service.name', 'http.method'), fc.string({ maxLength: 6 })), anyValueProto)
  .map(([k, v]) => Buffer.concat([pb.ld(1, k), pb.ld(2, v)]));
const idProto = (n: number): fc.Arbitrary<Buffer> =>
  fc
    .oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: n, maxLength: n }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: n + 1 }) })
    .map((u) => Buffer.from(u));
const spanProto: fc.Arbitrary<Buffer> = fc
  .record({
    traceId: idProto(16),
    spanId: idProto(8),
    parent: fc.oneof(fc.constant(Buffer.alloc(0)), idProto(8)),
    name: fc.string({ maxLength: 8 }),
    kind: fc.integer({ min: -1, max: 9 }),
    start: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    end: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    attrs: fc.array(kvProto, { maxLength: 6 }),
    events: fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.string({ maxLength: 4 })), { maxLength: 3 }),
    links: fc.array(fc.tuple(idProto(16), idProto(8)), { maxLength: 3 }),
    status: fc.tuple(fc.string({ maxLength: 6 }), fc.integer({ min: -1, max: 4 })),
    flags: fc.nat(),
  })
  .map((r) =>
    Buffer.concat([
      pb.ld(1, r.traceId),
      pb.ld(2, r.spanId),
      pb.ld(4, r.parent),
      pb.ld(5, r.name),
      pb.vi(6, r.kind),
      pb.f64(7, r.start),
      pb.f64(8, r.end),
      ...r.attrs.map((a) => pb.ld(9, a)),
      ...r.events.map(([t, n]) => pb.ld(11, Buffer.concat([pb.f64(1, t), pb.ld(2, n)]))),
      ...r.links.map(([t, s]) => pb.ld(13, Buffer.concat([pb.ld(1, t), pb.ld(2, s)]))),
      pb.ld(15, Buffer.concat([pb.ld(2, r.status[0]), pb.vi(3, r.status[1])])),
      pb.f32(16, r.flags),
    ]),
  );
const validProto: fc.Arbitrary<Buffer> = fc
  .array(
    fc.tuple(fc.array(kvProto, { maxLength: 3 }), fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.array(spanProto, { maxLength: 3 })), { maxLength: 2 })),
    {
      maxLength: 2,
    },
  )
  .map((rss) =>
    Buffer.concat(
      rss.map(([attrs, scopes]) =>
        pb.ld(
          1,
          Buffer.concat([
            pb.ld(1, Buffer.concat(attrs.map((a) => pb.ld(1, a)))),
            ...scopes.map(([name, spans]) => pb.ld(2, Buffer.concat([pb.ld(1, pb.ld(1, name)), ...spans.map((s) => pb.ld(2, s))]))),
          ]),
        ),
      ),
    ),
  );

test('OTLP traces protobuf: random, protobuf-shaped, valid and mutated bodies decode or throw TraceIngestError', () => {
  const decode = (b: Buffer): unknown => checked(decodeOtlpTracesProto(b, limits));
  fuzz(bytes(), decode, TraceIngestError, 500);
  fuzz(protoShaped, decode, TraceIngestError, 500);
  fuzz(validProto, decode, TraceIngestError, 800);
  fuzz(mutated(validProto), decode, TraceIngestError, 800);
});

test('the fast KeyValue reader agrees with the general decoder whenever it answers', () => {
  const fail = (d: string): Error => new TraceIngestError(400, d);
  let answered = 0;
  fc.assert(
    fc.property(fc.oneof(kvProto, mutated(kvProto), protoShaped), (buf) => {
      const fast = fastKeyValue(buf, 0, buf.length);
      if (fast === undefined) return;
      answered++;
      assert.deepEqual(
        fast,
        ProtoFields.decode(buf, 'KeyValue', fail, (f) => decodeKeyValue(f, 0)),
      );
    }),
    { numRuns: 3000, seed: 0x5eed },
  );
  assert.ok(answered > 500, `the fast path answered ${answered} times`);
});
