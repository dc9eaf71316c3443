/** SLOs: documents in, Sloth-equivalent rule groups out. See parse.ts, generate.ts and load.ts. */
import { isSeq, type LineCounter } from 'yaml';
import type { AlertWindows, SLO } from './model.js';
import { checkUniqueIds, readSpecDocument, SpecReader, type ParsedSLOs } from './parse.js';
import { sloRuleGroups } from './load.js';

export type { ParsedSLOs } from './parse.js';
export type { SLO, AlertWindows } from './model.js';
export { parseSLOFile } from './parse.js';
export { isSLOFile, loadSLOs, loadSLOFile, loadSLORuleFile, sloRuleGroups, VIGIL_GENERATOR } from './load.js';
export { generateSLOGroups, ruleFileText } from './generate.js';

/**
 * The `slos:` list of a configuration file: each item one SLO document. Errors (including queries
 * that are not PromQL) name lines of `file`. Never throws for bad input.
 */
export function parseInlineSLOs(node: unknown, lines: LineCounter, file: string): ParsedSLOs {
  const r = new SpecReader(file, lines);
  const out = { slos: [] as SLO[], windows: [] as AlertWindows[] };
  if (!isSeq(node)) {
    r.err(node, 'slos: expected a list of SLO documents');
    return { ...out, errors: r.errors };
  }
  for (const item of node.items) readSpecDocument(r, item, out);
  const generated = r.errors.length === 0 ? sloRuleGroups(out.slos, out.windows).errors : [];
  return { ...out, errors: [...r.errors, ...checkUniqueIds(out.slos), ...generated] };
}
