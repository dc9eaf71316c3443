/**
 * A template set: one namespace of named templates shared by several parsed sources, as Go's
 * text/template builds when a program parses files into one template (`ParseFiles`, `ParseGlob`).
 * Each source's top-level text is a template named after the source; its `define`s and `block`s
 * join the namespace, and a later definition replaces an earlier one unless it is empty.
 */
import { Executor, TemplateExecError, type ExecOptions, type TemplateFunc } from './exec.js';
import type { TValue } from './gofmt.js';
import { isEmptyTree, parseTemplates, type Node, type Template } from './parse.js';

/** How one execution runs: its functions (they may depend on the data, e.g. a clock) and HTML escaping. */
export interface SetExecOptions {
  readonly funcs?: ReadonlyMap<string, TemplateFunc>;
  readonly html?: boolean;
  readonly isSafe?: (v: TValue) => boolean;
}

/** A reference to a template that no source defines: `file:line: template: no such template "x"`. */
export interface MissingTemplate {
  readonly parseName: string;
  readonly line: number;
  readonly name: string;
}

const INLINE_CACHE_MAX = 1000;

/** Named templates parsed from any number of sources. */
export class TemplateSet {
  private readonly tmpls: Map<string, Template>;
  /** Parsed inline texts (receiver fields): the same few texts render for every notification. */
  private readonly inline = new Map<string, Map<string, Template>>();

  constructor(
    /** Functions every execution sees (per-execution ones override them). */
    readonly funcs: ReadonlyMap<string, TemplateFunc> = new Map(),
    from?: ReadonlyMap<string, Template>,
  ) {
    this.tmpls = new Map(from);
  }

  /** A copy that further sources can be added to without touching this set. */
  clone(): TemplateSet {
    return new TemplateSet(this.funcs, this.tmpls);
  }

  /**
   * Parses a source into the set. `name` names its top-level template (a file's base name);
   * `parseName` (default `name`) locates errors. Throws {@link TemplateParseError}; on error
   * nothing is added.
   */
  add(name: string, text: string, parseName = name): void {
    for (const [n, t] of parseTemplates(name, text, parseName)) this.associate(n, t);
  }

  /** Go's associate: an empty tree never replaces a defined template. */
  private associate(name: string, t: Template): void {
    const prev = this.tmpls.get(name);
    if (prev && isEmptyTree(t.root) && !isEmptyTree(prev.root)) return;
    this.tmpls.set(name, t);
  }

  /** The template called `name`. */
  lookup(name: string): Template | undefined {
    return this.tmpls.get(name);
  }

  /** The names of every template in the set, sorted. */
  names(): string[] {
    return [...this.tmpls.keys()].sort();
  }

  /** Executes the named template. Throws {@link TemplateExecError} (also when there is none). */
  execute(name: string, data: TValue, opts: SetExecOptions = {}): string {
    const t = this.tmpls.get(name);
    if (t === undefined) throw new TemplateExecError(`template: no template ${JSON.stringify(name)} associated with template ""`);
    return this.run(t, (n) => this.tmpls.get(n), data, opts);
  }

  /**
   * Parses `text` as an anonymous template that sees the whole set, and executes it (Alertmanager's
   * ExecuteTextString). Defines in the text apply to this execution only. `parseName` locates errors.
   * Throws {@link TemplateParseError} or {@link TemplateExecError}.
   */
  executeText(text: string, data: TValue, opts: SetExecOptions & { parseName?: string } = {}): string {
    if (text === '') return '';
    const trees = this.parseInline(text, opts.parseName ?? '');
    const own = (n: string): Template | undefined => {
      const t = trees.get(n);
      return t && !(isEmptyTree(t.root) && this.tmpls.has(n)) ? t : this.tmpls.get(n);
    };
    return this.run(trees.get('')!, own, data, opts);
  }

  /** Parses an inline text (cached). Throws {@link TemplateParseError}. */
  parseInline(text: string, parseName = ''): Map<string, Template> {
    const key = parseName + '\x00' + text;
    let trees = this.inline.get(key);
    if (trees === undefined) {
      trees = parseTemplates('', text, parseName);
      if (this.inline.size >= INLINE_CACHE_MAX) this.inline.clear();
      this.inline.set(key, trees);
    }
    return trees;
  }

  /**
   * References to templates that neither the set nor `extra` (an inline text's own trees) defines.
   * Go finds these only when the call runs; a loader can report them up front.
   */
  missing(extra?: ReadonlyMap<string, Template>): MissingTemplate[] {
    const out: MissingTemplate[] = [];
    const seen = new Set<string>();
    for (const t of extra ? extra.values() : this.tmpls.values()) {
      walkCalls(t.root, (name, pos) => {
        if (this.tmpls.has(name) || extra?.has(name)) return;
        const line = t.text.slice(0, pos).split('\n').length;
        const key = `${t.parseName}:${line}:${name}`;
        if (seen.has(key)) return;
        seen.add(key);
        out.push({ parseName: t.parseName, line, name });
      });
    }
    return out;
  }

  private run(t: Template, lookup: (name: string) => Template | undefined, data: TValue, opts: SetExecOptions): string {
    let funcs = this.funcs;
    if (opts.funcs) funcs = this.funcs.size === 0 ? opts.funcs : new Map([...this.funcs, ...opts.funcs]);
    const exec: ExecOptions = { lookup, ...(opts.html ? { html: true } : {}), ...(opts.isSafe ? { isSafe: opts.isSafe } : {}) };
    try {
      return new Executor(t, funcs, data, exec).run();
    } catch (err) {
      // Deep recursion that escapes the depth limit still must not take the process down.
      if (err instanceof RangeError) throw new TemplateExecError(`template: ${t.parseName}: executing "${t.name}": ${err.message}`);
      throw err;
    }
  }
}

/** Calls `f` for every `{{template}}` call (and block) in a tree. */
function walkCalls(nodes: readonly Node[], f: (name: string, pos: number) => void): void {
  for (const n of nodes) {
    if (n.kind === 'template') f(n.name, n.pos);
    else if (n.kind === 'if' || n.kind === 'with' || n.kind === 'range') {
      walkCalls(n.list, f);
      if (n.elseList) walkCalls(n.elseList, f);
    }
  }
}
