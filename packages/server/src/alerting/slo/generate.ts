/**
 * Generates, from an SLO, the Prometheus rules Sloth generates for it: the SLI error ratio recorded
 * over every alert window and the period, the metadata series (objective, error budget, burn rates,
 * remaining budget, info), and the page and ticket multi-window multi-burn-rate alerts. Names, labels,
 * annotations and expression structure follow Sloth's output, so the rules are interchangeable with
 * Sloth's and dashboards built for Sloth work on Vigil.
 */
import { stringify } from 'yaml';
import { formatDuration } from '../../core/time/duration.js';
import { RuleFileError, type RuleDef, type RuleGroupDef } from '../rules/file.js';
import { promqlLanguage } from '../rules/language.js';
import { burnRateFactor, recordingWindows, type AlertWindow, type AlertWindows, type SLO, type SLOAlert } from './model.js';

/** A rule as written in a Prometheus rule file. */
export interface PlainRule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** A rule group as written in a Prometheus rule file. */
export interface PlainGroup {
  readonly name: string;
  readonly rules: PlainRule[];
}

/** Options of the generator. */
export interface GenerateOptions {
  /** The `sloth_version` label of the info series (Sloth writes its own version). */
  readonly version: string;
}

const ID_LABEL = 'sloth_id';
const SERVICE_LABEL = 'sloth_service';
const SLO_LABEL = 'sloth_slo';
const WINDOW_LABEL = 'sloth_window';

/** The recorded SLI error ratio over `windowMs`, e.g. `slo:sli_error:ratio_rate5m`. */
export function sliErrorMetric(windowMs: number): string {
  return `slo:sli_error:ratio_rate${formatDuration(windowMs)}`;
}

