/** The PromQL parser: AST, lexer, function table, parser and printer. */

export * from './ast.js';
export { FUNCTIONS, AGGREGATE_OPS, aggregateHasParam, aggregateIsExperimental, getFunction } from './functions.js';
export { describeToken, isAggregator, isKeyword, isOperator, lex, TokenType } from './lexer.js';
export type { LexOptions, Token } from './lexer.js';
export { ParseError, parseExpr, parseSeriesSelector } from './parser.js';
export type { ParseOptions } from './parser.js';
export { formatExpr, formatMatcher } from './printer.js';
export { formatFloat, unquoteString } from './quote.js';
