/**
 * A parser for Go's text/template: text and `{{ }}` actions with trim markers, comments,
 * pipelines with variable declarations, `if`/`else if`/`else`/`end`, `range` (with `else`,
 * `break`, `continue`), `with`, parenthesised pipelines, and the template-set actions `define`,
 * `template` and `block`. One source parses into a set of trees, as Go's `parse.Parse` does: the
 * top-level text under the source's name plus one tree per `define`/`block`. Positions are byte
 * offsets into the source so errors read like Go's (`template: NAME:LINE: …`).
 */
import { goQuoteString } from './gofmt.js';
import { VigilError } from '../../core/errors.js';

/** A template that cannot be parsed; the message is formatted as Go's text/template does. */
export class TemplateParseError extends VigilError {
  override readonly code = 'template_parse' as const;
  constructor(
    readonly templateName: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super('template_parse', `template: ${templateName}:${line}: ${reason}`);
  }
}

/** An operand: what may appear as an argument in a command. */
export type Arg =
  | { kind: 'field'; pos: number; fields: string[] }
  | { kind: 'dot'; pos: number }
  | { kind: 'var'; pos: number; name: string; fields: string[] }
  | { kind: 'ident'; pos: number; name: string }
  | { kind: 'string'; pos: number; value: string; text: string }
  | { kind: 'number'; pos: number; value: number | bigint; text: string }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'nil'; pos: number }
  | { kind: 'pipe'; pos: number; pipe: Pipeline; fields: string[] };

/** A command: a function (or value) followed by its arguments. */
export interface Command {
  pos: number;
  args: Arg[];
}

/** A pipeline, with the variables it declares or assigns. */
export interface Pipeline {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

/** A node of the template tree. */
export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pos: number; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { kind: 'break' | 'continue'; pos: number }
  | { kind: 'template'; pos: number; name: string; pipe: Pipeline | undefined };

/** A parsed template: its name, source (for positions) and tree. */
export interface Template {
  readonly name: string;
  /** The name of the source it was parsed from (a file's base name); errors are located by it. */
  readonly parseName: string;
  /** The whole source, which node positions index. */
  readonly text: string;
  readonly root: Node[];
  /** Every tree parsed from the same source (itself included), for `{{template}}` without a set. */
  readonly associated?: ReadonlyMap<string, Template>;
}

/** Go's parse.IsEmptyTree: only whitespace text (and comments). Such a tree never replaces a defined one. */
export function isEmptyTree(root: readonly Node[]): boolean {
  return root.every((n) => n.kind === 'text' && n.text.trim() === '');
}

type TokKind =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'declare'
  | 'assign'
  | 'field'
  | 'var'
  | 'ident'
  | 'dot'
  | 'string'
  | 'rawstring'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'keyword'
  | 'eof';

interface Tok {
  kind: TokKind;
  val: string;
  pos: number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);
}

