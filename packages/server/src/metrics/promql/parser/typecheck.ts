/**
 * The type checker run after parsing, mirroring Prometheus' `checkAST`: operand and argument types,
 * `bool` and set-operator rules, vector matching, and the non-empty-matcher rule for selectors.
 * Errors are reported in the same order and with the same wording as Prometheus.
 */

import {
  documentedType,
  exprType,
  isComparisonOp,
  isSetOp,
  type BinaryExpr,
  type Call,
  type Expr,
  type PosRange,
  type ValueType,
  type VectorSelector,
} from './ast.js';
import { ParseError } from './errors.js';
import { goQuote } from '../../../core/util/goquote.js';

/**
 * Type-checks `expr` (parsed from `input`, used for error positions) and settles its vector
 * matching: set operators become many-to-many and matching is dropped when a side is a scalar.
 * Returns the expression's type.
 * @throws {ParseError} at the first type error.
 */
export function typeCheck(input: string, expr: Expr): ValueType {
  return new Checker(input).check(expr, false);
}

class Checker {
  constructor(private readonly input: string) {}

  private fail(pos: PosRange, reason: string): never {
    throw new ParseError(this.input, pos, reason);
  }

  /**
   * Type-checks an expression tree the way Prometheus' `checkAST` does, and settles vector
   * matching (set operators become many-to-many; matching is dropped when a side is a scalar).
   * Returns the expression's type.
   */
  check(e: Expr, bypassEmptyMatcherCheck: boolean): ValueType {
    switch (e.kind) {
      case 'NumberLiteral':
        return 'scalar';
      case 'StringLiteral':
        return 'string';
      case 'ParenExpr':
        return this.check(e.expr, false);
      case 'UnaryExpr': {
        const t = this.check(e.expr, false);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${goQuote(documentedType(t))}`);
        }
        return t;
      }
      case 'VectorSelector':
        this.checkVectorSelector(e, bypassEmptyMatcherCheck);
        return 'vector';
      case 'MatrixSelector':
        this.checkVectorSelector(e.vectorSelector, false);
        return 'matrix';
      case 'SubqueryExpr': {
        const t = this.check(e.expr, false);
        if (t !== 'vector') this.fail(e.pos, `subquery is only allowed on instant vector, got ${t} instead`);
        return 'matrix';
      }
      case 'AggregateExpr':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.param !== undefined) {
          this.expectType(e.param, e.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
        }
        return 'vector';
      case 'BinaryExpr':
        return this.checkBinary(e);
      case 'Call':
        return this.checkCall(e);
    }
  }

  private expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.check(e, false);
    if (t !== want) this.fail(e.pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
  }

  private checkVectorSelector(vs: VectorSelector, bypassEmptyMatcherCheck: boolean): void {
    if (vs.name !== undefined) {
      // The last matcher is the name written outside the braces; another __name__ conflicts with it.
      for (let i = 0; i < vs.matchers.length - 1; i++) {
        const m = vs.matchers[i]!;
        if (m.name === '__name__') {
          this.fail(vs.pos, `metric name must not be set twice: ${goQuote(vs.name)} or ${goQuote(m.value)}`);
        }
      }
      return;
    }
    // A selector must not match everything by accident (e.g. a typo in the only matcher).
    if (!bypassEmptyMatcherCheck && !vs.matchers.some((m) => !m.matchesEmpty())) {
      this.fail(vs.pos, 'vector selector must contain at least one non-empty matcher');
    }
  }

  private checkBinary(e: BinaryExpr): ValueType {
    const lt = this.check(e.lhs, false);
    const rt = this.check(e.rhs, false);
    const comparison = isComparisonOp(e.op);
    const setOp = isSetOp(e.op);
    if (e.returnBool && !comparison) this.fail(this.operatorRange(e), 'bool modifier can only be used on comparison operators');
    if (comparison && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
      this.fail(this.operatorRange(e), 'comparisons between scalars must use BOOL modifier');
    }
    const vm = e.vectorMatching;
    if (vm !== undefined) {
      if (setOp && vm.card === 'one-to-one') vm.card = 'many-to-many';
      if (vm.on) {
        for (const l of vm.matchingLabels) {
          if (vm.include.includes(l)) this.fail(this.operatorRange(e), `label ${goQuote(l)} must not occur in ON and GROUP clause at once`);
        }
      }
    }
    if (lt !== 'scalar' && lt !== 'vector') this.fail(e.lhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') this.fail(e.rhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (vm !== undefined) {
      if (lt !== 'vector' || rt !== 'vector') {
        if (vm.matchingLabels.length > 0) this.fail(e.pos, 'vector matching only allowed between instant vectors');
        e.vectorMatching = undefined;
      } else if (setOp) {
        if (vm.card === 'one-to-many' || vm.card === 'many-to-one') this.fail(e.pos, `no grouping allowed for ${goQuote(e.op)} operation`);
        if (vm.card !== 'many-to-many') this.fail(e.pos, 'set operations must always be many-to-many');
      }
    }
    if ((lt === 'scalar' || rt === 'scalar') && setOp) {
      this.fail(e.pos, `set operator ${goQuote(e.op)} not allowed in binary scalar expression`);
    }
    return lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
  }

  /** The operator and its modifiers, between the operands without surrounding blanks (for error positions). */
  private operatorRange(e: BinaryExpr): PosRange {
    let start = e.lhs.pos.end;
    while (start < this.input.length && isBlank(this.input.charCodeAt(start))) start++;
    let end = e.rhs.pos.start - 1;
    while (end > start && isBlank(this.input.charCodeAt(end))) end--;
    return { start, end };
  }

  private checkCall(e: Call): ValueType {
    const fn = e.func;
    const name = goQuote(fn.name);
    const nargs = fn.argTypes.length;
    const given = e.args.length;
    if (fn.variadic === 0) {
      if (nargs !== given) this.fail(e.pos, `expected ${nargs} argument(s) in call to ${name}, got ${given}`);
    } else {
      const min = nargs - 1;
      if (min > given) this.fail(e.pos, `expected at least ${min} argument(s) in call to ${name}, got ${given}`);
      if (fn.variadic > 0 && min + fn.variadic < given) {
        this.fail(e.pos, `expected at most ${min + fn.variadic} argument(s) in call to ${name}, got ${given}`);
      }
    }
    // info()'s second argument is a bare label selector, which may match the empty string.
    let bypassSecond = false;
    if (fn.name === 'info' && given > 1) {
      const a = e.args[1]!;
      const t = exprType(a);
      if (t !== 'vector') this.fail(e.pos, `expected type instant vector in call to function ${name}, got ${documentedType(t)}`);
      if (a.kind !== 'VectorSelector') this.fail(a.pos, 'expected label selectors only');
      if (a.name !== undefined) this.fail(a.pos, 'expected label selectors only, got vector selector instead');
      bypassSecond = true;
    }
    for (let i = 0; i < given; i++) {
      let ti = i;
      if (i >= nargs) {
        if (fn.variadic === 0) break;
        ti = nargs - 1;
      }
      const want = fn.argTypes[ti]!;
      const arg = e.args[i]!;
      const t = this.check(arg, bypassSecond && i === 1);
      if (t !== want) {
        this.fail(arg.pos, `expected type ${documentedType(want)} in call to function ${name}, got ${documentedType(t)}`);
      }
    }
    return fn.returnType;
  }
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
