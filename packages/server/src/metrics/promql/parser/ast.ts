/**
 * The PromQL abstract syntax tree: a discriminated union on `kind`, shaped after Prometheus'
 * `promql/parser/ast.go` so that the engine can follow Prometheus' evaluation closely. Durations
 * and timestamps are milliseconds. Nodes are plain objects; the engine may annotate or rewrite
 * them (Prometheus' engine does, e.g. to resolve `@ start()`).
 */

import type { Matcher } from '../../../core/model/matcher.js';
import type { AggregateOp, FunctionDef } from './functions.js';

export type { AggregateOp, FunctionDef } from './functions.js';

/** The four PromQL value types. */
export const VALUE_TYPES = ['scalar', 'vector', 'matrix', 'string'] as const;
/** One of {@link VALUE_TYPES}. */
export type ValueType = (typeof VALUE_TYPES)[number];

/** A span of the query text, as character offsets: `start` inclusive, `end` exclusive. */
export interface PosRange {
  start: number;
  end: number;
}

/** The `@` modifier: a timestamp in milliseconds, or the query's start or end. */
export type AtModifier = number | 'start' | 'end';

/** Binary operators, as written in queries. */
export const BINARY_OPS = ['+', '-', '*', '/', '%', '^', '==', '!=', '>', '<', '>=', '<=', 'and', 'or', 'unless', 'atan2', '</', '>/'] as const;
/** One of {@link BINARY_OPS}. */
export type BinaryOp = (typeof BINARY_OPS)[number];

/** True for `== != > < >= <=`. */
export function isComparisonOp(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** True for `and or unless`. */
export function isSetOp(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** How series on the two sides of a binary operation are matched. */
export const CARDINALITIES = ['one-to-one', 'many-to-one', 'one-to-many', 'many-to-many'] as const;
/** One of {@link CARDINALITIES}. */
export type Cardinality = (typeof CARDINALITIES)[number];

/** Vector matching of a binary operation between two instant vectors. */
export interface VectorMatching {
  /** `many-to-one` for `group_left`, `one-to-many` for `group_right`, `many-to-many` for set operators. */
  card: Cardinality;
  /** True for `on(...)`, false for `ignoring(...)` or no clause. */
  on: boolean;
  /** The labels of `on(...)` / `ignoring(...)`. */
  matchingLabels: string[];
  /** The extra labels of `group_left(...)` / `group_right(...)`. */
  include: string[];
}

/** A number literal, e.g. `1`, `0x1f`, `1e3`, `Inf`; also a bare duration such as `5m` (as seconds). */
export interface NumberLiteral {
  kind: 'NumberLiteral';
  value: number;
  /** Written as a duration (`5m`); printed back as one. */
  duration?: boolean;
  pos: PosRange;
}

/** A string literal. */
export interface StringLiteral {
  kind: 'StringLiteral';
  value: string;
  pos: PosRange;
}

/** An instant vector selector such as `foo{a="b"} offset 5m @ 100`. */
export interface VectorSelector {
  kind: 'VectorSelector';
  /** The metric name written before the braces, if any (a name inside the braces is only a matcher). */
  name?: string;
  /** All matchers; a name written before the braces comes last as `__name__="name"`. */
  matchers: Matcher[];
  /** The `offset` in milliseconds (negative for `offset -5m`), 0 when absent. */
  offset: number;
  /** The `@` modifier, if any. */
  at: AtModifier | undefined;
  pos: PosRange;
}

/** A range vector selector such as `foo[5m]`; offset and `@` live on the inner vector selector. */
export interface MatrixSelector {
  kind: 'MatrixSelector';
  vectorSelector: VectorSelector;
  /** The range in milliseconds. */
  range: number;
  pos: PosRange;
}

/** A subquery such as `rate(foo[1m])[30m:1m] offset 5m`. */
export interface SubqueryExpr {
  kind: 'SubqueryExpr';
  expr: Expr;
  /** The range in milliseconds. */
  range: number;
  /** The resolution in milliseconds; 0 means the default evaluation interval (`[30m:]`). */
  step: number;
  /** The `offset` in milliseconds, 0 when absent. */
  offset: number;
  at: AtModifier | undefined;
  pos: PosRange;
}

/** A parenthesised expression; kept so that printing preserves the user's grouping. */
export interface ParenExpr {
  kind: 'ParenExpr';
  expr: Expr;
  pos: PosRange;
}

/** A unary `-x` or `+x` (negative number literals are folded into the literal instead). */
export interface UnaryExpr {
  kind: 'UnaryExpr';
  op: '-' | '+';
  expr: Expr;
  pos: PosRange;
}

/** A binary operation. */
export interface BinaryExpr {
  kind: 'BinaryExpr';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  /** The `bool` modifier of comparisons. */
  returnBool: boolean;
  /** Matching between two instant vectors; undefined when either side is a scalar. */
  vectorMatching: VectorMatching | undefined;
  pos: PosRange;
}

/** An aggregation such as `sum by (job) (x)` or `topk(3, x)`. */
export interface AggregateExpr {
  kind: 'AggregateExpr';
  op: AggregateOp;
  expr: Expr;
  /** The parameter of `topk`, `bottomk`, `quantile`, `count_values`, `limitk`, `limit_ratio`. */
  param?: Expr;
  /** The `by` / `without` labels. */
  grouping: string[];
  /** True for `without`. */
  without: boolean;
  pos: PosRange;
}

/** A function call. */
export interface Call {
  kind: 'Call';
  func: FunctionDef;
  args: Expr[];
  pos: PosRange;
}

/** Any PromQL expression. */
export type Expr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | ParenExpr | UnaryExpr | BinaryExpr | AggregateExpr | Call;

/** The type of value an expression evaluates to, as Prometheus' `Expr.Type()`. */
export function exprType(expr: Expr): ValueType {
  switch (expr.kind) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'ParenExpr':
    case 'UnaryExpr':
      return exprType(expr.expr);
    case 'BinaryExpr':
      return exprType(expr.lhs) === 'scalar' && exprType(expr.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'Call':
      return expr.func.returnType;
  }
}

/** The name Prometheus uses for a type in error messages (`instant vector`, `range vector`, …). */
export function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

/** The direct children of a node, in evaluation order (aggregation parameter before the vector). */
export function children(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return [];
    case 'MatrixSelector':
      return [expr.vectorSelector];
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      return [expr.expr];
    case 'BinaryExpr':
      return [expr.lhs, expr.rhs];
    case 'AggregateExpr':
      return expr.param === undefined ? [expr.expr] : [expr.param, expr.expr];
    case 'Call':
      return expr.args;
  }
}
