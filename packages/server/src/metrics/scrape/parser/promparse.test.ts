import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExpositionError } from './errors.js';
import { PromTextParser } from './promparse.js';
import { collect } from '../../../testkit/scrape_parser.js';
import { sharedData } from '../../../testkit/shared_data.js';

const valid: Array<{ name: string; body: string; want: string[] }> = [
  {
    name: 'metadata, comments, blank lines and a summary',
    body: [
      '# HELP go_gc_duration_seconds A summary of the GC invocation durations.',
      '# \tTYPE go_gc_duration_seconds summary',
      'go_gc_duration_seconds{quantile="0"} 4.9351e-05',
      'go_gc_duration_seconds{quantile="0.25",} 7.424100000000001e-05',
      '',
      'go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05',
      '# Hrandom comment starting with prefix of HELP',
      '#',
      '#no space after the hash',
      'go_gc_duration_seconds_count 99',
      '',
    ].join('\n'),
    want: [
      'help go_gc_duration_seconds "A summary of the GC invocation durations."',
      'type go_gc_duration_seconds summary',
      'go_gc_duration_seconds{quantile="0.0"} 0.000049351',
      'go_gc_duration_seconds{quantile="0.25"} 0.00007424100000000001',
      'go_gc_duration_seconds{a="b", quantile="0.5"} 0.000083835',
      'go_gc_duration_seconds_count{} 99',
    ],
  },
  {
    name: 'blanks around names, equals signs and values; labels without commas',
    body: 'm { quantile = "1.0", a= "b" , } 1\nm{a="1" b="2"} 2\n  \t m 3\n',
    want: ['m{a="b", quantile="1.0"} 1', 'm{a="1", b="2"} 2', 'm{} 3'],
  },
  {
    name: 'help without text, help escapes (only \\\\ and \\n)',
    body: '# HELP nohelp1\n# HELP nohelp2 \n# HELP esc a\\\\b\\nc\\"d\\te\n',
    want: ['help nohelp1 ""', 'help nohelp2 ""', 'help esc "a\\\\b\\nc\\\\\\"d\\\\te"'],
  },
  {
    name: 'label value escapes; unknown escapes stay',
    body: 'm{a="x\\\\y",b="q\\"r",c="line\\nbreak",d="tab\\t"} 1\n',
    want: ['m{a="x\\\\y", b="q\\"r", c="line\\nbreak", d="tab\\\\t"} 1'],
  },
  {
    name: 'special float values and Go float syntax',
    body: 'a NaN\nb +Inf\nc -Inf\nd Inf\ne inf\nf -infinity\ng 1e3\nh .5\ni 5.\nj -0.0\nk +12\nl 1E-2\nm 00012\nn 12345678901234567890\n',
    want: [
      'a{} NaN',
      'b{} Infinity',
      'c{} -Infinity',
      'd{} Infinity',
      'e{} Infinity',
      'f{} -Infinity',
      'g{} 1000',
      'h{} 0.5',
      'i{} 5',
      'j{} 0',
      'k{} 12',
      'l{} 0.01',
      'm{} 12',
      'n{} 12345678901234567000',
    ],
  },
  {
    name: 'integer millisecond timestamps',
    body: 'a 1 1234567890123\nb{x="y"} 2 0\n',
    want: ['a{} 1 @1234567890123', 'b{x="y"} 2 @0'],
  },
  {
    name: 'UTF-8 quoted metric and label names (Prometheus 3)',
    body: [
      '# HELP "my.metric" help for a dotted name',
      '# TYPE "my.metric" counter',
      '{"my.metric", "a.b"="x"} 1',
      '{"my.metric","a.b"="y",c="z"} 2',
      '{"ünï.cödé"} 3',
      'plain{"quoted label"="v"} 4',
      '',
    ].join('\n'),
    want: [
      'help my.metric "help for a dotted name"',
      'type my.metric counter',
      '{__name__="my.metric", "a.b"="x"} 1',
      '{__name__="my.metric", "a.b"="y", c="z"} 2',
      '{__name__="ünï.cödé"} 3',
      'plain{"quoted label"="v"} 4',
    ],
  },
  {
    name: 'histogram le and summary quantile values are normalised as in Prometheus 3',
    body: '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="0.5e1"} 2\nh_bucket{le="1e6"} 2\nh_bucket{le="+Inf"} 3\n# TYPE g gauge\ng{le="1"} 1\n',
    want: [
      'type h histogram',
      'h_bucket{le="1.0"} 1',
      'h_bucket{le="5.0"} 2',
      'h_bucket{le="1e+06"} 2',
      'h_bucket{le="+Inf"} 3',
      'type g gauge',
      'g{le="1"} 1',
    ],
  },
  {
    name: 'untyped is reported as unknown',
    body: '# TYPE u untyped\nu 1\n',
    want: ['type u unknown', 'u{} 1'],
  },
  {
    name: 'raw newline inside a label value is allowed by the text lexer',
    body: 'm{a="x\ny"} 1\n',
    want: ['m{a="x\\ny"} 1'],
  },
  {
    name: 'no trailing newline',
    body: 'a 1',
    want: ['a{} 1'],
  },
  {
    name: 'empty body',
    body: '',
    want: [],
  },
  {
    name: 'a NUL at the start of a line ends the input',
    body: 'a 1\n\0garbage{{{\n',
    want: ['a{} 1'],
  },
  {
    name: 'NUL bytes inside label values are kept',
    body: 'a{b="x\0y"} 1\n',
    want: ['a{b="x\\u0000y"} 1'],
  },
];

