import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  exprType,
  type AggregateExpr,
  type BinaryExpr,
  type Call,
  type Expr,
  type MatrixSelector,
  type NumberLiteral,
  type SubqueryExpr,
  type ValueType,
  type VectorSelector,
} from './ast.js';
import { ParseError, parseExpr, parseSeriesSelector } from './parser.js';
import { formatExpr, formatMatcher } from './printer.js';
import { coreScripts, findPromqlTestDir, normalize, readScriptExprs } from '../../../testkit/promql_parser.js';

/** Structure with explicit grouping: `(a op b)` for binary, `(-x)` for unary, `[x]` for parentheses. */
function shape(e: Expr): string {
  switch (e.kind) {
    case 'BinaryExpr':
      return `(${shape(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''} ${shape(e.rhs)})`;
    case 'UnaryExpr':
      return `(${e.op}${shape(e.expr)})`;
    case 'ParenExpr':
      return `[${shape(e.expr)}]`;
    default:
      return formatExpr(e);
  }
}

function as<K extends Expr['kind']>(e: Expr, kind: K): Extract<Expr, { kind: K }> {
  assert.equal(e.kind, kind);
  return e as Extract<Expr, { kind: K }>;
}

function matchers(vs: VectorSelector): string[] {
  return vs.matchers.map(formatMatcher);
}

describe('parser: precedence and associativity', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['1 * 2 + 3', '((1 * 2) + 3)'],
    ['a - b - c', '((a - b) - c)'],
    ['a / b * c % d', '(((a / b) * c) % d)'],
    ['a atan2 b * c', '((a atan2 b) * c)'],
    ['a + b atan2 c', '(a + (b atan2 c))'],
    ['2 ^ 3 ^ 2', '(2 ^ (3 ^ 2))'],
    ['a % b ^ c', '(a % (b ^ c))'],
    ['-2 ^ 2', '(-(2 ^ 2))'],
    ['-1^-2', '(-(1 ^ -2))'],
    ['-1 * 2', '(-1 * 2)'],
    ['-1 + 2', '(-1 + 2)'],
    ['+1 + -2 * 1', '(1 + (-2 * 1))'],
    ['1 - -1', '(1 - -1)'],
    ['2 ^ -3 * 4', '((2 ^ -3) * 4)'],
    ['2 ^ -3 ^ 2', '(2 ^ (-(3 ^ 2)))'],
    ['-a * b', '((-a) * b)'],
    ['-a ^ b', '(-(a ^ b))'],
    ['- - a', '(-(-a))'],
    ['a + b > c', '((a + b) > c)'],
    ['a > b and c < d', '((a > b) and (c < d))'],
    ['a > bool b == bool c', '((a > bool b) == bool c)'],
    ['a or b and c', '(a or (b and c))'],
    ['a and b or c', '((a and b) or c)'],
    ['a and b unless c', '((a and b) unless c)'],
    ['a unless b and c', '((a unless b) and c)'],
    ['a or b or c', '((a or b) or c)'],
    ['foo + bar or bla and blub', '((foo + bar) or (bla and blub))'],
    ['1 < bool 2 - 1 * 2', '(1 < bool (2 - (1 * 2)))'],
    ['(1 + 2) * 3', '([(1 + 2)] * 3)'],
    ['-(1 + 2)', '(-[(1 + 2)])'],
    ['-foo offset 5m', '(-foo offset 5m)'],
    ['a + b offset 1m', '(a + b offset 1m)'],
    ['-rate(x[5m])', '(-rate(x[5m]))'],
    ['a * on(x) group_left(y) b + c', '((a * b) + c)'],
    ['sum(a) by (x) / sum(b)', '(sum by (x) (a) / sum(b))'],
  ];
  for (const [input, want] of cases) it(input, () => assert.equal(shape(parseExpr(input)), want));
});

