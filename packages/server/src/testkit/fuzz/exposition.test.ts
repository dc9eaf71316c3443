/**
 * Fuzzing the scrape parsers (Prometheus text, OpenMetrics, protobuf): every body ends in entries or an
 * ExpositionError (the scrape's failure, with the target marked down), never another exception.
 * `drain` touches every accessor, since labels, values and exemplars are decoded lazily.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { ExpositionError } from '../../metrics/scrape/parser/errors.js';
import { TEXT_FORMATS, type ExpositionFormat } from '../../metrics/scrape/parser/types.js';
import type { ProtobufParserOptions } from '../../metrics/scrape/parser/protoparse.js';
import { DualHistogram, encodeMetricFamilies, encodeMetricFamily } from '../prom_protobuf.js';
import { drain } from '../scrape_parser.js';
import { bytes, fuzz, mutated } from './harness.js';

/** drain() returns the ExpositionError rather than throwing it; rethrow so the harness checks its class. */
function parseAll(body: Buffer, format: ExpositionFormat, histograms?: ProtobufParserOptions): void {
  const r = drain(body, format, histograms);
  if (r instanceof ExpositionError) throw r;
}

// Tokens of both formats, valid and nearly valid, so generated lines reach the lexers' deeper states.
const name = fc.oneof(fc.constantFrom('foo', 'foo_total', 'foo_bucket', 'foo_created', 'a:b', '_x', '1bad', 'é', ''), fc.string({ maxLength: 6 }));
const quoted = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"a\\', '"\\x"', '"\n"', '"', '""', '"\\\\"'),
);
const labelSet = fc.oneof(
  fc
    .tuple(fc.array(fc.tuple(fc.oneof(name, quoted), fc.constantFrom('=', '!=', ' = ', ''), quoted), { maxLength: 3 }), fc.constantFrom(',', ', ', ',,'))
    .map(([ls, sep]) => '{' + ls.map(([n, op, v]) => `${n}${op}${v}`).join(sep) + '}'),
  fc.constantFrom('', '{}', '{', '}', '{,}', '{"quoted.name"}', '{le="+Inf"}', '{quantile="0.5"}'),
);
const number = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.constantFrom('+Inf', '-Inf', 'NaN', 'nan', '1e', '0x1p3', '1_000', '.5', '5.', '-', '', '1e999', '00001', '١'),
);
const timestamp = fc.oneof(
  fc.constant(''),
  fc.integer().map((n) => ' ' + n),
  fc.double().map((d) => ' ' + d),
  fc.constantFrom(' 1.5e9', ' x', ' -0'),
);
const sampleLine = fc
  .tuple(
    name,
    labelSet,
    fc.constantFrom(' ', '\t', '  ', ''),
    number,
    timestamp,
    fc.oneof(
      fc.constant(''),
      fc.tuple(labelSet, number, timestamp).map(([l, v, t]) => ` # ${l} ${v}${t}`),
    ),
  )
  .map(([n, l, sp, v, t, ex]) => `${n}${l}${sp}${v}${t}${ex}`);
const metaLine = fc
  .tuple(
    fc.constantFrom('# HELP', '# TYPE', '# UNIT', '# EOF', '#', '# help', '# TYPE '),
    name,
    fc.oneof(
      fc.constantFrom('counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'info', 'stateset', 'gaugehistogram', 'seconds'),
      fc.string({ maxLength: 10 }),
    ),
  )
  .map(([k, n, rest]) => `${k} ${n} ${rest}`);
const line = fc.oneof({ weight: 3, arbitrary: sampleLine }, { weight: 2, arbitrary: metaLine }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });
const body = fc
  .tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', ''), fc.constantFrom('', '\n', '# EOF\n', '# EOF'))
  .map(([ls, sep, end]) => Buffer.from(ls.join(sep) + sep + end, 'utf8'));

/**
 * Whole valid bodies of each format, for mutation: generated lines rarely make a valid OpenMetrics
 * body (TYPE before samples, suffixes, `# EOF`), so edits to these reach the checks that only run
 * on well-formed input (family order, histogram buckets, exemplars, created series).
 */
const VALID: Record<(typeof TEXT_FORMATS)[number], string[]> = {
  'prometheus-text': [
    '# HELP http_requests_total Requests.\\nSecond line.\n# TYPE http_requests_total counter\nhttp_requests_total{method="post",code="200"} 1027 1395066363000\n',
    '# TYPE h histogram\nh_bucket{le="0.05"} 24054\nh_bucket{le="+Inf"} 144320\nh_sum 53423\nh_count 144320\n',
    '# TYPE s summary\ns{quantile="0.5"} 4.2\ns_sum 1e3\ns_count 7\n{"my.dotted", "a.b"="c"} NaN\nx{a="\\"q\\""} -Inf\n',
  ],
  'openmetrics-text': [
    '# TYPE foo counter\n# UNIT foo_seconds seconds\n# HELP foo Help.\nfoo_total{a="b"} 17.0 1520879607.789 # {trace_id="abc"} 5 1520879607.7\nfoo_created{a="b"} 1520872607.123\n# EOF\n',
    '# TYPE s stateset\ns{s="x"} 1\ns{s="y"} 0\n# TYPE g gaugehistogram\ng_bucket{le="1"} 1\ng_bucket{le="+Inf"} 2\ng_gcount 2\ng_gsum 3\n# EOF\n',
    '# TYPE h histogram\nh_bucket{le="0.5"} 1 # {id="x"} 0.3\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 1.5\n# TYPE i info\ni_info{v="1"} 1\n# EOF\n',
  ],
};

