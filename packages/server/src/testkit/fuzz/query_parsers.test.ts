/**
 * Fuzzing the PromQL and LogQL parsers: random strings, grammar-shaped queries built from token
 * arbitraries (selectors, functions, operators, durations, nesting to a depth), mutations of those,
 * and very deep nesting. Every query parses or throws the parser's typed error (the API's 400
 * bad_data); a TypeError or a stack overflow's RangeError would be a 500.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LogqlParseError, parseLogql, parseStreamSelector } from '../../logs/logql/parser.js';
import { AGGREGATE_OPS, FUNCTIONS, ParseError, parseExpr, parseSeriesSelector } from '../../metrics/promql/parser/index.js';
import { fuzz, mutatedText, typedOrOk } from './harness.js';

// ---- shared tokens ----------------------------------------------------------------------------------

const ident = fc.oneof(
  fc.constantFrom('foo', 'http_requests_total', 'a', 'le', '__name__', 'job', 'by', 'on', 'bool', 'offset', 'inf', 'nan', '1x', 'a:b'),
  fc.string({ maxLength: 5 }),
);
const strLit = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 6 }).map((s) => '`' + s + '`'),
  fc.constantFrom('"', "'x'", '"\\', '"\\u12"', '"a.*"', '"("', '"[z-a]"', '"\\\\d+"', '"(?i)x"', '"x{2,}"', '""'),
  // Regexes that are costly or unusual to compile: nested counted repetition, classes, named groups, huge counts.
  fc.constantFrom(
    '"a{1000}{1000}"',
    '"((a{100}){100}){100}"',
    '"(?P<x>a)"',
    '"\\\\p{Greek}"',
    '"[[:alpha:]]"',
    '"x{2147483648}"',
    '"[^\\\\x00-\\\\x{10FFFF}]"',
    '"a**"',
  ),
);
const duration = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y')).map(([n, u]) => `${n}${u}`),
  fc.constantFrom('1h30m', '5m1s', '1.5m', '0s', '99999999999999999y', '1', 'm', '-5m', '1h1h', '1e3s'),
);
const number = fc.oneof(fc.integer().map(String), fc.double().map(String), fc.constantFrom('0x1f', '1e', '.5', 'Inf', '-Inf', 'NaN', '1_0', '0b1', '1e400'));
const matcherOp = fc.constantFrom('=', '!=', '=~', '!~', '==', '~', '');
const matchers = fc
  .tuple(fc.array(fc.tuple(ident, matcherOp, strLit), { maxLength: 3 }), fc.constantFrom(',', ', ', ',,', ' '))
  .map(([ms, sep]) => '{' + ms.map(([n, op, v]) => `${n}${op}${v}`).join(sep) + '}');

// ---- PromQL -------------------------------------------------------------------------------------------

const promFunctions = [...FUNCTIONS.keys()];
const promSelector = fc
  .tuple(
    fc.option(ident),
    fc.option(matchers),
    fc.option(
      fc.oneof(
        duration.map((d) => `[${d}]`),
        fc.constantFrom('[', '[]', '[5m:]', '[5m:1m]'),
      ),
    ),
  )
  .map(([n, m, r]) => `${n ?? ''}${m ?? ''}${r ?? ''}`);
const binOp = fc.constantFrom('+', '-', '*', '/', '%', '^', '==', '!=', '>', '<', '>=', '<=', 'and', 'or', 'unless', 'atan2', '=~');
const modifier = fc.oneof(
  fc.constant(''),
  fc.constantFrom(' bool ', ' on(job) ', ' ignoring(a) ', ' on(a) group_left(b) ', ' group_right ', ' on() ', ' bool on('),
);
const grouping = fc.oneof(
  fc.constant(''),
  fc.array(ident, { maxLength: 2 }).map((ls) => ` by (${ls.join(',')}) `),
  fc.constantFrom(' without () ', ' by ', ' by (a,) '),
);

/** PromQL-shaped expressions; each level picks a construct and fills its holes with smaller expressions. */
const promExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', maxDepth: 5, withCrossShrink: true },
    promSelector,
    number,
    strLit,
    fc.tuple(tie('e'), modifier, binOp, modifier, tie('e')).map(([a, m1, op, m2, b]) => `${a}${m1}${op}${m2}${b}`),
    fc.tuple(fc.constantFrom(...promFunctions), fc.array(tie('e'), { maxLength: 3 })).map(([f, args]) => `${f}(${args.join(', ')})`),
    fc
      .tuple(fc.constantFrom(...AGGREGATE_OPS), grouping, fc.array(tie('e'), { maxLength: 2 }), fc.boolean())
      .map(([op, g, args, before]) => (before ? `${op}${g}(${args.join(', ')})` : `${op}(${args.join(', ')})${g}`)),
    tie('e').map((e) => `(${e})`),
    fc.tuple(fc.constantFrom('-', '+', '--', '!'), tie('e')).map(([u, e]) => `${u}${e}`),
    fc.tuple(tie('e'), duration, fc.option(duration)).map(([e, r, s]) => `${e}[${r}:${s ?? ''}]`),
    fc
      .tuple(tie('e'), fc.constantFrom(' offset ', ' @ ', ' offset -', ' @ start()', ' @ end() '), fc.oneof(duration, number))
      .map(([e, k, d]) => `${e}${k}${d}`),
  ),
})).e;

