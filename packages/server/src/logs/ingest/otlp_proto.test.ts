import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOG_LIMITS, LimitError } from './limits.js';
import { decodeOtlpLogsJson, decodeOtlpLogsProto, type ExportLogsServiceRequest } from './otlp.js';
import { decodeExportLogsServiceRequest, encodeExportLogsServiceResponse, encodeRpcStatus, MAX_ANYVALUE_DEPTH } from './otlp_proto.js';

// ---- A protobuf writer for hand-built messages (int64s as bigint, negatives in two's complement) ----

function varint(x: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(x));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const tag = (field: number, wt: number): Buffer => varint(field * 8 + wt);
/** A length-delimited field: a string, bytes or an embedded message made of `parts`. */
const ld = (field: number, ...parts: (Buffer | string)[]): Buffer => {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  return Buffer.concat([tag(field, 2), varint(body.length), body]);
};
const vi = (field: number, x: bigint | number): Buffer => Buffer.concat([tag(field, 0), varint(x)]);
const f64 = (field: number, x: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(x);
  return Buffer.concat([tag(field, 1), b]);
};
const f32 = (field: number, x: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(x);
  return Buffer.concat([tag(field, 5), b]);
};
const dbl = (field: number, x: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return Buffer.concat([tag(field, 1), b]);
};

// AnyValue members, as the embedded message of field `field`.
const anyStr = (field: number, s: string): Buffer => ld(field, ld(1, s));
const anyBool = (field: number, b: boolean): Buffer => ld(field, vi(2, b ? 1 : 0));
const anyInt = (field: number, x: bigint | number): Buffer => ld(field, vi(3, x));
const anyDouble = (field: number, x: number): Buffer => ld(field, dbl(4, x));
const anyArray = (field: number, ...values: Buffer[]): Buffer => ld(field, ld(5, ...values)); // values: ld(1, AnyValue)
const anyKvlist = (field: number, ...kvs: Buffer[]): Buffer => ld(field, ld(6, ...kvs)); // kvs: kv(1, …)
const anyBytes = (field: number, b: Buffer): Buffer => ld(field, ld(7, b));
/** A KeyValue as field `field`, its value built by `value(2)`. */
const kv = (field: number, key: string, value: (f: number) => Buffer): Buffer => ld(field, ld(1, key), value(2));

const TRACE = Buffer.from('0AF7651916CD43DD8448EB211C80319C', 'hex');
const SPAN = Buffer.from('B7AD6B7169203331', 'hex');

/** One LogRecord with every AnyValue kind among its attributes, and every LogRecord field. */
function fullRequest(): Buffer {
  const record = Buffer.concat([
    f64(1, 1_700_000_000_123_456_789n),
    vi(2, 17),
    ld(3, 'ERROR'),
    anyStr(5, 'payment failed'),
    kv(6, 's', (f) => anyStr(f, 'hello')),
    kv(6, 'empty', (f) => anyStr(f, '')),
    kv(6, 'yes', (f) => anyBool(f, true)),
    kv(6, 'no', (f) => anyBool(f, false)),
    kv(6, 'http.status_code', (f) => anyInt(f, 500)),
    kv(6, 'zero', (f) => anyInt(f, 0)),
    kv(6, 'neg', (f) => anyInt(f, -5n)),
    kv(6, 'big', (f) => anyInt(f, 9_007_199_254_740_993n)),
    kv(6, 'min', (f) => anyInt(f, -(2n ** 63n))),
    kv(6, 'ratio', (f) => anyDouble(f, 0.25)),
    kv(6, 'tags', (f) => anyArray(f, ld(1, ld(1, 'x')), ld(1, vi(3, 1)), ld(1, vi(2, 1)))),
    kv(6, 'ctx', (f) =>
      anyKvlist(
        f,
        kv(1, 'a', (g) => anyStr(g, 'b')),
        kv(1, 'n', (g) => anyInt(g, 2)),
      ),
    ),
    kv(6, 'raw', (f) => anyBytes(f, Buffer.from([0xde, 0xad, 0xbe, 0xef]))),
    kv(6, 'deep', (f) =>
      anyArray(
        f,
        ld(
          1,
          ld(
            6,
            kv(1, 'k', (g) => anyArray(g, ld(1, vi(3, -1n)))),
          ),
        ),
      ),
    ),
    kv(6, 'unset', () => Buffer.alloc(0)),
    vi(7, 3),
    f32(8, 1),
    ld(9, TRACE),
    ld(10, SPAN),
    f64(11, 1_700_000_000_223_456_789n),
    ld(12, 'payment.failed'),
    ld(4, 'reserved field, skipped'),
    vi(99, 7),
  ]);
  const scope = ld(
    1,
    ld(1, 'checkout'),
    ld(2, '1.2.3'),
    kv(3, 'scope.attr', (f) => anyStr(f, 'v')),
    vi(4, 0),
  );
  const resource = ld(
    1,
    kv(1, 'service.name', (f) => anyStr(f, 'shop')),
    kv(1, 'host.name', (f) => anyStr(f, 'h1')),
    kv(1, 'process.pid', (f) => anyInt(f, 4242)),
    vi(2, 0),
  );
  return ld(1, resource, ld(2, scope, ld(2, record), ld(3, 'https://scope.schema')), ld(3, 'https://resource.schema'), ld(1000, 'deprecated'));
}