for (const c of valid) {
  test(`prom text parses: ${c.name}`, () => {
    assert.deepEqual(collect(c.body, 'prometheus-text'), c.want);
  });
}

const invalid: Array<{ name: string; body: string | Buffer; msg: string | RegExp; line?: number; column?: number }> = [
  { name: 'missing value', body: 'a\n', msg: 'expected value after metric, got "\\n" ("INVALID") while parsing: "a\\n"', line: 1, column: 2 },
  { name: 'bad label operator', body: 'metric{a!="b"} 1\n', msg: 'expected equal, got "!" ("INVALID") while parsing: "metric{a!"', line: 1, column: 9 },
  { name: 'single-quoted value', body: "a{b='c'} 1\n", msg: /^expected label value, got "'" \("INVALID"\)/, line: 1, column: 5 },
  { name: 'line break in labels', body: 'a{b=\n', msg: /^expected label value, got "\\n" \("INVALID"\)/ },
  { name: 'non-ASCII unquoted label name', body: Buffer.from('a{\xff="foo"} 1\n', 'latin1'), msg: /^expected label name, got/ },
  { name: 'invalid UTF-8 label value', body: Buffer.from('a{b="\xff"} 1\n', 'latin1'), msg: /^invalid UTF-8 label value/ },
  { name: 'word as value', body: 'a true\n', msg: /^strconv\.ParseFloat: parsing "true": invalid syntax while parsing: "a true"/, line: 1, column: 3 },
  { name: 'unterminated label value', body: 'something_weird{problem="', msg: /^expected label value, got "\\"\\n" \("INVALID"\)/ },
  { name: 'empty label name', body: 'empty_label_name{=""} 0\n', msg: 'expected label name, got "=\\"" ("EQUAL") while parsing: "empty_label_name{=\\""' },
  { name: 'underscore in value', body: 'foo 1_2\n', msg: /^unsupported character in float/ },
  { name: 'hex float', body: 'foo 0x1p-3\n', msg: /^unsupported character in float/ },
  { name: 'hex integer', body: 'foo 0x10\n', msg: /invalid syntax/ },
  { name: 'out of range value', body: 'foo 1e400\n', msg: /value out of range/ },
  { name: 'signed NaN', body: 'foo -NaN\n', msg: /invalid syntax/ },
  { name: 'underscore in timestamp', body: 'foo 0 1_2\n', msg: /^expected next entry after timestamp, got "_"/ },
  { name: 'negative timestamp', body: 'foo 0 -1\n', msg: /^expected timestamp or new record, got "-"/ },
  { name: 'float timestamp', body: 'foo 0 1.5\n', msg: /^expected next entry after timestamp, got "\."/ },
  { name: 'huge timestamp', body: 'foo 0 99999999999999999999\n', msg: /^timestamp out of range/ },
  { name: 'missing type', body: '# TYPE metric_name\n', msg: 'invalid metric type ""' },
  { name: 'unknown type', body: '# TYPE metric_name histo\n', msg: 'invalid metric type "histo"', line: 1, column: 20 },
  { name: 'OpenMetrics-only type', body: '# TYPE m info\n', msg: 'invalid metric type "info"' },
  { name: 'invalid UTF-8 help', body: Buffer.from('# HELP m bad \xff\n', 'latin1'), msg: /^help text .* is not a valid utf8 string/ },
  { name: 'two label sets', body: 'a{b="c"}{d="e"} 1\n', msg: /^expected value after metric, got "\{d" \("BOPEN"\)/ },
  { name: 'no metric name', body: '{a="b"} 1\n', msg: /^metric name not set while parsing/ },
  { name: 'two metric names', body: '{"a","b"} 1\n', msg: /^metric name already set while parsing/ },
  { name: 'metric name in and out of braces', body: 'a{"b"} 1\n', msg: /^metric name already set/ },
  { name: 'garbage start', body: '=1\n', msg: /^expected a valid start token, got "=" \("INVALID"\)/ },
  { name: 'error position on a later line', body: 'ok 1\nok 2\nbad{x="1"} one\n', msg: /invalid syntax/, line: 3, column: 12 },
  { name: 'column counts characters, not bytes', body: 'm{a="ü"} x\n', msg: /invalid syntax/, line: 1, column: 10 },
];

for (const c of invalid) {
  test(`prom text rejects: ${c.name}`, () => {
    assert.throws(
      () => collect(c.body, 'prometheus-text'),
      (err: unknown) => {
        assert.ok(err instanceof ExpositionError, `not an ExpositionError: ${String(err)}`);
        if (typeof c.msg === 'string') assert.equal(err.detail, c.msg);
        else assert.match(err.detail, c.msg);
        if (c.line !== undefined) assert.equal(err.line, c.line, 'line');
        if (c.column !== undefined) assert.equal(err.column, c.column, 'column');
        assert.equal(err.message, `${err.line}:${err.column}: ${err.detail}`);
        return true;
      },
    );
  });
}

test('duplicate label names fail when the labels are read', () => {
  const p = new PromTextParser(Buffer.from('a{b="1",b="2"} 1\n'));
  assert.equal(p.next(), 'series');
  assert.throws(
    () => p.labels(),
    (e: unknown) => e instanceof ExpositionError && /label name "b" is not unique/.test(e.message),
  );
});

test('series keys are the raw name{labels} bytes, without value or timestamp', () => {
  const p = new PromTextParser(Buffer.from('a 1\nb{x="ü",y="\\n"} 2 3\n{"q.r"} 4\n'));
  const keys: string[] = [];
  while (p.next() !== 'eof') keys.push(p.seriesKey());
  assert.deepEqual(keys, ['a', Buffer.from('b{x="ü",y="\\n"}').toString('latin1'), '{"q.r"}']);
});

test('seriesType follows the family of the last TYPE, including _total, _sum, _count and _bucket', () => {
  const p = new PromTextParser(
    Buffer.from('# TYPE c_total counter\nc_total 1\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\nh_other 1\nunrelated 1\n'),
  );
  const got: string[] = [];
  for (let k = p.next(); k !== 'eof'; k = p.next()) if (k === 'series') got.push(`${p.metricName()}:${p.seriesType()}`);
  assert.deepEqual(got, ['c_total:counter', 'h_bucket:histogram', 'h_sum:histogram', 'h_count:histogram', 'h_other:unknown', 'unrelated:unknown']);
});

test('next() keeps returning eof at the end', () => {
  const p = new PromTextParser(Buffer.from('a 1\n'));
  assert.equal(p.next(), 'series');
  assert.equal(p.next(), 'eof');
  assert.equal(p.next(), 'eof');
});

const promtoolData = sharedData('promtool-testdata');

test('the promtool exposition sample parses in place', { skip: promtoolData.skip }, () => {
  const file = path.join(promtoolData.dir, 'metrics-test.prom');
  const entries = collect(fs.readFileSync(file), 'prometheus-text');
  const series = entries.filter((e) => !e.startsWith('help ') && !e.startsWith('type '));
  assert.equal(entries.length - series.length, 8);
  assert.equal(series.length, 27);
  assert.ok(series.includes('go_gc_duration_seconds{quantile="1.0"} 0.005201208'));
  assert.ok(series.includes('prometheus_tsdb_compaction_chunk_size_bytes_bucket{le="+Inf"} 13867'));
  assert.ok(series.includes('prometheus_tsdb_compaction_chunk_size_bytes_sum{} 3886707'));
  assert.ok(series.includes('go_info{version="go1.17"} 1'));
  assert.ok(entries.includes('type prometheus_tsdb_compaction_chunk_size_bytes histogram'));
});