describe('parser: literals', () => {
  const numbers: ReadonlyArray<readonly [string, number]> = [
    ['1', 1],
    ['.5', 0.5],
    ['5.', 5],
    ['123.4567', 123.4567],
    ['5e-3', 0.005],
    ['5e3', 5000],
    ['12.34e+6', 12340000],
    ['0xc', 12],
    ['0x1F', 31],
    ['0755', 493],
    ['-0755', -493],
    ['08', 8],
    ['1_000', 1000],
    ['+5.5e-3', 0.0055],
    ['Inf', Infinity],
    ['+Inf', Infinity],
    ['-inf', -Infinity],
    ['NaN', NaN],
    ['nan', NaN],
  ];
  for (const [input, want] of numbers) {
    it(`number ${input}`, () => assert.equal(as(parseExpr(input), 'NumberLiteral').value, want));
  }

  it('keeps the sign in the literal position', () => {
    const n = as(parseExpr(' -1'), 'NumberLiteral');
    assert.deepEqual(n.pos, { start: 1, end: 3 });
  });

  it('reads a bare duration as seconds, marked as a duration', () => {
    const n: NumberLiteral = as(parseExpr('5m'), 'NumberLiteral');
    assert.equal(n.value, 300);
    assert.equal(n.duration, true);
    assert.equal(as(parseExpr('-1h30m'), 'NumberLiteral').value, -5400);
  });

  const strings: ReadonlyArray<readonly [string, string]> = [
    [`"double-quoted string \\" with escaped quote"`, 'double-quoted string " with escaped quote'],
    [`'single-quoted string \\' with escaped quote'`, "single-quoted string ' with escaped quote"],
    ['`backtick-quoted string`', 'backtick-quoted string'],
    [`"\\a\\b\\f\\n\\r\\t\\v\\\\\\" - \\u1234\\U00010111☺"`, '\x07\b\f\n\r\t\v\\" - \u1234\u{10111}☺'],
    ['`\\a\\b`', '\\a\\b'],
  ];
  for (const [input, want] of strings) {
    it(`string ${input}`, () => assert.equal(as(parseExpr(input), 'StringLiteral').value, want));
  }
});

