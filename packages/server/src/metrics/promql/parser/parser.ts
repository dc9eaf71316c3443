/**
 * The PromQL parser: recursive descent with precedence climbing for binary operators, followed by
 * a type-checking pass. It accepts what Prometheus 3.x accepts (without its feature-flagged syntax:
 * duration expressions, `anchored`/`smoothed`, `fill` modifiers) and reports errors with
 * Prometheus' wording and positions (`1:14: parse error: unexpected <op:+>`).
 */

import { Matcher, MatcherError, type MatchType } from '../../../core/model/matcher.js';
import type {
  AggregateExpr,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  NumberLiteral,
  PosRange,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { DurationError, parseDuration } from '../../../core/time/duration.js';
import { ParseError } from './errors.js';
import { aggregateHasParam, aggregateIsExperimental, getFunction, type AggregateOp } from './functions.js';
import { lex } from './lexer.js';
import { describeToken, DURATION_EXPR_WORDS, isAggregator, isKeyword, TokenType, type Token } from './tokens.js';
import { goQuote, isValidUtf8 } from '../../../core/util/goquote.js';
import { formatGoFixed6, unquoteString } from './quote.js';
import { typeCheck } from './typecheck.js';

export { ParseError } from './errors.js';

/** Parser options. */
export interface ParseOptions {
  /**
   * Accept Prometheus' experimental functions and aggregations (`limitk`, `sort_by_label`,
   * `double_exponential_smoothing`, …). Default true.
   */
  readonly enableExperimentalFunctions?: boolean;
}

/**
 * Parses and type-checks a PromQL expression.
 * @throws {ParseError} with Prometheus' message and position when the query is invalid.
 */
export function parseExpr(input: string, options: ParseOptions = {}): Expr {
  return guardDepth(input, () => {
    const expr = new Parser(input, options.enableExperimentalFunctions ?? true).parseTop();
    typeCheck(input, expr);
    return expr;
  });
}

/**
 * Parses a series selector as used by the API's `match[]` (`foo{a="b"}`, `{__name__=~"x.*"}`): only
 * a vector selector, without offset or `@`. Like Prometheus it does not require a non-empty
 * matcher; the API checks that itself.
 * @throws {ParseError} when the input is not a single vector selector.
 */
export function parseSeriesSelector(input: string): Matcher[] {
  return guardDepth(input, () => new Parser(input, true).parseSelectorOnly().matchers);
}

/** Turns a stack overflow on absurdly nested input into a parse error instead of a crash. */
function guardDepth<T>(input: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new ParseError(input, { start: 0, end: input.length }, 'expression is nested too deeply');
    }
    throw err;
  }
}

/** Binding power of binary operators; higher binds tighter. `^` is right-associative. */
function binaryPrecedence(t: TokenType): number {
  switch (t) {
    case TokenType.LOR:
      return 1;
    case TokenType.LAND:
    case TokenType.LUNLESS:
      return 2;
    case TokenType.EQLC:
    case TokenType.NEQ:
    case TokenType.LTE:
    case TokenType.LSS:
    case TokenType.GTE:
    case TokenType.GTR:
      return 3;
    case TokenType.ADD:
    case TokenType.SUB:
      return 4;
    case TokenType.MUL:
    case TokenType.DIV:
    case TokenType.MOD:
    case TokenType.ATAN2:
    case TokenType.TRIM_UPPER:
    case TokenType.TRIM_LOWER:
      return 5;
    case TokenType.POW:
      return 6;
    default:
      return -1;
  }
}
/** Precedence of `^`; the operand of a unary operator extends over `^` only (so `-2^2` is -4). */
const POW_PRECEDENCE = 6;

const BINARY_OP_OF = new Map<TokenType, BinaryOp>([
  [TokenType.ADD, '+'],
  [TokenType.SUB, '-'],
  [TokenType.MUL, '*'],
  [TokenType.DIV, '/'],
  [TokenType.MOD, '%'],
  [TokenType.POW, '^'],
  [TokenType.EQLC, '=='],
  [TokenType.NEQ, '!='],
  [TokenType.GTR, '>'],
  [TokenType.LSS, '<'],
  [TokenType.GTE, '>='],
  [TokenType.LTE, '<='],
  [TokenType.LAND, 'and'],
  [TokenType.LOR, 'or'],
  [TokenType.LUNLESS, 'unless'],
  [TokenType.ATAN2, 'atan2'],
  [TokenType.TRIM_UPPER, '</'],
  [TokenType.TRIM_LOWER, '>/'],
]);

