/**
 * Fuzzing the log push decoders: Loki JSON and protobuf, OTLP logs JSON and protobuf, and JSON
 * lines. Each turns a malformed body into a LimitError (the push handler's 4xx); any other
 * exception would escape the handler as a 500.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeJsonl } from '../../logs/ingest/jsonl.js';
import { DEFAULT_LOG_LIMITS, LimitError, type LogLimits } from '../../logs/ingest/limits.js';
import { decodeLokiJson, decodeLokiProto, encodeLokiProto } from '../../logs/ingest/loki_push.js';
import { decodeOtlpLogsJson, decodeOtlpLogsProto } from '../../logs/ingest/otlp.js';
import { bytes, fuzz, mutated, mutatedText, pb, protoShaped } from './harness.js';

// Default limits, but a fixed clock: OTLP and JSON lines fill missing timestamps from `now`.
const limits: LogLimits = DEFAULT_LOG_LIMITS;
const NOW_MS = 1_700_000_000_000;
const now = (): number => NOW_MS;

/**
 * Any JSON value, for slots where a sender might put the wrong type. Object keys favour the names of
 * Object.prototype's members, which is where code that treats parsed JSON as a plain record breaks.
 */
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
/** Label names and values that are often valid and sometimes not (digits first, empty, odd characters). */
const labelName = fc.oneof(fc.constantFrom('app', 'level', 'service_name', '__name__', '1bad', '', 'a.b', 'é'), protoKey, fc.string({ maxLength: 8 }));
const labelValue = fc.oneof(fc.constantFrom('api', '', 'x"y', 'a\\b', '\n'), fc.string({ maxLength: 12 }));
/** Timestamps as senders write them, right and wrong. */
const tsText = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
  fc.constantFrom('', '-1', '1e9', '0x10', '1.5', 'NaN', '99999999999999999999999999', ' 1'),
  fc.string({ maxLength: 10 }),
);

// ---- Loki JSON ----------------------------------------------------------------------------------

const lokiJsonBody: fc.Arbitrary<string> = fc
  .array(
    fc.record({
      stream: fc.oneof({ weight: 4, arbitrary: fc.dictionary(labelName, labelValue, { maxKeys: 4 }) }, { weight: 1, arbitrary: anyJson }),
      values: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.array(
            fc.oneof(fc.tuple(tsText, fc.string({ maxLength: 20 })), fc.tuple(tsText, fc.string(), fc.dictionary(labelName, anyJson)), anyJson),
            { maxLength: 4 },
          ),
        },
        { weight: 1, arbitrary: anyJson },
      ),
    }),
    { maxLength: 3 },
  )
  .map((streams) => JSON.stringify({ streams }));

test('Loki JSON: arbitrary text, JSON values, and push-shaped bodies decode or throw LimitError', () => {
  const decode = (s: string): unknown => decodeLokiJson(s, limits);
  fuzz(fc.string({ maxLength: 200 }), decode, LimitError, 500);
  fuzz(
    anyJson.map((v) => JSON.stringify(v)),
    decode,
    LimitError,
    500,
  );
  fuzz(
    fc.dictionary(fc.constantFrom('streams', 'x'), anyJson).map((v) => JSON.stringify(v)),
    decode,
    LimitError,
    300,
  );
  fuzz(lokiJsonBody, decode, LimitError, 1000);
  fuzz(mutatedText(lokiJsonBody), decode, LimitError, 500);
});

// ---- Loki protobuf --------------------------------------------------------------------------------

const selectorText = fc.oneof(
  fc.dictionary(labelName, labelValue, { minKeys: 0, maxKeys: 3 }).map(
    (o) =>
      '{' +
      Object.entries(o)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ') +
      '}',
  ),
  fc.constantFrom('', '{}', '{a=~"x"}', '{a="b"} |= "x"', 'sum(x)', '((({a="b"})))'),
  fc.string({ maxLength: 20 }),
);
const validLokiProto: fc.Arbitrary<Buffer> = fc
  .array(
    fc.record({
      labels: selectorText,
      entries: fc.array(
        fc.record({
          t: fc.bigInt({ min: 0n, max: 2n ** 62n }),
          line: fc.string({ maxLength: 30 }),
          meta: fc.array(fc.record({ name: labelName, value: labelValue }), { maxLength: 2 }),
        }),
        { maxLength: 3 },
      ),
    }),
    { maxLength: 3 },
  )
  .map((streams) => encodeLokiProto(streams));

test('Loki protobuf: arbitrary, protobuf-shaped, and mutated valid PushRequests decode or throw LimitError', () => {
  const decode = (b: Buffer): unknown => decodeLokiProto(b, limits);
  fuzz(bytes(), decode, LimitError, 1000);
  fuzz(protoShaped, decode, LimitError, 1000);
  fuzz(validLokiProto, decode, LimitError, 300);
  fuzz(mutated(validLokiProto), decode, LimitError, 1000);
});

// ---- OTLP logs JSON -------------------------------------------------------------------------------