describe('parser: selectors', () => {
  it('parses a metric name with matchers (name matcher last)', () => {
    const vs = as(parseExpr('foo{a="b", foo!="bar", test=~"test", bar!~"baz",}'), 'VectorSelector');
    assert.equal(vs.name, 'foo');
    assert.deepEqual(matchers(vs), ['a="b"', 'foo!="bar"', 'test=~"test"', 'bar!~"baz"', '__name__="foo"']);
    assert.deepEqual(vs.pos, { start: 0, end: 49 });
    assert.equal(vs.offset, 0);
    assert.equal(vs.at, undefined);
  });

  it('accepts keywords and metric identifiers as metric names', () => {
    for (const name of ['min', 'sum', 'by', 'offset', 'and', 'without', 'limitk', 'foo:bar', ':a:b', 'start', 'step']) {
      const vs = as(parseExpr(name), 'VectorSelector');
      assert.equal(vs.name, name);
    }
    const vs = as(parseExpr('offset{step="1s"}'), 'VectorSelector');
    assert.deepEqual(matchers(vs), ['step="1s"', '__name__="offset"']);
  });

  it('accepts quoted metric and label names (UTF-8)', () => {
    const vs = as(parseExpr('{"my.metric", "a b"="c", a="b"}'), 'VectorSelector');
    assert.equal(vs.name, undefined);
    assert.deepEqual(matchers(vs), ['__name__="my.metric"', '"a b"="c"', 'a="b"']);
    const vs2 = as(parseExpr(`{'foo\\'bar', 'a\\\\dos\\\\path'='boo\\\\urns'}`), 'VectorSelector');
    assert.deepEqual(
      vs2.matchers.map((m) => [m.name, m.type, m.value]),
      [
        ['__name__', '=', "foo'bar"],
        ['a\\dos\\path', '=', 'boo\\urns'],
      ],
    );
  });

  it('allows __name__ twice inside braces', () => {
    assert.deepEqual(matchers(as(parseExpr('{__name__=~"bar", __name__!~"baz"}'), 'VectorSelector')), ['__name__=~"bar"', '__name__!~"baz"']);
    assert.equal(as(parseExpr('{"bar", __name__="baz"}'), 'VectorSelector').matchers.length, 2);
  });

  it('parses offsets, negative offsets and @ in either order', () => {
    const cases: ReadonlyArray<readonly [string, number, VectorSelector['at'], number]> = [
      ['foo offset 5m', 300000, undefined, 13],
      ['foo offset -7m', -420000, undefined, 14],
      ['foo OFFSET 1h30m', 5400000, undefined, 16],
      ['foo OFFSET 1m30ms', 60030, undefined, 17],
      ['foo offset 3600', 3600000, undefined, 15],
      ['foo offset 1.5', 1500, undefined, 14],
      ['foo @ 1603774568', 0, 1603774568000, 16],
      ['foo @ -100', 0, -100000, 10],
      ['foo @ .3', 0, 300, 8],
      ['foo @ 3.3335', 0, 3334, 12],
      ['foo @ 0xA', 0, 10000, 9],
      ['foo @ -3.3e1', 0, -33000, 12],
      ['foo @ 1m', 0, 60000, 8],
      ['foo @ start()', 0, 'start', 13],
      ['foo @ end()', 0, 'end', 11],
      ['foo @ START()', 0, 'start', 13],
      ['foo offset 5m @ 10', 300000, 10000, 18],
      ['foo @ 10 offset 5m', 300000, 10000, 18],
      ['foo @ end() offset -1m', -60000, 'end', 22],
    ];
    for (const [input, offset, at, end] of cases) {
      const vs = as(parseExpr(input), 'VectorSelector');
      assert.equal(vs.offset, offset, input);
      assert.equal(vs.at, at, input);
      assert.deepEqual(vs.pos, { start: 0, end }, input);
    }
  });

  it('parses range selectors with durations and plain seconds', () => {
    const cases: ReadonlyArray<readonly [string, number, number, VectorSelector['at'], number]> = [
      ['test[5s]', 5000, 0, undefined, 8],
      ['test[1001ms]', 1001, 0, undefined, 12],
      ['foo[5m30s]', 330000, 0, undefined, 10],
      ['test[5]', 5000, 0, undefined, 7],
      ['foo[4.018] @ 2.345', 4018, 0, 2345, 18],
      ['foo[4s180ms] @ 2.345', 4180, 0, 2345, 20],
      ['test[5d] OFFSET 10s', 432000000, 10000, undefined, 19],
      ['test[5w] offset 2w', 3024000000, 1209600000, undefined, 18],
      ['test{a="b"}[5y] OFFSET 3d', 157680000000, 259200000, undefined, 25],
      ['some_metric[5m] @ 1m', 300000, 0, 60000, 20],
      ['foo[5m] offset 1m @ start()', 300000, 60000, 'start', 27],
      ['foo[ 5m ]', 300000, 0, undefined, 9],
    ];
    for (const [input, range, offset, at, end] of cases) {
      const ms: MatrixSelector = as(parseExpr(input), 'MatrixSelector');
      assert.equal(ms.range, range, input);
      assert.equal(ms.vectorSelector.offset, offset, input);
      assert.equal(ms.vectorSelector.at, at, input);
      assert.deepEqual(ms.pos, { start: 0, end }, input);
    }
  });

  it('parses subqueries with and without a step, with modifiers', () => {
    const cases: ReadonlyArray<readonly [string, number, number, number, SubqueryExpr['at'], number]> = [
      ['foo{bar="baz"}[10m:6s]', 600000, 6000, 0, undefined, 22],
      ['foo{bar="baz"}[10m5s:1h6ms]', 605000, 3600006, 0, undefined, 27],
      ['foo[10m:]', 600000, 0, 0, undefined, 9],
      ['foo[5:1]', 5000, 1000, 0, undefined, 8],
      ['rate(foo[2s])[5m:] offset 4m', 300000, 0, 240000, undefined, 28],
      ['rate(foo[2s])[5m:] @ 1603775091', 300000, 0, 0, 1603775091000, 31],
      ['rate(foo[2s])[5m:1m] @ end() offset 1m', 300000, 60000, 60000, 'end', 38],
      ['(foo + bar)[5m:]', 300000, 0, 0, undefined, 16],
    ];
    for (const [input, range, step, offset, at, end] of cases) {
      const sq = as(parseExpr(input), 'SubqueryExpr');
      assert.equal(sq.range, range, input);
      assert.equal(sq.step, step, input);
      assert.equal(sq.offset, offset, input);
      assert.equal(sq.at, at, input);
      assert.deepEqual(sq.pos, { start: 0, end }, input);
    }
    const nested = as(parseExpr('min_over_time(rate(foo{bar="baz"}[2s])[5m:])[4m:3s]'), 'SubqueryExpr');
    assert.equal(as(nested.expr, 'Call').func.name, 'min_over_time');
    assert.deepEqual(nested.pos, { start: 0, end: 51 });
  });
});

