/**
 * `vigil rules export [--inhibit FILE] FILE…`: the rule files as plain Prometheus rules, for a
 * Prometheus (or promtool) that knows no `threshold`/`severity_tiers`: each tiered rule becomes one
 * rule per tier, and the inhibit rules that keep only the highest tier firing go to `--inhibit` as an
 * Alertmanager `inhibit_rules:` section (else to stderr, so stdout stays a valid rule file).
 */
import * as fs from 'node:fs';
import { stringify } from 'yaml';
import { loadRuleFile, type RuleDef } from '../../alerting/rules/file.js';
import { exportTiered, type ExportedInhibitRule } from '../../alerting/rules/tiers.js';
import type { CliOutput } from '../../alerting/rules/unittest.js';
import { formatDuration } from '../../core/time/duration.js';

export const RULES_EXPORT_USAGE = `Usage: vigil rules export [--inhibit FILE] FILE...

Prints the rule files as plain Prometheus rules: a rule with threshold and severity_tiers becomes one
rule per tier. The Alertmanager inhibit rules that keep only the highest tier are written to FILE
(an inhibit_rules: section to merge into alertmanager.yml), or to stderr without --inhibit.
`;

function plain(r: RuleDef): Record<string, unknown> {
  const out: Record<string, unknown> = r.kind === 'recording' ? { record: r.name, expr: r.expr } : { alert: r.name, expr: r.expr };
  if (r.forMs > 0) out['for'] = formatDuration(r.forMs);
  if (r.keepFiringForMs > 0) out['keep_firing_for'] = formatDuration(r.keepFiringForMs);
  if (Object.keys(r.labels).length > 0) out['labels'] = r.labels;
  if (Object.keys(r.annotations).length > 0) out['annotations'] = r.annotations;
  return out;
}

/** Runs `rules export …`; undefined when `argv` is another command. */
export function rulesExportCommand(argv: readonly string[], out: CliOutput): number | undefined {
  const [verb, noun, ...rest] = argv;
  if (verb !== 'rules') return undefined;
  if (noun !== 'export') {
    out.err(`vigil: unknown rules command ${JSON.stringify(noun ?? '')}\n\n${RULES_EXPORT_USAGE}`);
    return 2;
  }
  let inhibitFile: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--inhibit') {
      inhibitFile = rest[++i];
      if (inhibitFile === undefined) {
        out.err('vigil: --inhibit needs a file\n');
        return 2;
      }
    } else files.push(rest[i]!);
  }
  if (files.length === 0) {
    out.err(`vigil: rules export needs at least one file\n\n${RULES_EXPORT_USAGE}`);
    return 2;
  }
  const groups: Array<Record<string, unknown>> = [];
  const inhibit: ExportedInhibitRule[] = [];
  let failed = false;
  for (const f of files) {
    const parsed = loadRuleFile(f);
    for (const e of parsed.errors) out.err(e.message + '\n');
    if (parsed.errors.length > 0) failed = true;
    for (const g of parsed.groups) {
      const rules = g.rules.flatMap((r): Array<Record<string, unknown>> => {
        if (!r.tiers) return [plain(r)];
        const x = exportTiered(r, r.tiers, formatDuration);
        inhibit.push(...x.inhibit);
        return x.rules.map((e) => ({ ...e }));
      });
      const group: Record<string, unknown> = { name: g.name };
      if (g.intervalMs !== undefined) group['interval'] = formatDuration(g.intervalMs);
      if (g.queryOffsetMs !== undefined) group['query_offset'] = formatDuration(g.queryOffsetMs);
      if (g.limit > 0) group['limit'] = g.limit;
      if (Object.keys(g.labels).length > 0) group['labels'] = g.labels;
      group['rules'] = rules;
      groups.push(group);
    }
  }
  if (failed) return 1;
  out.out(stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false }));
  if (inhibit.length > 0) {
    const text = stringify({ inhibit_rules: inhibit }, { lineWidth: 0, aliasDuplicateObjects: false });
    if (inhibitFile !== undefined) fs.writeFileSync(inhibitFile, text);
    else out.err(`# Alertmanager inhibit rules keeping only the highest tier:\n${text}`);
  }
  return 0;
}
