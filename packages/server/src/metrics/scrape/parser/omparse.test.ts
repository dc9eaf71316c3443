import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpositionError } from './errors.js';
import { OpenMetricsParser } from './omparse.js';
import { collect } from '../../../testkit/scrape_parser.js';

const ALL_TYPES = [
  '# HELP go_gc_duration_seconds A summary of the GC invocation durations.',
  '# TYPE go_gc_duration_seconds summary',
  '# UNIT go_gc_duration_seconds seconds',
  'go_gc_duration_seconds{quantile="0"} 4.9351e-05',
  'go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05',
  '# HELP nohelp1 ',
  '# HELP help2 escape \\ \\n \\\\ \\" \\x chars',
  '# UNIT nounit ',
  'go_gc_duration_seconds_count 99',
  'some:aggregate:rate5m{a_b="c"} 1',
  '# TYPE go_goroutines gauge',
  'go_goroutines 33 123.123',
  '# TYPE hh histogram',
  'hh_bucket{le="+Inf"} 1',
  '# TYPE gh gaugehistogram',
  'gh_bucket{le="+Inf"} 1',
  '# TYPE hhh histogram',
  'hhh_bucket{le="+Inf"} 1 # {id="histogram-bucket-test"} 4',
  'hhh_count 1 # {id="histogram-count-test"} 4',
  '# TYPE ggh gaugehistogram',
  'ggh_bucket{le="+Inf"} 1 # {id="gaugehistogram-bucket-test",xx="yy"} 4 123.123',
  '# TYPE smr_seconds summary',
  'smr_seconds_count 2.0 # {id="summary-count-test"} 1 123.321',
  '# TYPE ii info',
  'ii{foo="bar"} 1',
  '# TYPE ss stateset',
  'ss{ss="foo"} 1',
  'ss{ss="bar"} 0',
  '# TYPE un unknown',
  '_metric_starting_with_underscore 1',
  'testmetric{label="\\"bar\\""} 1',
  '# HELP foo Counter with and without labels',
  '# TYPE foo counter',
  'foo_total 17.0 1520879607.789 # {id="counter-test"} 5',
  'foo_created 1520872607.123',
  'foo_total{a="b"} 17.0 1520879607.789 # {id="counter-test"} 5',
  'foo_created{a="b"} 1520872607.123',
  '# EOF',
  '',
].join('\n');

const ALL_TYPES_WANT = [
  'help go_gc_duration_seconds "A summary of the GC invocation durations."',
  'type go_gc_duration_seconds summary',
  'unit go_gc_duration_seconds seconds',
  'go_gc_duration_seconds{quantile="0.0"} 0.000049351',
  'go_gc_duration_seconds{a="b", quantile="0.5"} 0.000083835',
  'help nohelp1 ""',
  'help help2 "escape \\\\ \\n \\\\ \\" \\\\x chars"',
  'unit nounit ',
  'go_gc_duration_seconds_count{} 99',
  'some:aggregate:rate5m{a_b="c"} 1',
  'type go_goroutines gauge',
  'go_goroutines{} 33 @123123',
  'type hh histogram',
  'hh_bucket{le="+Inf"} 1',
  'type gh gaugehistogram',
  'gh_bucket{le="+Inf"} 1',
  'type hhh histogram',
  'hhh_bucket{le="+Inf"} 1 # {id="histogram-bucket-test"} 4',
  'hhh_count{} 1 # {id="histogram-count-test"} 4',
  'type ggh gaugehistogram',
  'ggh_bucket{le="+Inf"} 1 # {id="gaugehistogram-bucket-test", xx="yy"} 4 @123123',
  'type smr_seconds summary',
  'smr_seconds_count{} 2 # {id="summary-count-test"} 1 @123321',
  'type ii info',
  'ii{foo="bar"} 1',
  'type ss stateset',
  'ss{ss="foo"} 1',
  'ss{ss="bar"} 0',
  'type un unknown',
  '_metric_starting_with_underscore{} 1',
  'testmetric{label="\\"bar\\""} 1',
  'help foo "Counter with and without labels"',
  'type foo counter',
  'foo_total{} 17 @1520879607789 # {id="counter-test"} 5',
  'foo_created{} 1520872607.123',
  'foo_total{a="b"} 17 @1520879607789 # {id="counter-test"} 5',
  'foo_created{a="b"} 1520872607.123',
];

