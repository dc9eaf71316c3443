/**
 * `/api/v1/rules` and `/api/v1/alerts` in Prometheus' JSON: rule groups with health, last error,
 * evaluation time and last evaluation, filterable by `type`, `rule_name[]`, `rule_group[]`,
 * `file[]` and `exclude_alerts`; and the active (pending or firing) alerts.
 */
import { labelsToRecord } from '../../core/model/labels.js';
import { AlertingRule, type Alert } from '../../alerting/rules/alerting.js';
import type { Group } from '../../alerting/rules/group.js';
import { formatE } from '../../alerting/template/gofmt.js';
import { ApiError } from './errors.js';
import { json, type Router } from './http.js';

/** What the API reads from the rule manager. */
export interface RulesSource {
  groups(): Group[];
}

function time(ms: number): string {
  // Go's zero time.Time, which Prometheus prints for a rule never evaluated.
  return ms === 0 ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString();
}

/** One alert in Prometheus' API shape. */
export function alertJson(a: Alert): Record<string, unknown> {
  const out: Record<string, unknown> = {
    labels: labelsToRecord(a.labels),
    annotations: a.annotations,
    state: a.state,
    activeAt: time(a.activeAt),
    value: formatE(a.value, -1),
  };
  if (a.keepFiringSince !== 0) out['keepFiringSince'] = time(a.keepFiringSince);
  // Vigil's: a tiered rule's alert lists each severity it had, from when (one entry per change).
  if (a.tierChanges) out['severityHistory'] = a.tierChanges.map((c) => ({ time: time(c.t), severity: c.severity }));
  return out;
}

function ruleJson(r: Group['rules'][number], excludeAlerts: boolean): Record<string, unknown> {
  const common = {
    name: r.name,
    query: r.expr,
    labels: r.labels,
    health: r.health,
    ...(r.lastError ? { lastError: r.lastError } : {}),
    evaluationTime: r.evaluationMs / 1000,
    lastEvaluation: time(r.lastEvaluation),
  };
  if (r instanceof AlertingRule) {
    return {
      state: r.state(),
      ...common,
      duration: r.holdMs / 1000,
      keepFiringFor: r.keepFiringForMs / 1000,
      annotations: r.annotations,
      ...(r.tiers ? { threshold: r.tiers.threshold, severityTiers: Object.fromEntries(r.tiers.tiers.map((t) => [t.name, t.ratio])) } : {}),
      alerts: excludeAlerts ? [] : r.activeAlerts().map(alertJson),
      type: 'alerting',
    };
  }
  return { ...common, type: 'recording' };
}

/** Registers the rules and alerts endpoints, under `prefix` (Loki's ruler serves them under `/prometheus`). */
export function registerRulesApi(router: Router, source: RulesSource, prefix = ''): void {
  router.on(['GET', 'POST'], `${prefix}/api/v1/rules`, (req) => {
    const q = req.query;
    const type = q.get('type') ?? '';
    if (type !== '' && type !== 'alert' && type !== 'record') throw new ApiError('bad_data', `invalid query parameter type='${type}'`);
    const names = new Set(q.getAll('rule_name[]'));
    const groupNames = new Set(q.getAll('rule_group[]'));
    const files = new Set(q.getAll('file[]'));
    const excl = q.get('exclude_alerts') ?? '';
    if (excl !== '' && excl !== 'true' && excl !== 'false') throw new ApiError('bad_data', `parameter "exclude_alerts" must be true or false`);
    const filtered = names.size > 0 || groupNames.size > 0 || files.size > 0 || type !== '';
    const groups = [];
    for (const g of source.groups()) {
      if (groupNames.size > 0 && !groupNames.has(g.name)) continue;
      if (files.size > 0 && !files.has(g.file)) continue;
      const rules = g.rules
        .filter((r) => (type === 'alert' ? r.kind === 'alerting' : type === 'record' ? r.kind === 'recording' : true))
        .filter((r) => names.size === 0 || names.has(r.name))
        .map((r) => ruleJson(r, excl === 'true'));
      // With filters, a group left without rules is left out, as Prometheus does.
      if (filtered && rules.length === 0) continue;
      groups.push({
        name: g.name,
        file: g.file,
        rules,
        interval: g.intervalMs / 1000,
        limit: g.limit,
        evaluationTime: g.evaluationMs / 1000,
        lastEvaluation: time(g.lastEvaluation),
      });
    }
    return json({ groups });
  });

  router.on(['GET', 'POST'], `${prefix}/api/v1/alerts`, () => {
    const alerts = source
      .groups()
      .flatMap((g) => g.rules.filter((r): r is AlertingRule => r instanceof AlertingRule).flatMap((r) => r.activeAlerts().map(alertJson)));
    return json({ alerts });
  });
}
