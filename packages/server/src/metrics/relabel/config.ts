/**
 * `relabel_configs` / `metric_relabel_configs` entries: the YAML shape, defaults and validation
 * of Prometheus' `model/relabel` `Config`. Validation happens once at configuration time, with
 * errors that name the offending entry and field.
 */
import { isValidLabelName } from '../../core/model/labels.js';
import { compileAnchoredRegex, MatcherError } from '../../core/model/matcher.js';
import { VigilError } from '../../core/errors.js';

/** The relabel actions, as written in YAML (case-insensitive there). */
export const RELABEL_ACTIONS = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
] as const;
/** One of {@link RELABEL_ACTIONS}. */
export type RelabelAction = (typeof RELABEL_ACTIONS)[number];

/** One validated relabel rule with every default filled in. */
export interface RelabelConfig {
  readonly sourceLabels: readonly string[];
  /** Joins the source values; default `;`. */
  readonly separator: string;
  /** RE2 pattern, anchored at both ends when compiled; default `(.*)`. */
  readonly regex: string;
  /** For `hashmod`; 0 when unset. */
  readonly modulus: number;
  readonly targetLabel: string;
  /** Go `regexp.Expand` template; default `$1`. */
  readonly replacement: string;
  readonly action: RelabelAction;
  /** True when the YAML gave `regex`, which some actions forbid even when it equals the default. */
  readonly regexSet: boolean;
  /** True when the YAML gave `source_labels`, which `labeldrop`/`labelkeep` forbid. */
  readonly sourceLabelsSet: boolean;
}

/** Defaults of an entry, as in Prometheus' `DefaultRelabelConfig`. */
export const RELABEL_DEFAULTS = { separator: ';', regex: '(.*)', replacement: '$1', action: 'replace' } as const;

/** A relabel configuration mistake; `field` is the path of the offending field. */
export class RelabelConfigError extends VigilError {
  override readonly code = 'bad_relabel_config' as const;
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super('bad_relabel_config', `${field}: ${detail}`);
  }
}

const FIELDS = new Set(['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action']);

/**
 * Validates the YAML-decoded value of a `relabel_configs` list. `where` prefixes error paths, e.g.
 * `scrape_configs[0].metric_relabel_configs`. A missing list (null/undefined) is an empty one.
 */
export function parseRelabelConfigs(raw: unknown, where: string): RelabelConfig[] {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw new RelabelConfigError(where, 'expected a list of relabel configs');
  return raw.map((entry: unknown, i) => parseOne(entry, `${where}[${i}]`));
}

/** Validates one entry; `where` names it in errors. */
export function parseRelabelConfig(raw: unknown, where: string): RelabelConfig {
  return parseOne(raw, where);
}

function parseOne(raw: unknown, where: string): RelabelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new RelabelConfigError(where, 'expected a mapping');
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!FIELDS.has(k)) throw new RelabelConfigError(`${where}.${k}`, `field ${k} not found in relabel config`);
  }
  const f = (name: string): string => `${where}.${name}`;
  const has = (k: string): boolean => Object.hasOwn(obj, k) && obj[k] !== undefined;

  const sourceLabels = has('source_labels') ? labelList(obj['source_labels'], f('source_labels')) : [];
  const separator = has('separator') ? scalarString(obj['separator'], f('separator')) : RELABEL_DEFAULTS.separator;
  const regex = has('regex') ? scalarString(obj['regex'], f('regex')) : RELABEL_DEFAULTS.regex;
  const modulus = has('modulus') ? uint(obj['modulus'], f('modulus')) : 0;
  const targetLabel = has('target_label') ? scalarString(obj['target_label'], f('target_label')) : '';
  const replacement = has('replacement') ? scalarString(obj['replacement'], f('replacement')) : RELABEL_DEFAULTS.replacement;
  const actionRaw = has('action') ? scalarString(obj['action'], f('action')) : RELABEL_DEFAULTS.action;
  if (actionRaw === '') throw new RelabelConfigError(f('action'), 'relabel action cannot be empty');
  const action = actionRaw.toLowerCase();
  if (!isAction(action)) throw new RelabelConfigError(f('action'), `unknown relabel action ${JSON.stringify(actionRaw)}`);

  try {
    compileAnchoredRegex(regex);
  } catch (err) {
    if (err instanceof MatcherError) throw new RelabelConfigError(f('regex'), err.message);
    throw err;
  }

  const cfg: RelabelConfig = {
    sourceLabels,
    separator,
    regex,
    modulus,
    targetLabel,
    replacement,
    action,
    regexSet: has('regex'),
    sourceLabelsSet: has('source_labels'),
  };
  validate(cfg, f);
  return cfg;
}