describe('parser: binary operations', () => {
  function bin(input: string): BinaryExpr {
    return as(parseExpr(input), 'BinaryExpr');
  }

  it('drops vector matching when a side is a scalar', () => {
    assert.equal(bin('foo == 1').vectorMatching, undefined);
    assert.equal(bin('2.5 / bar').vectorMatching, undefined);
    assert.equal(bin('1 + 1').vectorMatching, undefined);
    assert.equal(bin('foo == bool 1').returnBool, true);
  });

  it('defaults to one-to-one and makes set operators many-to-many', () => {
    assert.deepEqual(bin('foo * bar').vectorMatching, { card: 'one-to-one', on: false, matchingLabels: [], include: [] });
    for (const op of ['and', 'or', 'unless']) {
      assert.deepEqual(bin(`foo ${op} bar`).vectorMatching, { card: 'many-to-many', on: false, matchingLabels: [], include: [] });
    }
  });

  it('parses on/ignoring and group_left/group_right', () => {
    const cases: ReadonlyArray<readonly [string, NonNullable<BinaryExpr['vectorMatching']>]> = [
      ['foo * on(test,blub) bar', { card: 'one-to-one', on: true, matchingLabels: ['test', 'blub'], include: [] }],
      ['foo * on(test,blub) group_left bar', { card: 'many-to-one', on: true, matchingLabels: ['test', 'blub'], include: [] }],
      ['foo and on(test,blub) bar', { card: 'many-to-many', on: true, matchingLabels: ['test', 'blub'], include: [] }],
      ['foo and on() bar', { card: 'many-to-many', on: true, matchingLabels: [], include: [] }],
      ['foo and ignoring(test,blub) bar', { card: 'many-to-many', on: false, matchingLabels: ['test', 'blub'], include: [] }],
      ['foo unless ignoring() bar', { card: 'many-to-many', on: false, matchingLabels: [], include: [] }],
      ['foo / on(a) group_right(b, c) bar', { card: 'one-to-many', on: true, matchingLabels: ['a'], include: ['b', 'c'] }],
      ['foo - ignoring(a) group_left() bar', { card: 'many-to-one', on: false, matchingLabels: ['a'], include: [] }],
      ['foo > bool on(a) bar', { card: 'one-to-one', on: true, matchingLabels: ['a'], include: [] }],
      ['foo + on("a.b", c,) bar', { card: 'one-to-one', on: true, matchingLabels: ['a.b', 'c'], include: [] }],
      ['foo + ON(a) GROUP_LEFT(b) bar', { card: 'many-to-one', on: true, matchingLabels: ['a'], include: ['b'] }],
    ];
    for (const [input, want] of cases) assert.deepEqual(bin(input).vectorMatching, want, input);
  });

  it('takes "(" after group_left as its label list', () => {
    const e = bin('a * on(x) group_left (b) (c)');
    assert.deepEqual(e.vectorMatching?.include, ['b']);
    assert.equal(e.rhs.kind, 'ParenExpr');
  });

  it('records positions', () => {
    const e = bin('foo + bar');
    assert.deepEqual(e.pos, { start: 0, end: 9 });
    assert.deepEqual(e.rhs.pos, { start: 6, end: 9 });
  });
});

describe('parser: aggregations', () => {
  function agg(input: string): AggregateExpr {
    return as(parseExpr(input), 'AggregateExpr');
  }
  const cases: ReadonlyArray<readonly [string, string, string[], boolean, number]> = [
    ['sum by (foo)(some_metric)', 'sum', ['foo'], false, 25],
    ['avg by (foo)(some_metric)', 'avg', ['foo'], false, 25],
    ['sum without (foo) (some_metric)', 'sum', ['foo'], true, 31],
    ['sum (some_metric) without (foo)', 'sum', ['foo'], true, 31],
    ['sum(some_metric) by (a, b)', 'sum', ['a', 'b'], false, 26],
    ['stddev(some_metric)', 'stddev', [], false, 19],
    ['sum by ()(some_metric)', 'sum', [], false, 22],
    ['sum by (foo,bar,)(some_metric)', 'sum', ['foo', 'bar'], false, 30],
    ['sum by ("foo bar")({"some.metric"})', 'sum', ['foo bar'], false, 35],
    ['sum by ("foo", bar, \'baz\')({"some.metric"})', 'sum', ['foo', 'bar', 'baz'], false, 43],
    ['sum without(and, by, avg, count, alert, annotations)(some_metric)', 'sum', ['and', 'by', 'avg', 'count', 'alert', 'annotations'], true, 65],
    ['SUM(x) BY (job)', 'sum', ['job'], false, 15],
    ['group(x)', 'group', [], false, 8],
    ['sum(sum)', 'sum', [], false, 8],
  ];
  for (const [input, op, grouping, without, end] of cases) {
    it(input, () => {
      const a = agg(input);
      assert.equal(a.op, op);
      assert.deepEqual(a.grouping, grouping);
      assert.equal(a.without, without);
      assert.deepEqual(a.pos, { start: 0, end });
      assert.equal(a.param, undefined);
    });
  }

  it('parses parameters', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['topk(5, some_metric)', '5'],
      ['bottomk by (a) (5, some_metric)', '5'],
      ['quantile(0.9, some_metric)', '0.9'],
      ['count_values("value", some_metric)', '"value"'],
      ['limitk(2, some_metric)', '2'],
      ['limit_ratio(0.5, some_metric)', '0.5'],
      ['topk(scalar(foo), some_metric)', 'scalar(foo)'],
      ['limit_ratio( - (1.0 - (time() % 17/17)), x)', '-(1 - (time() % 17 / 17))'],
    ];
    for (const [input, param] of cases) {
      const a = agg(input);
      assert.ok(a.param !== undefined, input);
      assert.equal(formatExpr(a.param), param, input);
      assert.equal(a.expr.kind, 'VectorSelector');
    }
  });
});