test('PromQL: arbitrary strings parse or throw ParseError', () => {
  fuzz(fc.string({ maxLength: 60 }), (q) => parseExpr(q), ParseError, 1000);
  fuzz(fc.string({ maxLength: 60 }), (q) => parseSeriesSelector(q), ParseError, 300);
});

test('PromQL: grammar-shaped queries and their mutations parse or throw ParseError', () => {
  fuzz(promExpr, (q) => parseExpr(q), ParseError, 1000);
  fuzz(mutatedText(promExpr), (q) => parseExpr(q), ParseError, 1000);
  fuzz(promSelector, (q) => parseSeriesSelector(q), ParseError, 300);
  // With the experimental functions off, those names must be refused with a ParseError too.
  fuzz(promExpr, (q) => parseExpr(q, { enableExperimentalFunctions: false }), ParseError, 300);
});

// ---- LogQL --------------------------------------------------------------------------------------------

const lineFilter = fc.tuple(fc.constantFrom('|=', '!=', '|~', '!~', '|> ', '!>', '| ='), strLit).map(([op, s]) => ` ${op} ${s}`);
const stage = fc.oneof(
  lineFilter,
  fc.constantFrom(
    ' | json',
    ' | logfmt',
    ' | unpack',
    ' | decolorize',
    ' | logfmt --strict',
    ' | json a="b.c", d="e[0]"',
    ' | json x="a.b[c"',
    ' |',
    ' | drop a, b',
    ' | keep a',
  ),
  strLit.map((s) => ` | regexp ${s}`),
  fc.constantFrom('"<a> <_>"', '"<_>"', '"<a><b>"', '"<a"', '"<>"', '""').map((p) => ` | pattern ${p}`),
  fc
    .constantFrom('"{{.a}}"', '"{{"', '"{{ .a | upper }}"', '"{{ if .a }}x{{ end }}"', '"{{ .a"', '"}}"', '"{{ printf \\"%d\\" .a }}"')
    .map((t) => ` | line_format ${t}`),
  fc.tuple(ident, fc.oneof(ident, fc.constantFrom('"{{.a}}"', '"{{"'))).map(([a, b]) => ` | label_format ${a}=${b}`),
  fc
    .tuple(ident, fc.constantFrom('>', '<', '>=', '<=', '=', '==', '!=', '=~', '!~'), fc.oneof(number, strLit, duration, fc.constantFrom('5MB', '1KiB', '3xB')))
    .map(([n, op, v]) => ` | ${n} ${op} ${v}`),
  fc.tuple(ident, fc.constantFrom('', 'bytes', 'duration', 'duration_seconds', 'nope')).map(([n, c]) => ` | unwrap ${c ? `${c}(${n})` : n}`),
);
const logSelector = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: matchers }, { weight: 1, arbitrary: fc.constantFrom('{}', '{', 'foo', '{a="b"') }), fc.array(stage, { maxLength: 4 }))
  .map(([m, s]) => m + s.join(''));
