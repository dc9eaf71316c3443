/** The TraceQL parser: trees for each construct, and errors worded and placed as Tempo's are. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldExpr, SpansetExpr } from './ast.js';
import { MAX_NESTING_DEPTH, MAX_OPERATORS, MAX_QUERY_LENGTH, parseGoDurationNanos } from './lexer.js';
import { parseTraceQL, TraceqlParseError } from './parser.js';

/** The first pipeline element's filter expression. */
function filterOf(q: string): FieldExpr | null {
  const el = parseTraceQL(q).pipeline.elements[0]!;
  assert.equal(el.t, 'filter', q);
  return (el as Extract<SpansetExpr, { t: 'filter' }>).expr;
}

/** A compact print of a field expression, to check precedence. */
function show(e: FieldExpr | null): string {
  if (e === null) return '∅';
  switch (e.t) {
    case 'static':
      return e.v.type === 'nil' ? 'nil' : `${e.v.type}:${String(e.v.v)}`;
    case 'attr':
      return `${e.scope}[${e.name}]`;
    case 'intrinsic':
      return e.which;
    case 'unary':
      return `(${e.op}${show(e.e)})`;
    case 'binary':
      return `(${show(e.l)} ${e.op} ${show(e.r)})`;
  }
}

function showSpanset(e: SpansetExpr): string {
  if (e.t === 'filter') return `{${show(e.expr)}}`;
  if (e.t === 'op') return `(${showSpanset(e.l)} ${e.op} ${showSpanset(e.r)})`;
  return `group[${e.pipeline.elements.length}]`;
}

function parseError(q: string): string {
  try {
    parseTraceQL(q);
  } catch (err) {
    assert.ok(err instanceof TraceqlParseError, `${q}: ${String(err)}`);
    assert.equal(err.code, 'bad_data');
    return err.message;
  }
  assert.fail(`${q} parsed`);
}

test('attributes: scopes, unscoped, quoted names, names with dots, dashes and colons', () => {
  assert.equal(show(filterOf('{ span.http.method = "GET" }')), '(span[http.method] = string:GET)');
  assert.equal(show(filterOf('{ resource.service.name = "a" }')), '(resource[service.name] = string:a)');
  assert.equal(show(filterOf('{ .service.name = "a" }')), '(any[service.name] = string:a)');
  assert.equal(show(filterOf('{ span."foo bar" = 1 }')), '(span[foo bar] = int:1)');
  assert.equal(show(filterOf('{ ."a\\"b" != nil }')), '(any[a"b] != nil)');
  assert.equal(show(filterOf('{ span.account-channel = "x" }')), '(span[account-channel] = string:x)');
  assert.equal(show(filterOf('{ .k8s.pod:name=`raw\\n` }')), '(any[k8s.pod:name] = string:raw\\n)');
  assert.equal(show(filterOf('{ event.exception.message != nil }')), '(event[exception.message] != nil)');
  assert.equal(show(filterOf('{ link.kind = "x" }')), '(link[kind] = string:x)');
});

