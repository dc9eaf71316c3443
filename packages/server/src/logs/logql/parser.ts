/**
 * The LogQL parser: recursive descent over lexer.ts tokens, with Loki's error form,
 * `parse error at line 1, col 5: syntax error: unexpected …`.
 */
import { compileAnchoredRegex, Matcher, type MatchType } from '../../core/model/matcher.js';
import { compileRegex } from '../../core/regex/re2.js';
import {
  AGG_OPS,
  RANGE_FUNCS,
  type AggOp,
  type BinOp,
  type Expr,
  type GroupModifier,
  type Grouping,
  type LabelFilter,
  type LineFilterOp,
  type LogExpr,
  type MetricExpr,
  type RangeFunc,
  type Stage,
  type TemplatePart,
} from './ast.js';
import { parseBytes, parseGoDuration } from './units.js';
import { lex, LogqlParseError, type Tok, type TokKind } from './lexer.js';
import { compileLinePattern, compilePattern, compileTemplate, parseJsonPath } from './stage_syntax.js';

export { LogqlParseError };

const BIN_PREC: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '>': 3,
  '>=': 3,
  '<': 3,
  '<=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};

class Parser {
  private i = 0;
  private readonly toks: Tok[];

  constructor(private readonly input: string) {
    this.toks = lex(input, (msg, pos) => this.failAt(msg, pos));
  }

  failAt(msg: string, pos: number): never {
    const before = this.input.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    throw new LogqlParseError(msg, line, col);
  }