const rangeFn = fc.constantFrom(
  'rate',
  'count_over_time',
  'bytes_rate',
  'bytes_over_time',
  'absent_over_time',
  'sum_over_time',
  'avg_over_time',
  'max_over_time',
  'quantile_over_time',
  'first_over_time',
  'rate_counter',
  'stddev_over_time',
  'nope_over_time',
);
const vectorOp = fc.constantFrom('sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'sort', 'sort_desc');

/** LogQL-shaped queries: log queries, range aggregations over them, vector aggregations and binary operations. */
const logqlExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', maxDepth: 5, withCrossShrink: true },
    logSelector,
    fc
      .tuple(rangeFn, fc.option(number), logSelector, duration, fc.option(duration), grouping)
      .map(([f, p, s, d, off, g]) => `${f}(${p !== null ? p + ', ' : ''}${s} [${d}]${off ? ` offset ${off}` : ''})${g}`),
    fc.tuple(vectorOp, grouping, fc.option(number), tie('e')).map(([op, g, p, e]) => `${op}${g}(${p !== null ? p + ', ' : ''}${e})`),
    fc.tuple(tie('e'), binOp, modifier, tie('e')).map(([a, op, m, b]) => `${a} ${op}${m} ${b}`),
    tie('e').map((e) => `(${e})`),
    number,
    fc
      .tuple(fc.constantFrom('label_replace', 'vector', 'absent'), fc.array(fc.oneof(tie('e'), strLit), { maxLength: 5 }))
      .map(([f, a]) => `${f}(${a.join(', ')})`),
  ),
})).e;

test('LogQL: arbitrary strings parse or throw LogqlParseError', () => {
  fuzz(fc.string({ maxLength: 60 }), (q) => parseLogql(q), LogqlParseError, 1000);
  fuzz(fc.string({ maxLength: 60 }), (q) => parseStreamSelector(q), LogqlParseError, 300);
});

test('LogQL: grammar-shaped queries and their mutations parse or throw LogqlParseError', () => {
  fuzz(logqlExpr, (q) => parseLogql(q), LogqlParseError, 1000);
  fuzz(mutatedText(logqlExpr), (q) => parseLogql(q), LogqlParseError, 1000);
  fuzz(logSelector, (q) => parseStreamSelector(q), LogqlParseError, 300);
});

// ---- deep nesting -----------------------------------------------------------------------------------

/** Inputs nested far past any real query, each of which recursive descent would take one frame per level for. */
function deepInputs(atom: string): string[] {
  const n = 10_000;
  return [
    '('.repeat(n) + atom + ')'.repeat(n),
    '('.repeat(n),
    'sum('.repeat(n) + atom + ')'.repeat(n),
    'abs('.repeat(n),
    '-'.repeat(n * 10) + '1',
    (atom + ' + ').repeat(n) + atom,
    '1 ^ '.repeat(n) + '1',
    '{'.repeat(n),
  ];
}

test('PromQL: deeply nested input is a ParseError, not a stack overflow', () => {
  for (const q of [...deepInputs('foo'), 'rate(foo[5m:1m])'.replace('foo', 'rate('.repeat(5_000) + 'foo')]) typedOrOk(parseExpr, ParseError, q);
  assert.throws(() => parseExpr('('.repeat(10_000) + '1' + ')'.repeat(10_000)), ParseError);
});

test('LogQL: deeply nested input is a LogqlParseError, not a stack overflow', () => {
  for (const q of [...deepInputs('{a="b"}'), 'sum(count_over_time('.repeat(5_000)]) {
    typedOrOk(parseLogql, LogqlParseError, q);
    typedOrOk(parseStreamSelector, LogqlParseError, q);
  }
  assert.throws(() => parseLogql('('.repeat(10_000) + '{a="b"}' + ')'.repeat(10_000)), LogqlParseError);
});