const valid: Array<{ name: string; body: string; want: string[] }> = [
  { name: 'every metric type, units, exemplars, _created', body: ALL_TYPES, want: ALL_TYPES_WANT },
  {
    name: 'UTF-8 quoted names',
    body: '# TYPE "go.gc_duration_seconds" summary\n{"go.gc_duration_seconds",quantile="0"} 4.9351e-05\n{"go.gc_duration_seconds","a.b"="x",quantile="0.5"} 1 # {"trace.id"="t"} 2\n# EOF\n',
    want: [
      'type go.gc_duration_seconds summary',
      '{__name__="go.gc_duration_seconds", quantile="0.0"} 0.000049351',
      '{__name__="go.gc_duration_seconds", "a.b"="x", quantile="0.5"} 1 # {"trace.id"="t"} 2',
    ],
  },
  { name: 'EOF without a newline', body: 'a 1\n# EOF', want: ['a{} 1'] },
  { name: 'only EOF', body: '# EOF\n', want: [] },
  {
    name: 'float-second timestamps truncate to milliseconds',
    body: 'a 1 1.0019\nb 1 -1.5\nc 1 1e3\n# EOF\n',
    want: ['a{} 1 @1001', 'b{} 1 @-1500', 'c{} 1 @1000000'],
  },
  { name: 'trailing comma in labels', body: 'a{b="c",} 1\n# EOF\n', want: ['a{b="c"} 1'] },
  { name: 'exemplar without timestamp after a timestamp', body: 'a_total 1 2 # {t="x"} 3\n# EOF\n', want: ['a_total{} 1 @2000 # {t="x"} 3'] },
  { name: 'exemplar label value escapes', body: 'a_total 1 # {t="q\\"x\\\\y"} 3\n# EOF\n', want: ['a_total{} 1 # {t="q\\"x\\\\y"} 3'] },
];

for (const c of valid) {
  test(`OpenMetrics parses: ${c.name}`, () => {
    assert.deepEqual(collect(c.body, 'openmetrics-text'), c.want);
  });
}

const invalid: Array<{ name: string; body: string; msg: string | RegExp; line?: number; column?: number }> = [
  { name: 'missing EOF', body: 'a 1\n', msg: 'data does not end with # EOF', line: 2, column: 1 },
  { name: 'empty body', body: '', msg: 'data does not end with # EOF' },
  { name: 'data after EOF', body: '# EOF\na 1\n', msg: 'unexpected data after # EOF', line: 2 },
  { name: 'blank line after EOF', body: '# EOF\n\n', msg: 'unexpected data after # EOF' },
  { name: 'blank line', body: 'a 1\n\nb 2\n# EOF\n', msg: /^expected a valid start token, got "\\n" \("INVALID"\)/, line: 2, column: 1 },
  { name: 'free-form comment', body: '# just a comment\n# EOF\n', msg: /^expected a valid start token/ },
  { name: 'two spaces before the value', body: 'a  1\n# EOF\n', msg: /^expected value after metric, got/ },
  { name: 'tab separator', body: 'a\t1\n# EOF\n', msg: /^expected value after metric/ },
  { name: 'no comma between labels', body: 'a{b="c" d="e"} 1\n# EOF\n', msg: /^expected comma or brace close, got/ },
  { name: 'space in labels', body: 'a{ b="c"} 1\n# EOF\n', msg: /^expected label name, got " "/ },
  { name: 'newline in label value', body: 'a{b="c\nd"} 1\n# EOF\n', msg: /^expected label value/ },
  { name: 'HELP without text', body: '# HELP a\n# EOF\n', msg: 'expected text in HELP' },
  { name: 'TYPE without type', body: '# TYPE a\n# EOF\n', msg: 'expected text in TYPE' },
  { name: 'untyped is not an OpenMetrics type', body: '# TYPE a untyped\n# EOF\n', msg: 'invalid metric type "untyped"' },
  { name: 'unit not a suffix', body: '# UNIT a_seconds bytes\n# EOF\n', msg: 'unit "bytes" not a suffix of metric "a_seconds"' },
  { name: 'unit without underscore', body: '# UNIT aseconds seconds\n# EOF\n', msg: 'unit "seconds" not a suffix of metric "aseconds"' },
  { name: 'unit equal to the name', body: '# UNIT seconds seconds\n# EOF\n', msg: 'unit "seconds" not a suffix of metric "seconds"' },
  { name: 'NaN timestamp', body: 'a 1 NaN\n# EOF\n', msg: 'invalid timestamp NaN' },
  { name: 'infinite timestamp', body: 'a 1 -Inf\n# EOF\n', msg: 'invalid timestamp -Inf' },
  { name: 'infinite exemplar timestamp', body: 'a_total 1 # {t="x"} 1 +Inf\n# EOF\n', msg: 'invalid exemplar timestamp +Inf' },
  { name: 'exemplar without value', body: 'a_total 1 # {t="x"}\n# EOF\n', msg: /^expected value after exemplar labels/ },
  { name: 'exemplar with a metric name', body: 'a_total 1 # {"name"} 1\n# EOF\n', msg: /^expected label name/ },
  { name: 'exemplar with two timestamps', body: 'a_total 1 # {t="x"} 1 2 3\n# EOF\n', msg: /^expected next entry after exemplar timestamp/ },
  {
    name: 'exemplar without braces',
    body: 'a_total 1 # t="x" 1\n# EOF\n',
    msg: /^expected next entry after timestamp|^expected timestamp or new record|invalid syntax/,
  },
  { name: 'missing EOF after value', body: 'a 1', msg: 'data does not end with # EOF' },
  { name: 'missing EOF after exemplar', body: 'a_total 1 # {t="x"} 1', msg: 'data does not end with # EOF' },
  { name: 'bad value', body: 'a one\n# EOF\n', msg: /^strconv\.ParseFloat: parsing "one": invalid syntax/, line: 1, column: 3 },
  { name: 'bad timestamp', body: 'a 1 0x1p3\n# EOF\n', msg: /^unsupported character in float/ },
  { name: 'metric name not set', body: '{a="b"} 1\n# EOF\n', msg: /^metric name not set/ },
];

