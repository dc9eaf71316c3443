/**
 * Prints an expression back as canonical PromQL, like Prometheus' `Expr.String()` (used by
 * `/api/v1/format_query` and in error messages): `sum by (job) (rate(foo{a="b"}[5m] offset 1m))`.
 */

import type { Matcher } from '../../../core/model/matcher.js';
import type { AtModifier, BinaryExpr, Expr, VectorSelector } from './ast.js';
import { formatDuration } from '../../../core/time/duration.js';
import { aggregateHasParam } from './functions.js';
import { goQuote } from '../../../core/util/goquote.js';
import { formatFloat } from './quote.js';

/** Formats an expression as canonical PromQL. */
export function formatExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'NumberLiteral':
      if (expr.duration === true) return formatDuration(Math.round(expr.value * 1000));
      return formatFloat(expr.value);
    case 'StringLiteral':
      return goQuote(expr.value);
    case 'VectorSelector':
      return formatSelector(expr) + formatAt(expr.at) + formatOffset(expr.offset);
    case 'MatrixSelector': {
      const vs = expr.vectorSelector;
      // @ and offset belong to the inner selector but are written after the range.
      return `${formatSelector(vs)}[${formatDuration(expr.range)}]${formatAt(vs.at)}${formatOffset(vs.offset)}`;
    }
    case 'SubqueryExpr': {
      const step = expr.step === 0 ? '' : formatDuration(expr.step);
      return `${formatExpr(expr.expr)}[${formatDuration(expr.range)}:${step}]${formatAt(expr.at)}${formatOffset(expr.offset)}`;
    }
    case 'ParenExpr':
      return `(${formatExpr(expr.expr)})`;
    case 'UnaryExpr':
      return expr.op + formatExpr(expr.expr);
    case 'BinaryExpr':
      return `${formatExpr(expr.lhs)} ${expr.op}${expr.returnBool ? ' bool' : ''}${formatMatching(expr)} ${formatExpr(expr.rhs)}`;
    case 'AggregateExpr': {
      let s: string = expr.op;
      if (expr.without) s += ` without (${formatLabelList(expr.grouping)}) `;
      else if (expr.grouping.length > 0) s += ` by (${formatLabelList(expr.grouping)}) `;
      s += '(';
      if (aggregateHasParam(expr.op) && expr.param !== undefined) s += formatExpr(expr.param) + ', ';
      return s + formatExpr(expr.expr) + ')';
    }
    case 'Call':
      return `${expr.func.name}(${expr.args.map(formatExpr).join(', ')})`;
  }
}

/** A matcher as Prometheus prints it: the name quoted only when it is not a plain identifier. */
export function formatMatcher(m: Matcher): string {
  return (needsQuotedName(m.name) ? goQuote(m.name) : m.name) + m.type + goQuote(m.value);
}

function formatSelector(vs: VectorSelector): string {
  const parts: string[] = [];
  for (const m of vs.matchers) {
    // The name written outside the braces is not repeated inside them.
    if (m.name === '__name__' && m.type === '=' && m.value === vs.name && m.value !== '') continue;
    parts.push(formatMatcher(m));
  }
  const name = vs.name ?? '';
  if (parts.length === 0) return name;
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${parts.join(',')}}`;
}

function formatAt(at: AtModifier | undefined): string {
  if (at === undefined) return '';
  if (at === 'start') return ' @ start()';
  if (at === 'end') return ' @ end()';
  return ` @ ${(at / 1000).toFixed(3)}`;
}

function formatOffset(offset: number): string {
  if (offset > 0) return ` offset ${formatDuration(offset)}`;
  if (offset < 0) return ` offset -${formatDuration(-offset)}`;
  return '';
}

function formatMatching(e: BinaryExpr): string {
  const vm = e.vectorMatching;
  if (vm === undefined || (vm.matchingLabels.length === 0 && !vm.on)) return '';
  let s = ` ${vm.on ? 'on' : 'ignoring'} (${formatLabelList(vm.matchingLabels)})`;
  if (vm.card === 'many-to-one') s += ` group_left (${formatLabelList(vm.include)})`;
  else if (vm.card === 'one-to-many') s += ` group_right (${formatLabelList(vm.include)})`;
  return s;
}

/** Label lists; names that are not legacy identifiers (UTF-8 names) are quoted so the output re-parses. */
function formatLabelList(labels: readonly string[]): string {
  return labels.map((l) => (isLegacyMetricName(l) ? l : goQuote(l))).join(', ');
}

function needsQuotedName(name: string): boolean {
  if (name.length === 0) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = c === 0x5f || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return true;
  }
  return false;
}

function isLegacyMetricName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = c === 0x5f || c === 0x3a || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return false;
  }
  return true;
}