  private peek(o = 0): Tok {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  private next(): Tok {
    return this.toks[Math.min(this.i++, this.toks.length - 1)]!;
  }
  private unexpected(t = this.peek()): never {
    const what =
      t.kind === 'eof'
        ? 'end of input'
        : t.kind === 'string'
          ? `STRING ${t.text}`
          : t.kind === 'ident'
            ? `IDENTIFIER ${t.text}`
            : t.kind === 'op'
              ? t.text
              : `${t.kind.toUpperCase()} ${t.text}`;
    this.failAt(`syntax error: unexpected ${what}`, t.pos);
  }
  private isOp(text: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === 'op' && t.text === text;
  }
  private isIdent(text: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === 'ident' && t.text === text;
  }
  private expectOp(text: string): Tok {
    if (!this.isOp(text)) this.unexpected();
    return this.next();
  }
  private expect(kind: TokKind): Tok {
    if (this.peek().kind !== kind) this.unexpected();
    return this.next();
  }

  parse(): Expr {
    const e = this.peek().kind === 'op' && this.isOp('{') ? this.logExpr() : this.metricExpr(0);
    if (this.peek().kind !== 'eof') this.unexpected();
    return e;
  }

  private guard<T>(pos: number, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof LogqlParseError) throw err;
      this.failAt((err as Error).message, pos);
    }
  }

  private selector(): Matcher[] {
    const open = this.expectOp('{');
    const ms: Matcher[] = [];
    while (!this.isOp('}')) {
      const name = this.expect('ident');
      const op = this.next();
      if (op.kind !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text)) this.unexpected(op);
      const val = this.expect('string');
      ms.push(this.guard(val.pos, () => new Matcher(op.text as MatchType, name.text, val.value)));
      if (this.isOp(',')) this.next();
      else if (!this.isOp('}')) this.unexpected();
    }
    this.next();
    if (!ms.some((m) => !m.matchesEmpty()))
      this.failAt(
        'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
        open.pos,
      );
    return ms;
  }

  logExpr(): LogExpr {
    const start = this.peek().pos;
    const matchers = this.selector();
    const stages: Stage[] = [];
    let linesEnd: number | undefined;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') break;
      if (['|=', '!=', '|~', '!~', '|>', '!>'].includes(t.text)) {
        stages.push(this.lineFilter());
        continue;
      }
      if (t.text !== '|') break;
      this.next();
      const stage = this.stage();
      if (stage.kind === 'unwrap') linesEnd ??= t.pos;
      stages.push(stage);
    }
    const end = linesEnd ?? (this.peek().kind === 'eof' ? this.input.length : this.peek().pos);
    return { kind: 'log', matchers, stages, source: this.input.slice(start, end).trim() };
  }

  private lineFilter(): Stage {
    const op = this.next().text as LineFilterOp;
    const values: string[] = [];
    const first = this.expect('string');
    values.push(first.value);
    while (this.isIdent('or') && this.peek(1).kind === 'string') {
      this.next();
      values.push(this.next().value);
    }
    if (op === '|~' || op === '!~') {
      const res = values.map((v) =>
        // Unanchored, as Loki's line filters: `|~ "err"` keeps any line containing `err`.
        this.guard(first.pos, () => compileRegex(v, 'none')),
      );
      return { kind: 'lineFilter', op, values, res };
    }
    if (op === '|>' || op === '!>') {
      const patterns = values.map((v) => this.guard(first.pos, () => compileLinePattern(v)));
      return { kind: 'lineFilter', op, values, patterns };
    }
    return { kind: 'lineFilter', op, values };
  }

  private stage(): Stage {
    const t = this.peek();
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'json': {
          this.next();
          const params: { label: string; path: (string | number)[] }[] = [];
          while (this.peek().kind === 'ident' && this.isOp('=', 1)) {
            const label = this.next().text;
            this.next();
            const p = this.expect('string');
            params.push({ label, path: this.guard(p.pos, () => parseJsonPath(p.value)) });
            if (!this.isOp(',')) break;
            this.next();
          }
          return { kind: 'json', params };
        }
        case 'logfmt': {
          this.next();
          while (this.isOp('-') && this.peek(1).kind === 'ident') {
            // --strict / --keep-empty flags are accepted and ignored.
            this.next();
            this.next();
          }
          const params: { label: string; key: string }[] = [];
          while (this.peek().kind === 'ident' && (this.isOp('=', 1) || this.isOp(',', 1) || this.peek(1).kind === 'eof' || this.isOp('|', 1))) {
            const label = this.next().text;
            let key = label;
            if (this.isOp('=')) {
              this.next();
              key = this.expect('string').value;
            }
            params.push({ label, key });
            if (!this.isOp(',')) break;
            this.next();
          }
          return { kind: 'logfmt', params };
        }
        case 'regexp': {
          this.next();
          const s = this.expect('string');
          const re = this.guard(s.pos, () => {
            const r = compileRegex(s.value, 'none');
            if (r.groupNames().length === 0) throw new Error('at least one named capture must be supplied');
            return r;
          });
          return { kind: 'regexp', re };
        }
        case 'pattern': {
          this.next();
          const s = this.expect('string');
          return { kind: 'pattern', parts: this.guard(s.pos, () => compilePattern(s.value)) };
        }
        case 'unpack':
          this.next();
          return { kind: 'unpack' };
        case 'decolorize':
          this.next();
          return { kind: 'decolorize' };
        case 'line_format': {
          this.next();
          const s = this.expect('string');
          return { kind: 'lineFormat', tmpl: this.guard(s.pos, () => compileTemplate(s.value)) };
        }
        case 'label_format': {
          this.next();
          const items: { dst: string; src?: string; tmpl?: TemplatePart[] }[] = [];
          for (;;) {
            const dst = this.expect('ident').text;
            this.expectOp('=');
            const v = this.next();
            if (v.kind === 'ident') items.push({ dst, src: v.text });
            else if (v.kind === 'string') items.push({ dst, tmpl: this.guard(v.pos, () => compileTemplate(v.value)) });
            else this.unexpected(v);
            if (!this.isOp(',')) break;
            this.next();
          }
          return { kind: 'labelFormat', items };
        }
        case 'drop':
        case 'keep': {
          this.next();
          const items: { name: string; matcher?: Matcher }[] = [];
          for (;;) {
            const name = this.expect('ident').text;
            const op = this.peek();
            if (op.kind === 'op' && ['=', '!=', '=~', '!~'].includes(op.text)) {
              this.next();
              const v = this.expect('string');
              items.push({ name, matcher: this.guard(v.pos, () => new Matcher(op.text as MatchType, name, v.value)) });
            } else items.push({ name });
            if (!this.isOp(',')) break;
            this.next();
          }
          return { kind: t.text, items };
        }
        case 'unwrap': {
          this.next();
          let conv: 'none' | 'duration' | 'bytes' = 'none';
          let label: string;
          const a = this.expect('ident').text;
          if ((a === 'duration' || a === 'duration_seconds' || a === 'bytes') && this.isOp('(')) {
            this.next();
            label = this.expect('ident').text;
            this.expectOp(')');
            conv = a === 'bytes' ? 'bytes' : 'duration';
          } else label = a;
          return { kind: 'unwrap', label, conv };
        }
      }
      return { kind: 'labelFilter', filter: this.labelFilterOr() };
    }
    if (t.kind === 'op' && t.text === '(') return { kind: 'labelFilter', filter: this.labelFilterOr() };
    this.unexpected();
  }

  private labelFilterOr(): LabelFilter {
    let left = this.labelFilterAnd();
    while (this.isIdent('or')) {
      this.next();
      left = { kind: 'or', left, right: this.labelFilterAnd() };
    }
    return left;
  }

  private labelFilterAnd(): LabelFilter {
    let left = this.labelFilterPrimary();
    for (;;) {
      if (this.isIdent('and') || this.isOp(',')) this.next();
      else if (this.peek().kind === 'ident' && !this.isIdent('or') && this.peek(1).kind === 'op' && !this.isOp('(', 1)) {
        // `| a="x" b="y"` (space-separated) is an implicit and.
      } else break;
      left = { kind: 'and', left, right: this.labelFilterPrimary() };
    }
    return left;
  }

  private labelFilterPrimary(): LabelFilter {
    if (this.isOp('(')) {
      this.next();
      const f = this.labelFilterOr();
      this.expectOp(')');
      return f;
    }
    const name = this.expect('ident').text;
    const op = this.next();
    if (op.kind !== 'op') this.unexpected(op);
    const v = this.next();
    if (v.kind === 'string') {
      if (!['=', '!=', '=~', '!~'].includes(op.text)) this.unexpected(v);
      return { kind: 'match', matcher: this.guard(v.pos, () => new Matcher(op.text as MatchType, name, v.value)) };
    }
    const cmp = op.text === '=' ? '==' : op.text;
    if (!['==', '!=', '>', '>=', '<', '<='].includes(cmp)) this.unexpected(op);
    let sign = 1;
    let vt = v;
    if (v.kind === 'op' && v.text === '-') {
      sign = -1;
      vt = this.next();
    }
    let value: number;
    let unit: 'number' | 'duration' | 'bytes';
    if (vt.kind === 'number') [value, unit] = [Number(vt.text), 'number'];
    else if (vt.kind === 'duration') [value, unit] = [parseGoDuration(vt.text)! / 1000, 'duration'];
    else if (vt.kind === 'bytes') [value, unit] = [parseBytes(vt.text)!, 'bytes'];
    else this.unexpected(vt);
    return { kind: 'cmp', name, op: cmp as '==' | '!=' | '>' | '>=' | '<' | '<=', value: sign * value, unit };
  }

  private grouping(): Grouping | undefined {
    if (!this.isIdent('by') && !this.isIdent('without')) return undefined;
    const without = this.next().text === 'without';
    this.expectOp('(');
    const labels: string[] = [];
    while (!this.isOp(')')) {
      labels.push(this.expect('ident').text);
      if (this.isOp(',')) this.next();
      else if (!this.isOp(')')) this.unexpected();
    }
    this.next();
    return { without, labels };
  }

  metricExpr(minPrec: number): MetricExpr {
    let lhs = this.unary();
    for (;;) {
      const t = this.peek();
      const op = t.kind === 'op' || (t.kind === 'ident' && ['and', 'or', 'unless'].includes(t.text)) ? t.text : '';
      const prec = BIN_PREC[op];
      if (prec === undefined || prec < minPrec) break;
      this.next();
      let bool = false;
      if (this.isIdent('bool')) {
        this.next();
        bool = true;
      }
      let on: Grouping | undefined;
      if (this.isIdent('on') || this.isIdent('ignoring')) {
        const without = this.next().text === 'ignoring';
        this.expectOp('(');
        const labels: string[] = [];
        while (!this.isOp(')')) {
          labels.push(this.expect('ident').text);
          if (this.isOp(',')) this.next();
        }
        this.next();
        on = { without, labels };
      }
      const group = on ? this.groupModifier(op) : undefined;
      const rhs = this.metricExpr(op === '^' ? prec : prec + 1);
      lhs = { kind: 'bin', op: op as BinOp, bool, lhs, rhs, ...(on ? { on } : {}), ...(group ? { group } : {}) };
    }
    return lhs;
  }

  /** `group_left` / `group_right`, with the labels to copy from the "one" side, after `on`/`ignoring`. */
  private groupModifier(op: string): GroupModifier | undefined {
    if (!this.isIdent('group_left') && !this.isIdent('group_right')) return undefined;
    const t = this.next();
    if (op === 'and' || op === 'or' || op === 'unless') this.failAt(`syntax error: no grouping allowed for "${op}" operation`, t.pos);
    const include: string[] = [];
    if (this.isOp('(')) {
      this.next();
      while (!this.isOp(')')) {
        include.push(this.expect('ident').text);
        if (this.isOp(',')) this.next();
      }
      this.next();
    }
    return { side: t.text === 'group_left' ? 'left' : 'right', include };
  }

  private unary(): MetricExpr {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      const e = this.unary();
      if (t.text === '+') return e;
      if (e.kind === 'num') return { kind: 'num', value: -e.value };
      return { kind: 'bin', op: '*', bool: false, lhs: e, rhs: { kind: 'num', value: -1 } };
    }
    if (t.kind === 'number') {
      this.next();
      return { kind: 'num', value: Number(t.text) };
    }
    if (t.kind === 'op' && t.text === '(') {
      this.next();
      const e = this.metricExpr(0);
      this.expectOp(')');
      return e;
    }
    if (t.kind === 'ident') {
      if (t.text === 'vector') {
        this.next();
        this.expectOp('(');
        const n = this.expect('number');
        this.expectOp(')');
        return { kind: 'vector', value: Number(n.text) };
      }
      if ((RANGE_FUNCS as readonly string[]).includes(t.text)) return this.rangeAgg();
      if ((AGG_OPS as readonly string[]).includes(t.text)) return this.vectorAgg();
    }
    if (t.kind === 'op' && t.text === '{')
      this.failAt('syntax error: unexpected {, a log query cannot be used here: wrap it in a range aggregation such as count_over_time({…}[1m])', t.pos);
    this.unexpected();
  }

  private rangeAgg(): MetricExpr {
    const fnTok = this.next();
    const fn = fnTok.text as RangeFunc;
    this.expectOp('(');
    let param: number | undefined;
    if (fn === 'quantile_over_time') {
      param = Number(this.expect('number').text);
      this.expectOp(',');
    }
    let log: LogExpr;
    let parens = false;
    if (this.isOp('(')) {
      this.next();
      parens = true;
    }
    log = this.logExpr();
    if (parens) this.expectOp(')');
    this.expectOp('[');
    const d = this.expect('duration');
    const rangeMs = parseGoDuration(d.text)!;
    this.expectOp(']');
    let offsetMs = 0;
    if (this.isIdent('offset')) {
      this.next();
      offsetMs = parseGoDuration(this.expect('duration').text)!;
    }
    // Pipeline stages written after the range (`count_over_time({a="b"}[5m] | json)`) are not LogQL.
    this.expectOp(')');
    const grouping = this.grouping();
    const unwrap = log.stages.some((s) => s.kind === 'unwrap');
    const needsUnwrap = !['rate', 'count_over_time', 'bytes_rate', 'bytes_over_time', 'absent_over_time'].includes(fn);
    if (needsUnwrap && !unwrap) this.failAt(`invalid aggregation ${fn} without unwrap`, fnTok.pos);
    if (unwrap && !needsUnwrap && fn !== 'rate') this.failAt(`invalid aggregation ${fn} with unwrap`, fnTok.pos);
    if (grouping && !needsUnwrap) this.failAt(`grouping not allowed for ${fn} aggregation`, fnTok.pos);
    log = { ...log };
    const node: MetricExpr = { kind: 'range', fn, rangeMs, offsetMs, log, ...(param !== undefined ? { param } : {}), ...(grouping ? { grouping } : {}) };
    return node;
  }

  private vectorAgg(): MetricExpr {
    const op = this.next().text as AggOp;
    let grouping = this.grouping();
    this.expectOp('(');
    let param: number | undefined;
    if (op === 'topk' || op === 'bottomk') {
      param = Number(this.expect('number').text);
      this.expectOp(',');
    }
    const expr = this.metricExpr(0);
    this.expectOp(')');
    grouping ??= this.grouping();
    return { kind: 'agg', op, expr, ...(param !== undefined ? { param } : {}), ...(grouping ? { grouping } : {}) };
  }
}

/** Parses a LogQL query. @throws {LogqlParseError} */
export function parseLogql(input: string): Expr {
  return guardDepth(() => new Parser(input).parse());
}

/** Parses a stream selector (`{a="b"}`), as in Loki's push protobuf labels field. */
export function parseStreamSelector(input: string): Matcher[] {
  const e = guardDepth(() => new Parser(input).parse());
  if (e.kind !== 'log' || e.stages.length) throw new LogqlParseError('syntax error: expected a stream selector', 1, 1);
  return [...e.matchers];
}

/**
 * The parser is recursive descent, so absurdly nested input (`((((…`, `-----…1`) overflows the stack;
 * that RangeError would escape as a 500, so it becomes a parse error (a 400) like PromQL's.
 */
function guardDepth<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) throw new LogqlParseError('expression is nested too deeply', 1, 1);
    throw err;
  }
}

/** Anchored regex for label matchers, re-exported for evaluators. */
export { compileAnchoredRegex };