const MATCH_TYPE_OF = new Map<TokenType, MatchType>([
  [TokenType.EQL, '='],
  [TokenType.NEQ, '!='],
  [TokenType.EQL_REGEX, '=~'],
  [TokenType.NEQ_REGEX, '!~'],
]);

/** Keywords that may also be used as a metric name (Prometheus' `metric_identifier`), besides aggregators. */
const METRIC_NAME_KEYWORDS: ReadonlySet<TokenType> = new Set<TokenType>([
  TokenType.BY,
  TokenType.LAND,
  TokenType.LOR,
  TokenType.LUNLESS,
  TokenType.OFFSET,
  TokenType.WITHOUT,
]);

/** Tokens that may name a label in `by (...)`, `on (...)` and the like (Prometheus' `maybe_label`). */
function isMaybeLabel(t: TokenType): boolean {
  return (
    t === TokenType.IDENTIFIER ||
    t === TokenType.METRIC_IDENTIFIER ||
    isAggregator(t) ||
    isKeyword(t) ||
    t === TokenType.LAND ||
    t === TokenType.LOR ||
    t === TokenType.LUNLESS ||
    t === TokenType.ATAN2
  );
}

/** float64(math.MaxInt64) = 2^63, the bound Prometheus compares @ timestamps against. */
const TIMESTAMP_LIMIT = 2 ** 63;
/** 2^63 nanoseconds in seconds: durations are int64 nanoseconds in Prometheus. */
const DURATION_LIMIT_SECONDS = 2 ** 63 / 1e9;

const OFFSET_CONTEXT_EXPECTED = 'number, duration, step(), or range()';
const RANGE_EXPECTED = 'number, duration, step(), or range()';
const STEP_EXPECTED = 'number, duration, step(), range(), or "]"';

/** Rounds half away from zero, as Go's math.Round (JavaScript's rounds half up). */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function tokRange(t: Token): PosRange {
  return { start: t.start, end: t.end };
}

/** A number or duration literal in a modifier or bracket: its value in seconds and milliseconds. */
interface DurationLiteral {
  readonly seconds: number;
  readonly ms: number;
  readonly pos: PosRange;
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(
    private readonly input: string,
    private readonly experimental: boolean,
  ) {
    this.tokens = lex(input);
  }

