/**
 * TraceQL for the editor, free of Preact so Node unit-tests it: tokens for highlighting from Grafana's
 * TraceQL grammar (`@grafana/lezer-traceql`, the one Grafana's Tempo editor uses), where that grammar
 * sees a syntax error, and the offset named by the server's own parse error.
 */
import { parser } from '@grafana/lezer-traceql';
import type { Token, TokenKind } from './promql.js';

/** The grammar's leaf nodes, by the colour the editor gives them. */
const KIND: Readonly<Record<string, TokenKind>> = {
  String: 'string',
  Integer: 'number',
  Float: 'number',
  Duration: 'duration',
  // Attribute scopes and names read like label names.
  Resource: 'label',
  Span: 'label',
  Event: 'label',
  Link: 'label',
  Instrumentation: 'label',
  Parent: 'label',
  Identifier: 'label',
  // Intrinsics (name, status, duration, kind) and their values (error, server, true).
  IntrinsicField: 'metric',
  Static: 'keyword',
  Aggregate: 'function',
  MetricsOperationBasicType: 'function',
  MetricsOverTimeType: 'function',
  MetricsAggregatorFunctionType: 'function',
  MetricsOperationQuantileArgsType: 'function',
  LineComment: 'comment',
  BlockComment: 'comment',
  TemplateVariable: 'metric',
};
const OPERATORS = new Set(['FieldOp', 'ComparisonOp', 'ScalarOp', 'And', 'Or', 'Gt', 'Lt', 'Desc', 'Anc', 'Pipe', 'ExperimentalOp', 'UnionStructuralOp']);

/** What lies between the grammar's named leaves: spaces, brackets, and unnamed keywords (`by`, `select`). */
function gapTokens(src: string, from: number, to: number, out: Token[]): void {
  const re = /\s+|[{}()[\]]|[A-Za-z_][\w.]*|[^\s{}()[\]A-Za-z_]+/gy;
  re.lastIndex = from;
  while (re.lastIndex < to) {
    const start = re.lastIndex;
    const m = re.exec(src);
    if (!m) break;
    const end = Math.min(start + m[0].length, to);
    const text = src.slice(start, end);
    const kind: TokenKind = /^\s/.test(text) ? 'space' : /^[{}()[\]]$/.test(text) ? 'paren' : /^[A-Za-z_]/.test(text) ? 'keyword' : 'operator';
    out.push({ kind, text, start });
    re.lastIndex = end;
  }
}

/** The source as tokens covering every character, for the editor's highlighted copy. */
export function tokenizeTraceQL(src: string): Token[] {
  const out: Token[] = [];
  let at = 0;
  parser.parse(src).iterate({
    enter(n) {
      // Leaves only: `Static` wraps the literal it stands for, while `count()` is one leaf.
      if (n.node.firstChild) return true;
      if (n.from < at || n.to <= n.from) return false;
      if (n.from > at) gapTokens(src, at, n.from, out);
      out.push({ kind: KIND[n.name] ?? (OPERATORS.has(n.name) ? 'operator' : 'other'), text: src.slice(n.from, n.to), start: n.from });
      at = n.to;
      return false;
    },
  });
  if (at < src.length) gapTokens(src, at, src.length, out);
  return out;
}

/**
 * Where Grafana's grammar first fails to read the query, as a character offset; undefined when it
 * reads. At the very end (an unfinished query) it is the last non-space character, so the mark shows.
 */
export function traceqlSyntaxError(src: string): number | undefined {
  let pos: number | undefined;
  parser.parse(src).iterate({
    enter(n) {
      if (pos !== undefined) return false;
      if (n.type.isError) pos = n.from;
      return true;
    },
  });
  if (pos === undefined) return undefined;
  if (pos >= src.trimEnd().length) pos = Math.max(0, src.trimEnd().length - 1);
  return pos;
}

/**
 * The character offset named by the server's TraceQL parse error (Tempo's form, `parse error at
 * line 1, col 12: …`, lines and columns from 1), in `src`; undefined when the message names none.
 */
export function traceqlErrorPosition(message: string, src: string): number | undefined {
  const m = /line (\d+), col (\d+)/.exec(message);
  if (!m) return undefined;
  const lines = src.split('\n');
  const line = Math.min(Number(m[1]), lines.length) - 1;
  let offset = 0;
  for (let i = 0; i < line; i++) offset += lines[i]!.length + 1;
  return Math.min(offset + Number(m[2]) - 1, Math.max(0, src.length - 1));
}
