/**
 * Binary operators over scalars and instant vectors of both languages, with vector matching
 * (`on`/`ignoring`, `group_left`/`group_right`, `bool`), after Prometheus' `VectorBinop`,
 * `VectorAnd/Or/Unless` and `VectorscalarBinop` in `promql/engine.go`.
 */
import { formatLabels, type Labels, labelsKey, METRIC_NAME } from '../model/labels.js';
import { evalError } from './errors.js';
import { keepLabels, removeLabels, setLabel, subsetKey } from './labels.js';
import { goPow } from './numeric.js';
import type { StepSample } from './series.js';
import { type Annotate, histogramBinop } from './histogram_step.js';

const SILENT: Annotate = { warn: () => {}, info: () => {} };

/** A binary operator of either language (`atan2` is PromQL's only). */
export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '>' | '<' | '>=' | '<=' | 'and' | 'or' | 'unless' | 'atan2' | '</' | '>/';

/** How series on the two sides of an operation between two vectors are matched. */
export interface VectorMatching {
  /** `many-to-one` for `group_left`, `one-to-many` for `group_right`, `many-to-many` for set operators. */
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** True for `on(...)`, false for `ignoring(...)` or no clause. */
  readonly on: boolean;
  /** The labels of `on(...)` / `ignoring(...)`. */
  readonly matchingLabels: readonly string[];
  /** The extra labels of `group_left(...)` / `group_right(...)`. */
  readonly include: readonly string[];
}

/** Matching of two vectors without `on`/`ignoring`/`group_x`: all labels, one to one. */
export const DEFAULT_MATCHING: VectorMatching = { card: 'one-to-one', on: false, matchingLabels: [], include: [] };
/** Matching of set operators without `on`/`ignoring`. */
export const SET_MATCHING: VectorMatching = { card: 'many-to-many', on: false, matchingLabels: [], include: [] };