describe('parser: function calls', () => {
  function call(input: string): Call {
    return as(parseExpr(input), 'Call');
  }
  it('parses calls with their arguments and positions', () => {
    const c = call('round(some_metric, 5)');
    assert.equal(c.func.name, 'round');
    assert.equal(c.args.length, 2);
    assert.deepEqual(c.pos, { start: 0, end: 21 });
    assert.deepEqual(call('time()').args, []);
    assert.deepEqual(call('rate(some_metric[5m])').pos, { start: 0, end: 21 });
  });

  it('accepts optional and variadic arguments', () => {
    for (const input of [
      'hour()',
      'hour(foo)',
      'round(foo)',
      'label_join(foo, "a", ",")',
      'label_join(foo, "a", ",", "b", "c", "d")',
      'sort_by_label(foo, "a", "b", "c")',
      'histogram_quantiles(foo, "q", 0.1, 0.5, 0.9)',
      'info(foo)',
      'info(foo, {data=~".+"})',
      'info(foo, {x=~".*"})',
    ]) {
      assert.doesNotThrow(() => parseExpr(input), input);
    }
  });

  it('parses the Prometheus 3 scalar functions', () => {
    for (const name of ['start', 'end', 'step', 'range', 'time', 'pi']) {
      const c = call(`${name}()`);
      assert.equal(c.func.name, name);
      assert.equal(exprType(c), 'scalar');
    }
    assert.equal(exprType(call('min_of(1, 2)')), 'scalar');
    assert.equal(shape(parseExpr('end() - start()')), '(end() - start())');
    assert.equal(as(parseExpr('metric @ start()'), 'VectorSelector').at, 'start');
  });

  it('gates experimental functions behind the option', () => {
    const off = { enableExperimentalFunctions: false } as const;
    assert.throws(() => parseExpr('sort_by_label(foo, "a")', off), { message: '1:1: parse error: function "sort_by_label" is not enabled' });
    assert.throws(() => parseExpr('limitk(1, foo)', off), {
      message: '1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions',
    });
    assert.doesNotThrow(() => parseExpr('rate(foo[5m])', off));
  });
});

describe('parser: exprType', () => {
  const cases: ReadonlyArray<readonly [string, ValueType]> = [
    ['1', 'scalar'],
    ['"s"', 'string'],
    ['foo', 'vector'],
    ['foo[5m]', 'matrix'],
    ['foo[5m:]', 'matrix'],
    ['(foo)', 'vector'],
    ['-foo', 'vector'],
    ['-(1)', 'scalar'],
    ['1 + 2', 'scalar'],
    ['1 + foo', 'vector'],
    ['sum(foo)', 'vector'],
    ['scalar(foo)', 'scalar'],
    ['rate(foo[5m])', 'vector'],
    ['time()', 'scalar'],
    ['("s")', 'string'],
  ];
  for (const [input, t] of cases) it(`${input} is ${t}`, () => assert.equal(exprType(parseExpr(input)), t));
});

