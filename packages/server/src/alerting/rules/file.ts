/**
 * Prometheus rule files (`rulefmt`): parsing and validation with errors that name the file, line and
 * column, the group and the rule, worded like Prometheus so `vigil check rules` reads like
 * `promtool check rules`. Also the duplicate-rule lint of `promtool check rules`.
 */
import * as fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { isValidLabelName, isValidMetricName, labelsFrom, compareLabels, type Labels } from '../../core/model/labels.js';
import { parseDuration } from '../../core/time/duration.js';
import { checkAlertTemplate } from '../template/index.js';
import { promqlLanguage } from './language.js';
import type { RuleLanguage } from './types.js';
import { isEmptyNode, RuleFileError, YamlNodeReader, yamlSyntaxError } from './yaml_reader.js';
import { checkTiers, makeTiers, SEVERITY_LABEL, type SeverityTiers } from './tiers.js';

/** One validated rule. */
export interface RuleDef {
  readonly kind: 'recording' | 'alerting';
  /** The `record` or `alert` name. */
  readonly name: string;
  readonly expr: string;
  /** The expression in its language's canonical form: what runs and what the API shows. */
  readonly query: string;
  /** `for`, ms (alerting only). */
  readonly forMs: number;
  /** `keep_firing_for`, ms (alerting only). */
  readonly keepFiringForMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** 1-based line of the rule in its file. */
  readonly line: number;
  /** `threshold` and `severity_tiers` (alerting only): the `severity` label follows the value (see tiers.ts). */
  readonly tiers?: SeverityTiers;
}

/** One validated group. */
export interface RuleGroupDef {
  readonly name: string;
  readonly file: string;
  /** `interval`, ms; undefined: the global evaluation interval. */
  readonly intervalMs: number | undefined;
  /** `query_offset`, ms; undefined: the global default. */
  readonly queryOffsetMs: number | undefined;
  /** `limit`: most alerts or series a rule may produce (0: none). */
  readonly limit: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly rules: RuleDef[];
  readonly line: number;
}

export { RuleFileError };

const GROUP_FIELDS = ['name', 'interval', 'query_offset', 'limit', 'labels', 'rules'];
const RULE_FIELDS = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations', 'threshold', 'severity_tiers'];

class FileParser extends YamlNodeReader {
  constructor(
    file: string,
    lines: LineCounter,
    private readonly language: RuleLanguage,
  ) {
    super(file, lines);
  }

  duration(node: unknown, what: string, prefix: string): number | undefined {
    if (node === undefined) return undefined;
    const s = this.str(node);
    try {
      if (s === undefined) throw new Error('expected a duration');
      return parseDuration(s);
    } catch (e) {
      this.err(node, `${prefix}${what}: ${(e as Error).message}`);
      return undefined;
    }
  }

  group(node: unknown, seen: Set<string>): RuleGroupDef | undefined {
    if (!isMap(node)) {
      this.err(node, 'a group must be a mapping');
      return undefined;
    }
    const get = (k: string): unknown => node.get(k, true);
    for (const pair of node.items) {
      const k = this.str(pair.key) ?? '';
      if (!GROUP_FIELDS.includes(k)) this.err(pair.key, `field ${k} not found in type rulefmt.RuleGroup`);
    }
    const name = this.str(get('name')) ?? '';
    if (name === '') {
      this.err(node, 'Groupname must not be empty');
      return undefined;
    }
    if (seen.has(name)) this.err(get('name'), `groupname: "${name}" is repeated in the same file`);
    seen.add(name);
    const prefix = `group "${name}": `;
    const intervalMs = this.duration(get('interval'), 'interval', prefix);
    const queryOffsetMs = this.duration(get('query_offset'), 'query_offset', prefix);
    let limit = 0;
    const limNode = get('limit');
    if (limNode !== undefined) {
      const v = isScalar(limNode) ? limNode.value : undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.err(limNode, `${prefix}limit: expected a non-negative integer`);
      else limit = v;
    }
    const labels = this.stringMap(get('labels'), `${prefix}labels`);
    for (const k of Object.keys(labels)) if (!isValidLabelName(k)) this.err(get('labels'), `${prefix}invalid label name: ${k}`);
    const rules: RuleDef[] = [];
    const rulesNode = get('rules');
    if (!isEmptyNode(rulesNode)) {
      if (!isSeq(rulesNode)) this.err(rulesNode, `${prefix}rules: expected a list`);
      else
        rulesNode.items.forEach((r, i) => {
          const rule = this.rule(r, name, i + 1);
          if (rule) rules.push(rule);
        });
    }
    return { name, file: this.file, intervalMs, queryOffsetMs, limit, labels, rules, line: this.pos(node).line };
  }

