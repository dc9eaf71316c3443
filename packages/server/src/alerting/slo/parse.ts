/**
 * Reads SLO documents: Sloth's `prometheus/v1` spec, Pyrra's `ServiceLevelObjective`, OpenSLO's
 * `SLO` (v1alpha `ratioMetrics`, v1 `ratioMetric`) and Sloth's `AlertWindows`. A file may hold several
 * YAML documents. Errors name the file, line and column like rule file errors, so `vigil check rules`
 * reports both the same way.
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type YAMLMap } from 'yaml';
import { isValidLabelName } from '../../core/model/labels.js';
import { parseDuration } from '../../core/time/duration.js';
import { isEmptyNode, RuleFileError, YamlNodeReader, yamlSyntaxError } from '../rules/yaml_reader.js';
import { DEFAULT_PERIOD_MS, defaultWindows, type AlertWindow, type AlertWindows, type SLI, type SLO, type SLOAlert } from './model.js';
import { readOpenSLO, readPyrra } from './parse_other.js';

/** What a file (or the inline `slos:` list) holds. */
export interface ParsedSLOs {
  readonly slos: SLO[];
  /** Custom alert windows by period (Sloth's `AlertWindows` documents). */
  readonly windows: AlertWindows[];
  readonly errors: RuleFileError[];
}

/** Sloth's SLO and service names: what fits in a label value and a rule group name. */
const NAME_RE = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;

