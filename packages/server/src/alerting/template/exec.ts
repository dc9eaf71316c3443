/**
 * Executes a parsed template against data, with Go text/template semantics: truthiness of zero
 * values, lazy `and`/`or`, the comparison builtins' type rules, `missingkey=zero` for maps (as
 * Prometheus and Alertmanager configure it), methods of named Go types (`.Labels.SortedPairs`,
 * `.StartsAt.Format "…"`), `{{template}}` calls into a template set, and errors located like Go's
 * (`template: FILE:LINE:COL: executing "NAME" at <node>: …`).
 */
import { formatV, goQuoteString, sprint, sprintf, sprintln, goTypeName, type TValue } from './gofmt.js';
import { basicOf, goTypeOf } from './gotype.js';
import { formatArg, formatPipe, type Arg, type Command, type Node, type Pipeline, type Template } from './parse.js';
import { VigilError } from '../../core/errors.js';

/** A function callable from a template. Throwing an Error reports `error calling NAME: message`. */
export interface TemplateFunc {
  readonly minArgs: number;
  /** Infinity for variadic functions. */
  readonly maxArgs: number;
  readonly call: (args: TValue[]) => TValue;
}

/** A template that failed while executing; the message is formatted as Go's. */
export class TemplateExecError extends VigilError {
  override readonly code = 'template_exec' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('template_exec', message, options);
  }
}

class BreakSignal {}
class ContinueSignal {}

/** Go's truth: the zero value of a type is false. */
export function isTrue(v: TValue): boolean {
  v = basicOf(v);
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

type Kind = 'bool' | 'int' | 'float' | 'string' | 'nil' | 'other';

function basicKind(v: TValue): Kind {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function eqOne(a: TValue, b: TValue): boolean {
  // Go compares by kind: a template.HTML equals a string, a Duration an int.
  a = basicOf(a);
  b = basicOf(b);
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'other' || kb === 'other') throw new Error('invalid type for comparison');
  if (ka !== kb) {
    if (ka === 'nil' || kb === 'nil') return false;
    throw new Error('incompatible types for comparison');
  }
  return a === b;
}

function lessThan(a: TValue, b: TValue): boolean {
  a = basicOf(a);
  b = basicOf(b);
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'bool' || ka === 'other' || ka === 'nil' || kb === 'bool' || kb === 'other' || kb === 'nil') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number | bigint | string) < (b as number | bigint | string);
}

function lenOf(v: TValue): bigint {
  v = basicOf(v);
  if (typeof v === 'string') return BigInt(Buffer.byteLength(v, 'utf8'));
  if (Array.isArray(v)) return BigInt(v.length);
  if (v instanceof Map) return BigInt(v.size);
  throw new Error(`len of type ${goTypeName(v)}`);
}

function indexOf(v: TValue, keys: TValue[]): TValue {
  let cur = v;
  for (const k of keys) {
    if (cur instanceof Map) {
      if (typeof k !== 'string') throw new Error(`value has type ${goTypeName(k)}; should be string`);
      cur = cur.get(k) ?? '';
    } else if (Array.isArray(cur) || typeof cur === 'string') {
      if (typeof k !== 'bigint') throw new Error(`cannot index slice/array with type ${goTypeName(k)}`);
      if (k < 0n || k >= BigInt(cur.length)) throw new Error(`index out of range: ${k}`);
      cur = Array.isArray(cur) ? cur[Number(k)] : BigInt(Buffer.from(cur, 'utf8')[Number(k)]!);
    } else if (cur === null || cur === undefined) {
      throw new Error('index of untyped nil');
    } else throw new Error(`can't index item of type ${goTypeName(cur)}`);
  }
  return cur;
}

function comparisonFunc(name: string): TemplateFunc {
  const call = (args: TValue[]): TValue => {
    const [a, ...rest] = args;
    switch (name) {
      case 'eq':
        return rest.some((b) => eqOne(a, b));
      case 'ne':
        return !eqOne(a, rest[0]);
      case 'lt':
        return lessThan(a, rest[0]);
      case 'le':
        return lessThan(a, rest[0]) || eqOne(a, rest[0]);
      case 'gt':
        return !lessThan(a, rest[0]) && !eqOne(a, rest[0]);
      default:
        return !lessThan(a, rest[0]);
    }
  };
  return { minArgs: name === 'eq' ? 2 : 2, maxArgs: name === 'eq' ? Infinity : 2, call };
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
}