  // ---- token access -------------------------------------------------------------------------

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private peekType(k: number): TokenType {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)]!.type;
  }

  /** Consumes a token. The final EOF/ERROR token is never consumed past. */
  private next(): Token {
    const t = this.tokens[this.i]!;
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private fail(pos: PosRange, reason: string): never {
    throw new ParseError(this.input, pos, reason);
  }

  /** Reports an unexpected token; a lexing error is reported as itself. */
  private unexpected(tok: Token, context = '', expected = ''): never {
    if (tok.type === TokenType.ERROR) this.fail(tokRange(tok), tok.text);
    let msg = 'unexpected ' + describeToken(tok);
    if (context !== '') msg += ' in ' + context;
    if (expected !== '') msg += ', expected ' + expected;
    this.fail(tokRange(tok), msg);
  }

  // ---- entry points -------------------------------------------------------------------------

  parseTop(): Expr {
    if (this.peek().type === TokenType.EOF) this.fail({ start: 0, end: 0 }, 'no expression found in input');
    const expr = this.parseBinary(0);
    const t = this.peek();
    if (t.type !== TokenType.EOF) this.unexpected(t);
    return expr;
  }

  parseSelectorOnly(): VectorSelector {
    const t = this.peek();
    let vs: VectorSelector;
    if (t.type === TokenType.LEFT_BRACE) {
      vs = this.parseVectorSelector(undefined, t.start);
    } else if (t.type === TokenType.IDENTIFIER || t.type === TokenType.METRIC_IDENTIFIER || isAggregator(t.type) || METRIC_NAME_KEYWORDS.has(t.type)) {
      this.next();
      vs = this.parseVectorSelector(t, t.start);
    } else {
      this.unexpected(t);
    }
    const end = this.peek();
    if (end.type !== TokenType.EOF) this.unexpected(end);
    return vs;
  }

  // ---- expressions --------------------------------------------------------------------------

  /** Precedence climbing over binary operators binding at least as tight as `minPrec`. */
  private parseBinary(minPrec: number): Expr {
    let lhs = this.parseUnary();
    for (;;) {
      const opTok = this.peek();
      const prec = binaryPrecedence(opTok.type);
      if (prec < 0 || prec < minPrec) return lhs;
      this.next();
      const { returnBool, vectorMatching } = this.parseBinaryModifiers();
      // Left-associative operators parse their right side one level tighter; `^` is right-associative.
      const rhs = this.parseBinary(opTok.type === TokenType.POW ? prec : prec + 1);
      const bin: BinaryExpr = {
        kind: 'BinaryExpr',
        op: BINARY_OP_OF.get(opTok.type)!,
        lhs,
        rhs,
        returnBool,
        vectorMatching,
        pos: { start: lhs.pos.start, end: rhs.pos.end },
      };
      lhs = bin;
    }
  }

  /** `bool`, `on(...)`/`ignoring(...)` and `group_left(...)`/`group_right(...)` after an operator. */
  private parseBinaryModifiers(): { returnBool: boolean; vectorMatching: VectorMatching } {
    let returnBool = false;
    if (this.peek().type === TokenType.BOOL) {
      this.next();
      returnBool = true;
    }
    // Cardinality is settled by the type check (set operators become many-to-many, scalars drop it).
    const vectorMatching: VectorMatching = { card: 'one-to-one', on: false, matchingLabels: [], include: [] };
    const t = this.peek();
    if (t.type === TokenType.ON || t.type === TokenType.IGNORING) {
      this.next();
      vectorMatching.on = t.type === TokenType.ON;
      vectorMatching.matchingLabels = this.parseGroupingLabels().labels;
      const g = this.peek();
      if (g.type === TokenType.GROUP_LEFT || g.type === TokenType.GROUP_RIGHT) {
        this.next();
        vectorMatching.card = g.type === TokenType.GROUP_LEFT ? 'many-to-one' : 'one-to-many';
        // The label list is optional; a following "(" is always taken as the list, as in Prometheus.
        if (this.peek().type === TokenType.LEFT_PAREN) vectorMatching.include = this.parseGroupingLabels().labels;
      }
    }
    return { returnBool, vectorMatching };
  }

  /**
   * A unary `-`/`+` binds looser than `^` but tighter than `*` (Prometheus gives it MUL precedence),
   * so `-2^2` is `-(2^2)` and `-a * b` is `(-a) * b`. A signed number literal folds into the literal.
   */
  private parseUnary(): Expr {
    const t = this.peek();
    if (t.type !== TokenType.ADD && t.type !== TokenType.SUB) return this.parsePostfix(this.parsePrimary());
    this.next();
    const operand = this.parseBinary(POW_PRECEDENCE);
    const pos = { start: t.start, end: operand.pos.end };
    if (operand.kind === 'NumberLiteral') {
      if (t.type === TokenType.SUB) operand.value = -operand.value;
      operand.pos = pos;
      return operand;
    }
    return { kind: 'UnaryExpr', op: t.type === TokenType.SUB ? '-' : '+', expr: operand, pos };
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case TokenType.NUMBER:
        this.next();
        return { kind: 'NumberLiteral', value: this.numberValue(t), pos: tokRange(t) };
      case TokenType.DURATION: {
        this.next();
        const lit: NumberLiteral = { kind: 'NumberLiteral', value: this.durationMs(t) / 1000, pos: tokRange(t) };
        lit.duration = true;
        return lit;
      }
      case TokenType.STRING:
        this.next();
        return { kind: 'StringLiteral', value: unquoteString(t.text), pos: tokRange(t) };
      case TokenType.LEFT_PAREN: {
        this.next();
        const inner = this.parseBinary(0);
        const close = this.next();
        if (close.type !== TokenType.RIGHT_PAREN) this.unexpected(close);
        return { kind: 'ParenExpr', expr: inner, pos: { start: t.start, end: close.end } };
      }
      case TokenType.LEFT_BRACE:
        return this.parseVectorSelector(undefined, t.start);
      case TokenType.IDENTIFIER:
        if (this.peekType(1) === TokenType.LEFT_PAREN) return this.parseCall();
        this.next();
        return this.parseVectorSelector(t, t.start);
      case TokenType.METRIC_IDENTIFIER:
        this.next();
        return this.parseVectorSelector(t, t.start);
      default:
        // Aggregators and keywords used as metric names are recognised by set membership below.
        break;
    }
    if (isAggregator(t.type)) {
      // `sum(...)`, `sum by ...` and `sum without ...` aggregate; a bare `sum` is a metric name.
      const n = this.peekType(1);
      if (n === TokenType.LEFT_PAREN || n === TokenType.BY || n === TokenType.WITHOUT) return this.parseAggregate();
      this.next();
      return this.parseVectorSelector(t, t.start);
    }
    if (METRIC_NAME_KEYWORDS.has(t.type)) {
      this.next();
      return this.parseVectorSelector(t, t.start);
    }
    this.unexpected(t);
  }

  /** Range selectors, subqueries, `offset` and `@`, which bind tighter than any operator. */
  private parsePostfix(expr: Expr): Expr {
    let e = expr;
    for (;;) {
      switch (this.peek().type) {
        case TokenType.LEFT_BRACKET:
          e = this.parseRangeOrSubquery(e);
          break;
        case TokenType.OFFSET:
          this.parseOffset(e);
          break;
        case TokenType.AT:
          this.parseAt(e);
          break;
        default:
          return e;
      }
    }
  }

  // ---- selectors ----------------------------------------------------------------------------

  /** A vector selector after its optional name token (already consumed). */
  private parseVectorSelector(nameTok: Token | undefined, start: number): VectorSelector {
    let matchers: Matcher[] = [];
    let end = nameTok === undefined ? start : nameTok.end;
    if (this.peek().type === TokenType.LEFT_BRACE) {
      this.next();
      const res = this.parseLabelMatchers();
      matchers = res.matchers;
      end = res.end;
    }
    const vs: VectorSelector = { kind: 'VectorSelector', matchers, offset: 0, at: undefined, pos: { start, end } };
    if (nameTok !== undefined) {
      vs.name = nameTok.text;
      // As in Prometheus, the name written outside the braces becomes the last matcher.
      matchers.push(new Matcher('=', '__name__', nameTok.text));
    }
    return vs;
  }

  /** The inside of `{...}` (the `{` is consumed) up to and including `}`. */
  private parseLabelMatchers(): { matchers: Matcher[]; end: number } {
    const matchers: Matcher[] = [];
    if (this.peek().type === TokenType.RIGHT_BRACE) return { matchers, end: this.next().end };
    for (;;) {
      const t = this.next();
      if (t.type === TokenType.IDENTIFIER) {
        matchers.push(this.parseMatcherRest(t, t.text));
      } else if (t.type === TokenType.STRING) {
        const name = unquoteString(t.text);
        if (MATCH_TYPE_OF.has(this.peek().type)) {
          matchers.push(this.parseMatcherRest(t, name));
        } else {
          // A lone quoted string is the metric name: {"my.metric", a="b"}.
          matchers.push(this.newMatcher('=', '__name__', name, tokRange(t)));
        }
      } else {
        this.unexpected(t, 'label matching', 'identifier or "}"');
      }
      const sep = this.next();
      if (sep.type === TokenType.RIGHT_BRACE) return { matchers, end: sep.end };
      if (sep.type !== TokenType.COMMA) this.unexpected(sep, 'label matching', '"," or "}"');
      if (this.peek().type === TokenType.RIGHT_BRACE) return { matchers, end: this.next().end };
    }
  }

  private parseMatcherRest(labelTok: Token, name: string): Matcher {
    const opTok = this.next();
    const type = MATCH_TYPE_OF.get(opTok.type);
    if (type === undefined) this.unexpected(opTok, 'label matching', 'label matching operator');
    const valueTok = this.next();
    if (valueTok.type !== TokenType.STRING) this.unexpected(valueTok, 'label matching', 'string');
    return this.newMatcher(type, name, unquoteString(valueTok.text), { start: labelTok.start, end: valueTok.end });
  }

  private newMatcher(type: MatchType, name: string, value: string, pos: PosRange): Matcher {
    try {
      return new Matcher(type, name, value);
    } catch (err) {
      if (err instanceof MatcherError) this.fail(pos, err.message);
      throw err;
    }
  }

  /** `[range]` or `[range:step]` / `[range:]` after an expression. */
  private parseRangeOrSubquery(expr: Expr): Expr {
    const lb = this.next();
    const range = this.parseDurationLiteral('subquery or range selector', RANGE_EXPECTED, true, true);
    const t = this.next();
    if (t.type === TokenType.RIGHT_BRACKET) {
      let err = '';
      if (expr.kind !== 'VectorSelector') err = 'ranges only allowed for vector selectors';
      else if (expr.offset !== 0) err = 'no offset modifiers allowed before range';
      else if (expr.at !== undefined) err = 'no @ modifiers allowed before range';
      if (err !== '') this.fail({ start: lb.start, end: t.end }, err);
      const ms: MatrixSelector = {
        kind: 'MatrixSelector',
        vectorSelector: expr as VectorSelector,
        range: range.ms,
        pos: { start: expr.pos.start, end: t.end },
      };
      return ms;
    }
    if (t.type !== TokenType.COLON) this.unexpected(t, 'subquery or range', '":" or "]"');
    let step = 0;
    let end: number;
    if (this.peek().type === TokenType.RIGHT_BRACKET) {
      end = this.next().end;
    } else {
      step = this.parseDurationLiteral('subquery selector', STEP_EXPECTED, true, true).ms;
      const rb = this.next();
      if (rb.type !== TokenType.RIGHT_BRACKET) this.unexpected(rb, 'subquery selector', '"]"');
      end = rb.end;
    }
    const sq: SubqueryExpr = {
      kind: 'SubqueryExpr',
      expr,
      range: range.ms,
      step,
      offset: 0,
      at: undefined,
      pos: { start: expr.pos.start, end },
    };
    return sq;
  }

  /**
   * A signed or unsigned number or duration, as used by ranges, steps and offsets (a plain number
   * is seconds). Prometheus' experimental duration arithmetic is rejected with its own message.
   */
  private parseDurationLiteral(context: string, expected: string, positive: boolean, inBrackets: boolean): DurationLiteral {
    const first = this.peek();
    let sign = 1;
    if (first.type === TokenType.ADD || first.type === TokenType.SUB) {
      this.next();
      if (first.type === TokenType.SUB) sign = -1;
    }
    const t = this.peek();
    if (t.type !== TokenType.NUMBER && t.type !== TokenType.DURATION) {
      const startsDurationExpr =
        t.type === TokenType.LEFT_PAREN ||
        ((t.type === TokenType.IDENTIFIER || t.type === TokenType.MIN || t.type === TokenType.MAX) &&
          DURATION_EXPR_WORDS.has(t.text.toLowerCase()) &&
          this.peekType(1) === TokenType.LEFT_PAREN);
      if (startsDurationExpr) this.fail(tokRange(t), 'experimental duration expression is not enabled');
      this.unexpected(t, context, expected);
    }
    this.next();
    const pos = { start: first.start, end: t.end };
    if (inBrackets) {
      const after = this.peekType(0);
      if (
        after === TokenType.ADD ||
        after === TokenType.SUB ||
        after === TokenType.MUL ||
        after === TokenType.DIV ||
        after === TokenType.MOD ||
        after === TokenType.POW
      ) {
        this.fail(pos, 'experimental duration expression is not enabled');
      }
    }
    let seconds: number;
    let ms: number;
    if (t.type === TokenType.DURATION) {
      ms = sign * this.durationMs(t);
      seconds = ms / 1000;
    } else {
      seconds = sign * this.numberValue(t);
      ms = Math.trunc(goRound(seconds * 1e9) / 1e6);
    }
    if (positive && !(seconds > 0)) this.fail(pos, 'duration must be greater than 0');
    if (!positive && !(Math.abs(seconds) <= DURATION_LIMIT_SECONDS)) this.fail(pos, 'duration out of range');
    return { seconds, ms: ms === 0 ? 0 : ms, pos };
  }

  /** `offset <duration>` after an expression; Prometheus allows it on selectors and subqueries only. */
  private parseOffset(expr: Expr): void {
    this.next();
    const d = this.parseDurationLiteral('offset', OFFSET_CONTEXT_EXPECTED, false, false);
    let target: VectorSelector | SubqueryExpr;
    switch (expr.kind) {
      case 'VectorSelector':
      case 'SubqueryExpr':
        target = expr;
        break;
      case 'MatrixSelector':
        target = expr.vectorSelector;
        break;
      default:
        this.fail(expr.pos, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    }
    if (target.offset !== 0) this.fail(expr.pos, 'offset may not be set multiple times');
    target.offset = d.ms;
    expr.pos.end = d.pos.end;
  }

  /** `@ <timestamp>`, `@ start()` or `@ end()` after an expression. */
  private parseAt(expr: Expr): void {
    this.next();
    const t = this.peek();
    let at: AtModifier;
    let end: number;
    if (t.type === TokenType.IDENTIFIER && (t.text.toLowerCase() === 'start' || t.text.toLowerCase() === 'end')) {
      this.next();
      const lp = this.next();
      if (lp.type !== TokenType.LEFT_PAREN) this.unexpected(lp, '@', '"("');
      const rp = this.next();
      if (rp.type !== TokenType.RIGHT_PAREN) this.unexpected(rp, '@', '")"');
      at = t.text.toLowerCase() === 'start' ? 'start' : 'end';
      end = rp.end;
    } else {
      let sign = 1;
      if (t.type === TokenType.ADD || t.type === TokenType.SUB) {
        this.next();
        if (t.type === TokenType.SUB) sign = -1;
      }
      const n = this.next();
      let seconds: number;
      if (n.type === TokenType.NUMBER) seconds = sign * this.numberValue(n);
      else if (n.type === TokenType.DURATION) seconds = (sign * this.durationMs(n)) / 1000;
      else this.unexpected(n, '@', 'timestamp');
      if (!Number.isFinite(seconds) || seconds >= TIMESTAMP_LIMIT || seconds <= -TIMESTAMP_LIMIT) {
        this.fail(expr.pos, `timestamp out of bounds for @ modifier: ${formatGoFixed6(seconds)}`);
      }
      at = goRound(seconds * 1000);
      if (at === 0) at = 0; // no -0
      end = n.end;
    }
    let target: VectorSelector | SubqueryExpr;
    switch (expr.kind) {
      case 'VectorSelector':
      case 'SubqueryExpr':
        target = expr;
        break;
      case 'MatrixSelector':
        target = expr.vectorSelector;
        break;
      default:
        this.fail(expr.pos, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    }
    if (target.at !== undefined) this.fail(expr.pos, '@ <timestamp> may not be set multiple times');
    target.at = at;
    expr.pos.end = end;
  }

  // ---- calls and aggregations ---------------------------------------------------------------

  /** The arguments after a consumed `(`, up to and including `)`. */
  private parseArgs(): { args: Expr[]; end: number } {
    const args: Expr[] = [];
    if (this.peek().type === TokenType.RIGHT_PAREN) return { args, end: this.next().end };
    for (;;) {
      args.push(this.parseBinary(0));
      const t = this.next();
      if (t.type === TokenType.RIGHT_PAREN) return { args, end: t.end };
      if (t.type !== TokenType.COMMA) this.unexpected(t);
      if (this.peek().type === TokenType.RIGHT_PAREN) this.fail(tokRange(t), 'trailing commas not allowed in function call args');
    }
  }

  private parseCall(): Call {
    const nameTok = this.next();
    this.next(); // "("
    const { args, end } = this.parseArgs();
    // Like Prometheus, the name is checked once the call is complete.
    const func = getFunction(nameTok.text);
    if (func === undefined) this.fail(tokRange(nameTok), `unknown function with name ${goQuote(nameTok.text)}`);
    if (func.experimental && !this.experimental) this.fail(tokRange(nameTok), `function ${goQuote(nameTok.text)} is not enabled`);
    return { kind: 'Call', func, args, pos: { start: nameTok.start, end } };
  }

  private parseAggregate(): AggregateExpr {
    const opTok = this.next();
    const op = opTok.text.toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let modifierSeen = false;
    const m = this.peek();
    if (m.type === TokenType.BY || m.type === TokenType.WITHOUT) {
      this.next();
      without = m.type === TokenType.WITHOUT;
      grouping = this.parseGroupingLabels().labels;
      modifierSeen = true;
    }
    const lp = this.next();
    if (lp.type !== TokenType.LEFT_PAREN) this.unexpected(lp);
    const body = this.parseArgs();
    let end = body.end;
    const m2 = this.peek();
    if (!modifierSeen && (m2.type === TokenType.BY || m2.type === TokenType.WITHOUT)) {
      this.next();
      without = m2.type === TokenType.WITHOUT;
      const g = this.parseGroupingLabels();
      grouping = g.labels;
      end = g.end;
    }
    const pos = { start: opTok.start, end };
    const args = body.args;
    if (args.length === 0) this.fail(pos, 'no arguments for aggregate expression provided');
    let desired = 1;
    let param: Expr | undefined;
    if (aggregateHasParam(op)) {
      if (aggregateIsExperimental(op) && !this.experimental) {
        this.fail(pos, `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`);
      }
      desired = 2;
      param = args[0];
    }
    if (args.length !== desired) {
      this.fail(pos, `wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`);
    }
    const agg: AggregateExpr = { kind: 'AggregateExpr', op, expr: args[desired - 1]!, grouping, without, pos };
    if (param !== undefined) agg.param = param;
    return agg;
  }

  /** `(label, "quoted label", ...)` after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`. */
  private parseGroupingLabels(): { labels: string[]; end: number } {
    const lp = this.next();
    if (lp.type !== TokenType.LEFT_PAREN) this.unexpected(lp, 'grouping opts', '"("');
    const labels: string[] = [];
    if (this.peek().type === TokenType.RIGHT_PAREN) return { labels, end: this.next().end };
    for (;;) {
      const t = this.next();
      if (t.type === TokenType.STRING) {
        const name = unquoteString(t.text);
        if (name === '' || !isValidUtf8(name)) this.fail(tokRange(t), `invalid label name for grouping: ${goQuote(name)}`);
        labels.push(name);
      } else if (isMaybeLabel(t.type)) {
        labels.push(t.text);
      } else {
        this.unexpected(t, 'grouping opts', 'label');
      }
      const sep = this.next();
      if (sep.type === TokenType.RIGHT_PAREN) return { labels, end: sep.end };
      if (sep.type !== TokenType.COMMA) this.unexpected(sep, 'grouping opts', '"," or ")"');
      if (this.peek().type === TokenType.RIGHT_PAREN) return { labels, end: this.next().end };
    }
  }

  // ---- literals -----------------------------------------------------------------------------

  /** A NUMBER token's value, as Go's ParseInt(s, 0, 64) then ParseFloat (so `0755` is octal). */
  private numberValue(t: Token): number {
    const text = t.text;
    const lower = text.toLowerCase();
    if (lower === 'inf') return Infinity;
    if (lower === 'nan') return NaN;
    const s = text.includes('_') ? text.replaceAll('_', '') : text;
    let v: number;
    if (isOctalInt(s)) v = parseInt(s, 8);
    else v = Number(s);
    if (Number.isNaN(v)) this.fail(tokRange(t), `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`);
    if (!Number.isFinite(v)) {
      this.fail(tokRange(t), `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`);
    }
    return v;
  }

  private durationMs(t: Token): number {
    try {
      return parseDuration(t.text);
    } catch (err) {
      if (err instanceof DurationError) this.fail(tokRange(t), err.message);
      throw err;
    }
  }
}

/** True for Go-style octal integer literals (`0755`), which ParseInt(s, 0, 64) reads in base 8. */
function isOctalInt(s: string): boolean {
  if (s.length < 2 || s.charCodeAt(0) !== 0x30) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x37) return false;
  }
  return true;
}
