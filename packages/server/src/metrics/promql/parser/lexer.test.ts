import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { lex } from './lexer.js';
import { describeToken, TokenType, type Token } from './tokens.js';
import { goQuote, goQuoteRune, isValidUtf8 } from '../../../core/util/goquote.js';
import { formatFloat, unquoteString } from './quote.js';

const NAMES = new Map<number, string>(Object.entries(TokenType).map(([k, v]) => [v, k]));

/** Tokens as `TYPE:text`, without the final EOF. */
function toks(input: string, comments = false): string[] {
  return lex(input, { comments })
    .filter((t) => t.type !== TokenType.EOF)
    .map((t) => `${NAMES.get(t.type)}:${t.text}`);
}

describe('lexer: tokens', () => {
  const cases: ReadonlyArray<readonly [string, readonly string[]]> = [
    // Numbers.
    ['1', ['NUMBER:1']],
    ['1.5', ['NUMBER:1.5']],
    ['.5', ['NUMBER:.5']],
    ['5.', ['NUMBER:5.']],
    ['0x1F', ['NUMBER:0x1F']],
    ['0755', ['NUMBER:0755']],
    ['1e3', ['NUMBER:1e3']],
    ['12.34e-6', ['NUMBER:12.34e-6']],
    ['1E+3', ['NUMBER:1E+3']],
    ['1_000', ['NUMBER:1_000']],
    ['Inf', ['NUMBER:Inf']],
    ['inF', ['NUMBER:inF']],
    ['NaN', ['NUMBER:NaN']],
    ['+Inf', ['ADD:+', 'NUMBER:Inf']],
    ['-1', ['SUB:-', 'NUMBER:1']],
    // Durations.
    ['5m', ['DURATION:5m']],
    ['1h30m', ['DURATION:1h30m']],
    ['1ms', ['DURATION:1ms']],
    ['1y', ['DURATION:1y']],
    ['2w', ['DURATION:2w']],
    ['3d', ['DURATION:3d']],
    ['1m30s500ms', ['DURATION:1m30s500ms']],
    ['foo[5m]', ['IDENTIFIER:foo', 'LEFT_BRACKET:[', 'DURATION:5m', 'RIGHT_BRACKET:]']],
    ['foo[5]', ['IDENTIFIER:foo', 'LEFT_BRACKET:[', 'NUMBER:5', 'RIGHT_BRACKET:]']],
    ['foo[ 5m : 1m ]', ['IDENTIFIER:foo', 'LEFT_BRACKET:[', 'DURATION:5m', 'COLON::', 'DURATION:1m', 'RIGHT_BRACKET:]']],
    ['foo[5m:]', ['IDENTIFIER:foo', 'LEFT_BRACKET:[', 'DURATION:5m', 'COLON::', 'RIGHT_BRACKET:]']],
    ['foo[-1]', ['IDENTIFIER:foo', 'LEFT_BRACKET:[', 'SUB:-', 'NUMBER:1', 'RIGHT_BRACKET:]']],
    ['foo offset -5m', ['IDENTIFIER:foo', 'OFFSET:offset', 'SUB:-', 'DURATION:5m']],
    // Strings.
    [`"a\\"b"`, [`STRING:"a\\"b"`]],
    [`'a\\'b'`, [`STRING:'a\\'b'`]],
    ['`raw\\n`', ['STRING:`raw\\n`']],
    ['"\\x41\\101\\u00e9\\U0001F600"', ['STRING:"\\x41\\101\\u00e9\\U0001F600"']],
    // Identifiers.
    ['foo', ['IDENTIFIER:foo']],
    ['foo:bar', ['METRIC_IDENTIFIER:foo:bar']],
    [':foo', ['METRIC_IDENTIFIER::foo']],
    ['job:rate5m:sum', ['METRIC_IDENTIFIER:job:rate5m:sum']],
    ['_x1', ['IDENTIFIER:_x1']],
    // Keywords are case-insensitive; their text is kept.
    [
      'and or unless atan2 by without on ignoring group_left group_right bool offset',
      [
        'LAND:and',
        'LOR:or',
        'LUNLESS:unless',
        'ATAN2:atan2',
        'BY:by',
        'WITHOUT:without',
        'ON:on',
        'IGNORING:ignoring',
        'GROUP_LEFT:group_left',
        'GROUP_RIGHT:group_right',
        'BOOL:bool',
        'OFFSET:offset',
      ],
    ],
    ['AND Sum BY', ['LAND:AND', 'SUM:Sum', 'BY:BY']],
    [
      'sum avg count min max group stddev stdvar topk bottomk count_values quantile limitk limit_ratio',
      [
        'SUM:sum',
        'AVG:avg',
        'COUNT:count',
        'MIN:min',
        'MAX:max',
        'GROUP:group',
        'STDDEV:stddev',
        'STDVAR:stdvar',
        'TOPK:topk',
        'BOTTOMK:bottomk',
        'COUNT_VALUES:count_values',
        'QUANTILE:quantile',
        'LIMITK:limitk',
        'LIMIT_RATIO:limit_ratio',
      ],
    ],
    // Operators.
    [
      '+ - * / % ^ == != <= < >= > @',
      ['ADD:+', 'SUB:-', 'MUL:*', 'DIV:/', 'MOD:%', 'POW:^', 'EQLC:==', 'NEQ:!=', 'LTE:<=', 'LSS:<', 'GTE:>=', 'GTR:>', 'AT:@'],
    ],
    ['a==b', ['IDENTIFIER:a', 'EQLC:==', 'IDENTIFIER:b']],
    ['foo @ start()', ['IDENTIFIER:foo', 'AT:@', 'IDENTIFIER:start', 'LEFT_PAREN:(', 'RIGHT_PAREN:)']],
    ['foo @ 1.5', ['IDENTIFIER:foo', 'AT:@', 'NUMBER:1.5']],
    // Braces: keywords are plain identifiers and all four matcher operators lex.
    [
      '{a="b",c!="d",e=~"f",g!~"h"}',
      [
        'LEFT_BRACE:{',
        'IDENTIFIER:a',
        'EQL:=',
        'STRING:"b"',
        'COMMA:,',
        'IDENTIFIER:c',
        'NEQ:!=',
        'STRING:"d"',
        'COMMA:,',
        'IDENTIFIER:e',
        'EQL_REGEX:=~',
        'STRING:"f"',
        'COMMA:,',
        'IDENTIFIER:g',
        'NEQ_REGEX:!~',
        'STRING:"h"',
        'RIGHT_BRACE:}',
      ],
    ],
    ['{on="x", by=\'y\'}', ['LEFT_BRACE:{', 'IDENTIFIER:on', 'EQL:=', 'STRING:"x"', 'COMMA:,', 'IDENTIFIER:by', 'EQL:=', "STRING:'y'", 'RIGHT_BRACE:}']],
    ['{"my.metric"}', ['LEFT_BRACE:{', 'STRING:"my.metric"', 'RIGHT_BRACE:}']],
    // Comments are skipped unless asked for, also inside braces.
    ['foo # comment\n+ 1', ['IDENTIFIER:foo', 'ADD:+', 'NUMBER:1']],
    ['{a="b" # c\n}', ['LEFT_BRACE:{', 'IDENTIFIER:a', 'EQL:=', 'STRING:"b"', 'RIGHT_BRACE:}']],
    ['# only a comment', []],
    ['\t\r\n ', []],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.deepEqual(toks(input), want));
  }

  it('emits comments when asked', () => {
    assert.deepEqual(toks('foo # c1\n# c2', true), ['IDENTIFIER:foo', 'COMMENT:# c1', 'COMMENT:# c2']);
  });

  it('reports positions', () => {
    const t = lex('sum(rate(x[5m]))');
    assert.deepEqual(
      t.map((x) => [x.start, x.end]),
      [
        [0, 3],
        [3, 4],
        [4, 8],
        [8, 9],
        [9, 10],
        [10, 11],
        [11, 13],
        [13, 14],
        [14, 15],
        [15, 16],
        [16, 16],
      ],
    );
  });
});

