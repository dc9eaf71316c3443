/**
 * Loads SLO files (`slo_files:` globs) and inline SLOs (`slos:`) into rule groups the rule manager
 * runs next to the rule files' groups. Errors are rule file errors, so a bad SLO refuses a reload and
 * is reported by `vigil check rules` like a bad rule.
 */
import * as fs from 'node:fs';
import { globFiles } from '../../core/util/glob.js';
import { RuleFileError, type RuleGroupDef } from '../rules/file.js';
import { generateSLOGroups, toRuleGroups, type GenerateOptions } from './generate.js';
import type { AlertWindows, SLO } from './model.js';
import { checkUniqueIds, parseSLOFile, windowsFor, type ParsedSLOs } from './parse.js';

/** An SLO document file rather than a rule file: a top-level `version:` or `apiVersion:` and no `groups:`. */
export function isSLOFile(file: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // Unreadable: the rule file loader reports it.
    return false;
  }
  return /^(version|apiVersion):/m.test(text) && !/^groups:/m.test(text);
}

/** An SLO file as the rule groups it generates, with every error; for places that take rule files (unit tests). */
export function loadSLORuleFile(file: string): { groups: RuleGroupDef[]; errors: RuleFileError[] } {
  const parsed = loadSLOFile(file);
  if (parsed.errors.length > 0) return { groups: [], errors: parsed.errors };
  return sloRuleGroups(parsed.slos, parsed.windows);
}

/** The generator version recorded in `sloth_version`. */
export const VIGIL_GENERATOR: GenerateOptions = { version: 'vigil' };

/** Reads and parses one SLO file; a read failure is an error of the file. */
export function loadSLOFile(file: string): ParsedSLOs {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { slos: [], windows: [], errors: [new RuleFileError(file, 0, 0, `open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`)] };
  }
  return parseSLOFile(text, file);
}

/** Every SLO of the files matching `globs` (relative to `baseDir`) plus `inline` ones, with all errors. */
export function loadSLOs(globs: readonly string[], baseDir: string, inline: ParsedSLOs = { slos: [], windows: [], errors: [] }): ParsedSLOs {
  const files = [...new Set(globs.flatMap((g) => globFiles(g, baseDir)))];
  const all = files.map(loadSLOFile);
  const slos = [...inline.slos, ...all.flatMap((p) => p.slos)];
  return {
    slos,
    windows: [...inline.windows, ...all.flatMap((p) => p.windows)],
    errors: [...inline.errors, ...all.flatMap((p) => p.errors), ...(files.length > 0 ? checkUniqueIds(slos) : [])],
  };
}

/** The rule groups of the SLOs; a query that is not valid PromQL is an error at its SLO. */
export function sloRuleGroups(
  slos: readonly SLO[],
  windows: readonly AlertWindows[],
  opts: GenerateOptions = VIGIL_GENERATOR,
): { groups: RuleGroupDef[]; errors: RuleFileError[] } {
  const groups: RuleGroupDef[] = [];
  const errors: RuleFileError[] = [];
  for (const slo of slos) {
    const r = toRuleGroups(slo, generateSLOGroups(slo, windowsFor(slo.periodMs, windows), opts));
    groups.push(...r.groups);
    errors.push(...r.errors);
  }
  return { groups, errors };
}