  rule(node: unknown, group: string, index: number): RuleDef | undefined {
    if (!isMap(node)) {
      this.err(node, `group "${group}", rule ${index}: a rule must be a mapping`);
      return undefined;
    }
    const get = (k: string): unknown => node.get(k, true);
    const record = this.str(get('record'));
    const alert = this.str(get('alert'));
    const name = record ?? alert ?? '';
    const where = `group "${group}", rule ${index}, "${name}": `;
    const before = this.errors.length;
    for (const pair of node.items) {
      const k = this.str(pair.key) ?? '';
      if (!RULE_FIELDS.includes(k)) this.err(pair.key, `${where}field ${k} not found in type rulefmt.Rule`);
    }
    const at = get('record') ?? get('alert') ?? node;
    if (record !== undefined && alert !== undefined) this.err(at, `${where}only one of 'record' and 'alert' must be set`);
    if (record === undefined && alert === undefined) this.err(node, `${where}one of 'record' or 'alert' must be set`);
    if (record === '' || alert === '') this.err(at, `${where}one of 'record' or 'alert' must be set`);
    const exprNode = get('expr');
    const expr = this.str(exprNode) ?? '';
    let query: string | undefined;
    if (expr === '') this.err(exprNode ?? node, `${where}field 'expr' must be set in rule`);
    else {
      try {
        query = this.language.canonical(expr);
      } catch (e) {
        this.err(exprNode, `${where}could not parse expression: ${(e as Error).message}`);
      }
    }
    const labels = this.stringMap(get('labels'), `${where}labels`);
    const annotations = this.stringMap(get('annotations'), `${where}annotations`);
    let forMs = 0;
    let keepFiringForMs = 0;
    if (record !== undefined) {
      if (get('annotations') !== undefined) this.err(get('annotations'), `${where}invalid field 'annotations' in recording rule`);
      if (get('for') !== undefined) this.err(get('for'), `${where}invalid field 'for' in recording rule`);
      if (get('keep_firing_for') !== undefined) this.err(get('keep_firing_for'), `${where}invalid field 'keep_firing_for' in recording rule`);
      if (record !== '' && !isValidMetricName(record)) this.err(get('record'), `${where}invalid recording rule name: ${record}`);
    } else {
      forMs = this.duration(get('for'), 'for', where) ?? 0;
      keepFiringForMs = this.duration(get('keep_firing_for'), 'keep_firing_for', where) ?? 0;
    }
    for (const k of Object.keys(labels)) {
      if (!isValidLabelName(k) || k === '__name__') this.err(get('labels'), `${where}invalid label name: ${k}`);
    }
    for (const k of Object.keys(annotations)) if (!isValidLabelName(k)) this.err(get('annotations'), `${where}invalid annotation name: ${k}`);
    if (alert !== undefined && record === undefined) {
      // Templates are checked by parsing them as the alert will (name `__alert_<alert>`).
      for (const [kind, map, key] of [
        ['label', labels, 'labels'],
        ['annotation', annotations, 'annotations'],
      ] as const) {
        for (const [k, v] of Object.entries(map)) {
          const msg = checkAlertTemplate(`__alert_${alert}`, v);
          if (msg !== undefined) {
            const mapNode = get(key);
            const valNode = isMap(mapNode) ? mapNode.get(k, true) : mapNode;
            this.err(valNode, `${where}${kind} ${JSON.stringify(k)}: ${msg}`);
          }
        }
      }
    }
    const tiers = this.tiers(node, where, record !== undefined, labels);
    if (this.errors.length > before || query === undefined) return undefined;
    return {
      kind: record !== undefined ? 'recording' : 'alerting',
      name,
      expr,
      query,
      forMs,
      keepFiringForMs,
      labels,
      annotations,
      line: this.pos(node).line,
      ...(tiers ? { tiers } : {}),
    };
  }