describe('lexer: errors', () => {
  // [input, message, position] — messages and positions as Prometheus' lexer reports them.
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ['.', "unexpected character: '.'", 0],
    ['2.5.', 'bad number or duration syntax: "2.5."', 0],
    ['100..4', 'bad number or duration syntax: "100.."', 0],
    ['0deadbeef', 'bad number or duration syntax: "0de"', 0],
    ['foo[5mm]', 'bad number or duration syntax: "5mm"', 4],
    ['foo[5m1]', 'bad number or duration syntax: "5m1"', 4],
    ['x offset 1mm', 'bad number or duration syntax: "1mm"', 9],
    ['"abc', 'unterminated quoted string', 0],
    ['"a\nb"', 'unterminated quoted string', 0],
    ['`abc', 'unterminated raw string', 0],
    ['"\\c"', "unknown escape sequence U+0063 'c'", 0],
    ['"\\x."', "illegal character U+002E '.' in escape sequence", 0],
    ['"\\', 'escape sequence not terminated', 0],
    ['"\\ud800"', 'escape sequence is an invalid Unicode code point', 0],
    [`"\\'"`, "unknown escape sequence U+0027 '''", 0],
    ['(1))', "unexpected right parenthesis ')'", 4],
    ['((1)', 'unclosed left parenthesis', 4],
    ['(', 'unclosed left parenthesis', 1],
    ['{', 'unexpected end of input inside braces', 1],
    ['}', "unexpected character: '}'", 0],
    ['some}', "unexpected character: '}'", 4],
    ['foo{a*"b"}', "unexpected character inside braces: '*'", 5],
    ['foo{a>="b"}', "unexpected character inside braces: '>'", 5],
    ['foo{1}', "unexpected character inside braces: '1'", 4],
    ['foo{a!b}', "unexpected character after '!' inside braces: 'b'", 5],
    ['foo{{', "unexpected left brace '{'", 4],
    ['1 =~ 1', "unexpected character after '=': '~'", 2],
    ['1 !~ 1', "unexpected character after '!': '~'", 2],
    ['foo[5m', 'unexpected end of input in duration expression', 6],
    ['foo["5m"]', `unexpected character in duration expression: '"'`, 4],
    // Prometheus emits the colon before failing, so these report the position after it.
    ['foo[:5m]', 'unexpected colon before duration in duration expression', 5],
    ['foo[5m::]', 'unexpected repeated colon in duration expression', 8],
    [']', "unexpected right bracket ']'", 0],
    ['a § b', "unexpected character: '§'", 2],
  ];
  for (const [input, message, pos] of cases) {
    it(JSON.stringify(input), () => {
      const all = lex(input);
      const last = all[all.length - 1]!;
      assert.equal(last.type, TokenType.ERROR);
      assert.equal(last.text, message);
      assert.equal(last.start, pos);
    });
  }
});