/** True for `== != > < >= <=`. */
export function isComparisonOp(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** True for `and or unless`. */
export function isSetOp(op: BinaryOp): op is 'and' | 'or' | 'unless' {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** The value of `lhs op rhs` and whether a comparison keeps the element. */
export function scalarOp(op: BinaryOp, lhs: number, rhs: number): [number, boolean] {
  switch (op) {
    case '+':
      return [lhs + rhs, true];
    case '-':
      return [lhs - rhs, true];
    case '*':
      return [lhs * rhs, true];
    case '/':
      return [lhs / rhs, true];
    case '^':
      return [goPow(lhs, rhs), true];
    case '%':
      return [lhs % rhs, true];
    case 'atan2':
      return [Math.atan2(lhs, rhs), true];
    case '==':
      return [lhs, lhs === rhs];
    case '!=':
      return [lhs, lhs !== rhs];
    case '>':
      return [lhs, lhs > rhs];
    case '<':
      return [lhs, lhs < rhs];
    case '>=':
      return [lhs, lhs >= rhs];
    case '<=':
      return [lhs, lhs <= rhs];
    default:
      return evalError(`operator ${JSON.stringify(op)} not allowed for scalar operations`);
  }
}

/** True when the operator's result is no longer "the same metric" (arithmetic; a trim keeps what is left of the same histogram). */
function dropsName(op: BinaryOp): boolean {
  return !isComparisonOp(op) && op !== 'and' && op !== 'or' && op !== 'unless' && op !== '</' && op !== '>/';
}

/** `vector op scalar` (or `scalar op vector` when `swap`). */
export function vectorScalarOp(op: BinaryOp, vec: StepSample[], scalar: number, swap: boolean, returnBool: boolean, ann: Annotate = SILENT): StepSample[] {
  const out: StepSample[] = [];
  for (const s of vec) {
    if (s.h !== undefined || op === '</' || op === '>/') {
      const r = swap
        ? histogramBinop(op, scalar, undefined, NaN, s.h, returnBool, s.metric, ann)
        : histogramBinop(op, NaN, s.h, scalar, undefined, returnBool, s.metric, ann);
      if (r !== undefined)
        out.push({ metric: s.metric, v: r.v, dropName: s.dropName || returnBool || dropsName(op), ...(r.h === undefined ? {} : { h: r.h }) });
      continue;
    }
    let lv = s.v;
    let rv = scalar;
    if (swap) [lv, rv] = [rv, lv];
    let [v, keep] = scalarOp(op, lv, rv);
    // A comparison filter always returns the vector element's value, even when it is on the right.
    if (isComparisonOp(op) && swap) v = rv;
    if (returnBool) {
      v = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ metric: s.metric, v, dropName: s.dropName || returnBool || dropsName(op) });
  }
  return out;
}

function signer(matching: VectorMatching | undefined): (l: Labels) => string {
  if (matching === undefined) return (l) => subsetKey(l, new Set(), false);
  const names = new Set(matching.matchingLabels);
  return (l) => subsetKey(l, names, matching.on);
}

/** `and` / `or` / `unless`. */
export function setOp(op: 'and' | 'or' | 'unless', lhs: StepSample[], rhs: StepSample[], matching: VectorMatching | undefined): StepSample[] {
  const sig = signer(matching);
  switch (op) {
    case 'and': {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const right = new Set(rhs.map((s) => sig(s.metric)));
      return lhs.filter((s) => right.has(sig(s.metric)));
    }
    case 'or': {
      if (lhs.length === 0) return rhs;
      if (rhs.length === 0) return lhs;
      const left = new Set(lhs.map((s) => sig(s.metric)));
      return [...lhs, ...rhs.filter((s) => !left.has(sig(s.metric)))];
    }
    case 'unless': {
      if (lhs.length === 0 || rhs.length === 0) return lhs;
      const right = new Set(rhs.map((s) => sig(s.metric)));
      return lhs.filter((s) => !right.has(sig(s.metric)));
    }
  }
}

function resultMetric(lhs: Labels, rhs: Labels, matching: VectorMatching): Labels {
  let out = lhs;
  if (matching.card === 'one-to-one') {
    const names = new Set(matching.matchingLabels);
    out = matching.on ? keepLabels(out, names) : removeLabels(out, names);
  }
  // Labels listed in group_x(...) come from the "one" side.
  for (const name of matching.include) {
    let v = '';
    for (const l of rhs) if (l.name === name) v = l.value;
    out = setLabel(out, name, v);
  }
  return out;
}

/** Arithmetic and comparison between two instant vectors with one-to-one / many-to-one matching. */
export function vectorOp(
  op: BinaryOp,
  lhsIn: StepSample[],
  rhsIn: StepSample[],
  matching: VectorMatching,
  returnBool: boolean,
  ann: Annotate = SILENT,
): StepSample[] {
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  const sig = signer(matching);
  // group_right: iterate the right side as the "many" side.
  const swapped = matching.card === 'one-to-many';
  const lhs = swapped ? rhsIn : lhsIn;
  const rhs = swapped ? lhsIn : rhsIn;
  const rightSigs = new Map<string, StepSample>();
  for (const rs of rhs) {
    const k = sig(rs.metric);
    const dup = rightSigs.get(k);
    if (dup !== undefined) {
      const side = swapped ? 'left' : 'right';
      evalError(
        `found duplicate series for the match group ${formatGroup(rs.metric, matching)} on the ${side} hand-side of the operation: [${formatLabels(
          rs.metric,
        )}, ${formatLabels(dup.metric)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    rightSigs.set(k, rs);
  }
  if (matching.card === 'one-to-one') {
    // Checked before filtering, so a comparison that would drop every match still fails.
    const seenLeft = new Set<string>();
    for (const ls of lhs) {
      const k = sig(ls.metric);
      if (!rightSigs.has(k)) continue;
      if (seenLeft.has(k)) evalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      seenLeft.add(k);
    }
  }
  const matched = new Map<string, Set<string> | null>();
  const out: StepSample[] = [];
  for (const ls of lhs) {
    const k = sig(ls.metric);
    const rs = rightSigs.get(k);
    if (rs === undefined) continue;
    let lv = ls.v;
    let rv = rs.v;
    let lh = ls.h;
    let rh = rs.h;
    if (swapped) {
      [lv, rv] = [rv, lv];
      [lh, rh] = [rh, lh];
    }
    let v: number;
    let h: StepSample['h'];
    if (lh !== undefined || rh !== undefined) {
      const r = histogramBinop(op, lv, lh, rv, rh, returnBool, ls.metric, ann);
      if (r === undefined) continue;
      v = r.v;
      h = r.h;
    } else {
      let keep: boolean;
      [v, keep] = scalarOp(op, lv, rv);
      if (returnBool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
    }
    const metric = resultMetric(ls.metric, rs.metric, matching);
    const seen = matched.get(k);
    if (matching.card === 'one-to-one') {
      if (seen !== undefined) evalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matched.set(k, null);
    } else {
      const mk = labelsKey(metric);
      let set = seen ?? undefined;
      if (set === undefined) {
        set = new Set();
        matched.set(k, set);
      } else if (set.has(mk)) {
        evalError('multiple matches for labels: grouping labels must ensure unique matches');
      }
      set.add(mk);
    }
    const keepsName = metric.some((l) => l.name === METRIC_NAME);
    const dropName = keepsName && (ls.dropName || returnBool || dropsName(op));
    out.push(h === undefined ? { metric, v, dropName } : { metric, v, dropName, h });
  }
  return out;
}

function formatGroup(metric: Labels, matching: VectorMatching): string {
  const names = new Set(matching.matchingLabels);
  return formatLabels(matching.on ? keepLabels(metric, names) : removeLabels(removeLabels(metric, names), new Set([METRIC_NAME])));
}
