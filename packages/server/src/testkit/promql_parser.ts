/**
 * Helpers shared by the parser's tests: a position-free normal form of the AST, and the expressions
 * of the PromQL conformance scripts (read in place from `../shared/promqltest`, never copied).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from './shared_data.js';

import type { Expr } from '../metrics/promql/parser/ast.js';
import { formatMatcher } from '../metrics/promql/parser/printer.js';

/** A plain, position-free form of an expression for deep comparisons (matchers as sorted strings). */
export function normalize(e: Expr): unknown {
  switch (e.kind) {
    case 'NumberLiteral':
      return { kind: e.kind, value: e.value, duration: e.duration === true };
    case 'StringLiteral':
      return { kind: e.kind, value: e.value };
    case 'VectorSelector':
      return {
        kind: e.kind,
        name: e.name,
        matchers: e.matchers.map(formatMatcher).sort(),
        offset: e.offset,
        at: e.at,
      };
    case 'MatrixSelector':
      return { kind: e.kind, vs: normalize(e.vectorSelector), range: e.range };
    case 'SubqueryExpr':
      return { kind: e.kind, expr: normalize(e.expr), range: e.range, step: e.step, offset: e.offset, at: e.at };
    case 'ParenExpr':
      return { kind: e.kind, expr: normalize(e.expr) };
    case 'UnaryExpr':
      return { kind: e.kind, op: e.op, expr: normalize(e.expr) };
    case 'BinaryExpr':
      return {
        kind: e.kind,
        op: e.op,
        lhs: normalize(e.lhs),
        rhs: normalize(e.rhs),
        returnBool: e.returnBool,
        vm: e.vectorMatching,
      };
    case 'AggregateExpr':
      return {
        kind: e.kind,
        op: e.op,
        expr: normalize(e.expr),
        param: e.param === undefined ? undefined : normalize(e.param),
        grouping: e.grouping,
        without: e.without,
      };
    case 'Call':
      return { kind: e.kind, func: e.func.name, args: e.args.map(normalize) };
  }
}

/** Conformance files that cover native histograms and feature-flagged syntax, not core PromQL. */
export const NON_CORE_SCRIPTS: ReadonlySet<string> = new Set([
  'native_histograms',
  'info',
  'fill-modifier',
  'extended_vectors',
  'duration_expression',
  'type_and_unit',
  'start_timestamps',
]);

/** One `eval` expression of a conformance script. */
export interface ScriptExpr {
  readonly file: string;
  readonly line: number;
  readonly expr: string;
  /** Marked `eval_fail` or followed by an `expect fail` line: it may fail to parse. */
  readonly mayFail: boolean;
}

/** The conformance script directory (`../shared/promqltest`); undefined when missing (see {@link sharedData}). */
export function findPromqlTestDir(): string | undefined {
  const data = sharedData('promqltest');
  return data.skip ? undefined : data.dir;
}

const EVAL_RE = /^\s*(eval(?:_fail|_warn|_info|_ordered)?)\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/;

/** The `eval` expressions of one conformance script. */
export function readScriptExprs(dir: string, file: string): ScriptExpr[] {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n');
  const out: ScriptExpr[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = EVAL_RE.exec(lines[i]!);
    if (m === null) continue;
    let mayFail = m[1] === 'eval_fail';
    // Expectations are the indented lines that follow the eval.
    for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) {
      if (/^\s*expect\s+fail/.test(lines[j]!)) mayFail = true;
    }
    out.push({ file, line: i + 1, expr: m[2]!.trim(), mayFail });
  }
  return out;
}

/** The core conformance scripts present in `dir`. */
export function coreScripts(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test') && !NON_CORE_SCRIPTS.has(f.slice(0, -'.test'.length)))
    .sort();
}