/** The same request in OTLP/JSON, as the JSON exporters send it. */
const fullJson: ExportLogsServiceRequest = {
  resourceLogs: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'shop' } },
          { key: 'host.name', value: { stringValue: 'h1' } },
          { key: 'process.pid', value: { intValue: 4242 } },
        ],
        droppedAttributesCount: 0,
      },
      scopeLogs: [
        {
          scope: { name: 'checkout', version: '1.2.3', attributes: [{ key: 'scope.attr', value: { stringValue: 'v' } }] },
          logRecords: [
            {
              timeUnixNano: '1700000000123456789',
              observedTimeUnixNano: '1700000000223456789',
              severityNumber: 17,
              severityText: 'ERROR',
              body: { stringValue: 'payment failed' },
              attributes: [
                { key: 's', value: { stringValue: 'hello' } },
                { key: 'empty', value: { stringValue: '' } },
                { key: 'yes', value: { boolValue: true } },
                { key: 'no', value: { boolValue: false } },
                { key: 'http.status_code', value: { intValue: 500 } },
                { key: 'zero', value: { intValue: '0' } },
                { key: 'neg', value: { intValue: '-5' } },
                { key: 'big', value: { intValue: '9007199254740993' } },
                { key: 'min', value: { intValue: '-9223372036854775808' } },
                { key: 'ratio', value: { doubleValue: 0.25 } },
                { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: 1 }, { boolValue: true }] } } },
                {
                  key: 'ctx',
                  value: {
                    kvlistValue: {
                      values: [
                        { key: 'a', value: { stringValue: 'b' } },
                        { key: 'n', value: { intValue: '2' } },
                      ],
                    },
                  },
                },
                { key: 'raw', value: { bytesValue: '3q2+7w==' } },
                {
                  key: 'deep',
                  value: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ intValue: '-1' }] } } }] } }] } },
                },
                { key: 'unset' },
              ],
              droppedAttributesCount: 3,
              flags: 1,
              traceId: '0AF7651916CD43DD8448EB211C80319C',
              spanId: 'B7AD6B7169203331',
              eventName: 'payment.failed',
            },
          ],
        },
      ],
    },
  ],
};

