/**
 * Fuzzing the TraceQL parser and evaluator: random strings, grammar-shaped queries (filters over
 * every kind of field and literal, spanset and structural operators, pipelines, metrics stages,
 * nesting), their byte-level mutations, and very deep inputs. Every query parses or throws
 * TraceqlParseError (the API's 400) within the per-call budget; every query that parses also
 * compiles and runs over the test traces without any other exception (a 500).
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { hintsOf } from '../../traces/traceql/hints.js';
import { compileMetrics, queryRange, TraceqlExecError } from '../../traces/traceql/metrics.js';
import { parseTraceQL, TraceqlParseError } from '../../traces/traceql/parser.js';
import { compileSearch } from '../../traces/traceql/search.js';
import { fixtureTraces, T0_MS } from '../traces.js';
import { fuzz, mutatedText, typedOrOk } from './harness.js';

const attr = fc.oneof(
  fc.constantFrom(
    'span.http.method',
    'resource.service.name',
    '.region',
    'span.amount',
    'span."foo bar"',
    '.tags',
    'span.cache.hit',
    '.x',
    'span.',
    '.',
    'resource."',
  ),
  fc.string({ maxLength: 6 }).map((s) => `.${s}`),
);
const intrinsic = fc.constantFrom(
  'duration',
  'name',
  'status',
  'statusMessage',
  'kind',
  'rootName',
  'rootServiceName',
  'traceDuration',
  'childCount',
  'span:duration',
  'span:id',
  'trace:rootService',
  'trace:duration',
  'span:nope',
  'foo',
);
const literal = fc.oneof(
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 4 }).map((s) => '`' + s + '`'),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '1.5s',
    '200ms',
    '1h30m',
    '3us',
    '1x',
    '.5',
    '1e3',
    '-1',
    'true',
    'false',
    'nil',
    'error',
    'ok',
    'unset',
    'server',
    'client',
    '"a.*"',
    '"a("',
    '"\\q"',
    '"(?i)x"',
  ),
);
const cmp = fc.constantFrom('=', '!=', '>', '>=', '<', '<=', '=~', '!~', '==', '~');
const arith = fc.constantFrom('+', '-', '*', '/', '%', '^');

const field: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.tuple(fc.oneof(attr, intrinsic), cmp, literal).map(([a, op, l]) => `${a} ${op} ${l}`),
    fc.oneof(attr, intrinsic, literal),
    fc.tuple(tie('f'), fc.constantFrom('&&', '||'), tie('f')).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(fc.oneof(attr, intrinsic), arith, literal, cmp, literal).map(([a, op, l, c, r]) => `${a} ${op} ${l} ${c} ${r}`),
    tie('f').map((f) => `(${f})`),
    tie('f').map((f) => `!${f}`),
  ),
})).f;

const spansetOp = fc.constantFrom('&&', '||', '>', '>>', '<', '<<', '~', '!>', '!>>', '!<', '!<<', '!~', '&>', '&>>', '&<', '&<<', '&~', '|');
const element = fc.oneof(
  fc
    .tuple(fc.constantFrom('count()', 'avg(duration)', 'min(span.amount)', 'max(.x)', 'sum(duration)', 'count(', 'avg()'), cmp, literal)
    .map(([a, op, l]) => `${a} ${op} ${l}`),
  fc.oneof(attr, intrinsic).map((a) => `by(${a})`),
  fc.array(fc.oneof(attr, intrinsic), { maxLength: 3 }).map((as) => `select(${as.join(', ')})`),
  fc.constant('coalesce()'),
);
const spanset: fc.Arbitrary<string> = fc.letrec<{ s: string }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.option(field).map((f) => `{ ${f ?? ''} }`),
    fc.tuple(tie('s'), spansetOp, tie('s')).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie('s').map((s) => `(${s})`),
    fc.tuple(tie('s'), element).map(([s, e]) => `${s} | ${e}`),
  ),
})).s;
const metricsFn = fc.constantFrom(
  'rate()',
  'count_over_time()',
  'quantile_over_time(duration, .5, .99)',
  'quantile_over_time(span.amount, 2)',
  'min_over_time(duration)',
  'histogram_over_time(duration)',
  'histogram_over_time(span.amount)',
  'avg_over_time(span.amount)',
  'sum_over_time()',
  'rate(',
);
const query = fc
  .oneof(
    { weight: 3, arbitrary: spanset },
    {
      weight: 1,
      arbitrary: fc
        .tuple(spanset, metricsFn, fc.option(fc.array(fc.oneof(attr, intrinsic), { maxLength: 2 })))
        .map(([s, m, by]) => `${s} | ${m}${by === null ? '' : ` by (${by.join(', ')})`}`),
    },
  )
  .chain((q) => fc.constantFrom(q, `${q} | topk(3)`, `${q} with(most_recent=true)`, `${q} with(`));

/** Parse, compile and evaluate over the test traces; hints too. Only the typed errors may escape. */
function runQuery(q: string): void {
  const root = parseTraceQL(q);
  hintsOf(root);
  if (root.metrics !== null) {
    compileMetrics(q);
    return;
  }
  const search = compileSearch(root);
  for (const t of fixtureTraces) search.evaluate(t);
}

test('TraceQL: arbitrary strings parse or throw TraceqlParseError', () => {
  fuzz(fc.string({ maxLength: 60 }), (q) => parseTraceQL(q), TraceqlParseError, 2000);
  fuzz(fc.string({ unit: fc.constantFrom(...'{}()|&!<>~=.".:span resource 1s'), maxLength: 40 }), (q) => parseTraceQL(q), TraceqlParseError, 2000);
});

test('TraceQL: grammar-shaped queries and their mutations parse, compile and evaluate, or throw TraceqlParseError', () => {
  fuzz(query, runQuery, TraceqlParseError, 1500);
  fuzz(mutatedText(query), runQuery, TraceqlParseError, 1500);
});

test('TraceQL: metrics queries that parse run over the test traces or throw the typed errors', async () => {
  const samples = fc.sample(query, { seed: 42, numRuns: 300 });
  for (const q of samples) {
    let compiled: ReturnType<typeof compileMetrics> | undefined;
    typedOrOk(
      (s: string) => {
        compiled = compileMetrics(s);
      },
      TraceqlParseError,
      q,
    );
    if (compiled === undefined) continue;
    try {
      await queryRange(compiled, fixtureTraces, { startMs: T0_MS, endMs: T0_MS + 3000, stepMs: 500 });
    } catch (err) {
      if (!(err instanceof TraceqlExecError)) throw err;
    }
  }
});

test('TraceQL: deeply nested input is a TraceqlParseError, not a stack overflow', () => {
  const n = 10_000;
  const deep = [
    '('.repeat(n) + '{}' + ')'.repeat(n),
    '('.repeat(n),
    '{ ' + '('.repeat(n) + '.a' + ')'.repeat(n) + ' }',
    '{ ' + '!'.repeat(n) + '.a }',
    '{ ' + '-'.repeat(n) + '1 }',
    '{ .a' + ' ^ 1'.repeat(n) + ' }',
    '{}' + ' >> {}'.repeat(n),
    '{ .a = 1' + ' && .a = 1'.repeat(n) + ' }',
    '{'.repeat(n),
  ];
  for (const q of deep) typedOrOk(runQuery, TraceqlParseError, q);
});