/** An OTLP/JSON AnyValue, nesting arrays and kvlists a few levels, with wrong types mixed in. */
const anyValueJson: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ stringValue: fc.string({ maxLength: 10 }) }),
    fc.record({ intValue: fc.oneof(fc.integer().map(String), fc.integer(), fc.string({ maxLength: 6 })) }),
    fc.record({ doubleValue: fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', 'x')) }),
    fc.record({ boolValue: anyJson }),
    fc.record({ bytesValue: fc.oneof(fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 8 })) }),
    fc.record({ arrayValue: fc.record({ values: fc.array(tie('v'), { maxLength: 3 }) }) }),
    fc.record({ kvlistValue: fc.record({ values: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: tie('v') }), { maxLength: 3 }) }) }),
    anyJson,
  ),
})).v;
const kvJson = fc.record({ key: fc.oneof(fc.constantFrom('service.name', 'level', 'a.b'), fc.string({ maxLength: 8 }), anyJson), value: anyValueJson });
const logRecordJson = fc.record(
  {
    timeUnixNano: fc.oneof(tsText, anyJson),
    observedTimeUnixNano: fc.oneof(tsText, anyJson),
    severityNumber: fc.oneof(fc.integer({ min: -5, max: 30 }), anyJson),
    severityText: fc.oneof(fc.string({ maxLength: 6 }), anyJson),
    body: anyValueJson,
    attributes: fc.oneof({ weight: 4, arbitrary: fc.array(kvJson, { maxLength: 3 }) }, { weight: 1, arbitrary: anyJson }),
    traceId: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxz'), maxLength: 32 }), anyJson),
    spanId: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxz'), maxLength: 16 }), anyJson),
    flags: anyJson,
  },
  { requiredKeys: [] },
);
const otlpJsonBody: fc.Arbitrary<string> = fc
  .array(
    fc.record(
      {
        resource: fc.oneof(fc.record({ attributes: fc.array(kvJson, { maxLength: 3 }) }), anyJson),
        scopeLogs: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.array(
              fc.record(
                {
                  scope: fc.oneof(fc.record({ name: fc.string(), version: fc.string() }), anyJson),
                  logRecords: fc.oneof({ weight: 4, arbitrary: fc.array(logRecordJson, { maxLength: 3 }) }, { weight: 1, arbitrary: anyJson }),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 2 },
            ),
          },
          { weight: 1, arbitrary: anyJson },
        ),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 2 },
  )
  .map((resourceLogs) => JSON.stringify({ resourceLogs }));

test('OTLP logs JSON: arbitrary text, JSON values, and request-shaped bodies decode or throw LimitError', () => {
  const decode = (s: string): unknown => decodeOtlpLogsJson(s, limits, now);
  fuzz(fc.string({ maxLength: 200 }), decode, LimitError, 500);
  fuzz(
    anyJson.map((v) => JSON.stringify(v)),
    decode,
    LimitError,
    500,
  );
  fuzz(otlpJsonBody, decode, LimitError, 1000);
  fuzz(mutatedText(otlpJsonBody), decode, LimitError, 500);
});

// ---- OTLP logs protobuf ---------------------------------------------------------------------------

/** An OTLP AnyValue message (fields 1–7), nesting ArrayValue and KeyValueList a few levels. */
const anyValueProto: fc.Arbitrary<Buffer> = fc.letrec<{ v: Buffer; kv: Buffer }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 10 }).map((s) => pb.ld(1, s)),
    fc.boolean().map((b) => pb.vi(2, b ? 1 : 0)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => pb.vi(3, n)),
    fc.double().map((d) => pb.dbl(4, d)),
    fc.array(tie('v'), { maxLength: 3 }).map((vs) => pb.ld(5, Buffer.concat((vs as Buffer[]).map((v) => pb.ld(1, v))))),
    fc.array(tie('kv'), { maxLength: 3 }).map((kvs) => pb.ld(6, Buffer.concat((kvs as Buffer[]).map((kv) => pb.ld(1, kv))))),
    fc.uint8Array({ maxLength: 8 }).map((u) => pb.ld(7, Buffer.from(u))),
  ),
  kv: fc
    .tuple(fc.oneof(fc.constantFrom('service.name', 'level'), fc.string({ maxLength: 6 })), tie('v'))
    .map(([k, v]) => Buffer.concat([pb.ld(1, k), pb.ld(2, v as Buffer)])),
})).v;
const kvProto = fc
  .tuple(fc.oneof(fc.constantFrom('service.name', 'level', 'a.b'), fc.string({ maxLength: 6 })), anyValueProto)
  .map(([k, v]) => Buffer.concat([pb.ld(1, k), pb.ld(2, v)]));