function isBad(re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof LimitError, `expected a LimitError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.match(e.message, re);
    return true;
  };
}

test('protobuf decoder: every LogRecord field and every AnyValue kind, into the OTLP/JSON shape', () => {
  const req = decodeExportLogsServiceRequest(fullRequest());
  const rl = req.resourceLogs![0]!;
  assert.equal(req.resourceLogs!.length, 1);
  assert.deepEqual(rl.resource, {
    attributes: [
      { key: 'service.name', value: { stringValue: 'shop' } },
      { key: 'host.name', value: { stringValue: 'h1' } },
      { key: 'process.pid', value: { intValue: '4242' } },
    ],
    droppedAttributesCount: 0,
  });
  assert.equal(rl.schemaUrl, 'https://resource.schema');
  const sl = rl.scopeLogs![0]!;
  assert.deepEqual(sl.scope, {
    name: 'checkout',
    version: '1.2.3',
    attributes: [{ key: 'scope.attr', value: { stringValue: 'v' } }],
    droppedAttributesCount: 0,
  });
  assert.equal(sl.schemaUrl, 'https://scope.schema');
  const rec = sl.logRecords![0]!;
  assert.deepEqual(
    { ...rec, attributes: undefined },
    {
      timeUnixNano: '1700000000123456789',
      observedTimeUnixNano: '1700000000223456789',
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'payment failed' },
      attributes: undefined,
      droppedAttributesCount: 3,
      flags: 1,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      eventName: 'payment.failed',
    },
  );
  assert.deepEqual(Object.fromEntries(rec.attributes!.map((a) => [a.key, a.value])), {
    s: { stringValue: 'hello' },
    empty: { stringValue: '' },
    yes: { boolValue: true },
    no: { boolValue: false },
    'http.status_code': { intValue: '500' },
    zero: { intValue: '0' },
    neg: { intValue: '-5' },
    big: { intValue: '9007199254740993' },
    min: { intValue: '-9223372036854775808' },
    ratio: { doubleValue: 0.25 },
    tags: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '1' }, { boolValue: true }] } },
    ctx: {
      kvlistValue: {
        values: [
          { key: 'a', value: { stringValue: 'b' } },
          { key: 'n', value: { intValue: '2' } },
        ],
      },
    },
    raw: { bytesValue: '3q2+7w==' },
    deep: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ intValue: '-1' }] } } }] } }] } },
    unset: undefined,
  });
});

test('protobuf and JSON map to the same streams: labels, line, exact timestamp, metadata', () => {
  const fromProto = decodeOtlpLogsProto(fullRequest(), DEFAULT_LOG_LIMITS);
  const fromJson = decodeOtlpLogsJson(JSON.stringify(fullJson), DEFAULT_LOG_LIMITS);
  assert.deepEqual(fromProto, fromJson);
  assert.equal(fromProto.length, 1);
  const [s] = fromProto;
  assert.deepEqual(s!.labels, [{ name: 'service_name', value: 'shop' }]);
  const e = s!.entries[0]!;
  assert.equal(e.t, 1_700_000_000_123_456_789n);
  assert.equal(e.line, 'payment failed');
  assert.deepEqual(e.meta, [
    { name: 'host_name', value: 'h1' },
    { name: 'process_pid', value: '4242' },
    { name: 's', value: 'hello' },
    { name: 'empty', value: '' },
    { name: 'yes', value: 'true' },
    { name: 'no', value: 'false' },
    { name: 'http_status_code', value: '500' },
    { name: 'zero', value: '0' },
    { name: 'neg', value: '-5' },
    { name: 'big', value: '9007199254740993' },
    { name: 'min', value: '-9223372036854775808' },
    { name: 'ratio', value: '0.25' },
    { name: 'tags', value: '["x",1,true]' },
    { name: 'ctx', value: '{"a":"b","n":2}' },
    { name: 'raw', value: '3q2+7w==' },
    { name: 'deep', value: '[{"k":[-1]}]' },
    { name: 'unset', value: '' },
    { name: 'severity_text', value: 'ERROR' },
    { name: 'severity_number', value: '17' },
    { name: 'trace_id', value: '0af7651916cd43dd8448eb211c80319c' },
    { name: 'span_id', value: 'b7ad6b7169203331' },
    { name: 'scope_name', value: 'checkout' },
  ]);
});

test('bodies of every AnyValue kind become the line', () => {
  const lineOf = (body: Buffer): string => {
    const [s] = decodeOtlpLogsProto(ld(1, ld(2, ld(2, f64(1, 1n), body))), DEFAULT_LOG_LIMITS);
    return s!.entries[0]!.line;
  };
  assert.equal(lineOf(anyStr(5, 'plain text\nsecond line')), 'plain text\nsecond line');
  assert.equal(lineOf(anyInt(5, -42n)), '-42');
  assert.equal(lineOf(anyDouble(5, 1.5)), '1.5');
  assert.equal(lineOf(anyDouble(5, NaN)), 'NaN');
  assert.equal(lineOf(anyArray(5, ld(1, dbl(4, -Infinity)))), '["-Infinity"]');
  assert.equal(lineOf(anyBool(5, false)), 'false');
  assert.equal(lineOf(anyBytes(5, Buffer.from('hi'))), 'aGk=');
  assert.equal(lineOf(anyArray(5, ld(1, ld(1, 'a')), ld(1, vi(3, 2)))), '["a",2]');
  assert.equal(
    lineOf(
      anyKvlist(
        5,
        kv(1, 'msg', (f) => anyStr(f, 'hi')),
        kv(1, 'count', (f) => anyInt(f, 3)),
      ),
    ),
    '{"msg":"hi","count":3}',
  );
  assert.equal(lineOf(ld(5)), '');
  assert.equal(lineOf(Buffer.alloc(0)), '');
  // A oneof seen twice: the last member wins, as protobuf says.
  assert.equal(lineOf(ld(5, ld(1, 'first'), vi(3, 7))), '7');
});

test('timestamps: time_unix_nano, else observed_time_unix_nano, else now; defaults omitted', () => {
  const one = (...fields: Buffer[]): bigint => decodeOtlpLogsProto(ld(1, ld(2, ld(2, ...fields))), DEFAULT_LOG_LIMITS, () => 1_234)[0]!.entries[0]!.t;
  assert.equal(one(f64(1, 5n), f64(11, 9n)), 5n);
  assert.equal(one(f64(1, 0n), f64(11, 9n)), 9n);
  assert.equal(one(f64(11, 18_446_744_073_709_551n)), 18_446_744_073_709_551n);
  assert.equal(one(anyStr(5, 'no time')), 1_234_000_000n);
  // A record with nothing but defaults decodes to an empty object, as OTLP/JSON would carry it.
  assert.deepEqual(decodeExportLogsServiceRequest(ld(1, ld(2, ld(2, f64(1, 0n), vi(2, 0), ld(3, ''), ld(9, ''), f32(8, 0))))), {
    resourceLogs: [{ scopeLogs: [{ logRecords: [{}] }] }],
  });
  // A negative enum (10-byte varint) is decoded as int32.
  assert.equal(decodeExportLogsServiceRequest(ld(1, ld(2, ld(2, vi(2, -3n))))).resourceLogs![0]!.scopeLogs![0]!.logRecords![0]!.severityNumber, -3);
  // Beyond int64: refused with a 400 before anything is written.
  assert.throws(() => one(f64(1, 2n ** 63n)), isBad(/invalid OTLP log record timeUnixNano "9223372036854775808"/));
});

test('an empty body is an empty request; several resources and scopes group by stream labels', () => {
  assert.deepEqual(decodeExportLogsServiceRequest(Buffer.alloc(0)), {});
  assert.deepEqual(decodeOtlpLogsProto(Buffer.alloc(0), DEFAULT_LOG_LIMITS), []);
  const rec = (t: bigint, line: string): Buffer => ld(2, f64(1, t), anyStr(5, line));
  const res = (svc: string): Buffer =>
    ld(
      1,
      kv(1, 'service.name', (f) => anyStr(f, svc)),
    );
  const body = Buffer.concat([
    ld(1, res('a'), ld(2, rec(3n, 'a3'), rec(1n, 'a1'))),
    ld(1, res('b'), ld(2, rec(2n, 'b2'))),
    ld(1, res('a'), ld(2, rec(2n, 'a2'))),
    ld(1, ld(2, rec(9n, 'none'))),
  ]);
  const out = decodeOtlpLogsProto(body, DEFAULT_LOG_LIMITS);
  assert.deepEqual(
    out.map((s) => [s.labels.map((l) => `${l.name}=${l.value}`).join(','), s.entries.map((e) => `${e.t}:${e.line}`)]),
    [
      ['service_name=a', ['1:a1', '2:a2', '3:a3']],
      ['service_name=b', ['2:b2']],
      ['service_name=unknown_service', ['9:none']],
    ],
  );
});

test('truncated input: every proper prefix of a request is a 400 naming where it broke', () => {
  const full = fullRequest();
  for (let n = 1; n < full.length; n++)
    assert.throws(
      () => decodeOtlpLogsProto(full.subarray(0, n), DEFAULT_LOG_LIMITS),
      isBad(/^malformed OTLP protobuf ExportLogsServiceRequest: /),
      `prefix of ${n} bytes`,
    );
  assert.throws(
    () => decodeExportLogsServiceRequest(full.subarray(0, full.length - 1)),
    isBad(/cannot read \w+ .* at byte \d+ of \d+: unexpected end of record/),
  );
  // A length that runs past the end of its enclosing message, though not past the buffer.
  const liar = ld(1, ld(2, Buffer.concat([tag(2, 2), varint(50), Buffer.from('short')])), Buffer.alloc(64));
  assert.throws(() => decodeExportLogsServiceRequest(liar), isBad(/cannot read ScopeLogs log_records \(field 2\) at byte \d+/));
});

test('garbage input is a 400 with a reason', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('this is not protobuf'), /uses a protobuf group|invalid wire type|cannot read/],
    [Buffer.from(JSON.stringify(fullJson)), /uses a protobuf group \(wire type 3\)/],
    [Buffer.from([0x0f]), /field 1 at byte 0 has invalid wire type 7/],
    [Buffer.from([0x00, 0x01]), /has a field numbered 0 at byte 0/],
    [Buffer.from([0x08, 0x01]), /ExportLogsServiceRequest\.resource_logs \(field 1\) has wire type 0 \(varint\), want 2 \(length-delimited\)/],
    [Buffer.concat([Buffer.from([0x78]), Buffer.alloc(11, 0xff)]), /varint too long/],
    [Buffer.from([0x0a, 0x05, 0x01]), /cannot read ExportLogsServiceRequest resource_logs \(field 1\) at byte 1 of 3/],
    [ld(1, ld(2, ld(2, ld(3, Buffer.from([0xc3, 0x28]))))), /LogRecord\.severity_text \(field 3\) is not valid UTF-8/],
    [ld(1, ld(2, ld(2, vi(1, 5)))), /LogRecord\.time_unix_nano \(field 1\) has wire type 0 \(varint\), want 1 \(fixed64\)/],
    [ld(1, ld(2, ld(2, ld(8, 'x')))), /LogRecord\.flags \(field 8\) has wire type 2 \(length-delimited\), want 5 \(fixed32\)/],
  ];
  for (const [buf, re] of cases) assert.throws(() => decodeOtlpLogsProto(buf, DEFAULT_LOG_LIMITS), isBad(re), re.source);
  // Pseudo-random bytes (a fixed seed): refused, never a crash of another kind.
  let seed = 42;
  for (let i = 0; i < 200; i++) {
    const buf = Buffer.alloc(64, 0);
    for (let j = 0; j < buf.length; j++) buf[j] = (seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 16;
    try {
      decodeOtlpLogsProto(buf, DEFAULT_LOG_LIMITS);
    } catch (e) {
      assert.ok(e instanceof LimitError && e.status === 400, `random input ${buf.toString('hex')}: ${String(e)}`);
    }
  }
});

test('AnyValue nesting is bounded in both encodings', () => {
  let v = ld(1, 'leaf'); // an AnyValue's content: string_value
  for (let i = 0; i < MAX_ANYVALUE_DEPTH + 1; i++) v = ld(5, ld(1, v)); // array of one
  assert.throws(() => decodeOtlpLogsProto(ld(1, ld(2, ld(2, ld(5, v)))), DEFAULT_LOG_LIMITS), isBad(/nest deeper than 64 levels/));
  let j: unknown = { stringValue: 'leaf' };
  for (let i = 0; i < MAX_ANYVALUE_DEPTH + 1; i++) j = { arrayValue: { values: [j] } };
  assert.throws(
    () => decodeOtlpLogsJson(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: j }] }] }] }), DEFAULT_LOG_LIMITS),
    isBad(/nest deeper than 64 levels/),
  );
});

test('JSON shape errors are 400s, not crashes', () => {
  assert.throws(() => decodeOtlpLogsJson('{"resourceLogs":{}}', DEFAULT_LOG_LIMITS), isBad(/resourceLogs must be an array/));
  assert.throws(() => decodeOtlpLogsJson('[1]', DEFAULT_LOG_LIMITS), isBad(/want an ExportLogsServiceRequest object/));
  assert.throws(
    () => decodeOtlpLogsJson('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}', DEFAULT_LOG_LIMITS),
    isBad(/invalid OTLP log record timeUnixNano "soon"/),
  );
  assert.throws(() => decodeOtlpLogsJson('{', DEFAULT_LOG_LIMITS), isBad(/invalid OTLP JSON/));
  assert.equal(decodeOtlpLogsJson('{"resourceLogs":[null,{"scopeLogs":[null,{"logRecords":[null]}]}]}', DEFAULT_LOG_LIMITS, () => 1)[0]!.entries.length, 1);
});

test('replies: empty ExportLogsServiceResponse, partial_success, google.rpc.Status', () => {
  assert.equal(encodeExportLogsServiceResponse().length, 0);
  assert.equal(encodeExportLogsServiceResponse({ rejectedLogRecords: 0, errorMessage: '' }).length, 0);
  assert.deepEqual(encodeExportLogsServiceResponse({ rejectedLogRecords: 300, errorMessage: 'too old' }), ld(1, vi(1, 300), ld(2, 'too old')));
  assert.deepEqual(encodeExportLogsServiceResponse({ rejectedLogRecords: 0, errorMessage: 'warning' }), ld(1, ld(2, 'warning')));
  assert.deepEqual(encodeRpcStatus(3, 'bad'), Buffer.concat([vi(1, 3), ld(2, 'bad')]));
});
