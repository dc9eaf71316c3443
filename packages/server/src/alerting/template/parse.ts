/**
 * A parser for Go's text/template: text and `{{ }}` actions with trim markers, comments,
 * pipelines with variable declarations, `if`/`else if`/`else`/`end`, `range` (with `else`,
 * `break`, `continue`), `with`, parenthesised pipelines, and the template-set actions `define`,
 * `template` and `block`. One source parses into a set of trees, as Go's `parse.Parse` does: the
 * top-level text under the source's name plus one tree per `define`/`block`. Positions are byte
 * offsets into the source so errors read like Go's (`template: NAME:LINE: …`).
 */
import { goQuoteString } from './gofmt.js';
import { lex, parseNumber, TemplateParseError, unquote, type Tok } from './lex.js';

export { TemplateParseError };

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