/** Splits a template into tokens, applying trim markers to the surrounding text. */
function lex(name: string, src: string): Tok[] {
  const toks: Tok[] = [];
  const lineAt = (pos: number): number => src.slice(0, pos).split('\n').length;
  const fail = (pos: number, msg: string): never => {
    throw new TemplateParseError(name, lineAt(pos), msg);
  };
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    const textPos = i;
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text !== '') toks.push({ kind: 'text', val: text, pos: textPos });
      break;
    }
    let p = open + 2;
    if (src[p] === '-' && isSpace(src[p + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      p += 2;
    }
    if (text !== '') toks.push({ kind: 'text', val: text, pos: textPos });
    // A comment fills the whole action.
    let q = p;
    while (isSpace(src[q])) q++;
    if (src.startsWith('/*', p) || (q !== p && src.startsWith('/*', q) && src[open + 2] === '-')) {
      const start = src.startsWith('/*', p) ? p : q;
      const end = src.indexOf('*/', start + 2);
      if (end < 0) fail(start, 'unclosed comment');
      let r = end + 2;
      if (src.startsWith(' -}}', r)) {
        trimNext = true;
        r += 4;
      } else if (src.startsWith('}}', r)) r += 2;
      else fail(r, 'comment ends before closing delimiter');
      i = r;
      continue;
    }
    toks.push({ kind: 'left', val: '{{', pos: open });
    // Inside an action.
    for (;;) {
      if (p >= src.length) fail(open, 'unclosed action');
      if (isSpace(src[p]) && src[p + 1] === '-' && src.startsWith('}}', p + 2)) {
        trimNext = true;
        toks.push({ kind: 'right', val: '}}', pos: p + 2 });
        p += 4;
        break;
      }
      if (src.startsWith('}}', p)) {
        toks.push({ kind: 'right', val: '}}', pos: p });
        p += 2;
        break;
      }
      const c = src[p]!;
      const start = p;
      if (isSpace(c)) {
        while (isSpace(src[p]) && !(src[p + 1] === '-' && src.startsWith('}}', p + 2) && isSpace(src[p]))) p++;
        if (p === start) p++;
        toks.push({ kind: 'space', val: ' ', pos: start });
        continue;
      }
      if (c === '|') toks.push({ kind: 'pipe', val: c, pos: p++ });
      else if (c === '(') toks.push({ kind: 'lparen', val: c, pos: p++ });
      else if (c === ')') toks.push({ kind: 'rparen', val: c, pos: p++ });
      else if (c === ',') toks.push({ kind: 'comma', val: c, pos: p++ });
      else if (c === ':') {
        if (src[p + 1] !== '=') fail(p, 'expected :=');
        toks.push({ kind: 'declare', val: ':=', pos: p });
        p += 2;
      } else if (c === '=') toks.push({ kind: 'assign', val: c, pos: p++ });
      else if (c === '"' || c === "'") {
        p++;
        while (p < src.length && src[p] !== c) {
          if (src[p] === '\\') p++;
          if (src[p] === '\n') fail(start, `unterminated ${c === '"' ? 'quoted string' : 'character constant'}`);
          p++;
        }
        if (p >= src.length) fail(start, `unterminated ${c === '"' ? 'quoted string' : 'character constant'}`);
        p++;
        toks.push({ kind: c === '"' ? 'string' : 'char', val: src.slice(start, p), pos: start });
      } else if (c === '`') {
        const end = src.indexOf('`', p + 1);
        if (end < 0) fail(start, 'unterminated raw quoted string');
        p = end + 1;
        toks.push({ kind: 'rawstring', val: src.slice(start, p), pos: start });
      } else if (c === '$') {
        p++;
        while (isAlnum(src[p])) p++;
        toks.push({ kind: 'var', val: src.slice(start, p), pos: start });
      } else if (c === '.') {
        if (/[0-9]/.test(src[p + 1] ?? '')) {
          p = lexNumber(src, p);
          toks.push({ kind: 'number', val: src.slice(start, p), pos: start });
        } else {
          p++;
          while (isAlnum(src[p])) p++;
          toks.push(p === start + 1 ? { kind: 'dot', val: '.', pos: start } : { kind: 'field', val: src.slice(start, p), pos: start });
        }
      } else if (/[0-9+-]/.test(c)) {
        p = lexNumber(src, p);
        if (p === start) fail(start, `bad character ${JSON.stringify(c)}`);
        toks.push({ kind: 'number', val: src.slice(start, p), pos: start });
      } else if (isAlnum(c)) {
        while (isAlnum(src[p])) p++;
        const word = src.slice(start, p);
        const kind: TokKind = KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'ident';
        toks.push({ kind, val: word, pos: start });
      } else {
        fail(p, `unexpected ${JSON.stringify(c)} in command`);
      }
    }
    i = p;
  }
  toks.push({ kind: 'eof', val: '', pos: src.length });
  return toks;
}

function lexNumber(src: string, p: number): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+(\.[0-9a-fA-F_]*)?([pP][+-]?\d+)?|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)i?/.exec(src.slice(p));
  return m === null || m[0] === '' || m[0] === '+' || m[0] === '-' ? p : p + m[0].length;
}

/** Go's strconv.Unquote for the string forms a template may contain. */
function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
        return e;
    }
  });
}

function parseNumber(text: string): number | bigint | undefined {
  const clean = text.replace(/_/g, '');
  if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|\d+)$/.test(clean)) {
    const neg = clean.startsWith('-');
    const body = clean.replace(/^[+-]/, '');
    const lower = body.toLowerCase();
    let v: bigint;
    if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
    else v = BigInt(lower);
    return neg ? -v : v;
  }
  const f = Number(clean);
  return Number.isNaN(f) ? undefined : f;
}