for (const format of TEXT_FORMATS) {
  test(`${format}: valid bodies with random edits parse or throw ExpositionError`, () => {
    fuzz(mutated(fc.constantFrom(...VALID[format]).map((s) => Buffer.from(s, 'utf8'))), (b) => parseAll(b, format), ExpositionError, 1000);
  });

  test(`${format}: with classic histograms converted to custom buckets, valid bodies with random edits parse or throw ExpositionError`, () => {
    const nhcb = [{ convertClassicToNhcb: true }, { convertClassicToNhcb: true, keepClassicHistograms: true }];
    for (const opts of nhcb)
      fuzz(mutated(fc.constantFrom(...VALID[format]).map((s) => Buffer.from(s, 'utf8'))), (b) => parseAll(b, format, opts), ExpositionError, 500);
  });

  test(`${format}: arbitrary bytes parse or throw ExpositionError`, () => {
    fuzz(bytes(), (b) => parseAll(b, format), ExpositionError, 1000);
  });

  test(`${format}: format-shaped bodies and their mutations parse or throw ExpositionError`, () => {
    fuzz(body, (b) => parseAll(b, format), ExpositionError, 1000);
    fuzz(mutated(body), (b) => parseAll(b, format), ExpositionError, 1000);
  });
}

test('exposition: a huge line and a huge label set end within the time budget', () => {
  // Lexers that backtrack or rescan would go quadratic here; the harness's per-call bound catches that.
  const huge = fc.constantFrom(
    Buffer.from('a{' + 'l="v",'.repeat(50_000) + '} 1\n'),
    Buffer.from('a ' + '1'.repeat(200_000) + '\n'),
    Buffer.from('# HELP a ' + '\\'.repeat(200_001) + '\n'),
    Buffer.from('{'.repeat(100_000)),
    Buffer.from('a{l="' + '\\"'.repeat(100_000) + '"} 1\n'),
  );
  for (const format of TEXT_FORMATS) fuzz(huge, (b) => parseAll(b, format), ExpositionError, 10);
});

/** Protobuf bodies of every kind of family, for mutation: native and classic histograms, exemplars, created timestamps. */
function validProtobuf(): Buffer[] {
  const h = new DualHistogram([0.1, 1, 10], 3);
  for (const v of [0.05, 0.3, 0.3, 2, 7, -1, 0]) h.observe(v, { labels: { trace_id: 'ab' }, value: v, ts: 1_700_000_000_123 });
  const fams = encodeMetricFamilies([
    {
      name: 'c_total',
      help: 'C.',
      type: 'counter',
      metrics: [{ labels: { a: 'b' }, counter: { value: 3, exemplar: { labels: { id: 'x' }, value: 1 }, createdMs: 5 } }],
    },
    {
      name: 'g',
      type: 'gauge',
      unit: '',
      metrics: [
        { gauge: -1.5, timestampMs: 1234 },
        { labels: { x: 'y' }, gauge: NaN },
      ],
    },
    {
      name: 's',
      type: 'summary',
      metrics: [
        {
          summary: {
            count: 4,
            sum: 2,
            quantiles: [
              [0.5, 1],
              [0.99, 2],
            ],
          },
        },
      ],
    },
    { name: 'h', type: 'histogram', metrics: [{ labels: { k: 'v' }, histogram: h.encode() }, { histogram: h.encode(true) }] },
    {
      name: 'gh',
      type: 'gaugehistogram',
      metrics: [
        {
          histogram: {
            countFloat: 2.5,
            sum: 1,
            schema: 0,
            zeroThreshold: 0.001,
            zeroCountFloat: 0.5,
            positiveSpans: [{ offset: 1, length: 2 }],
            positiveCounts: [1, 1],
          },
        },
      ],
    },
    { name: 'u', type: 'untyped', metrics: [{ untyped: 7 }] },
  ]);
  return [fams, encodeMetricFamily({ name: 'lone', type: 'gauge', metrics: [{ gauge: 1 }] })];
}

const PROTOBUF_OPTIONS: ProtobufParserOptions[] = [
  {},
  { nativeHistograms: true },
  { nativeHistograms: true, keepClassicHistograms: true, convertClassicToNhcb: true },
  { convertClassicToNhcb: true },
];

test('prometheus-protobuf: valid bodies with random edits parse or throw ExpositionError', () => {
  for (const opts of PROTOBUF_OPTIONS)
    fuzz(mutated(fc.constantFrom(...validProtobuf())), (b) => parseAll(b, 'prometheus-protobuf', opts), ExpositionError, 500);
});

test('prometheus-protobuf: arbitrary bytes parse or throw ExpositionError', () => {
  fuzz(bytes(), (b) => parseAll(b, 'prometheus-protobuf', PROTOBUF_OPTIONS[2]), ExpositionError, 1000);
});