/** Labels sorted by name, as Sloth (a Go map marshalled to YAML) writes them. */
function sorted(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function idLabels(slo: SLO): Record<string, string> {
  return { [ID_LABEL]: slo.id, [SERVICE_LABEL]: slo.service, [SLO_LABEL]: slo.name };
}

/** `{sloth_id="…", sloth_service="…", sloth_slo="…"}`: selects one SLO's series. */
function filterOf(slo: SLO): string {
  const ls = sorted(idLabels(slo));
  return `{${Object.entries(ls)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

function renderWindow(query: string, windowMs: number): string {
  return query.replace(/\{\{\s*\.window\s*\}\}/g, formatDuration(windowMs));
}

function sliExpr(slo: SLO, windowMs: number): string {
  if (slo.sli.kind === 'raw') return `(${renderWindow(slo.sli.errorRatioQuery, windowMs)})`;
  return `(${renderWindow(slo.sli.errorQuery, windowMs)})\n/\n(${renderWindow(slo.sli.totalQuery, windowMs)})\n`;
}

function sliRecordings(slo: SLO, w: AlertWindows): PlainGroup {
  const filter = filterOf(slo);
  const shortest = w.pageQuick.shortMs;
  const rules = recordingWindows(w).map((ms): PlainRule => {
    const labels = sorted({ ...idLabels(slo), [WINDOW_LABEL]: formatDuration(ms), ...slo.labels });
    // The period's ratio is the average of the shortest window's, which is cheap to evaluate over 30 days.
    const expr =
      ms === w.periodMs
        ? `sum_over_time(${sliErrorMetric(shortest)}${filter}[${formatDuration(ms)}])\n/ ignoring (${WINDOW_LABEL})\ncount_over_time(${sliErrorMetric(shortest)}${filter}[${formatDuration(ms)}])\n`
        : sliExpr(slo, ms);
    return { record: sliErrorMetric(ms), expr, labels };
  });
  return { name: `sloth-slo-sli-recordings-${slo.id}`, rules };
}

function burnRateExpr(metric: string, filter: string): string {
  return `${metric}${filter}\n/ on(${ID_LABEL}, ${SLO_LABEL}, ${SERVICE_LABEL}) group_left\nslo:error_budget:ratio${filter}\n`;
}

function metaRecordings(slo: SLO, w: AlertWindows, opts: GenerateOptions): PlainGroup {
  const labels = sorted({ ...idLabels(slo), ...slo.labels });
  const filter = filterOf(slo);
  const ratio = slo.objective / 100;
  return {
    name: `sloth-slo-meta-recordings-${slo.id}`,
    rules: [
      { record: 'slo:objective:ratio', expr: `vector(${ratio})`, labels },
      { record: 'slo:error_budget:ratio', expr: `vector(1-${ratio})`, labels },
      { record: 'slo:time_period:days', expr: `vector(${w.periodMs / 86_400_000})`, labels },
      { record: 'slo:current_burn_rate:ratio', expr: burnRateExpr(sliErrorMetric(w.pageQuick.shortMs), filter), labels },
      { record: 'slo:period_burn_rate:ratio', expr: burnRateExpr(sliErrorMetric(w.periodMs), filter), labels },
      { record: 'slo:period_error_budget_remaining:ratio', expr: `1 - slo:period_burn_rate:ratio${filter}`, labels },
      {
        record: 'sloth_slo_info',
        expr: 'vector(1)',
        labels: sorted({ ...labels, sloth_version: opts.version, sloth_mode: slo.mode, sloth_spec: slo.spec, sloth_objective: String(slo.objective) }),
      },
    ],
  };
}

/** Both windows of a pair over their threshold: `max(short > t) and max(long > t)`. */
function windowPair(slo: SLO, w: AlertWindow, periodMs: number): string {
  // Sloth writes the budget as (100 - objective) / 100 here, which differs in the last digits from 1 - objective/100.
  const threshold = `(${burnRateFactor(w, periodMs)} * ${(100 - slo.objective) / 100})`;
  const side = (ms: number): string => `max(${sliErrorMetric(ms)}${filterOf(slo)} > ${threshold}) without (${WINDOW_LABEL})`;
  return `(\n    ${side(w.shortMs)}\n    and\n    ${side(w.longMs)}\n)`;
}

const DEFAULT_SUMMARY = '{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.';
const title = (sev: string): string => `(${sev}) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast.`;

function alertRule(slo: SLO, a: SLOAlert, severity: 'page' | 'ticket', quick: AlertWindow, slow: AlertWindow, periodMs: number): PlainRule {
  return {
    alert: slo.alertName,
    expr: `${windowPair(slo, quick, periodMs)}\nor\n${windowPair(slo, slow, periodMs)}\n`,
    labels: sorted({ ...a.labels, sloth_severity: severity }),
    annotations: sorted({ summary: DEFAULT_SUMMARY, title: title(severity), ...a.annotations }),
  };
}

/** Sloth's rule groups for one SLO: SLI recordings, metadata recordings, and the alerts unless both are disabled. */
export function generateSLOGroups(slo: SLO, w: AlertWindows, opts: GenerateOptions): PlainGroup[] {
  const groups = [sliRecordings(slo, w), metaRecordings(slo, w, opts)];
  const alerts: PlainRule[] = [];
  if (slo.page) alerts.push(alertRule(slo, slo.page, 'page', w.pageQuick, w.pageSlow, w.periodMs));
  if (slo.ticket) alerts.push(alertRule(slo, slo.ticket, 'ticket', w.ticketQuick, w.ticketSlow, w.periodMs));
  if (alerts.length > 0) groups.push({ name: `sloth-slo-alerts-${slo.id}`, rules: alerts });
  return groups;
}

/** A Prometheus rule file of the groups, as `vigil slo generate` prints it. */
export function ruleFileText(groups: readonly PlainGroup[]): string {
  return stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * The groups as validated rule groups for the rule manager. A query that is not valid PromQL once
 * its window is filled in is reported at the SLO, since that is where the user wrote it.
 */
export function toRuleGroups(slo: SLO, groups: readonly PlainGroup[]): { groups: RuleGroupDef[]; errors: RuleFileError[] } {
  const errors: RuleFileError[] = [];
  const out: RuleGroupDef[] = [];
  for (const g of groups) {
    const rules: RuleDef[] = [];
    for (const r of g.rules) {
      let query: string;
      try {
        query = promqlLanguage.canonical(r.expr);
      } catch (e) {
        errors.push(new RuleFileError(slo.file, slo.line, 1, `SLO ${JSON.stringify(slo.id)}: ${r.record ?? r.alert}: invalid query: ${(e as Error).message}`));
        break;
      }
      rules.push({
        kind: r.record !== undefined ? 'recording' : 'alerting',
        name: r.record ?? r.alert ?? '',
        expr: r.expr,
        query,
        forMs: 0,
        keepFiringForMs: 0,
        labels: r.labels ?? {},
        annotations: r.annotations ?? {},
        line: slo.line,
      });
    }
    out.push({ name: g.name, file: slo.file, intervalMs: undefined, queryOffsetMs: undefined, limit: 0, labels: {}, rules, line: slo.line });
    if (errors.length > 0) break;
  }
  return { groups: errors.length > 0 ? [] : out, errors };
}
