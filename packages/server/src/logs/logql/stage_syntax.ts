/**
 * The little languages inside LogQL stages: `pattern` expressions, the line-filter pattern
 * (`|> "<_> error <_>"`), `line_format`/`label_format` templates and `json` stage paths.
 */
import type { PatternPart, TemplatePart } from './ast.js';

/** Literal text and `<name>` captures, in order. */
function patternParts(p: string): PatternPart[] {
  const parts: PatternPart[] = [];
  const re = /<([a-zA-Z_][a-zA-Z0-9_]*)>/g;
  let last = 0;
  for (let m = re.exec(p); m !== null; m = re.exec(p)) {
    if (m.index > last) parts.push({ lit: p.slice(last, m.index) });
    parts.push({ name: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < p.length) parts.push({ lit: p.slice(last) });
  return parts;
}

/** Compiles a `pattern` expression (`<ip> - <_> "<method> <path>"`). */
export function compilePattern(p: string): PatternPart[] {
  const parts = patternParts(p);
  for (let i = 1; i < parts.length; i++) if ('name' in parts[i]! && 'name' in parts[i - 1]!) throw new Error('consecutive captures are not allowed');
  if (!parts.some((x) => 'name' in x && x.name !== '_')) throw new Error('at least one named capture is required');
  return parts;
}

/** Compiles a line-filter pattern: its captures only match, they name nothing. */
export function compileLinePattern(p: string): PatternPart[] {
  return patternParts(p).map((x) => ('name' in x ? { name: '_' } : x));
}

/** Compiles a `{{ .name | fn }}` template subset. */
export function compileTemplate(t: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/g;
  let last = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    if (m.index > last) parts.push({ text: t.slice(last, m.index) });
    const pipe = m[1]!.split('|').map((x) => x.trim());
    const head = pipe[0]!.split(/\s+/);
    // Both `.x | ToUpper` and `ToUpper .x` forms.
    let field: string;
    const fns: string[] = [];
    if (head.length === 2) {
      fns.push(head[0]!);
      field = head[1]!;
    } else field = head[0]!;
    if (field !== '__line__' && field !== '__timestamp__' && !field.startsWith('.')) throw new Error(`unsupported template action ${JSON.stringify(m[1])}`);
    fns.push(...pipe.slice(1));
    parts.push({ field: field.startsWith('.') ? field.slice(1) : field, fns });
    last = m.index + m[0].length;
  }
  if (last < t.length) parts.push({ text: t.slice(last) });
  return parts;
}

/** Parses a json stage path: `a.b[0]["c d"]`. */
export function parseJsonPath(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\s*(?:\.?([a-zA-Z_][a-zA-Z0-9_-]*)|\[\s*(\d+)\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\])/y;
  let i = 0;
  while (i < p.length) {
    re.lastIndex = i;
    const m = re.exec(p);
    if (!m) throw new Error(`invalid json path ${JSON.stringify(p)}`);
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]!));
    i = re.lastIndex;
  }
  return out;
}
