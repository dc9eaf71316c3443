/**
 * The TraceQL parser: recursive descent over {@link lex}'s tokens with the precedence of Tempo's
 * grammar (`expr.y`). Between spansets `||` binds loosest, then `&&`, then the structural operators
 * (left to right); inside a filter `||`, `&&`, comparisons, `+ -`, `* / %`, unary `! -`, then `^`
 * (right to left). Errors name the unexpected token as Tempo's parser does ("syntax error:
 * unexpected $end, expecting { or (") at its line and column.
 */
import { compileRegex, RegexSyntaxError } from '../../core/regex/re2.js';
import type { SpanKind, StatusCode } from '../storage/types.js';
import {
  type AggregateFn,
  type CmpOp,
  type FieldExpr,
  type FieldRef,
  type MetricsFnName,
  type MetricsStage,
  type Pipeline,
  type PipelineElement,
  type RootExpr,
  type SpansetExpr,
  type SpansetOp,
  type Static,
  METRICS_FNS,
  SPANSET_OPS,
} from './ast.js';
import { BARE_INTRINSICS, KINDS, SCOPED_INTRINSICS, STATUSES } from './names.js';
import { describe, lex, MAX_NESTING_DEPTH, MAX_OPERATORS, parseErrorAt, type Tok, TraceqlParseError } from './lexer.js';

export { TraceqlParseError } from './lexer.js';

