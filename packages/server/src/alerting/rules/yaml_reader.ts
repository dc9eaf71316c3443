/**
 * The error type and node helpers shared by the readers of rule files and SLO files: both read YAML
 * node by node (not as plain objects) so every problem can name its file, line and column the way
 * `promtool check rules` does.
 */
import { isMap, isScalar, type LineCounter, type Node as YamlNode, type YAMLError } from 'yaml';
import { VigilError } from '../../core/errors.js';

/** A problem in a rule file; the message is `file: line:col: detail` like Prometheus'. */
export class RuleFileError extends VigilError {
  override readonly code = 'bad_rule_file' as const;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super('bad_rule_file', line > 0 ? `${file}: ${line}:${column}: ${detail}` : `${file}: ${detail}`);
  }
}

/** True for a node that gives nothing: absent, an empty document, or YAML's `null` (`key:`, `~`). */
export function isEmptyNode(node: unknown): boolean {
  return node === undefined || node === null || (isScalar(node) && node.value === null);
}

/** A parsed document's first syntax error as a positioned error of `file`; undefined when it parsed. */
export function yamlSyntaxError(file: string, lines: LineCounter, doc: { readonly errors: readonly YAMLError[] }): RuleFileError | undefined {
  const e = doc.errors[0];
  if (e === undefined) return undefined;
  const pos = lines.linePos(e.pos[0]);
  return new RuleFileError(file, pos.line, pos.col, `invalid YAML: ${e.message.split('\n')[0]}`);
}

/** Collects positioned errors while reading one file's YAML nodes. */
export class YamlNodeReader {
  readonly errors: RuleFileError[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  /** 1-based line and column of `node` (0, 0 when it has no position, e.g. a missing field). */
  pos(node: unknown): { line: number; col: number } {
    const n = node as YamlNode | undefined;
    if (n && typeof n === 'object' && 'range' in n && n.range) return this.lines.linePos(n.range[0]);
    return { line: 0, col: 0 };
  }

  line(node: unknown): number {
    return this.pos(node).line;
  }

  err(node: unknown, detail: string): void {
    const p = this.pos(node);
    this.errors.push(new RuleFileError(this.file, p.line, p.col, detail));
  }

  /** A scalar's text; undefined for null, absent or non-scalar nodes. */
  str(node: unknown): string | undefined {
    if (isScalar(node) && node.value !== null && node.value !== undefined && typeof node.value !== 'object') return String(node.value);
    return undefined;
  }

  /**
   * A `map[string]string` field (labels, annotations). Reports non-string entries, and keys that
   * `badKey` names a problem for, at the key; returns the entries that passed.
   */
  stringMap(node: unknown, where: string, badKey?: (key: string) => string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (isEmptyNode(node)) return out;
    if (!isMap(node)) {
      this.err(node, `${where}: expected a mapping of strings`);
      return out;
    }
    for (const pair of node.items) {
      const k = this.str(pair.key);
      const v = isScalar(pair.value) ? (pair.value.value === null ? '' : String(pair.value.value)) : undefined;
      const problem = k === undefined || v === undefined ? 'expected a mapping of strings' : badKey?.(k);
      if (problem !== undefined) this.err(pair.key ?? node, `${where}: ${problem}`);
      else out[k as string] = v as string;
    }
    return out;
  }
}
