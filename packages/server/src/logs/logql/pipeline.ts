/**
 * The log pipeline: runs a query's stages over one line. Labels stay the stream's own (shared)
 * label set until a stage touches them, so plain filter queries make no label objects per line.
 */
import { sortLabels, type Labels } from '../../core/model/labels.js';
import type { LineFilterHint } from '../storage/types.js';
import { safeTokens } from '../../core/util/bloom.js';
import type { LabelFilter, PatternPart, Stage, TemplatePart } from './ast.js';
import { parseBytes, parseGoDuration } from './units.js';

/** What a line became after the pipeline, or undefined when dropped. */
export interface PipelineOutput {
  line: string;
  labels: Labels;
  /** The unwrapped sample value (NaN without an unwrap stage). */
  value: number;
}

/** Label names are sanitised the way Loki does: anything but `[a-zA-Z0-9_]` becomes `_`. */
export function sanitizeLabelName(k: string): string {
  let s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) s = '_' + s;
  return s;
}

/** Parses a logfmt line into key/value pairs. */
export function parseLogfmt(line: string, add: (k: string, v: string) => void): boolean {
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) <= 32) i++;
    if (i >= n) break;
    const ks = i;
    while (i < n && line[i] !== '=' && line.charCodeAt(i) > 32) i++;
    const key = line.slice(ks, i);
    if (!key) return false;
    if (line[i] !== '=') {
      add(key, '');
      continue;
    }
    i++;
    if (line[i] === '"') {
      let j = i + 1;
      let v = '';
      while (j < n && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < n) {
          const c = line[j + 1]!;
          v += c === 'n' ? '\n' : c === 't' ? '\t' : c;
          j += 2;
        } else v += line[j++];
      }
      if (j >= n) return false;
      add(key, v);
      i = j + 1;
    } else {
      const vs = i;
      while (i < n && line.charCodeAt(i) > 32) i++;
      add(key, line.slice(vs, i));
    }
  }
  return true;
}

function matchPattern(parts: readonly PatternPart[], line: string, add: ((k: string, v: string) => void) | undefined): boolean {
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if ('lit' in p) {
      if (i === 0) {
        if (!line.startsWith(p.lit)) return false;
        pos = p.lit.length;
      } else if (line.indexOf(p.lit, pos) < 0) return false;
      continue;
    }
    const next = parts[i + 1];
    let end: number;
    if (next === undefined) end = line.length;
    else {
      end = line.indexOf((next as { lit: string }).lit, pos);
      if (end < 0) return false;
    }
    if (add && p.name !== '_') add(p.name, line.slice(pos, end));
    pos = end + (next ? (next as { lit: string }).lit.length : 0);
    i++;
  }
  return true;
}

const TEMPLATE_FNS: Record<string, (s: string) => string> = {
  ToUpper: (s) => s.toUpperCase(),
  ToLower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  trim: (s) => s.trim(),
  TrimSpace: (s) => s.trim(),
  len: (s) => String(s.length),
  urlencode: (s) => encodeURIComponent(s),
  urldecode: (s) => decodeURIComponent(s),
};

function render(tmpl: readonly TemplatePart[], labels: Map<string, string>, line: string, t: bigint): string {
  let out = '';
  for (const p of tmpl) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    let v = p.field === '__line__' ? line : p.field === '__timestamp__' ? new Date(Number(t / 1_000_000n)).toISOString() : (labels.get(p.field) ?? '');
    for (const f of p.fns) v = (TEMPLATE_FNS[f] ?? ((s: string) => s))(v);
    out += v;
  }
  return out;
}

function evalFilter(f: LabelFilter, labels: Map<string, string>): boolean {
  switch (f.kind) {
    case 'and':
      return evalFilter(f.left, labels) && evalFilter(f.right, labels);
    case 'or':
      return evalFilter(f.left, labels) || evalFilter(f.right, labels);
    case 'match':
      return f.matcher.matches(labels.get(f.matcher.name) ?? '');
    case 'cmp': {
      const raw = labels.get(f.name);
      if (raw === undefined) return false;
      const v = f.unit === 'duration' ? (parseGoDuration(raw) ?? NaN) / 1000 : f.unit === 'bytes' ? (parseBytes(raw) ?? NaN) : Number(raw);
      if (Number.isNaN(v) || raw === '') {
        labels.set('__error__', 'LabelFilterErr');
        return false;
      }
      switch (f.op) {
        case '==':
          return v === f.value;
        case '!=':
          return v !== f.value;
        case '>':
          return v > f.value;
        case '>=':
          return v >= f.value;
        case '<':
          return v < f.value;
        case '<=':
          return v <= f.value;
      }
    }
  }
}

function labelsOfMap(m: Map<string, string>): Labels {
  const arr: { name: string; value: string }[] = [];
  for (const [name, value] of m) arr.push({ name, value });
  return sortLabels(arr);
}

function flattenJson(v: unknown, prefix: string, add: (k: string, v: string) => void): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (x === null) add(key, '');
    else if (typeof x === 'object') {
      if (!Array.isArray(x)) flattenJson(x, key, add);
    } else add(key, String(x));
  }
}

/** A compiled pipeline. */
export class Pipeline {
  private readonly stages: readonly Stage[];
  /** True when no stage reads or changes labels: the stream's label set passes through. */
  readonly labelsUntouched: boolean;
  readonly unwrapAt: number;

  constructor(stages: readonly Stage[]) {
    this.stages = stages;
    this.labelsUntouched = stages.every((s) => s.kind === 'lineFilter' || s.kind === 'lineFormat' || s.kind === 'decolorize');
    this.unwrapAt = stages.findIndex((s) => s.kind === 'unwrap');
  }