/** Shared reading helpers over YAML nodes that keep their positions. */
export class SpecReader extends YamlNodeReader {
  /** The mapping at `node`, or undefined (reporting it unless absent). */
  map(node: unknown, where: string, fields: readonly string[]): YAMLMap | undefined {
    if (isEmptyNode(node)) return undefined;
    if (!isMap(node)) {
      this.err(node, `${where}: expected a mapping`);
      return undefined;
    }
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!fields.includes(k)) this.err(pair.key, `${where}: unknown field ${JSON.stringify(k)} (expected one of ${fields.join(', ')})`);
    }
    return node;
  }

  /** A required non-empty string field. */
  need(m: YAMLMap, key: string, where: string): string | undefined {
    const node = m.get(key, true);
    const v = this.str(node);
    if (v === undefined || v.trim() === '') {
      this.err(node ?? m, `${where}: ${key} is required`);
      return undefined;
    }
    return v;
  }

  num(node: unknown): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : undefined;
  }

  bool(node: unknown, where: string): boolean {
    if (node === undefined) return false;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.err(node, `${where}: expected true or false`);
    return false;
  }

  duration(node: unknown, where: string): number | undefined {
    const s = this.str(node);
    try {
      if (s === undefined) throw new Error('expected a duration such as 30d');
      const ms = parseDuration(s);
      if (ms <= 0) throw new Error('must be positive');
      return ms;
    } catch (e) {
      this.err(node, `${where}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** A `map[string]string` of label names (or annotation names) to values. */
  labels(node: unknown, where: string): Record<string, string> {
    return this.stringMap(node, where, (k) => (isValidLabelName(k) ? undefined : `invalid name ${JSON.stringify(k)}`));
  }

  /** A name that becomes part of a label value and a group name. */
  name(m: YAMLMap, key: string, where: string): string | undefined {
    const v = this.need(m, key, where);
    if (v !== undefined && !NAME_RE.test(v)) {
      this.err(m.get(key, true), `${where}: ${key} ${JSON.stringify(v)} must be letters, digits, '-', '_' or '.'`);
      return undefined;
    }
    return v;
  }

  /** A percent objective in (0, 100]. */
  objective(node: unknown, where: string, scale = 1): number | undefined {
    const n = this.num(node);
    if (n === undefined || n * scale <= 0 || n * scale > 100) {
      this.err(node, `${where}: objective must be a number above 0 and at most ${100 / scale}`);
      return undefined;
    }
    return n * scale;
  }

  /** A query with a `{{.window}}` placeholder, where the window's range goes. */
  windowQuery(m: YAMLMap, key: string, where: string): string | undefined {
    const q = this.need(m, key, where);
    if (q !== undefined && !/\{\{\s*\.window\s*\}\}/.test(q)) {
      this.err(m.get(key, true), `${where}: ${key} must use {{.window}} where the range goes, e.g. rate(x[{{.window}}])`);
      return undefined;
    }
    return q;
  }
}

const SLOTH_ROOT = ['version', 'service', 'labels', 'slos'];
const SLOTH_SLO = ['name', 'objective', 'description', 'labels', 'sli', 'alerting'];
const SLOTH_ALERTING = ['name', 'labels', 'annotations', 'page_alert', 'ticket_alert'];
const SLOTH_ALERT = ['disable', 'labels', 'annotations'];

/** Sloth's `prometheus/v1` service: one SLO per entry of `slos`. */
function readSloth(r: SpecReader, root: YAMLMap, periodMs: number): SLO[] {
  r.map(root, 'prometheus/v1', SLOTH_ROOT);
  const service = r.name(root, 'service', 'prometheus/v1');
  const specLabels = r.labels(root.get('labels', true), 'labels');
  const slosNode = root.get('slos', true);
  if (!isSeq(slosNode) || slosNode.items.length === 0) {
    r.err(slosNode ?? root, 'prometheus/v1: slos must be a non-empty list');
    return [];
  }
  const out: SLO[] = [];
  const seen = new Set<string>();
  slosNode.items.forEach((node, i) => {
    const where = `slos[${i}]`;
    const before = r.errors.length;
    const m = r.map(node, where, SLOTH_SLO);
    if (m === undefined) {
      if (r.errors.length === before) r.err(node, `${where}: expected a mapping`);
      return;
    }
    const name = r.name(m, 'name', where);
    if (name !== undefined && seen.has(name)) r.err(m.get('name', true), `${where}: SLO ${JSON.stringify(name)} is repeated`);
    if (name !== undefined) seen.add(name);
    const objective = r.objective(m.get('objective', true), `${where}`);
    const labels = { ...specLabels, ...r.labels(m.get('labels', true), `${where}.labels`) };
    const sli = readSlothSLI(r, m.get('sli', true), `${where}.sli`);
    const alerting = readSlothAlerting(r, m.get('alerting', true), `${where}.alerting`, m);
    if (r.errors.length > before || service === undefined || name === undefined || objective === undefined || sli === undefined) return;
    out.push({
      id: `${service}-${name}`,
      service,
      name,
      description: r.str(m.get('description', true)) ?? '',
      objective,
      periodMs,
      labels,
      sli,
      ...alerting,
      spec: 'prometheus/v1',
      mode: 'cli-gen-prom',
      file: r.file,
      line: r.line(m),
    });
  });
  return out;
}

function readSlothSLI(r: SpecReader, node: unknown, where: string): SLI | undefined {
  const m = r.map(node, where, ['events', 'raw', 'plugin']);
  if (m === undefined) {
    r.err(node ?? null, `${where}: required (events or raw)`);
    return undefined;
  }
  const kinds = ['events', 'raw', 'plugin'].filter((k) => m.has(k));
  if (kinds.length !== 1) {
    r.err(m, `${where}: give exactly one of events, raw or plugin`);
    return undefined;
  }
  if (kinds[0] === 'plugin') {
    // Plugins are Go code loaded by Sloth at generation time; Vigil cannot run them.
    r.err(m.get('plugin', true), `${where}.plugin: SLI plugins are Sloth Go plugins and are not supported; write the SLI as events or raw queries`);
    return undefined;
  }
  if (kinds[0] === 'raw') {
    const raw = r.map(m.get('raw', true), `${where}.raw`, ['error_ratio_query']);
    const q = raw && r.windowQuery(raw, 'error_ratio_query', `${where}.raw`);
    return q === undefined ? undefined : { kind: 'raw', errorRatioQuery: q };
  }
  const ev = r.map(m.get('events', true), `${where}.events`, ['error_query', 'total_query']);
  if (ev === undefined) return undefined;
  const errorQuery = r.windowQuery(ev, 'error_query', `${where}.events`);
  const totalQuery = r.windowQuery(ev, 'total_query', `${where}.events`);
  return errorQuery !== undefined && totalQuery !== undefined ? { kind: 'events', errorQuery, totalQuery } : undefined;
}

function readSlothAlerting(r: SpecReader, node: unknown, where: string, slo: YAMLMap): Pick<SLO, 'alertName' | 'page' | 'ticket'> {
  const m = r.map(node, where, SLOTH_ALERTING);
  const labels = r.labels(m?.get('labels', true), `${where}.labels`);
  const annotations = r.labels(m?.get('annotations', true), `${where}.annotations`);
  const one = (key: string): SLOAlert | undefined => {
    const a = r.map(m?.get(key, true), `${where}.${key}`, SLOTH_ALERT);
    if (a !== undefined && r.bool(a.get('disable', true), `${where}.${key}.disable`)) return undefined;
    return {
      labels: { ...labels, ...r.labels(a?.get('labels', true), `${where}.${key}.labels`) },
      annotations: { ...annotations, ...r.labels(a?.get('annotations', true), `${where}.${key}.annotations`) },
    };
  };
  const page = one('page_alert');
  const ticket = one('ticket_alert');
  const alertName = r.str(m?.get('name', true)) ?? '';
  if ((page !== undefined || ticket !== undefined) && alertName === '')
    r.err(m ?? slo, `${where}: name is required unless both page_alert and ticket_alert are disabled`);
  return { alertName, page, ticket };
}

/** Sloth's `AlertWindows`: custom windows for one SLO period. */
function readWindows(r: SpecReader, root: YAMLMap): AlertWindows | undefined {
  r.map(root, 'AlertWindows', ['apiVersion', 'kind', 'spec']);
  const spec = r.map(root.get('spec', true), 'AlertWindows.spec', ['sloPeriod', 'page', 'ticket']);
  if (spec === undefined) {
    r.err(root, 'AlertWindows: spec is required');
    return undefined;
  }
  const before = r.errors.length;
  const periodMs = r.duration(spec.get('sloPeriod', true), 'AlertWindows.spec.sloPeriod');
  const win = (sev: string, speed: string): AlertWindow => {
    const where = `AlertWindows.spec.${sev}.${speed}`;
    const s = r.map(spec.getIn([sev], true), `AlertWindows.spec.${sev}`, ['quick', 'slow']);
    const w = r.map(s?.get(speed, true), where, ['errorBudgetPercent', 'shortWindow', 'longWindow']);
    if (w === undefined) {
      r.err(s ?? spec, `${where}: required`);
      return { errorBudgetPercent: 0, shortMs: 0, longMs: 0 };
    }
    const pct = r.num(w.get('errorBudgetPercent', true));
    if (pct === undefined || pct <= 0 || pct > 100) r.err(w.get('errorBudgetPercent', true) ?? w, `${where}: errorBudgetPercent must be in (0, 100]`);
    const shortMs = r.duration(w.get('shortWindow', true), `${where}.shortWindow`) ?? 0;
    const longMs = r.duration(w.get('longWindow', true), `${where}.longWindow`) ?? 0;
    if (shortMs >= longMs && longMs > 0) r.err(w, `${where}: shortWindow must be shorter than longWindow`);
    return { errorBudgetPercent: pct ?? 0, shortMs, longMs };
  };
  const windows = { pageQuick: win('page', 'quick'), pageSlow: win('page', 'slow'), ticketQuick: win('ticket', 'quick'), ticketSlow: win('ticket', 'slow') };
  if (r.errors.length > before || periodMs === undefined) return undefined;
  return { periodMs, ...windows };
}

/** Reads one document's root mapping (any supported kind) into `out`. */
export function readSpecDocument(r: SpecReader, root: unknown, out: { slos: SLO[]; windows: AlertWindows[] }): void {
  if (!isMap(root)) {
    r.err(root, 'an SLO document must be a mapping (Sloth prometheus/v1, Pyrra ServiceLevelObjective or OpenSLO SLO)');
    return;
  }
  const version = r.str(root.get('version', true));
  const apiVersion = r.str(root.get('apiVersion', true)) ?? '';
  const kind = r.str(root.get('kind', true)) ?? '';
  if (version === 'prometheus/v1') out.slos.push(...readSloth(r, root, DEFAULT_PERIOD_MS));
  else if (version !== undefined) r.err(root.get('version', true), `unsupported spec version ${JSON.stringify(version)} (expected prometheus/v1)`);
  else if (apiVersion.startsWith('openslo/') && kind === 'SLO') out.slos.push(...readOpenSLO(r, root, apiVersion));
  else if (apiVersion.startsWith('pyrra.dev/') && kind === 'ServiceLevelObjective') {
    const slo = readPyrra(r, root, apiVersion);
    if (slo) out.slos.push(slo);
  } else if (apiVersion === 'sloth.slok.dev/v1' && kind === 'AlertWindows') {
    const w = readWindows(r, root);
    if (w) out.windows.push(w);
  } else
    r.err(
      root,
      `unknown SLO document (apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}): expected version: prometheus/v1, pyrra.dev/v1alpha1 ServiceLevelObjective, openslo/v1alpha or openslo/v1 SLO, or sloth.slok.dev/v1 AlertWindows`,
    );
}

/** Checks that SLO ids are unique across everything loaded together (their rule groups would clash). */
export function checkUniqueIds(slos: readonly SLO[]): RuleFileError[] {
  const seen = new Map<string, SLO>();
  const errors: RuleFileError[] = [];
  for (const s of slos) {
    const prev = seen.get(s.id);
    if (prev) errors.push(new RuleFileError(s.file, s.line, 1, `SLO ${JSON.stringify(s.id)} is defined twice (also at ${prev.file}:${prev.line})`));
    else seen.set(s.id, s);
  }
  return errors;
}

/** Parses the text of an SLO file (one or more YAML documents). Never throws for bad input. */
export function parseSLOFile(text: string, file: string): ParsedSLOs {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new SpecReader(file, lines);
  const out = { slos: [] as SLO[], windows: [] as AlertWindows[] };
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const syntax = yamlSyntaxError(file, lines, doc);
    if (syntax !== undefined) return { slos: [], windows: [], errors: [syntax] };
    if (isEmptyNode(doc.contents)) continue;
    readSpecDocument(r, doc.contents, out);
  }
  return { ...out, errors: [...r.errors, ...checkUniqueIds(out.slos)] };
}

/** The alert windows for a period: a custom `AlertWindows` for it if one was given, else the defaults. */
export function windowsFor(periodMs: number, custom: readonly AlertWindows[]): AlertWindows {
  return custom.find((w) => w.periodMs === periodMs) ?? defaultWindows(periodMs);
}
