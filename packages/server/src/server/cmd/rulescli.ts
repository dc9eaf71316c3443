/**
 * `vigil check rules FILE…` and `vigil test rules [--run REGEX]… FILE…`: promtool's `check rules`
 * and `test rules`, with the same output shape and exit codes (0 ok, 1 errors or failed tests).
 * Lint findings (duplicate rules) are reported but, as in promtool, do not fail the check.
 */
import { logqlLanguage } from '../../alerting/rules/logql.js';
import { findDuplicateRules, loadRuleFile } from '../../alerting/rules/file.js';
import { promqlLanguage } from '../../alerting/rules/language.js';
import type { RuleLanguage } from '../../alerting/rules/types.js';
import { processOutput, runTestFile, type CliOutput } from '../../alerting/rules/unittest.js';
import { Head } from '../../metrics/tsdb/head.js';
import { compileRegex, type CompiledRegex } from '../../core/regex/re2.js';
import { checkSLOFile, isSLOFile } from './slocli.js';

export { processOutput, type CliOutput } from '../../alerting/rules/unittest.js';

/** promtool's success and failure exit codes. */
export const EXIT_OK = 0;
/** Errors in files or failed tests. */
export const EXIT_FAILURE = 1;

/** Checks rule files like `promtool check rules` (log rule files with `language` LogQL); resolves to the exit code. */
export async function checkRules(files: readonly string[], out: CliOutput = processOutput, language: RuleLanguage = promqlLanguage): Promise<number> {
  let failed = false;
  for (const f of files) {
    // SLO files (slo_files:) are checked by generating their rules.
    if (language === promqlLanguage && isSLOFile(f)) {
      if (!checkSLOFile(f, out)) failed = true;
      continue;
    }
    out.out(`Checking ${f}\n`);
    const parsed = loadRuleFile(f, language);
    if (parsed.errors.length > 0) {
      out.err('  FAILED:\n');
      for (const e of parsed.errors) out.err(e.message + '\n');
      out.out('\n');
      failed = true;
      continue;
    }
    const n = parsed.groups.reduce((acc, g) => acc + g.rules.length, 0);
    const dups = findDuplicateRules(parsed.groups);
    if (dups.length > 0) {
      // A lint warning: reported like promtool, without failing the check.
      let msg = `lint error ${dups.length} duplicate rule(s) found.\n`;
      for (const d of dups) {
        msg += `Metric: ${d.metric}\nLabel(s):\n`;
        for (const l of d.labels) msg += `\t${l.name}: ${l.value}\n`;
      }
      msg += 'Might cause inconsistency while recording expressions';
      out.err(`  FAILED:\n${msg}\n`);
      out.out('\n');
    } else {
      out.out(`  SUCCESS: ${n} rules found\n`);
    }
    out.out('\n');
  }
  return failed ? EXIT_FAILURE : EXIT_OK;
}

/** Options of `test rules`. */
export interface TestRulesOptions {
  /** Only test groups whose name matches one of these regular expressions (promtool's `--run`). */
  readonly run?: readonly string[];
}

/** Runs rule unit-test files like `promtool test rules`; resolves to the exit code. */
export async function testRules(files: readonly string[], opts: TestRulesOptions = {}, out: CliOutput = processOutput): Promise<number> {
  let run: CompiledRegex[];
  try {
    // promtool compiles --run with Go's regexp: unanchored RE2.
    run = (opts.run ?? []).map((r) => compileRegex(r, 'none'));
  } catch (err) {
    out.err(`invalid --run pattern: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  let failed = false;
  // Each test group gets an empty head with no future bound: test series start at time 0.
  for (const f of files) if (!(await runTestFile(f, run, out, () => new Head({ maxFutureMs: Infinity })))) failed = true;
  return failed ? EXIT_FAILURE : EXIT_OK;
}

/**
 * Runs `check rules …` / `test rules …` from command-line arguments (after `vigil`). Resolves to the
 * exit code, or undefined when `argv` is not a rules command.
 */
export async function rulesCommand(argv: readonly string[], out: CliOutput = processOutput): Promise<number | undefined> {
  const [verb, noun, ...rest] = argv;
  if ((verb !== 'check' && verb !== 'test') || noun !== 'rules') return undefined;
  const files: string[] = [];
  const run: string[] = [];
  let language = promqlLanguage;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (verb === 'test' && a === '--run') {
      const v = rest[++i];
      if (v === undefined) {
        out.err('vigil: --run needs a regular expression\n');
        return 2;
      }
      run.push(v);
    } else if (verb === 'test' && a.startsWith('--run=')) run.push(a.slice(6));
    else if (verb === 'check' && a === '--logql') language = logqlLanguage;
    else files.push(a);
  }
  if (files.length === 0) {
    out.err(`vigil: ${verb} rules needs at least one file\n`);
    return 2;
  }
  return verb === 'check' ? checkRules(files, out, language) : testRules(files, { run }, out);
}