class Parser {
  private i = 0;
  private readonly toks: Tok[];
  /** Variables in scope; each define and block body starts afresh with `$` (Go's trees do). */
  private vars: string[] = ['$'];
  /** The trees parsed so far; every template shares this map as its `associated`. */
  readonly trees = new Map<string, Template>();

  constructor(
    private readonly parseName: string,
    private readonly src: string,
  ) {
    this.toks = lex(parseName, src);
  }

  private fail(pos: number, msg: string): never {
    throw new TemplateParseError(this.parseName, this.src.slice(0, pos).split('\n').length, msg);
  }

  /** Adds a tree as Go's Tree.add does: an empty tree never replaces a defined one, two non-empty ones clash. */
  private add(name: string, root: Node[], pos: number): void {
    const prev = this.trees.get(name);
    if (prev && !isEmptyTree(prev.root)) {
      if (!isEmptyTree(root)) this.fail(pos, `template: multiple definition of template ${goQuoteString(name)}`);
      return;
    }
    this.trees.set(name, { name, parseName: this.parseName, text: this.src, root, associated: this.trees });
  }

  private withFreshVars<T>(f: () => T): T {
    const saved = this.vars;
    this.vars = ['$'];
    try {
      return f();
    } finally {
      this.vars = saved;
    }
  }

  /** The quoted name of a define, template or block clause. */
  private templateName(t: Tok, ctx: string): string {
    if (t.kind !== 'string' && t.kind !== 'rawstring') this.fail(t.pos, `unexpected ${describe(t)} in ${ctx}`);
    return unquote(t.val);
  }

  /** `{{define "name"}}…{{end}}`, after the keyword. */
  private definition(): void {
    const t = this.nextNonSpace();
    const name = this.templateName(t, 'define clause');
    this.expectRight('define clause');
    const body = this.withFreshVars(() => this.list(false));
    if (body.end !== 'end') this.fail(t.pos, 'unexpected {{else}} in define clause');
    this.add(name, body.nodes, t.pos);
  }