  /** Hints for the store: tokens and a needle every output line's source contains. */
  hint(): LineFilterHint {
    const tokens: string[] = [];
    let needle: string | undefined;
    for (const s of this.stages) {
      if (s.kind !== 'lineFilter') break; // a later stage may rewrite the line
      if (s.op !== '|=' || s.values.length !== 1) continue;
      const v = s.values[0]!;
      needle ??= v || undefined;
      tokens.push(...safeTokens(v));
    }
    return needle !== undefined ? { tokens, needle } : { tokens };
  }

  /** Runs the stages over one line. */
  run(line: string, t: bigint, stream: Labels, meta?: Labels): PipelineOutput | undefined {
    let labels: Map<string, string> | undefined;
    const ensure = (): Map<string, string> => {
      if (labels) return labels;
      labels = new Map();
      for (const l of stream) labels.set(l.name, l.value);
      if (meta) for (const l of meta) labels.set(l.name, l.value);
      return labels;
    };
    const streamHas = (k: string): boolean => stream.some((l) => l.name === k);
    const extract = (k: string, v: string): void => {
      let name = sanitizeLabelName(k);
      if (streamHas(name)) name += '_extracted';
      ensure().set(name, v);
    };
    let value = NaN;
    for (const s of this.stages) {
      switch (s.kind) {
        case 'lineFilter': {
          let hit = false;
          if (s.op === '|=' || s.op === '!=') hit = s.values.some((v) => line.includes(v));
          else if (s.op === '|~' || s.op === '!~') hit = s.res!.some((r) => r.test(line));
          else hit = s.patterns!.some((p) => matchPattern(p, line, undefined));
          if (hit !== (s.op[0] === '|')) return undefined;
          break;
        }
        case 'json': {
          const m = ensure();
          let obj: unknown;
          try {
            obj = JSON.parse(line);
          } catch {
            m.set('__error__', 'JSONParserErr');
            break;
          }
          if (obj === null || typeof obj !== 'object') {
            m.set('__error__', 'JSONParserErr');
            break;
          }
          if (!s.params.length) flattenJson(obj, '', extract);
          else
            for (const p of s.params) {
              let cur: unknown = obj;
              for (const k of p.path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[k] : undefined;
              if (cur === undefined) continue;
              m.set(p.label, cur === null ? '' : typeof cur === 'object' ? JSON.stringify(cur) : String(cur));
            }
          break;
        }
        case 'logfmt': {
          const m = ensure();
          if (s.params.length) {
            const want = new Map(s.params.map((p) => [p.key, p.label]));
            if (!parseLogfmt(line, (k, v) => want.has(k) && m.set(want.get(k)!, v))) m.set('__error__', 'LogfmtParserErr');
          } else if (!parseLogfmt(line, extract)) m.set('__error__', 'LogfmtParserErr');
          break;
        }
        case 'regexp': {
          const r = s.re.exec(line);
          if (r?.groups) for (const [k, v] of Object.entries(r.groups)) if (v !== undefined) extract(k, v);
          break;
        }
        case 'pattern':
          if (!matchPattern(s.parts, line, extract)) ensure();
          break;
        case 'unpack': {
          const m = ensure();
          try {
            const obj = JSON.parse(line) as Record<string, unknown>;
            for (const [k, v] of Object.entries(obj)) {
              if (k === '_entry') line = String(v);
              else if (typeof v === 'string') extract(k, v);
            }
          } catch {
            m.set('__error__', 'JSONParserErr');
          }
          break;
        }
        case 'decolorize':
          // eslint-disable-next-line no-control-regex
          line = line.replace(/\x1b\[[0-9;]*m/g, '');
          break;
        case 'labelFilter':
          if (!evalFilter(s.filter, ensure())) {
            if (labels?.get('__error__') === 'LabelFilterErr') labels.delete('__error__');
            return undefined;
          }
          break;
        case 'lineFormat':
          line = render(s.tmpl, ensure(), line, t);
          break;
        case 'labelFormat': {
          const m = ensure();
          const snapshot = new Map(m);
          for (const it of s.items) {
            if (it.src !== undefined) {
              const v = snapshot.get(it.src);
              m.delete(it.src);
              if (v !== undefined) m.set(it.dst, v);
            } else m.set(it.dst, render(it.tmpl!, snapshot, line, t));
          }
          break;
        }
        case 'drop': {
          const m = ensure();
          for (const it of s.items) if (!it.matcher || it.matcher.matches(m.get(it.name) ?? '')) m.delete(it.name);
          break;
        }
        case 'keep': {
          const m = ensure();
          for (const k of [...m.keys()]) {
            const it = s.items.find((x) => x.name === k);
            if (!it || (it.matcher && !it.matcher.matches(m.get(k)!))) m.delete(k);
          }
          break;
        }
        case 'unwrap': {
          const m = ensure();
          const raw = m.get(s.label);
          const v =
            raw === undefined
              ? NaN
              : s.conv === 'duration'
                ? (parseGoDuration(raw) ?? NaN) / 1000
                : s.conv === 'bytes'
                  ? (parseBytes(raw) ?? NaN)
                  : raw.trim() === ''
                    ? NaN
                    : Number(raw);
          if (Number.isNaN(v)) m.set('__error__', 'SampleExtractionErr');
          else value = v;
          m.delete(s.label);
          break;
        }
      }
    }
    if (this.unwrapAt >= 0 && labels?.has('__error__')) return undefined; // unconvertible samples are skipped
    return { line, labels: labels ? labelsOfMap(labels) : meta && meta.length ? labelsOfMap(ensure()) : stream, value };
  }
}