const logRecordProto: fc.Arbitrary<Buffer> = fc
  .record({
    time: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    observed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    sev: fc.integer({ min: 0, max: 30 }),
    sevText: fc.string({ maxLength: 6 }),
    body: anyValueProto,
    attrs: fc.array(kvProto, { maxLength: 3 }),
    flags: fc.nat(),
    traceId: fc.uint8Array({ maxLength: 16 }),
    spanId: fc.uint8Array({ maxLength: 8 }),
  })
  .map((r) =>
    Buffer.concat([
      pb.f64(1, r.time),
      pb.vi(2, r.sev),
      pb.ld(3, r.sevText),
      pb.ld(5, r.body),
      ...r.attrs.map((a) => pb.ld(6, a)),
      pb.f32(8, r.flags),
      pb.ld(9, Buffer.from(r.traceId)),
      pb.ld(10, Buffer.from(r.spanId)),
      pb.f64(11, r.observed),
    ]),
  );
/** ExportLogsServiceRequest{ResourceLogs{Resource{attributes}, ScopeLogs{InstrumentationScope, LogRecord…}}}. */
const validOtlpProto: fc.Arbitrary<Buffer> = fc
  .array(
    fc.tuple(
      fc.array(kvProto, { maxLength: 3 }),
      fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.array(logRecordProto, { maxLength: 3 })), { maxLength: 2 }),
    ),
    { maxLength: 2 },
  )
  .map((rls) =>
    Buffer.concat(
      rls.map(([attrs, scopes]) =>
        pb.ld(
          1,
          Buffer.concat([
            pb.ld(1, Buffer.concat(attrs.map((a) => pb.ld(1, a)))),
            ...scopes.map(([name, recs]) => pb.ld(2, Buffer.concat([pb.ld(1, pb.ld(1, name)), ...recs.map((r) => pb.ld(2, r))]))),
          ]),
        ),
      ),
    ),
  );

test('OTLP logs protobuf: arbitrary, protobuf-shaped, and mutated valid requests decode or throw LimitError', () => {
  const decode = (b: Buffer): unknown => decodeOtlpLogsProto(b, limits, now);
  fuzz(bytes(), decode, LimitError, 1000);
  fuzz(protoShaped, decode, LimitError, 1000);
  fuzz(validOtlpProto, decode, LimitError, 300);
  fuzz(mutated(validOtlpProto), decode, LimitError, 1000);
});

// ---- JSON lines -----------------------------------------------------------------------------------

const jsonlLine = fc.oneof(
  fc
    .record(
      {
        time: fc.oneof(tsText, anyJson),
        ts: anyJson,
        level: fc.oneof(fc.constantFrom('info', 'error', 30, 50, '60'), anyJson),
        msg: fc.oneof(fc.string({ maxLength: 20 }), anyJson),
        app: fc.oneof(labelValue, anyJson),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  anyJson.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 30 }),
  // Numbers JSON.stringify never writes: past the double range (parsed as ±Infinity) and near its edge.
  fc.constantFrom('{"ts":1e999}', '{"time":-1e400}', '{"ts":-1.8e302}', '{"ts":1.7e308}', '{"ts":5e-324}', '{"level":1e999}'),
);
const jsonlBody = fc.array(jsonlLine, { maxLength: 5 }).map((ls) => ls.join('\n'));
const jsonlOptions = fc.record(
  {
    timeField: fc.constantFrom('time', 'ts', ''),
    levelField: fc.constantFrom('level', 'lvl'),
    msgField: fc.constantFrom('msg', 'message'),
    streamFields: fc.array(fc.oneof(fc.constantFrom('app', 'level', '__proto__', 'constructor'), fc.string({ maxLength: 5 })), { maxLength: 3 }),
    staticLabels: fc.array(fc.record({ name: labelName, value: labelValue }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

test('JSON lines: arbitrary text and line-shaped bodies, under any options, decode or throw LimitError', () => {
  fuzz(fc.string({ maxLength: 200 }), (s) => decodeJsonl(s, {}, limits, NOW_MS), LimitError, 500);
  fuzz(fc.tuple(jsonlBody, jsonlOptions), ([s, o]) => decodeJsonl(s, o, limits, NOW_MS), LimitError, 1000);
  fuzz(fc.tuple(mutatedText(jsonlBody), jsonlOptions), ([s, o]) => decodeJsonl(s, o, limits, NOW_MS), LimitError, 500);
});

test('OTLP logs: AnyValues nested 10,000 deep are a LimitError, not a stack overflow', () => {
  // The only recursive structure in these formats; both decoders must stop at a depth limit.
  let v = pb.ld(1, 'leaf');
  for (let i = 0; i < 10_000; i++) v = pb.ld(5, pb.ld(1, v)); // AnyValue{array_value: ArrayValue{values: [v]}}
  const rec = pb.ld(1, pb.ld(2, pb.ld(2, pb.ld(5, v))));
  fuzz(fc.constant(rec), (b) => decodeOtlpLogsProto(b, limits, now), LimitError, 1);
  let j = '{"stringValue":"leaf"}';
  for (let i = 0; i < 10_000; i++) j = `{"arrayValue":{"values":[${j}]}}`;
  const body = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${j}}]}]}]}`;
  fuzz(fc.constant(body), (s) => decodeOtlpLogsJson(s, limits, now), LimitError, 1);
});
