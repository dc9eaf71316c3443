/** The PromQL parser: AST, lexer, function table, parser and printer. */

export * from './ast.js';
export { FUNCTIONS, AGGREGATE_OPS, aggregateHasParam, aggregateIsExperimental, getFunction } from './functions.js';
export { lex } from './lexer.js';
export type { LexOptions } from './lexer.js';
export { describeToken, isAggregator, isKeyword, isOperator, TokenType } from './tokens.js';
export type { Token } from './tokens.js';
export { ParseError, parseExpr, parseSeriesSelector } from './parser.js';
export type { ParseOptions } from './parser.js';
export { formatExpr, formatMatcher } from './printer.js';
export { formatFloat, unquoteString } from './quote.js';