test('literals: strings with escapes, ints, floats, durations, booleans, nil, statuses, kinds', () => {
  assert.equal(show(filterOf('{ .a = "tab\\there\\u00e9" }')), '(any[a] = string:tab\there\u00e9)');
  assert.equal(show(filterOf('{ .a = 42 }')), '(any[a] = int:42)');
  assert.equal(show(filterOf('{ .a = 4.5 }')), '(any[a] = float:4.5)');
  assert.equal(show(filterOf('{ .a = .5 }')), '(any[a] = float:0.5)');
  assert.equal(show(filterOf('{ .a = 1e3 }')), '(any[a] = float:1000)');
  assert.equal(show(filterOf('{ .a = -3 }')), '(any[a] = int:-3)');
  assert.equal(show(filterOf('{ duration > 1.5s }')), '(duration > duration:1500000000)');
  assert.equal(show(filterOf('{ duration > 200ms }')), '(duration > duration:200000000)');
  assert.equal(show(filterOf('{ duration > 1h30m }')), '(duration > duration:5400000000000)');
  assert.equal(show(filterOf('{ duration < 3us }')), '(duration < duration:3000)');
  assert.equal(show(filterOf('{ .a = true && .b = false }')), '((any[a] = bool:true) && (any[b] = bool:false))');
  assert.equal(
    show(filterOf('{ status = error || status = ok || status = unset }')),
    '(((status = status:error) || (status = status:ok)) || (status = status:unset))',
  );
  for (const k of ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'])
    assert.equal(show(filterOf(`{ kind = ${k} }`)), `(kind = kind:${k})`);
  assert.equal(parseGoDurationNanos('1m1s'), 61e9);
  assert.equal(parseGoDurationNanos('1x'), undefined);
});

test('intrinsics, bare and scoped', () => {
  const bare = ['duration', 'name', 'status', 'statusMessage', 'kind', 'rootName', 'rootServiceName', 'traceDuration', 'childCount'];
  for (const i of bare) assert.equal(show(filterOf(`{ ${i} != nil }`)), `(${i} != nil)`);
  const scoped: [string, string][] = [
    ['span:duration', 'duration'],
    ['span:name', 'name'],
    ['span:kind', 'kind'],
    ['span:status', 'status'],
    ['span:statusMessage', 'statusMessage'],
    ['span:id', 'spanID'],
    ['span:parentID', 'parentID'],
    ['trace:duration', 'traceDuration'],
    ['trace:rootName', 'rootName'],
    ['trace:rootService', 'rootServiceName'],
    ['trace:id', 'traceID'],
    ['instrumentation:name', 'instrumentationName'],
    ['event:name', 'eventName'],
    ['event:timeSinceStart', 'eventTimeSinceStart'],
    ['link:traceID', 'linkTraceID'],
    ['link:spanID', 'linkSpanID'],
  ];
  for (const [text, which] of scoped) assert.equal(show(filterOf(`{ ${text} != nil }`)), `(${which} != nil)`);
});

test('precedence inside filters: || < && < comparison < + - < * / % < unary < ^', () => {
  assert.equal(show(filterOf('{ .a = 1 || .b = 2 && .c = 3 }')), '((any[a] = int:1) || ((any[b] = int:2) && (any[c] = int:3)))');
  assert.equal(show(filterOf('{ .a + .b * .c > 1 }')), '((any[a] + (any[b] * any[c])) > int:1)');
  assert.equal(show(filterOf('{ .a - .b - .c = 0 }')), '(((any[a] - any[b]) - any[c]) = int:0)');
  assert.equal(show(filterOf('{ 2 ^ 3 ^ 2 = 512 }')), '((int:2 ^ (int:3 ^ int:2)) = int:512)');
  assert.equal(show(filterOf('{ !(.a = 1) && .b }')), '((!(any[a] = int:1)) && any[b])');
  assert.equal(show(filterOf('{ -.a * 2 < 0 }')), '(((-any[a]) * int:2) < int:0)');
  assert.equal(show(filterOf('{ (.a + 1) * 2 = 4 }')), '(((any[a] + int:1) * int:2) = int:4)');
  assert.equal(show(filterOf('{ .a =~ "x.*" && .b !~ "y" }')), '((any[a] =~ string:x.*) && (any[b] !~ string:y))');
  assert.equal(
    show(filterOf('{ .a >= 1 && .a <= 2 && .a < 3 && .a > 0 }')),
    '((((any[a] >= int:1) && (any[a] <= int:2)) && (any[a] < int:3)) && (any[a] > int:0))',
  );
});

test('spanset operators: || < && < structural, left to right, as in Tempo', () => {
  const top = (q: string): string => showSpanset(parseTraceQL(q).pipeline.elements[0] as SpansetExpr);
  assert.equal(top('{ true } && { false } >> { .a }'), '({bool:true} && ({bool:false} >> {any[a]}))');
  assert.equal(top('{ true } >> { false } && { .a }'), '(({bool:true} >> {bool:false}) && {any[a]})');
  assert.equal(top('{ true } >> { false } ~ { .a }'), '(({bool:true} >> {bool:false}) ~ {any[a]})');
  assert.equal(top('{ true } || { false } && { .a }'), '({bool:true} || ({bool:false} && {any[a]}))');
  assert.equal(top('({ true } || { false }) && { .a }'), '(({bool:true} || {bool:false}) && {any[a]})');
  for (const op of ['>', '>>', '<', '<<', '~', '!>', '!>>', '!<', '!<<', '!~', '&>', '&>>', '&<', '&<<', '&~']) {
    assert.equal(top(`{ .a } ${op} { .b }`), `({any[a]} ${op} {any[b]})`);
  }
  assert.equal(top('({ .a } | { .b }) > { .c }'), '(group[2] > {any[c]})');
  assert.equal(top('{}'), '{∅}');
});

test('pipelines: aggregates, by, select, coalesce; metrics stages', () => {
  const els = parseTraceQL('{ .a } | by(resource.service.name) | count() > 2 | avg(duration) >= 1s | select(span.x, status) | coalesce()').pipeline.elements;
  assert.deepEqual(
    els.map((e) => e.t),
    ['filter', 'by', 'scalar', 'scalar', 'select', 'coalesce'],
  );
  const by = els[1] as Extract<(typeof els)[number], { t: 'by' }>;
  assert.equal(by.text, 'resource.service.name');
  const avg = els[3] as Extract<(typeof els)[number], { t: 'scalar' }>;
  assert.deepEqual([avg.fn, avg.op, avg.value], ['avg', '>=', { type: 'duration', v: 1e9 }]);
  const min = parseTraceQL('{} | min(span.x) < -2.5').pipeline.elements[1] as Extract<(typeof els)[number], { t: 'scalar' }>;
  assert.deepEqual(min.value, { type: 'float', v: -2.5 });

  const m = parseTraceQL('{ status = error } | quantile_over_time(duration, .5, 0.99, 1) by (resource.service.name, span.http.route)').metrics!;
  assert.equal(m.fn, 'quantile_over_time');
  assert.deepEqual(m.quantiles, [0.5, 0.99, 1]);
  assert.deepEqual(
    m.by.map((b) => b.text),
    ['resource.service.name', 'span.http.route'],
  );
  assert.equal(parseTraceQL('{} | rate()').metrics!.fn, 'rate');
  assert.equal(parseTraceQL('{} | count_over_time() by (name)').metrics!.by[0]!.text, 'name');
  assert.equal(parseTraceQL('{} | max_over_time(span:duration)').metrics!.field!.text, 'span:duration');
  assert.equal(parseTraceQL('{} | histogram_over_time(duration) by (kind)').metrics!.fn, 'histogram_over_time');
  assert.deepEqual(parseTraceQL('{} | rate() by (name) | topk(5)').metrics!.top, { fn: 'topk', n: 5 });
  assert.deepEqual(parseTraceQL('{} | rate() | bottomk(2)').metrics!.top, { fn: 'bottomk', n: 2 });
  assert.equal(parseTraceQL('{}').metrics, null);
  assert.deepEqual(parseTraceQL('{ .a } with(most_recent=true)').hints, { most_recent: { type: 'bool', v: true } });
  assert.deepEqual(parseTraceQL('{} | rate() by (name) with (sample = 0.1, exemplars = 5)').hints, {
    sample: { type: 'float', v: 0.1 },
    exemplars: { type: 'int', v: 5 },
  });
  assert.deepEqual(parseTraceQL('{}').hints, {});
});

test('syntax errors: Tempo wording, line and column of the offending token', () => {
  const cases: [string, string][] = [
    ['{ .a } | { .b', 'parse error at line 1, col 14: syntax error: unexpected $end'],
    ['{ .a | .b }', 'parse error at line 1, col 6: syntax error: unexpected |'],
    ['({ .a } | { .b }', 'parse error at line 1, col 17: syntax error: unexpected $end, expecting ) or |'],
    ['{ true } &&', 'parse error at line 1, col 12: syntax error: unexpected $end, expecting { or ('],
    ['{} | by()', 'parse error at line 1, col 9: syntax error: unexpected )'],
    ['{} | select()', 'parse error at line 1, col 13: syntax error: unexpected )'],
    ['{ foo = 1 }', 'parse error at line 1, col 3: syntax error: unexpected IDENTIFIER'],
    ['{ .a = }', 'parse error at line 1, col 8: syntax error: unexpected }'],
    ['{ .a = 1 .b = 2 }', 'parse error at line 1, col 10: syntax error: unexpected .'],
    ['{ .a = 1 } { .b }', 'parse error at line 1, col 12: syntax error: unexpected {'],
    ['{ .a = "x }', 'parse error at line 1, col 8: literal not terminated'],
    ['{ .a = 1 }\n  && {\n .b = }', 'parse error at line 3, col 7: syntax error: unexpected }'],
    ['', 'parse error at line 1, col 1: syntax error: unexpected $end, expecting { or ('],
    ['coalesce()', 'parse error at line 1, col 1: syntax error: unexpected coalesce, expecting { or ('],
    ['{ .a } | count() > ', 'parse error at line 1, col 20: syntax error: unexpected $end'],
    ['{ .a } | count() > 1 && count() > 2', 'parse error at line 1, col 22: syntax error: unexpected &&'],
    ['{ duration > 1x }', 'parse error at line 1, col 14: time: invalid duration "1x"'],
    ['{ span:foo = 1 }', 'parse error at line 1, col 3: unknown intrinsic span:foo'],
    ['{ parent.x = 1 }', 'parse error at line 1, col 3: attribute scope "parent." is not supported'],
    ['{ span. = 1 }', 'parse error at line 1, col 3: syntax error: unexpected END_ATTRIBUTE'],
    ['{ .a = 1 } $', 'parse error at line 1, col 12: syntax error: unexpected character "$"'],
    ['{ name =~ "a(" }', 'parse error at line 1, col 11: invalid regex: error parsing regexp: missing closing ): `a(`'],
    ['{ name =~ 1 }', 'parse error at line 1, col 11: syntax error: regex operator =~ needs a string literal on its right'],
    ['{} | rate() by (', 'parse error at line 1, col 17: syntax error: unexpected $end'],
    ['{} | quantile_over_time(duration, 2)', 'parse error at line 1, col 35: quantile 2 is outside [0, 1]'],
    ['{} | quantile_over_time(duration)', 'parse error at line 1, col 33: syntax error: unexpected ), expecting ,'],
    ['{} | rate() | count() > 1', 'parse error at line 1, col 15: syntax error: unexpected count'],
    ['{} with(', 'parse error at line 1, col 9: syntax error: unexpected $end'],
    ['{} with(a)', 'parse error at line 1, col 10: syntax error: unexpected ), expecting ='],
    ['{} | rate() | topk(0)', 'parse error at line 1, col 20: syntax error: unexpected INTEGER'],
    ['({} | rate())', 'parse error at line 1, col 7: syntax error: unexpected rate'],
  ];
  for (const [q, want] of cases) assert.equal(parseError(q), want, JSON.stringify(q));
});

test('limits: query length and nesting depth give the typed error, never a stack overflow', () => {
  assert.match(parseError('{ .a = "' + 'x'.repeat(MAX_QUERY_LENGTH) + '" }'), /longer than the limit of 65536/);
  const deep = '('.repeat(MAX_NESTING_DEPTH + 1) + '{}' + ')'.repeat(MAX_NESTING_DEPTH + 1);
  assert.match(parseError(deep), /nesting deeper than 64 levels/);
  const ok = '('.repeat(MAX_NESTING_DEPTH - 1) + '{}' + ')'.repeat(MAX_NESTING_DEPTH - 1);
  assert.equal(parseTraceQL(ok).pipeline.elements[0]!.t, 'filter');
  assert.match(parseError('{ ' + '('.repeat(5000) + '.a' + ')'.repeat(5000) + ' }'), /nesting deeper/);
  assert.match(parseError('{ ' + '!'.repeat(5000) + '.a }'), /nesting deeper/);
  assert.match(parseError('{ .a' + ' ^ .a'.repeat(5000) + ' }'), /nesting deeper/);
  // Flat chains parse up to the operator limit (evaluation recurses along them), and no further.
  assert.equal(parseTraceQL('{ .a = 1' + ' && .a = 1'.repeat(450) + ' }').pipeline.elements.length, 1);
  assert.equal(parseTraceQL('{}' + ' >> {}'.repeat(MAX_OPERATORS)).pipeline.elements.length, 1);
  assert.match(parseError('{}' + ' >> {}'.repeat(MAX_OPERATORS + 1)), /more than 1000 operators/);
  assert.match(parseError('{ .a' + ' + .a'.repeat(5000) + ' > 1 }'), /more than 1000 operators/);
});