  /** `{{template "name" pipeline}}`, or `{{block "name" pipeline}}…{{end}}` (a define plus a call), after the keyword. */
  private templateCall(block: boolean): Node {
    const ctx = block ? 'block clause' : 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, ctx);
    let pipe: Pipeline | undefined;
    if (this.peekNonSpace().kind === 'right') {
      this.next();
      if (block) this.fail(t.pos, `missing value for ${ctx}`);
    } else {
      pipe = this.pipeline(ctx, 'right');
      if (pipe.cmds.length === 0) this.fail(t.pos, `missing value for ${ctx}`);
    }
    if (block) {
      const body = this.withFreshVars(() => this.list(false));
      if (body.end !== 'end') this.fail(t.pos, 'unexpected {{else}} in block clause');
      this.add(name, body.nodes, t.pos);
    }
    return { kind: 'template', pos: t.pos, name, pipe };
  }

  private peek(): Tok {
    return this.toks[this.i]!;
  }

  private next(): Tok {
    return this.toks[this.i++]!;
  }

  private peekNonSpace(): Tok {
    while (this.peek().kind === 'space') this.i++;
    return this.peek();
  }

  private nextNonSpace(): Tok {
    while (this.peek().kind === 'space') this.i++;
    return this.next();
  }

  /** Parses the whole source; the top-level text becomes template `name`. */
  parse(name: string): Map<string, Template> {
    const { nodes, end } = this.list(true);
    if (end !== 'eof') this.fail(this.peek().pos, `unexpected {{${end}}}`);
    this.add(name, nodes, 0);
    return this.trees;
  }

  /** Parses nodes until `{{end}}`, `{{else}}` or the end of input; returns which one stopped it. */
  private list(top: boolean): { nodes: Node[]; end: 'eof' | 'end' | 'else' } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        if (!top) this.fail(t.pos, 'unexpected EOF');
        return { nodes, end: 'eof' };
      }
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.val });
        continue;
      }
      // t is a left delimiter.
      const k = this.peekNonSpace();
      if (k.kind === 'keyword') {
        this.next();
        switch (k.val) {
          case 'end':
            this.expectRight('end');
            if (top) this.fail(k.pos, 'unexpected {{end}}');
            return { nodes, end: 'end' };
          case 'else':
            if (top) this.fail(k.pos, 'unexpected {{else}}');
            return { nodes, end: 'else' };
          case 'if':
          case 'with':
          case 'range':
            nodes.push(this.control(k.val, k.pos));
            continue;
          case 'break':
          case 'continue':
            this.expectRight(k.val);
            nodes.push({ kind: k.val, pos: k.pos });
            continue;
          case 'define':
            // Only at the top level of a source, as in Go.
            if (!top) this.fail(k.pos, 'unexpected <define> in command');
            this.definition();
            continue;
          case 'template':
          case 'block':
            nodes.push(this.templateCall(k.val === 'block'));
            continue;
          default:
            this.fail(k.pos, `unexpected <${k.val}> in command`);
        }
      }
      const pipe = this.pipeline('command', 'right');
      nodes.push({ kind: 'action', pos: k.pos, pipe });
    }
  }

  private expectRight(ctx: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== 'right') this.fail(t.pos, `unexpected ${JSON.stringify(t.val)} in ${ctx}`);
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'right');
    if (pipe.cmds.length === 0) this.fail(pos, `missing value for ${kind}`);
    const body = this.list(false);
    let elseList: Node[] | undefined;
    if (body.end === 'else') {
      const n = this.peekNonSpace();
      // `{{else if …}}` / `{{else with …}}`: a nested control that shares our {{end}}.
      if (n.kind === 'keyword' && (n.val === 'if' || n.val === 'with') && kind !== 'range') {
        this.next();
        elseList = [this.control(n.val, n.pos)];
      } else {
        this.expectRight('else');
        const rest = this.list(false);
        if (rest.end !== 'end') this.fail(this.peek().pos, 'expected end; found {{else}}');
        elseList = rest.nodes;
      }
    }
    this.vars.length = mark;
    return { kind, pos, pipe, list: body.nodes, elseList };
  }

  private pipeline(ctx: string, end: 'right' | 'rparen'): Pipeline {
    const start = this.peekNonSpace();
    const pipe: Pipeline = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    // Optional declaration: `$x :=`, `$x =`, or `$i, $e :=` in range.
    if (start.kind === 'var') {
      const save = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.kind === 'declare' || after.kind === 'assign') {
        this.next();
        pipe.decl.push(start.val);
        pipe.isAssign = after.kind === 'assign';
        if (!pipe.isAssign) this.vars.push(start.val);
        else if (!this.vars.includes(start.val)) this.fail(start.pos, `undefined variable "${start.val}"`);
      } else if (after.kind === 'comma' && ctx === 'range') {
        this.next();
        const v2 = this.nextNonSpace();
        if (v2.kind !== 'var') this.fail(v2.pos, 'range can only initialize variables');
        const d = this.nextNonSpace();
        if (d.kind !== 'declare' && d.kind !== 'assign') this.fail(d.pos, 'expected := or =');
        pipe.decl.push(start.val, v2.val);
        pipe.isAssign = d.kind === 'assign';
        if (!pipe.isAssign) this.vars.push(start.val, v2.val);
      } else {
        this.i = save;
      }
    }
    for (;;) {
      const t = this.peekNonSpace();
      if ((end === 'right' && t.kind === 'right') || (end === 'rparen' && t.kind === 'rparen')) {
        this.next();
        if (pipe.cmds.length === 0 && (pipe.decl.length > 0 || end === 'rparen')) this.fail(t.pos, `missing value for ${ctx}`);
        return pipe;
      }
      if (t.kind === 'eof' || (t.kind === 'right' && end === 'rparen') || (t.kind === 'rparen' && end === 'right'))
        this.fail(t.pos, `unclosed ${end === 'rparen' ? 'left paren' : 'action'}`);
      pipe.cmds.push(this.command());
    }
  }

  private command(): Command {
    const cmd: Command = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === 'right' || t.kind === 'rparen') break;
      if (t.kind === 'pipe') {
        this.next();
        if (cmd.args.length === 0) this.fail(t.pos, 'missing command');
        return cmd;
      }
      cmd.args.push(this.operand());
      const after = this.peek();
      if (after.kind !== 'space' && after.kind !== 'right' && after.kind !== 'rparen' && after.kind !== 'pipe')
        this.fail(after.pos, `unexpected ${JSON.stringify(after.val)} in operand`);
    }
    if (cmd.args.length === 0) this.fail(cmd.pos, 'empty command');
    return cmd;
  }

  private operand(): Arg {
    const t = this.next();
    let arg: Arg;
    switch (t.kind) {
      case 'field':
        arg = { kind: 'field', pos: t.pos, fields: [t.val.slice(1)] };
        break;
      case 'dot':
        arg = { kind: 'dot', pos: t.pos };
        break;
      case 'var':
        if (!this.vars.includes(t.val)) this.fail(t.pos, `undefined variable "${t.val}"`);
        arg = { kind: 'var', pos: t.pos, name: t.val, fields: [] };
        break;
      case 'ident':
        arg = { kind: 'ident', pos: t.pos, name: t.val };
        break;
      case 'string':
      case 'rawstring':
        arg = { kind: 'string', pos: t.pos, value: unquote(t.val), text: t.val };
        break;
      case 'char': {
        const ch = unquote('"' + t.val.slice(1, -1) + '"');
        arg = { kind: 'number', pos: t.pos, value: BigInt(ch.codePointAt(0) ?? 0), text: t.val };
        break;
      }
      case 'number': {
        const v = parseNumber(t.val);
        if (v === undefined) this.fail(t.pos, `illegal number syntax: ${JSON.stringify(t.val)}`);
        arg = { kind: 'number', pos: t.pos, value: v, text: t.val };
        break;
      }
      case 'bool':
        arg = { kind: 'bool', pos: t.pos, value: t.val === 'true' };
        break;
      case 'nil':
        arg = { kind: 'nil', pos: t.pos };
        break;
      case 'lparen':
        arg = { kind: 'pipe', pos: t.pos, pipe: this.pipeline('parenthesized pipeline', 'rparen'), fields: [] };
        break;
      default:
        this.fail(t.pos, `unexpected ${JSON.stringify(t.val)} in operand`);
    }
    // A field chain directly after the operand: `$labels.instance`, `(query "x").Value`.
    while (this.peek().kind === 'field') {
      const f = this.next().val.slice(1);
      if (arg.kind === 'field' || arg.kind === 'var' || arg.kind === 'pipe') arg.fields.push(f);
      else if (arg.kind === 'dot') arg = { kind: 'field', pos: arg.pos, fields: [f] };
      else this.fail(arg.pos, `unexpected . after term ${JSON.stringify(f)}`);
    }
    return arg;
  }
}