const CMP_OPS: ReadonlySet<string> = new Set(['=', '!=', '>', '>=', '<', '<=', '=~', '!~']);
const STRUCTURAL: ReadonlySet<string> = new Set(SPANSET_OPS.filter((o) => o !== '&&' && o !== '||'));
const AGGREGATES: ReadonlySet<string> = new Set(['count', 'avg', 'min', 'max', 'sum']);

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly input: string,
    private readonly toks: Tok[],
  ) {}

  private get tok(): Tok {
    return this.toks[this.i]!;
  }
  private next(): Tok {
    return this.toks[this.i++]!;
  }
  private operators = 0;
  /** Consumes a binary operator's token, counting it against {@link MAX_OPERATORS}. */
  private nextOp(): Tok {
    const t = this.next();
    if (++this.operators > MAX_OPERATORS) throw parseErrorAt(this.input, t.pos, `syntax error: more than ${MAX_OPERATORS} operators`);
    return t;
  }
  private is(text: string): boolean {
    const t = this.tok;
    return (t.kind === 'op' || t.kind === 'ident') && t.text === text;
  }
  private fail(t: Tok, expecting?: string[]): never {
    const exp = expecting !== undefined && expecting.length > 0 ? `, expecting ${expecting.join(' or ')}` : '';
    throw parseErrorAt(this.input, t.pos, `syntax error: unexpected ${describe(t)}${exp}`);
  }
  private expect(text: string, expecting?: string[]): Tok {
    if (!this.is(text)) this.fail(this.tok, expecting ?? [text]);
    return this.next();
  }
  private enter(t: Tok): void {
    if (++this.depth > MAX_NESTING_DEPTH) throw parseErrorAt(this.input, t.pos, `syntax error: nesting deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  private leave(): void {
    this.depth--;
  }

  root(): RootExpr {
    const { pipeline, metrics } = this.pipeline(true);
    const hints = this.is('with') ? this.withHints() : {};
    if (this.tok.kind !== 'eof') this.fail(this.tok);
    return { pipeline, metrics, hints, text: this.input };
  }

  /** `with(most_recent = true, sample = 0.1)`. */
  private withHints(): Record<string, Static> {
    this.next();
    this.expect('(');
    const hints: Record<string, Static> = {};
    do {
      if (this.is(',')) this.next();
      const name = this.tok;
      if (name.kind !== 'ident') this.fail(name);
      this.next();
      this.expect('=', ['=']);
      hints[name.text] = this.staticValue();
    } while (this.is(','));
    this.expect(')', [')', ',']);
    return hints;
  }

  /** `spansetExpr ( '|' element )*`, optionally ending with a metrics stage when `top`. */
  private pipeline(top: boolean): { pipeline: Pipeline; metrics: MetricsStage | null } {
    const elements: PipelineElement[] = [this.spansetExpr()];
    let metrics: MetricsStage | null = null;
    while (this.is('|')) {
      this.next();
      const t = this.tok;
      if (t.kind === 'ident' && (METRICS_FNS as readonly string[]).includes(t.text)) {
        if (!top) this.fail(t);
        metrics = this.metricsStage();
        break;
      }
      elements.push(this.element());
    }
    return { pipeline: { elements }, metrics };
  }

  private element(): PipelineElement {
    const t = this.tok;
    if (t.kind === 'ident' && AGGREGATES.has(t.text)) return this.scalarFilter();
    if (t.kind === 'ident' && t.text === 'by') {
      this.next();
      this.expect('(');
      const from = this.tok.pos;
      const field = this.fieldExpr();
      const text = this.input.slice(from, this.tok.pos).trim();
      this.expect(')', [')']);
      return { t: 'by', field, text, pos: t.pos };
    }
    if (t.kind === 'ident' && t.text === 'select') {
      this.next();
      this.expect('(');
      const fields = this.refList();
      this.expect(')', [')', ',']);
      return { t: 'select', fields, pos: t.pos };
    }
    if (t.kind === 'ident' && t.text === 'coalesce') {
      this.next();
      this.expect('(');
      this.expect(')');
      return { t: 'coalesce', pos: t.pos };
    }
    return this.spansetExpr();
  }

  /** `count() > 2`, `avg(duration) >= 1s`. */
  private scalarFilter(): PipelineElement {
    const t = this.next();
    const fn = t.text as AggregateFn;
    this.expect('(');
    let field: FieldExpr | null = null;
    if (fn !== 'count') field = this.fieldExpr();
    this.expect(')', [')']);
    const opTok = this.tok;
    if (!(opTok.kind === 'op' && CMP_OPS.has(opTok.text))) this.fail(opTok);
    this.next();
    const value = this.staticValue();
    return { t: 'scalar', fn, field, op: opTok.text as CmpOp, value, pos: t.pos };
  }

  /** A literal, possibly negative, for the right side of a scalar filter. */
  private staticValue(): Static {
    const t = this.tok;
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      const n = this.tok;
      if (n.kind !== 'int' && n.kind !== 'float' && n.kind !== 'duration') this.fail(n);
      this.next();
      return { type: n.kind === 'duration' ? 'duration' : n.kind, v: -n.num! } as Static;
    }
    const e = this.primary();
    if (e.t !== 'static') this.fail(t);
    return e.v;
  }

  private metricsStage(): MetricsStage {
    const t = this.next();
    const fn = t.text as MetricsFnName;
    this.expect('(');
    let field: FieldRef | null = null;
    const quantiles: number[] = [];
    if (fn !== 'rate' && fn !== 'count_over_time') {
      field = this.ref();
      if (fn === 'quantile_over_time') {
        do {
          this.expect(',', [',']);
          const q = this.tok;
          if (q.kind !== 'int' && q.kind !== 'float') this.fail(q);
          this.next();
          if (q.num! < 0 || q.num! > 1) throw parseErrorAt(this.input, q.pos, `quantile ${q.text} is outside [0, 1]`);
          quantiles.push(q.num!);
        } while (this.is(','));
      }
    }
    this.expect(')', [')']);
    let by: FieldRef[] = [];
    if (this.is('by')) {
      this.next();
      this.expect('(');
      by = this.refList();
      this.expect(')', [')', ',']);
    }
    let top: MetricsStage['top'] = null;
    if (this.is('|')) {
      this.next();
      const k = this.tok;
      if (!(k.kind === 'ident' && (k.text === 'topk' || k.text === 'bottomk'))) this.fail(k);
      this.next();
      this.expect('(');
      const n = this.tok;
      if (n.kind !== 'int' || n.num! < 1) this.fail(n);
      this.next();
      this.expect(')', [')']);
      top = { fn: k.text as 'topk' | 'bottomk', n: n.num! };
    }
    return { fn, field, quantiles, by, top, pos: t.pos };
  }

  private refList(): FieldRef[] {
    const refs = [this.ref()];
    while (this.is(',')) {
      this.next();
      refs.push(this.ref());
    }
    return refs;
  }

  private ref(): FieldRef {
    const t = this.tok;
    const e = this.primary();
    if (e.t !== 'attr' && e.t !== 'intrinsic') this.fail(t);
    return e;
  }

  // ---- spanset expressions ------------------------------------------------------------------------

  private spansetExpr(): SpansetExpr {
    let l = this.spansetAnd();
    while (this.is('||')) {
      const op = this.nextOp();
      l = { t: 'op', op: '||', l, r: this.spansetAnd(), pos: op.pos };
    }
    return l;
  }

  private spansetAnd(): SpansetExpr {
    let l = this.spansetStructural();
    while (this.is('&&')) {
      const op = this.nextOp();
      l = { t: 'op', op: '&&', l, r: this.spansetStructural(), pos: op.pos };
    }
    return l;
  }

  private spansetStructural(): SpansetExpr {
    let l = this.spansetPrimary();
    while (this.tok.kind === 'op' && STRUCTURAL.has(this.tok.text)) {
      const op = this.nextOp();
      l = { t: 'op', op: op.text as SpansetOp, l, r: this.spansetPrimary(), pos: op.pos };
    }
    return l;
  }

  private spansetPrimary(): SpansetExpr {
    const t = this.tok;
    if (this.is('{')) {
      this.next();
      if (this.is('}')) {
        this.next();
        return { t: 'filter', expr: null, pos: t.pos };
      }
      const expr = this.fieldExpr();
      if (!this.is('}')) this.fail(this.tok);
      this.next();
      return { t: 'filter', expr, pos: t.pos };
    }
    if (this.is('(')) {
      this.next();
      this.enter(t);
      const { pipeline } = this.pipeline(false);
      this.leave();
      if (!this.is(')')) this.fail(this.tok, [')', '|']);
      this.next();
      // A parenthesised lone spanset expression is that expression; a longer pipeline stays a group.
      const only = pipeline.elements[0]!;
      if (pipeline.elements.length === 1 && only.t !== 'scalar' && only.t !== 'by' && only.t !== 'select' && only.t !== 'coalesce') return only;
      return { t: 'group', pipeline, pos: t.pos };
    }
    this.fail(t, ['{', '(']);
  }

  // ---- field expressions --------------------------------------------------------------------------

  private fieldExpr(): FieldExpr {
    let l = this.fieldAnd();
    while (this.is('||')) {
      const op = this.nextOp();
      l = { t: 'binary', op: '||', l, r: this.fieldAnd(), pos: op.pos };
    }
    return l;
  }

  private fieldAnd(): FieldExpr {
    let l = this.fieldCmp();
    while (this.is('&&')) {
      const op = this.nextOp();
      l = { t: 'binary', op: '&&', l, r: this.fieldCmp(), pos: op.pos };
    }
    return l;
  }

  private fieldCmp(): FieldExpr {
    let l = this.fieldAdd();
    while (this.tok.kind === 'op' && CMP_OPS.has(this.tok.text)) {
      const op = this.nextOp();
      const r = this.fieldAdd();
      if ((op.text === '=~' || op.text === '!~') && !(r.t === 'static' && r.v.type === 'string')) {
        throw parseErrorAt(this.input, r.pos, `syntax error: regex operator ${op.text} needs a string literal on its right`);
      }
      if (op.text === '=~' || op.text === '!~') this.checkRegex(r);
      l = { t: 'binary', op: op.text as CmpOp, l, r, pos: op.pos };
    }
    return l;
  }

  /** Compiles the pattern now, so a bad regex is a parse error at its position (cached for evaluation). */
  private checkRegex(r: FieldExpr): void {
    if (r.t !== 'static' || r.v.type !== 'string') return;
    try {
      compileRegex(r.v.v, 'full');
    } catch (err) {
      if (err instanceof RegexSyntaxError) throw parseErrorAt(this.input, r.pos, `invalid regex: ${err.message}`);
      throw err;
    }
  }

  private fieldAdd(): FieldExpr {
    let l = this.fieldMul();
    while (this.is('+') || this.is('-')) {
      const op = this.nextOp();
      l = { t: 'binary', op: op.text as '+' | '-', l, r: this.fieldMul(), pos: op.pos };
    }
    return l;
  }

  private fieldMul(): FieldExpr {
    let l = this.fieldUnary();
    while (this.is('*') || this.is('/') || this.is('%')) {
      const op = this.nextOp();
      l = { t: 'binary', op: op.text as '*' | '/' | '%', l, r: this.fieldUnary(), pos: op.pos };
    }
    return l;
  }

  private fieldUnary(): FieldExpr {
    const t = this.tok;
    if (this.is('!') || this.is('-')) {
      this.next();
      this.enter(t);
      const e = this.fieldUnary();
      this.leave();
      // A negative literal is a literal, so `-1` and `-1.5s` compare as numbers do.
      if (t.text === '-' && e.t === 'static' && (e.v.type === 'int' || e.v.type === 'float' || e.v.type === 'duration')) {
        return { t: 'static', v: { type: e.v.type, v: -e.v.v }, pos: t.pos };
      }
      return { t: 'unary', op: t.text as '!' | '-', e, pos: t.pos };
    }
    return this.fieldPow();
  }

  private fieldPow(): FieldExpr {
    const l = this.primary();
    if (this.is('^')) {
      const op = this.nextOp();
      this.enter(op);
      const r = this.fieldUnary();
      this.leave();
      return { t: 'binary', op: '^', l, r, pos: op.pos };
    }
    return l;
  }

  private primary(): FieldExpr {
    const t = this.tok;
    switch (t.kind) {
      case 'string':
        this.next();
        return { t: 'static', v: { type: 'string', v: t.str! }, pos: t.pos };
      case 'int':
        this.next();
        return { t: 'static', v: { type: 'int', v: t.num! }, pos: t.pos };
      case 'float':
        this.next();
        return { t: 'static', v: { type: 'float', v: t.num! }, pos: t.pos };
      case 'duration':
        this.next();
        return { t: 'static', v: { type: 'duration', v: t.num! }, pos: t.pos };
      case 'attr':
        this.next();
        return { t: 'attr', scope: t.scope!, name: t.str!, text: t.text, pos: t.pos };
      case 'scoped': {
        const which = SCOPED_INTRINSICS.get(t.text);
        if (which === undefined) throw parseErrorAt(this.input, t.pos, `unknown intrinsic ${t.text}`);
        this.next();
        return { t: 'intrinsic', which, text: t.text, pos: t.pos };
      }
      case 'ident': {
        const w = t.text;
        const intrinsic = BARE_INTRINSICS.get(w);
        if (intrinsic !== undefined) {
          this.next();
          return { t: 'intrinsic', which: intrinsic, text: w, pos: t.pos };
        }
        let v: Static | undefined;
        if (w === 'true' || w === 'false') v = { type: 'bool', v: w === 'true' };
        else if (w === 'nil') v = { type: 'nil' };
        else if (STATUSES.has(w)) v = { type: 'status', v: w as StatusCode };
        else if (KINDS.has(w)) v = { type: 'kind', v: w as SpanKind };
        if (v === undefined) this.fail(t);
        this.next();
        return { t: 'static', v, pos: t.pos };
      }
      case 'op':
        if (t.text === '(') {
          this.next();
          this.enter(t);
          const e = this.fieldExpr();
          this.leave();
          this.expect(')', [')']);
          return e;
        }
        return this.fail(t);
      default:
        return this.fail(t);
    }
  }
}

/**
 * Parses a TraceQL query (a search, or a metrics query ending in `| rate()` and the like).
 * @throws {TraceqlParseError} with Tempo's wording and the position of the offending token.
 */
export function parseTraceQL(query: string): RootExpr {
  const toks = lex(query);
  try {
    return new Parser(query, toks).root();
  } catch (err) {
    // A pathological input must still surface as the typed error, never as a stack overflow.
    if (err instanceof RangeError) throw new TraceqlParseError(`syntax error: query nests too deeply`, 1, 1);
    throw err;
  }
}
