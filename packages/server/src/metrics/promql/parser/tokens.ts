/**
 * PromQL's tokens: their kinds (operators, aggregators and keywords in contiguous ranges), the
 * keyword table, and how Prometheus' parser error messages name a token. The lexer (lexer.ts)
 * makes them; the parser reads them.
 */
import { goQuote } from '../../../core/util/goquote.js';

/** Token kinds. Operators, aggregators and keywords occupy contiguous ranges (see the `is*` helpers). */
export const TokenType = {
  EOF: 0,
  ERROR: 1,
  COMMENT: 2,
  IDENTIFIER: 3,
  METRIC_IDENTIFIER: 4,
  NUMBER: 5,
  DURATION: 6,
  STRING: 7,
  LEFT_PAREN: 8,
  RIGHT_PAREN: 9,
  LEFT_BRACE: 10,
  RIGHT_BRACE: 11,
  LEFT_BRACKET: 12,
  RIGHT_BRACKET: 13,
  COMMA: 14,
  EQL: 15,
  COLON: 16,
  // Operators.
  ADD: 20,
  SUB: 21,
  MUL: 22,
  DIV: 23,
  MOD: 24,
  POW: 25,
  EQLC: 26,
  NEQ: 27,
  LTE: 28,
  LSS: 29,
  GTE: 30,
  GTR: 31,
  EQL_REGEX: 32,
  NEQ_REGEX: 33,
  AT: 34,
  LAND: 35,
  LOR: 36,
  LUNLESS: 37,
  ATAN2: 38,
  /** `</`: keeps a native histogram's observations below a value. */
  TRIM_UPPER: 39,
  /** `>/`: keeps a native histogram's observations above a value. */
  TRIM_LOWER: 54,
  // Aggregators.
  AVG: 40,
  BOTTOMK: 41,
  COUNT: 42,
  COUNT_VALUES: 43,
  GROUP: 44,
  MAX: 45,
  MIN: 46,
  QUANTILE: 47,
  STDDEV: 48,
  STDVAR: 49,
  SUM: 50,
  TOPK: 51,
  LIMITK: 52,
  LIMIT_RATIO: 53,
  // Keywords.
  BOOL: 60,
  BY: 61,
  GROUP_LEFT: 62,
  GROUP_RIGHT: 63,
  IGNORING: 64,
  OFFSET: 65,
  ON: 66,
  WITHOUT: 67,
} as const;
/** One of the {@link TokenType} values. */
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

/** One lexed token. For `ERROR` tokens `text` is the error message and `start` the error position. */
export interface Token {
  readonly type: TokenType;
  /** Offset of the first character. */
  readonly start: number;
  /** Offset just past the last character. */
  readonly end: number;
  /** The source text of the token (the message for `ERROR`). */
  readonly text: string;
}

/** True for arithmetic, comparison and set operators, `atan2` and `@`. */
export function isOperator(t: TokenType): boolean {
  return t >= TokenType.ADD && t <= TokenType.ATAN2;
}

/** True for aggregation operators (`sum`, `topk`, …). */
export function isAggregator(t: TokenType): boolean {
  return t >= TokenType.AVG && t <= TokenType.LIMIT_RATIO;
}

/** True for the keywords `bool by group_left group_right ignoring offset on without`. */
export function isKeyword(t: TokenType): boolean {
  return t >= TokenType.BOOL && t <= TokenType.WITHOUT;
}

/** Words with a meaning of their own, matched case-insensitively as Prometheus does. */
export const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['and', TokenType.LAND],
  ['or', TokenType.LOR],
  ['unless', TokenType.LUNLESS],
  ['atan2', TokenType.ATAN2],
  ['sum', TokenType.SUM],
  ['avg', TokenType.AVG],
  ['count', TokenType.COUNT],
  ['min', TokenType.MIN],
  ['max', TokenType.MAX],
  ['group', TokenType.GROUP],
  ['stddev', TokenType.STDDEV],
  ['stdvar', TokenType.STDVAR],
  ['topk', TokenType.TOPK],
  ['bottomk', TokenType.BOTTOMK],
  ['count_values', TokenType.COUNT_VALUES],
  ['quantile', TokenType.QUANTILE],
  ['limitk', TokenType.LIMITK],
  ['limit_ratio', TokenType.LIMIT_RATIO],
  ['offset', TokenType.OFFSET],
  ['by', TokenType.BY],
  ['without', TokenType.WITHOUT],
  ['on', TokenType.ON],
  ['ignoring', TokenType.IGNORING],
  ['group_left', TokenType.GROUP_LEFT],
  ['group_right', TokenType.GROUP_RIGHT],
  ['bool', TokenType.BOOL],
  // Special numbers are words, but lex as numbers.
  ['inf', TokenType.NUMBER],
  ['nan', TokenType.NUMBER],
]);

/** Words of Prometheus' experimental duration expressions, lexed inside brackets so the parser can reject them clearly. */
export const DURATION_EXPR_WORDS: ReadonlySet<string> = new Set(['step', 'range', 'min', 'max', 'min_of', 'max_of']);

/** Token types whose Prometheus description is the quoted source text (`"("`, `"="`, …). */
const PUNCTUATION: ReadonlySet<TokenType> = new Set<TokenType>([
  TokenType.LEFT_PAREN,
  TokenType.RIGHT_PAREN,
  TokenType.LEFT_BRACE,
  TokenType.RIGHT_BRACE,
  TokenType.LEFT_BRACKET,
  TokenType.RIGHT_BRACKET,
  TokenType.COMMA,
  TokenType.EQL,
  TokenType.COLON,
]);

/**
 * Describes a token the way Prometheus' parser error messages do: `end of input`, `<op:+>`,
 * `<aggr:sum>`, `<by>`, `identifier "foo"`, `number "1"`, `"("`.
 */
export function describeToken(tok: Token): string {
  const t = tok.type;
  if (t === TokenType.EOF) return 'end of input';
  if (t === TokenType.ERROR) return tok.text;
  if (isOperator(t)) return `<op:${tok.text}>`;
  if (isAggregator(t)) return `<aggr:${tok.text}>`;
  if (isKeyword(t)) return `<${tok.text}>`;
  if (PUNCTUATION.has(t)) return goQuote(tok.text);
  let kind: string;
  switch (t) {
    case TokenType.IDENTIFIER:
      return `identifier ${goQuote(tok.text)}`;
    case TokenType.METRIC_IDENTIFIER:
      return `metric identifier ${goQuote(tok.text)}`;
    case TokenType.STRING:
      kind = 'string';
      break;
    case TokenType.NUMBER:
      kind = 'number';
      break;
    case TokenType.DURATION:
      kind = 'duration';
      break;
    default:
      kind = 'comment';
  }
  // Go's `%.10q...` for long values: the first ten characters, quoted, then an ellipsis.
  const chars = Array.from(tok.text);
  const shown = chars.length > 10 ? goQuote(chars.slice(0, 10).join('')) + '...' : goQuote(tok.text);
  return `${kind} ${shown}`;
}
