/**
 * `vigil check config FILE…`: validates a vigil.yml (and the rule files it lists) like `promtool
 * check config`, or an alertmanager.yml like `amtool check-config`, without starting anything.
 * Errors name the file, the line and the field. Exit codes as promtool's: 0 valid, 1 invalid, 2 usage.
 */
import * as fs from 'node:fs';
import { isMap, parseDocument } from 'yaml';
import { loadAlertmanagerConfig, type AlertmanagerConfig } from '../../alerting/alertmanager/config.js';
import { logqlLanguage } from '../../alerting/rules/logql.js';
import { ConfigError } from '../../core/config_error.js';
import { globFiles } from '../../core/util/glob.js';
import { loadConfig } from '../config/config.js';
import { loadWebConfig } from '../config/web_config.js';
import { loadSLOs } from '../../alerting/slo/index.js';
import { checkSLOFile } from './slocli.js';
import { checkRules, EXIT_FAILURE, EXIT_OK, processOutput, type CliOutput } from './rulescli.js';

export const CHECK_CONFIG_USAGE = `Usage: vigil check config FILE...

Checks configuration files without starting the server: a vigil.yml (with the alert routing and the
rule files it refers to), or an alertmanager.yml (recognised by its route: and receivers:), as
amtool check-config does. Errors name the file, line and field. Exit code 0: valid, 1: invalid.
`;

/** An Alertmanager file has a routing tree or receivers at the top; Vigil's has neither (they sit under alertmanager_config). */
function isAlertmanagerFile(file: string): boolean {
  try {
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    return isMap(doc.contents) && (doc.contents.has('route') || doc.contents.has('receivers'));
  } catch {
    // Unreadable or not YAML: the full load below reports it with the file and line.
    return false;
  }
}

function describeRouting(am: AlertmanagerConfig): string {
  return `${am.receivers.length} receivers, ${am.inhibitRules.length} inhibit rules, ${am.templates.length} templates`;
}

async function checkOne(file: string, out: CliOutput): Promise<boolean> {
  out.out(`Checking ${file}\n`);
  try {
    if (isAlertmanagerFile(file)) {
      const am = loadAlertmanagerConfig(file);
      for (const w of am.warnings) out.err(`  WARNING: ${w}\n`);
      out.out(`  SUCCESS: ${file} is a valid Alertmanager configuration: ${describeRouting(am)}\n\n`);
      return true;
    }
    const cfg = loadConfig(file);
    // The web configuration file it names (TLS, users, tokens) is checked as vigil start reads it.
    if (cfg.web.configFile) loadWebConfig(cfg.web.configFile);
    for (const w of [...cfg.warnings, ...cfg.alertmanager.warnings]) out.err(`  WARNING: ${w}\n`);
    out.out(
      `  SUCCESS: ${cfg.scrapeConfigs.length} scrape configs, ${cfg.ruleFiles.length + cfg.logRuleFiles.length} rule file patterns, ${cfg.sloFiles.length} SLO file patterns, ${cfg.slos.slos.length} inline SLOs, alert routing with ${describeRouting(cfg.alertmanager)}${cfg.storage.remote ? `, queries answered by remote storage ${cfg.storage.remote.url}` : ''}\n\n`,
    );
    // The rule files it lists, as promtool check config does; relative to the configuration file.
    const rules = cfg.ruleFiles.flatMap((g) => globFiles(g, cfg.baseDir));
    const logRules = cfg.logRuleFiles.flatMap((g) => globFiles(g, cfg.baseDir));
    const sloFiles = cfg.sloFiles.flatMap((g) => globFiles(g, cfg.baseDir));
    const rulesOk =
      (rules.length === 0 || (await checkRules(rules, out)) === EXIT_OK) &&
      (logRules.length === 0 || (await checkRules(logRules, out, logqlLanguage)) === EXIT_OK);
    // Every SLO file is checked (not only up to the first bad one), then ids must be unique across them and the inline SLOs.
    const slosOk = sloFiles.map((f) => checkSLOFile(f, out)).every(Boolean);
    const together = slosOk ? loadSLOs(cfg.sloFiles, cfg.baseDir, cfg.slos).errors : [];
    for (const e of together) out.err(`  FAILED: ${e.message}\n`);
    return rulesOk && slosOk && together.length === 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.err(`  FAILED: ${err.message}\n\n`);
    return false;
  }
}

/** Checks each file; resolves to the exit code. */
export async function checkConfigFiles(files: readonly string[], out: CliOutput = processOutput): Promise<number> {
  let ok = true;
  for (const f of files) if (!(await checkOne(f, out))) ok = false;
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/** Runs `check config …` from command-line arguments (after `vigil`); undefined when `argv` is another command. */
export async function checkConfigCommand(argv: readonly string[], out: CliOutput = processOutput): Promise<number | undefined> {
  const [verb, noun, ...files] = argv;
  if (verb !== 'check' || noun !== 'config') return undefined;
  if (files.length === 0) {
    out.err(`vigil: check config needs at least one file\n\n${CHECK_CONFIG_USAGE}`);
    return 2;
  }
  return checkConfigFiles(files, out);
}