describe('parser: errors', () => {
  // Messages and positions as Prometheus reports them.
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['', 'unknown position: parse error: no expression found in input'],
    ['# just a comment\n\n', '1:1: parse error: no expression found in input'],
    ['1+', '1:3: parse error: unexpected end of input'],
    ['1 /', '1:4: parse error: unexpected end of input'],
    ['.', "1:1: parse error: unexpected character: '.'"],
    ['2.5.', '1:1: parse error: bad number or duration syntax: "2.5."'],
    ['*1', '1:1: parse error: unexpected <op:*>'],
    ['(1))', "1:5: parse error: unexpected right parenthesis ')'"],
    ['((1)', '1:5: parse error: unclosed left parenthesis'],
    ['(', '1:2: parse error: unclosed left parenthesis'],
    ['rate(foo[5m]', '1:13: parse error: unclosed left parenthesis'],
    ['1 and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
    ['1 or 1', '1:1: parse error: set operator "or" not allowed in binary scalar expression'],
    ['scalar(foo) unless 1', '1:1: parse error: set operator "unless" not allowed in binary scalar expression'],
    ['1 == 1', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
    ['1 !~ 1', "1:3: parse error: unexpected character after '!': '~'"],
    ['1 =~ 1', "1:3: parse error: unexpected character after '=': '~'"],
    ['-"string"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
    ['-test[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
    ['@@', '1:1: parse error: unexpected <op:@>'],
    ['1 offset 1d', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['sum(foo) offset 5m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['foo offset 1s offset 2s', '1:1: parse error: offset may not be set multiple times'],
    ['a - on(b) ignoring(c) d', '1:11: parse error: unexpected <ignoring>'],
    ['foo or on(bar) group_left(baz) bar', '1:1: parse error: no grouping allowed for "or" operation'],
    ['foo unless on(bar) group_right(baz) bar', '1:1: parse error: no grouping allowed for "unless" operation'],
    [
      'http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"}',
      '1:35: parse error: label "instance" must not occur in ON and GROUP clause at once',
    ],
    ['foo + bool bar', '1:5: parse error: bool modifier can only be used on comparison operators'],
    ['foo + bool 10', '1:5: parse error: bool modifier can only be used on comparison operators'],
    ['foo and bool 10', '1:5: parse error: bool modifier can only be used on comparison operators'],
    ['1 + on(a) foo', '1:1: parse error: vector matching only allowed between instant vectors'],
    ['foo + "str"', '1:7: parse error: binary expression must contain only scalar and instant vector types'],
    ['foo[5m] + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
    ['foo @ +Inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'],
    ['foo @ -Inf', '1:1: parse error: timestamp out of bounds for @ modifier: -Inf'],
    ['foo @ NaN', '1:1: parse error: timestamp out of bounds for @ modifier: NaN'],
    ['foo @ 9223372036854775808.000000', '1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000'],
    ['foo @ 1 @ 2', '1:1: parse error: @ <timestamp> may not be set multiple times'],
    ['rate(some_metric[5m]) @ 1234', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['some_metric[5m] @', '1:18: parse error: unexpected end of input in @, expected timestamp'],
    ['{', '1:2: parse error: unexpected end of input inside braces'],
    ['}', "1:1: parse error: unexpected character: '}'"],
    ['some}', "1:5: parse error: unexpected character: '}'"],
    ['some_metric{a=b}', '1:15: parse error: unexpected identifier "b" in label matching, expected string'],
    ['some_metric{a:b="b"}', "1:14: parse error: unexpected character inside braces: ':'"],
    ['foo{gibberish}', '1:14: parse error: unexpected "}" in label matching, expected label matching operator'],
    ['foo{1}', "1:5: parse error: unexpected character inside braces: '1'"],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x!~".+"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{x!="a"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
    ['foo{__name__= =}', '1:15: parse error: unexpected "=" in label matching, expected string'],
    ['foo{,}', '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'],
    ['foo{__name__ == "bar"}', '1:15: parse error: unexpected "=" in label matching, expected string'],
    ['foo{__name__="bar" lol}', '1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}"'],
    ['foo{"a"=}', '1:9: parse error: unexpected "}" in label matching, expected string'],
    ['foo{a="b"} {c="d"}', '1:12: parse error: unexpected "{"'],
    ['foo[5mm]', '1:5: parse error: bad number or duration syntax: "5mm"'],
    ['foo[5m1]', '1:5: parse error: bad number or duration syntax: "5m1"'],
    ['foo[5m:1m1]', '1:8: parse error: bad number or duration syntax: "1m1"'],
    ['foo[5y1hs]', '1:5: parse error: unknown unit "hs" in duration "5y1hs"'],
    ['foo[5m1h]', '1:5: parse error: not a valid duration string: "5m1h"'],
    ['foo[5m1m]', '1:5: parse error: not a valid duration string: "5m1m"'],
    ['foo[0m]', '1:5: parse error: duration must be greater than 0'],
    ['foo[-1]', '1:5: parse error: duration must be greater than 0'],
    ['foo[5m:0s]', '1:8: parse error: duration must be greater than 0'],
    ['foo["5m"]', `1:5: parse error: unexpected character in duration expression: '"'`],
    ['foo[]', '1:5: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
    ['foo[5m 1m]', '1:8: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]"'],
    ['foo[5m:1m 2m]', '1:11: parse error: unexpected duration "2m" in subquery selector, expected "]"'],
    ['foo{bar="baz"}[', '1:16: parse error: unexpected end of input in duration expression'],
    ['foo[5m+1m]', '1:5: parse error: experimental duration expression is not enabled'],
    ['foo[step()]', '1:5: parse error: experimental duration expression is not enabled'],
    ['foo offset (1m)', '1:12: parse error: experimental duration expression is not enabled'],
    ['some_metric[5m] OFFSET 1mm', '1:24: parse error: bad number or duration syntax: "1mm"'],
    ['some_metric[5m] OFFSET', '1:23: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'],
    ['foo offset 1e20', '1:12: parse error: duration out of range'],
    ['foo offset 300000y', '1:12: parse error: duration out of range'],
    ['some_metric OFFSET 1m[5m]', '1:22: parse error: no offset modifiers allowed before range'],
    ['some_metric @ 1234 [5m]', '1:20: parse error: no @ modifiers allowed before range'],
    ['(foo + bar)[5m]', '1:12: parse error: ranges only allowed for vector selectors'],
    ['rate(foo[5m])[1m]', '1:14: parse error: ranges only allowed for vector selectors'],
    ['test[5d] OFFSET 10s [10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
    ['(foo + bar{nm="val"})[5m:][10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
    ['sum by ("foo)(some_metric{})', '1:9: parse error: unterminated quoted string'],
    ['sum by ("")(x)', '1:9: parse error: invalid label name for grouping: ""'],
    ['sum without(==)(some_metric)', '1:13: parse error: unexpected <op:==> in grouping opts, expected label'],
    ['sum without(,)(some_metric)', '1:13: parse error: unexpected "," in grouping opts, expected label'],
    ['sum without(foo,,)(some_metric)', '1:17: parse error: unexpected "," in grouping opts, expected label'],
    ['sum without(foo bar)(x)', '1:17: parse error: unexpected identifier "bar" in grouping opts, expected "," or ")"'],
    ['sum some_metric by (test)', '1:5: parse error: unexpected identifier "some_metric"'],
    ['sum (some_metric) by test', '1:22: parse error: unexpected identifier "test" in grouping opts, expected "("'],
    ['sum () by (test)', '1:1: parse error: no arguments for aggregate expression provided'],
    ['MIN keep_common (some_metric)', '1:5: parse error: unexpected identifier "keep_common"'],
    ['MIN (some_metric) keep_common', '1:19: parse error: unexpected identifier "keep_common"'],
    ['sum (some_metric) without (test) by (test)', '1:34: parse error: unexpected <by>'],
    ['sum without (test) (some_metric) by (test)', '1:34: parse error: unexpected <by>'],
    ['topk(some_metric)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
    ['sum(a, b)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'],
    ['topk(some_metric,)', '1:17: parse error: trailing commas not allowed in function call args'],
    ['topk(some_metric, other_metric)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
    ['count_values(5, other_metric)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
    ['sum(rate(x[5m])[5m])', '1:16: parse error: ranges only allowed for vector selectors'],
    ['sum(x[5m])', '1:5: parse error: expected type instant vector in aggregation expression, got range vector'],
    ['floor()', '1:1: parse error: expected 1 argument(s) in call to "floor", got 0'],
    ['floor(some_metric, other_metric)', '1:1: parse error: expected 1 argument(s) in call to "floor", got 2'],
    ['floor(1)', '1:7: parse error: expected type instant vector in call to function "floor", got scalar'],
    ['hour(some_metric, some_metric, some_metric)', '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'],
    ['time(some_metric)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
    ['label_join(foo, "a")', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 2'],
    ['sort_by_label()', '1:1: parse error: expected at least 1 argument(s) in call to "sort_by_label", got 0'],
    ['histogram_quantiles(foo, "q")', '1:1: parse error: expected at least 3 argument(s) in call to "histogram_quantiles", got 2'],
    ['label_replace(foo, "a", "b", "c", 1)', '1:35: parse error: expected type string in call to function "label_replace", got scalar'],
    ['non_existent_function_far_bar()', '1:1: parse error: unknown function with name "non_existent_function_far_bar"'],
    ['a>b()', '1:3: parse error: unknown function with name "b"'],
    ['rate(some_metric)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['rate(avg)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['info(foo, bar)', '1:11: parse error: expected label selectors only, got vector selector instead'],
    ['info(foo, 1)', '1:1: parse error: expected type instant vector in call to function "info", got scalar'],
    ['-=', '1:2: parse error: unexpected "="'],
    ['++-++-+-+-<', '1:11: parse error: unexpected <op:<>'],
    ['e-+=/(0)', '1:4: parse error: unexpected "="'],
    ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
    ['foo:bar(1)', '1:8: parse error: unexpected "("'],
    ['"\\c"', "1:1: parse error: unknown escape sequence U+0063 'c'"],
    ['"\\x."', "1:1: parse error: illegal character U+002E '.' in escape sequence"],
    ['`\\``', '1:4: parse error: unterminated raw string'],
    ['1e999', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e999": value out of range'],
    ['foo +\n  bar +\n  *', '3:3: parse error: unexpected <op:*>'],
    ['sum(x)\n  by (a) by (b)', '2:10: parse error: unexpected <by>'],
  ];
  for (const [input, message] of cases) {
    it(JSON.stringify(input), () => assert.throws(() => parseExpr(input), { name: 'ParseError', message }));
  }

  it('reports invalid regular expressions at the matcher', () => {
    assert.throws(
      () => parseExpr('{__name__=~"("}'),
      (err: unknown) => {
        assert.ok(err instanceof ParseError);
        assert.match(err.message, /^1:2: parse error: error parsing regexp: missing closing \): `\(`$/);
        return true;
      },
    );
  });

  it('carries a code, the reason and the position', () => {
    try {
      parseExpr('sum(foo) +\n  rate(bar)');
      assert.fail('expected a ParseError');
    } catch (err) {
      assert.ok(err instanceof ParseError);
      assert.equal(err.code, 'bad_data');
      assert.equal(err.reason, 'expected type range vector in call to function "rate", got instant vector');
      assert.deepEqual(err.position, { start: 18, end: 21 });
      assert.equal(err.line, 2);
      assert.equal(err.column, 8);
    }
  });

  it('turns pathological nesting into a parse error', () => {
    const deep = '('.repeat(50000) + '1' + ')'.repeat(50000);
    assert.throws(() => parseExpr(deep), ParseError);
  });
});

describe('parseSeriesSelector', () => {
  it('returns the matchers of a selector', () => {
    assert.deepEqual(parseSeriesSelector('foo{a="b", c=~"d.*"}').map(formatMatcher), ['a="b"', 'c=~"d.*"', '__name__="foo"']);
    assert.deepEqual(parseSeriesSelector('up').map(formatMatcher), ['__name__="up"']);
    assert.deepEqual(parseSeriesSelector('{__name__=~"x.*"}').map(formatMatcher), ['__name__=~"x.*"']);
    assert.deepEqual(parseSeriesSelector('{"my.metric"}').map(formatMatcher), ['__name__="my.metric"']);
    assert.deepEqual(parseSeriesSelector('sum{a="b"}').map(formatMatcher), ['a="b"', '__name__="sum"']);
    // Like Prometheus, an all-empty selector is the API's business, not the parser's.
    assert.deepEqual(parseSeriesSelector('{a=""}').map(formatMatcher), ['a=""']);
  });

  const bad: ReadonlyArray<readonly [string, string]> = [
    ['', 'unknown position: parse error: unexpected end of input'],
    ['foo offset 5m', '1:5: parse error: unexpected <offset>'],
    ['foo[5m]', '1:4: parse error: unexpected "["'],
    ['rate(foo[5m])', '1:5: parse error: unexpected "("'],
    ['foo + bar', '1:5: parse error: unexpected <op:+>'],
    ['1', '1:1: parse error: unexpected number "1"'],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.throws(() => parseSeriesSelector(input), { message }));
  }
});

describe('conformance scripts: every core eval expression parses', () => {
  const dir = findPromqlTestDir();
  if (dir === undefined) {
    it('finds ../shared/promqltest', { skip: 'conformance scripts not found' }, () => {});
    return;
  }
  for (const file of coreScripts(dir)) {
    const exprs = readScriptExprs(dir, file);
    describe(file, () => {
      it(`parses and round-trips its ${exprs.length} expressions`, () => {
        const failures: string[] = [];
        for (const s of exprs) {
          let parsed: Expr;
          try {
            parsed = parseExpr(s.expr);
          } catch (err) {
            if (!(err instanceof ParseError)) throw err;
            if (s.mayFail) continue;
            failures.push(`${file}:${s.line}: ${s.expr}\n    ${err.message}`);
            continue;
          }
          const printed = formatExpr(parsed);
          let reparsed: Expr;
          try {
            reparsed = parseExpr(printed);
          } catch (err) {
            failures.push(`${file}:${s.line}: ${s.expr}\n    printed as ${printed}\n    ${(err as Error).message}`);
            continue;
          }
          assert.equal(formatExpr(reparsed), printed, `${file}:${s.line}`);
          assert.deepEqual(normalize(reparsed), normalize(parsed), `${file}:${s.line}: ${s.expr}`);
        }
        assert.deepEqual(failures, []);
      });
    });
  }
});
