/**
 * Dynamic severity: an alerting rule with `threshold:` and `severity_tiers:` (ratios of the value to
 * the threshold, e.g. `{ info: 1, warning: 2, critical: 5 }`) fires one alert per label set whose
 * `severity` label follows the highest tier the value reaches. It escalates at once and de-escalates
 * only after the tier has been lower for the rule's `for`, so a value wavering across a boundary does
 * not flap. Also the export to plain Prometheus rules: one rule per tier, plus inhibit rules that
 * keep only the highest tier of an alert.
 */
import { parseExpr, type Expr } from '../../metrics/promql/parser/index.js';

/** The label a tier sets. */
export const SEVERITY_LABEL = 'severity';

/** One tier: its `severity` value and the ratio of value to threshold from which it applies. */
export interface SeverityTier {
  readonly name: string;
  readonly ratio: number;
}

/** The tiers of a rule, lowest ratio first. */
export interface SeverityTiers {
  readonly threshold: number;
  readonly tiers: readonly SeverityTier[];
}

/** Validates `threshold` and `severity_tiers` as read from a rule; returns the problems (empty when fine). */
export function checkTiers(threshold: unknown, tiers: Record<string, unknown>): string[] {
  const errs: string[] = [];
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0) errs.push('threshold: expected a number above 0');
  const entries = Object.entries(tiers);
  if (entries.length === 0) errs.push('severity_tiers: expected at least one tier, such as { warning: 1, critical: 2 }');
  const ratios = new Set<number>();
  for (const [name, r] of entries) {
    if (name === '') errs.push('severity_tiers: a tier needs a name');
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0) errs.push(`severity_tiers: ${name}: expected a ratio above 0`);
    else if (ratios.has(r)) errs.push(`severity_tiers: ${name}: two tiers with ratio ${r}`);
    else ratios.add(r);
  }
  return errs;
}

/** The tiers sorted by ratio. */
export function makeTiers(threshold: number, tiers: Record<string, number>): SeverityTiers {
  return {
    threshold,
    tiers: Object.entries(tiers)
      .map(([name, ratio]) => ({ name, ratio }))
      .sort((a, b) => a.ratio - b.ratio),
  };
}

/** The index of the highest tier `value` reaches, or -1 below the lowest (no alert). */
export function tierOf(t: SeverityTiers, value: number): number {
  let idx = -1;
  t.tiers.forEach((tier, i) => {
    if (value >= t.threshold * tier.ratio) idx = i;
  });
  return idx;
}

/** A plain rule, as `vigil rules export` writes it. */
export interface ExportedRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly keep_firing_for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** An Alertmanager inhibit rule. */
export interface ExportedInhibitRule {
  readonly source_matchers: string[];
  readonly target_matchers: string[];
  readonly equal: string[];
}

/**
 * The label names of the outermost `by (…)` aggregation of an expression, which name each alert of
 * the rule: an inhibit rule's `equal` needs them. Undefined when they cannot be told statically.
 */
function outputLabels(expr: Expr): string[] | undefined {
  switch (expr.kind) {
    case 'ParenExpr':
      return outputLabels(expr.expr);
    case 'BinaryExpr':
      // Vector-scalar arithmetic keeps the vector's labels; between vectors the left side's (one-to-one, group_left).
      return outputLabels(expr.lhs.kind === 'NumberLiteral' ? expr.rhs : expr.lhs);
    case 'AggregateExpr':
      return expr.without ? undefined : [...expr.grouping];
    default:
      return undefined;
  }
}

/**
 * One Prometheus rule per tier (`(expr) >= threshold × ratio`, labelled with the tier) and the inhibit
 * rules that silence lower tiers while a higher one fires for the same alert (same `alertname` and,
 * when the expression says them, the labels of its outermost `by (…)`).
 */
export function exportTiered(
  rule: {
    name: string;
    query: string;
    forMs: number;
    keepFiringForMs: number;
    labels: Readonly<Record<string, string>>;
    annotations: Readonly<Record<string, string>>;
  },
  t: SeverityTiers,
  formatDuration: (ms: number) => string,
): { rules: ExportedRule[]; inhibit: ExportedInhibitRule[] } {
  const rules = t.tiers.map((tier): ExportedRule => ({
    alert: rule.name,
    expr: `(${rule.query}) >= ${t.threshold * tier.ratio}`,
    ...(rule.forMs > 0 ? { for: formatDuration(rule.forMs) } : {}),
    ...(rule.keepFiringForMs > 0 ? { keep_firing_for: formatDuration(rule.keepFiringForMs) } : {}),
    labels: { ...rule.labels, [SEVERITY_LABEL]: tier.name },
    ...(Object.keys(rule.annotations).length > 0 ? { annotations: { ...rule.annotations } } : {}),
  }));
  const equal = ['alertname', ...(outputLabels(parseExpr(rule.query)) ?? [])];
  const inhibit = t.tiers.slice(1).map((tier, i): ExportedInhibitRule => ({
    source_matchers: [`alertname=${JSON.stringify(rule.name)}`, `${SEVERITY_LABEL}=${JSON.stringify(tier.name)}`],
    target_matchers: [
      `alertname=${JSON.stringify(rule.name)}`,
      `${SEVERITY_LABEL}=~${JSON.stringify(
        t.tiers
          .slice(0, i + 1)
          .map((x) => x.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('|'),
      )}`,
    ],
    equal,
  }));
  return { rules, inhibit };
}