/** html/template's escaper for text and attribute values (it also escapes `+`). */
export function htmlEscapeStrict(s: string): string {
  return htmlEscape(s).replace(/\+/g, '&#43;');
}

/** Go's builtin template functions (`and`/`or` are handled lazily by the executor). */
export const BUILTINS: ReadonlyMap<string, TemplateFunc> = new Map<string, TemplateFunc>([
  ['not', { minArgs: 1, maxArgs: 1, call: (a) => !isTrue(a[0]) }],
  ['len', { minArgs: 1, maxArgs: 1, call: (a) => lenOf(a[0]) }],
  ['index', { minArgs: 1, maxArgs: Infinity, call: (a) => indexOf(a[0], a.slice(1)) }],
  ['print', { minArgs: 0, maxArgs: Infinity, call: (a) => sprint(a) }],
  ['println', { minArgs: 0, maxArgs: Infinity, call: (a) => sprintln(a) }],
  [
    'printf',
    {
      minArgs: 1,
      maxArgs: Infinity,
      call: (a) => {
        if (typeof a[0] !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(a[0])}`);
        return sprintf(a[0], a.slice(1));
      },
    },
  ],
  ['html', { minArgs: 0, maxArgs: Infinity, call: (a) => htmlEscape(sprint(a)) }],
  ['urlquery', { minArgs: 0, maxArgs: Infinity, call: (a) => encodeURIComponent(sprint(a)).replace(/%20/g, '+') }],
  ['eq', comparisonFunc('eq')],
  ['ne', comparisonFunc('ne')],
  ['lt', comparisonFunc('lt')],
  ['le', comparisonFunc('le')],
  ['gt', comparisonFunc('gt')],
  ['ge', comparisonFunc('ge')],
]);

type ControlNode = Extract<Node, { pipe: Pipeline; list: Node[] }>;
type TemplateNode = Extract<Node, { kind: 'template' }>;

interface Var {
  name: string;
  value: TValue;
}

/** Go's limit on nested template calls is 100000; a JavaScript stack holds far fewer frames. */
export const MAX_TEMPLATE_DEPTH = 1000;

/** How a template runs. */
export interface ExecOptions {
  /** Finds `{{template "name"}}` targets; without it, the templates parsed with the executed one. */
  readonly lookup?: (name: string) => Template | undefined;
  /**
   * HTML output, like html/template in text context: every action's value is HTML-escaped unless
   * it is {@link ExecOptions.isSafe} (what `safeHtml` returns). Template calls are not re-escaped:
   * their own actions were.
   */
  readonly html?: boolean;
  readonly isSafe?: (v: TValue) => boolean;
}

/** Runs one parsed template. */
export class Executor {
  private vars: Var[];
  private out = '';
  /** The template being executed: calls change it, errors name it. */
  private tmpl: Template;
  private depth = 0;
  private readonly lookup: (name: string) => Template | undefined;

  constructor(
    root: Template,
    private readonly funcs: ReadonlyMap<string, TemplateFunc>,
    data: TValue,
    private readonly opts: ExecOptions = {},
  ) {
    this.tmpl = root;
    this.vars = [{ name: '$', value: data }];
    this.lookup = opts.lookup ?? ((name) => root.associated?.get(name));
  }

  /** Executes the template and returns the text. Throws {@link TemplateExecError}. */
  run(): string {
    this.walkList(this.tmpl.root, this.vars[0]!.value);
    return this.out;
  }

  private fail(pos: number, context: string, msg: string): never {
    const before = this.tmpl.text.slice(0, pos);
    const line = before.split('\n').length;
    const col = Buffer.byteLength(before.slice(before.lastIndexOf('\n') + 1), 'utf8');
    const ctx = context.length > 20 ? context.slice(0, 20) + '...' : context;
    throw new TemplateExecError(`template: ${this.tmpl.parseName}:${line}:${col}: executing "${this.tmpl.name}" at <${ctx}>: ${msg}`);
  }

  private walkList(nodes: Node[], dot: TValue): void {
    for (const n of nodes) this.walk(n, dot);
  }

  private walk(n: Node, dot: TValue): void {
    switch (n.kind) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.print(v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (isTrue(v)) this.walkList(n.list, n.kind === 'with' ? v : dot);
        else if (n.elseList) this.walkList(n.elseList, dot);
        this.vars.length = mark;
        return;
      }
      case 'range':
        return this.walkRange(n, dot);
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'template':
        return this.walkTemplate(n, dot);
    }
  }

  private print(v: TValue): void {
    // An absent value (a template called without data) prints as Go's invalid reflect.Value does.
    const s = v === undefined ? '<no value>' : formatV(v);
    this.out += this.opts.html && !this.opts.isSafe?.(v) ? htmlEscapeStrict(s) : s;
  }

  private walkTemplate(n: TemplateNode, dot: TValue): void {
    const context = `{{template ${goQuoteString(n.name)}${n.pipe ? ' ' + formatPipe(n.pipe) : ''}}}`;
    const t = this.lookup(n.name);
    if (t === undefined) this.fail(n.pos, context, `template ${goQuoteString(n.name)} not defined`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) this.fail(n.pos, context, `exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    // Variables declared by the pipeline stay in the caller's scope; the callee sees only `$`.
    const value = n.pipe ? this.evalPipeline(dot, n.pipe) : undefined;
    const saved = { tmpl: this.tmpl, vars: this.vars };
    this.tmpl = t;
    this.vars = [{ name: '$', value }];
    this.depth++;
    try {
      this.walkList(t.root, value);
    } finally {
      this.tmpl = saved.tmpl;
      this.vars = saved.vars;
      this.depth--;
    }
  }

  private walkRange(n: ControlNode, dot: TValue): void {
    const mark = this.vars.length;
    const pipe = n.pipe;
    // The declaration belongs to each iteration, not to the ranged value.
    const v = this.evalPipeline(dot, { ...pipe, decl: [] });
    const items: [TValue, TValue][] = [];
    if (Array.isArray(v)) v.forEach((e, i) => items.push([BigInt(i), e]));
    else if (v instanceof Map) for (const k of [...v.keys()].sort()) items.push([k, v.get(k)]);
    else if (typeof v === 'bigint') for (let i = 0n; i < v; i++) items.push([i, i]);
    else if (v !== null && v !== undefined) this.fail(pipe.pos, formatPipeShort(pipe), `range can't iterate over ${formatV(v)}`);
    if (items.length === 0) {
      if (n.elseList) this.walkList(n.elseList, dot);
      this.vars.length = mark;
      return;
    }
    for (const [k, e] of items) {
      const m = this.vars.length;
      if (pipe.decl.length === 1) this.setVar(pipe.decl[0]!, e, pipe.isAssign);
      else if (pipe.decl.length === 2) {
        this.setVar(pipe.decl[0]!, k, pipe.isAssign);
        this.setVar(pipe.decl[1]!, e, pipe.isAssign);
      }
      try {
        this.walkList(n.list, e);
      } catch (err) {
        if (err instanceof BreakSignal) {
          this.vars.length = m;
          break;
        }
        if (!(err instanceof ContinueSignal)) throw err;
      }
      this.vars.length = m;
    }
    this.vars.length = mark;
  }

  private setVar(name: string, value: TValue, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i]!.name === name) {
          this.vars[i]!.value = value;
          return;
        }
      }
    }
    this.vars.push({ name, value });
  }

  private getVar(name: string, pos: number): TValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.fail(pos, name, `undefined variable: ${name}`);
  }

  private evalPipeline(dot: TValue, pipe: Pipeline): TValue {
    let value: TValue;
    let has = false;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, has ? [value] : []);
      has = true;
    }
    for (const d of pipe.decl) this.setVar(d, value, pipe.isAssign);
    return value;
  }

  private evalCommand(dot: TValue, cmd: Command, final: TValue[]): TValue {
    const first = cmd.args[0]!;
    const rest = cmd.args.slice(1);
    switch (first.kind) {
      case 'ident':
        return this.call(dot, first, rest, final);
      // The last element of a field chain may be a method; it takes the command's arguments.
      case 'field':
        return this.fields(dot, dot, first.fields, first, rest, final);
      case 'var':
        if (first.fields.length > 0) return this.fields(dot, this.getVar(first.name, first.pos), first.fields, first, rest, final);
        break;
      case 'pipe':
        if (first.fields.length > 0) return this.fields(dot, this.evalPipeline(dot, first.pipe), first.fields, first, rest, final);
        break;
      default:
        break;
    }
    if (rest.length > 0 || final.length > 0) this.fail(first.pos, formatArg(first), `can't give argument to non-function ${formatArg(first)}`);
    return this.evalArg(dot, first);
  }

  private evalArg(dot: TValue, a: Arg): TValue {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'field':
        return this.fields(dot, dot, a.fields, a, [], []);
      case 'var':
        return this.fields(dot, this.getVar(a.name, a.pos), a.fields, a, [], []);
      case 'pipe':
        return this.fields(dot, this.evalPipeline(dot, a.pipe), a.fields, a, [], []);
      case 'string':
      case 'number':
      case 'bool':
        return a.value;
      case 'nil':
        return this.fail(a.pos, 'nil', 'nil is not a command');
      case 'ident':
        return this.call(dot, a, [], []);
    }
  }

  /**
   * Walks a field chain like Go's evalFieldChain: at each step a method of the value's Go type
   * wins over a map key or struct field; only the last step may take arguments.
   */
  private fields(dot: TValue, v: TValue, names: readonly string[], at: Arg, args: Arg[], final: TValue[]): TValue {
    let cur = v;
    names.forEach((f, i) => {
      const last = i === names.length - 1;
      const hasArgs = last && (args.length > 0 || final.length > 0);
      const method = goTypeOf(cur)?.methods?.get(f);
      if (method) {
        const values = last ? args.map((a) => this.evalArg(dot, a)).concat(final) : [];
        if (values.length < method.minArgs || values.length > method.maxArgs) {
          const want = method.maxArgs === Infinity ? `at least ${method.minArgs}` : String(method.minArgs);
          this.fail(at.pos, formatArg(at), `wrong number of args for ${f}: want ${want} got ${values.length}`);
        }
        try {
          cur = method.call(cur, values);
        } catch (err) {
          if (err instanceof TemplateExecError) throw err;
          this.fail(at.pos, formatArg(at), `error calling ${f}: ${(err as Error).message}`);
        }
        return;
      }
      if (cur instanceof Map) {
        if (hasArgs) this.fail(at.pos, formatArg(at), `${f} is not a method but has arguments`);
        cur = cur.has(f) ? cur.get(f) : '';
      } else if (cur === null || cur === undefined) this.fail(at.pos, formatArg(at), `nil pointer evaluating interface {}.${f}`);
      else if (typeof cur === 'object' && !Array.isArray(cur) && Object.prototype.hasOwnProperty.call(cur, f)) {
        if (hasArgs) this.fail(at.pos, formatArg(at), `${f} has arguments but cannot be invoked as function`);
        cur = cur[f];
      } else this.fail(at.pos, formatArg(at), `can't evaluate field ${f} in type ${goTypeName(cur)}`);
    });
    return cur;
  }

  private call(dot: TValue, fn: Extract<Arg, { kind: 'ident' }>, args: Arg[], final: TValue[]): TValue {
    const name = fn.name;
    const context = [fn, ...args].map(formatArg).join(' ');
    if (name === 'and' || name === 'or') {
      // Lazy, as in Go 1.18+: stop at the first falsy (and) or truthy (or) operand.
      const total = args.length + final.length;
      if (total < 1) this.fail(fn.pos, context, `wrong number of args for ${name}: want at least 1 got 0`);
      let v: TValue;
      for (let i = 0; i < total; i++) {
        v = i < args.length ? this.evalArg(dot, args[i]!) : final[i - args.length];
        if (isTrue(v) !== (name === 'and')) return v;
      }
      return v;
    }
    const def = this.funcs.get(name) ?? BUILTINS.get(name);
    if (def === undefined) this.fail(fn.pos, context, `function "${name}" not defined`);
    const values = args.map((a) => this.evalArg(dot, a)).concat(final);
    if (values.length < def.minArgs || values.length > def.maxArgs) {
      const want = def.maxArgs === Infinity ? `at least ${def.minArgs}` : String(def.minArgs);
      this.fail(fn.pos, context, `wrong number of args for ${name}: want ${want} got ${values.length}`);
    }
    try {
      return def.call(values);
    } catch (err) {
      if (err instanceof TemplateExecError) throw err;
      return this.fail(fn.pos, context, `error calling ${name}: ${(err as Error).message}`);
    }
  }
}

function formatPipeShort(p: Pipeline): string {
  return p.cmds.map((c) => c.args.map(formatArg).join(' ')).join(' | ');
}