for (const c of invalid) {
  test(`OpenMetrics rejects: ${c.name}`, () => {
    assert.throws(
      () => collect(c.body, 'openmetrics-text'),
      (err: unknown) => {
        assert.ok(err instanceof ExpositionError, `not an ExpositionError: ${String(err)}`);
        if (typeof c.msg === 'string') assert.equal(err.detail, c.msg);
        else assert.match(err.detail, c.msg);
        if (c.line !== undefined) assert.equal(err.line, c.line, 'line');
        if (c.column !== undefined) assert.equal(err.column, c.column, 'column');
        return true;
      },
    );
  });
}

test('_created samples are marked for counter, histogram and summary families only', () => {
  const p = new OpenMetricsParser(
    Buffer.from(
      '# TYPE c counter\nc_total 1\nc_created 1\n# TYPE h histogram\nh_created 1\n# TYPE s summary\ns_created 1\n# TYPE g gauge\ng_created 1\n# EOF\n',
    ),
  );
  const got: string[] = [];
  for (let k = p.next(); k !== 'eof'; k = p.next()) if (k === 'series') got.push(`${p.metricName()}:${p.isCreated()}:${p.seriesType()}`);
  assert.deepEqual(got, ['c_total:false:counter', 'c_created:true:counter', 'h_created:true:histogram', 's_created:true:summary', 'g_created:false:unknown']);
});

test('exemplars can be ignored: the sample is the same without reading them', () => {
  const p = new OpenMetricsParser(Buffer.from('a_total{x="1"} 5 10 # {t="x"} 1 2\n# EOF\n'));
  assert.equal(p.next(), 'series');
  assert.equal(p.seriesKey(), 'a_total{x="1"}');
  assert.equal(p.value(), 5);
  assert.equal(p.timestamp(), 10000);
  assert.equal(p.next(), 'eof');
  assert.equal(p.next(), 'eof');
});

test('an exemplar does not leak into the next sample', () => {
  const p = new OpenMetricsParser(Buffer.from('a_total 1 # {t="x"} 1\nb_total 2\n# EOF\n'));
  p.next();
  assert.ok(p.exemplar());
  p.next();
  assert.equal(p.exemplar(), undefined);
});
