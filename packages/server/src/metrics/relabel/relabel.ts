/**
 * Relabeling with Prometheus' `relabel_config` semantics (`model/relabel/relabel.go`): rules run
 * in order over one label set; `keep`/`drop`/`keepequal`/`dropequal` can drop it; the others
 * rewrite it. Regexes are RE2 patterns anchored at both ends, with `.` matching newlines as in
 * Prometheus 3.
 */
import { createHash } from 'node:crypto';
import { isValidLabelName, type Labels } from '../../core/model/labels.js';
import { compileAnchoredRegex } from '../../core/model/matcher.js';
import type { CompiledRegex } from '../../core/regex/re2.js';
import { LabelsBuilder } from './builder.js';
import { RELABEL_DEFAULTS, type RelabelAction, type RelabelConfig } from './config.js';
import { expandTemplate, hasTemplateVar } from './expand.js';

export {
  parseRelabelConfig,
  parseRelabelConfigs,
  RELABEL_ACTIONS,
  RELABEL_DEFAULTS,
  RelabelConfigError,
  type RelabelAction,
  type RelabelConfig,
} from './config.js';

/** A rule ready to run: regex compiled, template checks precomputed. */
export interface CompiledRelabel {
  readonly action: RelabelAction;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  readonly regex: CompiledRegex;
  readonly targetLabel: string;
  readonly replacement: string;
  readonly modulus: bigint;
  /** `replace` may skip the regex for an empty input (Prometheus' fast path). */
  readonly fastEmptyReplace: boolean;
}

/** Compiles validated configs (from {@link parseRelabelConfigs}) once, for use on every series. */
export function compileRelabel(configs: readonly RelabelConfig[]): readonly CompiledRelabel[] {
  return configs.map((c) => ({
    action: c.action,
    sourceLabels: c.sourceLabels,
    separator: c.separator,
    regex: compileAnchoredRegex(c.regex),
    targetLabel: c.targetLabel,
    replacement: c.replacement,
    modulus: BigInt(c.modulus),
    fastEmptyReplace: c.action === 'replace' && c.regex === RELABEL_DEFAULTS.regex && !hasTemplateVar(c.targetLabel) && !hasTemplateVar(c.replacement),
  }));
}

// One builder for all calls: relabel() is synchronous and never re-entered.
const builder = new LabelsBuilder();

/**
 * Applies `rules` in order. Returns the new label set (sorted, no empty values; the input itself
 * when nothing changed), or undefined when a rule dropped it.
 */
export function relabel(labels: Labels, rules: readonly CompiledRelabel[]): Labels | undefined {
  builder.reset(labels);
  for (const rule of rules) {
    if (!apply(rule, builder)) return undefined;
  }
  return builder.labels();
}

function sourceValue(rule: CompiledRelabel, b: LabelsBuilder): string {
  const names = rule.sourceLabels;
  if (names.length === 0) return '';
  let v = b.get(names[0]!);
  for (let k = 1; k < names.length; k++) v += rule.separator + b.get(names[k]!);
  return v;
}

/** Runs one rule; false when the label set is dropped. */
function apply(rule: CompiledRelabel, b: LabelsBuilder): boolean {
  const val = sourceValue(rule, b);
  switch (rule.action) {
    case 'drop':
      return !rule.regex.test(val);
    case 'keep':
      return rule.regex.test(val);
    case 'dropequal':
      return b.get(rule.targetLabel) !== val;
    case 'keepequal':
      return b.get(rule.targetLabel) === val;
    case 'replace': {
      if (val === '' && rule.fastEmptyReplace) {
        b.set(rule.targetLabel, rule.replacement);
        return true;
      }
      const m = rule.regex.exec(val);
      if (!m) return true; // no match, no replacement
      const target = expandTemplate(rule.targetLabel, m);
      if (!isValidLabelName(target)) return true;
      const res = expandTemplate(rule.replacement, m);
      if (res === '') b.delete(target);
      else b.set(target, res);
      return true;
    }
    case 'lowercase':
      b.set(rule.targetLabel, goToLower(val));
      return true;
    case 'uppercase':
      b.set(rule.targetLabel, goToUpper(val));
      return true;
    case 'hashmod':
      b.set(rule.targetLabel, hashmod(val, rule.modulus));
      return true;
    case 'labelmap':
      b.range((l) => {
        const m = rule.regex.exec(l.name);
        if (m) b.set(expandTemplate(rule.replacement, m), l.value);
      });
      return true;
    case 'labeldrop':
      b.range((l) => {
        if (rule.regex.test(l.name)) b.delete(l.name);
      });
      return true;
    case 'labelkeep':
      b.range((l) => {
        if (!rule.regex.test(l.name)) b.delete(l.name);
      });
      return true;
  }
}

/**
 * Prometheus' shard function: MD5 of the UTF-8 value, the last 8 bytes read as a big-endian
 * uint64, modulo `modulus` (relabel.go keeps the last 8 bytes for compatibility with old versions).
 */
export function hashmod(value: string, modulus: bigint): string {
  const sum = createHash('md5').update(value, 'utf8').digest();
  return (sum.readBigUInt64BE(8) % modulus).toString();
}

// Go's strings.ToLower/ToUpper map code point by code point (simple case mapping); JavaScript's
// full mapping can change length ('ß' → 'SS'), so non-ASCII text goes one code point at a time.
const NON_ASCII = /[\u0080-\uffff]/;

function goToLower(s: string): string {
  return !NON_ASCII.test(s) ? s.toLowerCase() : mapCodePoints(s, (c) => c.toLowerCase());
}

function goToUpper(s: string): string {
  return !NON_ASCII.test(s) ? s.toUpperCase() : mapCodePoints(s, (c) => c.toUpperCase());
}

function mapCodePoints(s: string, f: (c: string) => string): string {
  let out = '';
  for (const c of s) {
    const m = f(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}