/** The checks of Prometheus' `Config.Validate`, each reported against the field at fault. */
function validate(c: RelabelConfig, f: (name: string) => string): void {
  const a = c.action;
  const fail = (field: string, detail: string): never => {
    throw new RelabelConfigError(f(field), detail);
  };
  if (a === 'hashmod' && c.modulus === 0) fail('modulus', 'relabel configuration for hashmod requires non-zero modulus');
  const needsTarget = a === 'replace' || a === 'hashmod' || a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal';
  if (needsTarget && c.targetLabel === '') fail('target_label', `relabel configuration for ${a} action requires 'target_label' value`);
  // Target names are checked against the legacy charset because storage accepts only those.
  if (a === 'replace' && !isValidTargetTemplate(c.targetLabel))
    fail('target_label', `${JSON.stringify(c.targetLabel)} is invalid 'target_label' for ${a} action`);
  const fixedTarget = a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal' || a === 'hashmod';
  if (fixedTarget && !isValidLabelName(c.targetLabel)) fail('target_label', `${JSON.stringify(c.targetLabel)} is invalid 'target_label' for ${a} action`);
  const noReplacement = a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal';
  if (noReplacement && c.replacement !== RELABEL_DEFAULTS.replacement) fail('replacement', `'replacement' can not be set for ${a} action`);
  if (a === 'labelmap' && !isValidTargetTemplate(c.replacement))
    fail('replacement', `${JSON.stringify(c.replacement)} is invalid 'replacement' for ${a} action`);
  if (a === 'keepequal' || a === 'dropequal') {
    const extra = c.regexSet ? 'regex' : c.modulus !== 0 ? 'modulus' : c.separator !== RELABEL_DEFAULTS.separator ? 'separator' : undefined;
    if (extra) fail(extra, `${a} action requires only 'source_labels' and 'target_label', and no other fields`);
  }
  if (a === 'labeldrop' || a === 'labelkeep') {
    const extra = c.sourceLabelsSet
      ? 'source_labels'
      : c.targetLabel !== ''
        ? 'target_label'
        : c.modulus !== 0
          ? 'modulus'
          : c.separator !== RELABEL_DEFAULTS.separator
            ? 'separator'
            : c.replacement !== RELABEL_DEFAULTS.replacement
              ? 'replacement'
              : undefined;
    if (extra) fail(extra, `${a} action requires only 'regex', and no other fields`);
  }
}

function isAction(s: string): s is RelabelAction {
  return (RELABEL_ACTIONS as readonly string[]).includes(s);
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * A label name, possibly built from `$var`/`${var}` references: what Prometheus' legacy
 * `relabelTarget` regex `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$` accepts, checked by hand
 * because that nested-quantifier pattern backtracks exponentially in a JavaScript engine.
 */
export function isValidTargetTemplate(s: string): boolean {
  if (!s.includes('$')) return isValidLabelName(s);
  let i = 0;
  let first = true;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 36 /* $ */) {
      i++;
      if (s[i] === '{') {
        const start = ++i;
        while (i < s.length && isWordChar(s.charCodeAt(i))) i++;
        if (i === start || s[i] !== '}') return false;
        i++;
      } else {
        const start = i;
        while (i < s.length && isWordChar(s.charCodeAt(i))) i++;
        if (i === start) return false;
      }
    } else if (isWordChar(c) && !(first && c >= 48 && c <= 57)) {
      i++;
    } else {
      return false;
    }
    first = false;
  }
  return s.length > 0;
}

function scalarString(v: unknown, field: string): string {
  // YAML decoders hand over numbers and booleans for unquoted scalars; Go's yaml reads their text.
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new RelabelConfigError(field, `expected a string, got ${describe(v)}`);
}

function labelList(v: unknown, field: string): string[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw new RelabelConfigError(field, `expected a list of label names, got ${describe(v)}`);
  return v.map((item: unknown, i) => {
    const name = scalarString(item, `${field}[${i}]`);
    if (!isValidLabelName(name)) throw new RelabelConfigError(`${field}[${i}]`, `${JSON.stringify(name)} is not a valid label name`);
    return name;
  });
}

function uint(v: unknown, field: string): number {
  if (v === null) return 0;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RelabelConfigError(field, `expected a non-negative integer below 2^53, got ${describe(v)}`);
  }
  return n;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v) ?? typeof v;
}