  /** `threshold` with `severity_tiers`: both or neither, on alerting rules whose labels leave `severity` to the tiers. */
  tiers(node: { get(key: string, keepScalar: true): unknown }, where: string, recording: boolean, labels: Record<string, string>): SeverityTiers | undefined {
    const thNode = node.get('threshold', true);
    const tiersNode = node.get('severity_tiers', true);
    if (thNode === undefined && tiersNode === undefined) return undefined;
    const at = tiersNode ?? thNode;
    if (recording) {
      this.err(at, `${where}invalid field '${tiersNode !== undefined ? 'severity_tiers' : 'threshold'}' in recording rule`);
      return undefined;
    }
    if (thNode === undefined || tiersNode === undefined) {
      this.err(at, `${where}threshold and severity_tiers go together`);
      return undefined;
    }
    const threshold = isScalar(thNode) ? thNode.value : undefined;
    const tiers: Record<string, unknown> = {};
    if (!isMap(tiersNode)) this.err(tiersNode, `${where}severity_tiers: expected a mapping of severity to ratio, such as { warning: 1, critical: 2 }`);
    else for (const pair of tiersNode.items) tiers[this.str(pair.key) ?? ''] = isScalar(pair.value) ? pair.value.value : undefined;
    if (!isMap(tiersNode)) return undefined;
    const problems = checkTiers(threshold, tiers);
    if (SEVERITY_LABEL in labels) problems.push(`labels: ${SEVERITY_LABEL} is set by severity_tiers; remove it from labels`);
    for (const p of problems) this.err(p.startsWith('threshold') ? thNode : tiersNode, `${where}${p}`);
    return problems.length > 0 ? undefined : makeTiers(threshold as number, tiers as Record<string, number>);
  }
}

/** The result of parsing one rule file: the valid groups and every error found. */
export interface ParsedRuleFile {
  readonly file: string;
  readonly groups: RuleGroupDef[];
  readonly errors: RuleFileError[];
}

/**
 * Parses and validates rule file text whose expressions are in `language` (PromQL unless told);
 * `file` names it in errors. Never throws for bad input.
 */
export function parseRuleFile(text: string, file: string, language: RuleLanguage = promqlLanguage): ParsedRuleFile {
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const p = new FileParser(file, lines, language);
  const syntax = yamlSyntaxError(file, lines, doc);
  if (syntax !== undefined) return { file, groups: [], errors: [syntax] };
  const groups: RuleGroupDef[] = [];
  const root = doc.contents;
  if (isEmptyNode(root)) return { file, groups, errors: [] };
  if (!isMap(root)) {
    p.err(root, 'a rule file must be a mapping with a groups field');
    return { file, groups, errors: p.errors };
  }
  for (const pair of root.items) {
    const k = p.str(pair.key) ?? '';
    if (k !== 'groups') p.err(pair.key, `field ${k} not found in type rulefmt.RuleGroups`);
  }
  const gs = root.get('groups', true);
  if (!isEmptyNode(gs)) {
    if (!isSeq(gs)) p.err(gs, 'groups: expected a list');
    else {
      const seen = new Set<string>();
      for (const g of gs.items) {
        const group = p.group(g, seen);
        if (group) groups.push(group);
      }
    }
  }
  return { file, groups, errors: p.errors };
}

/** Reads and parses a rule file; a read failure is reported as an error of the file. */
export function loadRuleFile(file: string, language: RuleLanguage = promqlLanguage): ParsedRuleFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { file, groups: [], errors: [new RuleFileError(file, 0, 0, `open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`)] };
  }
  return parseRuleFile(text, file, language);
}

/** A rule that appears more than once (same name and labels), for the lint warning. */
export interface DuplicateRule {
  readonly metric: string;
  readonly labels: Labels;
}

/** promtool's `checkDuplicates`: rules with the same name and labels, across all groups, each once. */
export function findDuplicateRules(groups: readonly RuleGroupDef[]): DuplicateRule[] {
  const all = groups.flatMap((g) => g.rules.map((r) => ({ metric: r.name, labels: labelsFrom(r.labels) })));
  const cmp = (a: DuplicateRule, b: DuplicateRule): number => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : compareLabels(a.labels, b.labels));
  all.sort(cmp);
  const dups: DuplicateRule[] = [];
  for (let i = 1; i < all.length; i++) {
    if (cmp(all[i - 1]!, all[i]!) === 0 && (dups.length === 0 || cmp(all[i]!, dups[dups.length - 1]!) !== 0)) dups.push(all[i]!);
  }
  return dups;
}
