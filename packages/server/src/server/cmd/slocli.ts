/**
 * `vigil slo generate [--windows FILE] FILE…` prints the Prometheus rules Vigil runs for SLO files
 * (the same as Sloth's `sloth generate`, so the two can be compared or the rules used elsewhere), and
 * the SLO part of `vigil check rules` / `vigil check config`.
 */
export { isSLOFile } from '../../alerting/slo/index.js';
import { generateSLOGroups, loadSLOFile, loadSLOs, ruleFileText, sloRuleGroups, VIGIL_GENERATOR } from '../../alerting/slo/index.js';
import { windowsFor } from '../../alerting/slo/parse.js';
import type { CliOutput } from '../../alerting/rules/unittest.js';

export const SLO_GENERATE_USAGE = `Usage: vigil slo generate [--windows FILE] FILE...

Prints the Prometheus rule file generated from SLO files (Sloth prometheus/v1 specs, Pyrra
ServiceLevelObjective and OpenSLO SLO documents): the SLI recordings, metadata recordings and
multi-window multi-burn-rate alerts, as Sloth generates them.
  --windows FILE   Sloth AlertWindows documents with custom windows for their SLO period.
`;

/** Checks one SLO file as `check rules` checks a rule file; true when valid. */
export function checkSLOFile(file: string, out: CliOutput): boolean {
  out.out(`Checking ${file}\n`);
  const parsed = loadSLOFile(file);
  const generated = parsed.errors.length === 0 ? sloRuleGroups(parsed.slos, parsed.windows) : { groups: [], errors: [] };
  const errors = [...parsed.errors, ...generated.errors];
  if (errors.length > 0) {
    out.err('  FAILED:\n');
    for (const e of errors) out.err(e.message + '\n');
    out.out('\n');
    return false;
  }
  const rules = generated.groups.reduce((n, g) => n + g.rules.length, 0);
  out.out(`  SUCCESS: ${parsed.slos.length} SLOs, ${rules} rules generated\n\n`);
  return true;
}

/** Runs `slo generate …`; undefined when `argv` is another command. */
export function sloCommand(argv: readonly string[], out: CliOutput): number | undefined {
  const [verb, noun, ...rest] = argv;
  if (verb !== 'slo') return undefined;
  if (noun !== 'generate') {
    out.err(`vigil: unknown slo command ${JSON.stringify(noun ?? '')}\n\n${SLO_GENERATE_USAGE}`);
    return 2;
  }
  const files: string[] = [];
  const windowFiles: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--windows') {
      const v = rest[++i];
      if (v === undefined) {
        out.err('vigil: --windows needs a file\n');
        return 2;
      }
      windowFiles.push(v);
    } else files.push(rest[i]!);
  }
  if (files.length === 0) {
    out.err(`vigil: slo generate needs at least one file\n\n${SLO_GENERATE_USAGE}`);
    return 2;
  }
  const parsed = loadSLOs([...windowFiles, ...files], process.cwd());
  const generated = parsed.errors.length === 0 ? sloRuleGroups(parsed.slos, parsed.windows) : { groups: [], errors: [] };
  const errors = [...parsed.errors, ...generated.errors];
  if (errors.length > 0) {
    for (const e of errors) out.err(e.message + '\n');
    return 1;
  }
  const groups = parsed.slos.flatMap((s) => generateSLOGroups(s, windowsFor(s.periodMs, parsed.windows), VIGIL_GENERATOR));
  out.out(ruleFileText(groups));
  return 0;
}