/**
 * Parses a source into its trees: the top-level text as `name`, plus every `define` and `block`.
 * `parseName` (default `name`) locates errors, as Go's ParseName does for files.
 */
export function parseTemplates(name: string, text: string, parseName = name): Map<string, Template> {
  return new Parser(parseName, text).parse(name);
}

/**
 * Parses a template (its defines go into {@link Template.associated}). Prometheus prepends
 * `$labels`, `$value`, … definitions, which this parser sees as ordinary text.
 */
export function parseTemplate(name: string, text: string): Template {
  return parseTemplates(name, text).get(name)!;
}

/** A token as Go's parser prints it in errors: keywords in angle brackets, the rest quoted. */
function describe(t: Tok): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'keyword') return `<${t.val}>`;
  return goQuoteString(t.val.length > 10 ? t.val.slice(0, 10) + '...' : t.val);
}

/** Prints an operand the way Go's parse nodes print, for error context. */
export function formatArg(a: Arg): string {
  switch (a.kind) {
    case 'field':
      return '.' + a.fields.join('.');
    case 'dot':
      return '.';
    case 'var':
      return [a.name, ...a.fields].join('.');
    case 'ident':
      return a.name;
    case 'string':
    case 'number':
      return a.text;
    case 'bool':
      return String(a.value);
    case 'nil':
      return 'nil';
    case 'pipe':
      return `(${formatPipe(a.pipe)})${a.fields.map((f) => '.' + f).join('')}`;
  }
}

/** Prints a pipeline like Go's PipeNode.String. */
export function formatPipe(p: Pipeline): string {
  const decl = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map((c) => c.args.map(formatArg).join(' ')).join(' | ');
}