describe('describeToken', () => {
  const t = (type: Token['type'], text: string): Token => ({ type, start: 0, end: text.length, text });
  const cases: ReadonlyArray<readonly [Token, string]> = [
    [t(TokenType.EOF, ''), 'end of input'],
    [t(TokenType.ADD, '+'), '<op:+>'],
    [t(TokenType.LAND, 'and'), '<op:and>'],
    [t(TokenType.AT, '@'), '<op:@>'],
    [t(TokenType.SUM, 'sum'), '<aggr:sum>'],
    [t(TokenType.BY, 'by'), '<by>'],
    [t(TokenType.IDENTIFIER, 'foo'), 'identifier "foo"'],
    [t(TokenType.METRIC_IDENTIFIER, 'a:b'), 'metric identifier "a:b"'],
    [t(TokenType.NUMBER, '1'), 'number "1"'],
    [t(TokenType.DURATION, '5m'), 'duration "5m"'],
    [t(TokenType.STRING, '"x"'), 'string "\\"x\\""'],
    [t(TokenType.STRING, '"a very long string"'), 'string "\\"a very lo"...'],
    [t(TokenType.LEFT_PAREN, '('), '"("'],
    [t(TokenType.RIGHT_BRACE, '}'), '"}"'],
    [t(TokenType.EQL, '='), '"="'],
  ];
  for (const [tok, want] of cases) it(want, () => assert.equal(describeToken(tok), want));
});

describe('string unquoting (Go rules)', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['"plain"', 'plain'],
    ["'single \\' quote'", "single ' quote"],
    ['"double \\" quote"', 'double " quote'],
    ['`raw \\n \\x41`', 'raw \\n \\x41'],
    ['"\\a\\b\\f\\n\\r\\t\\v\\\\"', '\x07\b\f\n\r\t\v\\'],
    ['"\\x41\\101\\u00e9\\U0001F600"', 'AAé😀'],
    ['"\\xe2\\x98\\xba"', '☺'],
    ['"☺"', '☺'],
    // Bytes that are not valid UTF-8 are kept losslessly (U+DC00 + byte).
    ['"a\\xc5z"', 'a\udcc5z'],
    ['"\\377"', '\udcff'],
  ];
  for (const [raw, want] of cases) it(raw, () => assert.equal(unquoteString(raw), want));

  it('keeps invalid bytes printable as Go does', () => {
    assert.equal(goQuote(unquoteString('"a\\xc5z"')), '"a\\xc5z"');
    assert.equal(isValidUtf8(unquoteString('"a\\xc5z"')), false);
    assert.equal(isValidUtf8('☺ ok'), true);
  });
});

describe('Go formatting helpers', () => {
  it('quotes strings like strconv.Quote', () => {
    assert.equal(goQuote('a"b\\c\n\t\x00\x7f é ☺ 😀 \u200b'), '"a\\"b\\\\c\\n\\t\\x00\\x7f é ☺ 😀 \\u200b"');
  });
  it('quotes runes like strconv.QuoteRune', () => {
    assert.equal(goQuoteRune(0x27), "'\\''");
    assert.equal(goQuoteRune(0x22), `'"'`);
    assert.equal(goQuoteRune(0x0a), "'\\n'");
  });
  it('formats floats like FormatFloat(f, -1)', () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [1, '1'],
      [-0.5, '-0.5'],
      [12340000, '12340000'],
      [1e21, '1000000000000000000000'],
      [1.5e22, '15000000000000000000000'],
      [1e-7, '0.0000001'],
      [-2.5e-8, '-0.000000025'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
    ];
    for (const [v, want] of cases) assert.equal(formatFloat(v), want, String(v));
  });
});
