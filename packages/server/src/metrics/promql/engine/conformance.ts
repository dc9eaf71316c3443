/**
 * A runner for Prometheus' PromQL conformance scripts (`promqltest` `.test` files), read in place
 * from `../shared/promqltest/`. Loads data into a fresh in-memory {@link Head} per `clear`, runs
 * each `eval` through the {@link Engine} and compares results like Prometheus' test framework.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareLabels, formatLabels, type Labels, labelsKey, sortLabels } from '../../../core/model/labels.js';
import { STALE_NAN } from '../../../core/model/value.js';
import { Head } from '../../tsdb/head.js';
import { DecodedChunkCache } from '../../tsdb/decoded_chunks.js';
import { parseDuration, parseSecondsOrDuration } from '../../../core/time/duration.js';
import { parseSeriesSelector, unquoteString } from '../parser/index.js';
import { Engine } from './engine.js';
import { appendLoaded, classicToNhcb, type LoadSeries } from './conformance_load.js';
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { readHistogramToken } from './histogram_notation.js';
import { EngineError } from './errors.js';
import type { Value } from './value.js';

/** The conformance files with core (float, non-feature-flag) semantics. */
export const CORE_FILES = [
  'aggregators',
  'at_modifier',
  'collision',
  'functions',
  'histograms',
  'limit',
  'literals',
  'name_label_dropping',
  'operators',
  'range_queries',
  'selectors',
  'staleness',
  'subquery',
  'trig_functions',
] as const;

/** Files of native-histogram semantics beyond the core files (native histograms are stable since Prometheus 3.8). */
export const NATIVE_HISTOGRAM_FILES = ['native_histograms'] as const;

/** The outcome of one `eval`. */
export interface CaseResult {
  /** `file:line` of the eval command, e.g. `functions.test:120`. */
  readonly id: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped. */
  readonly detail?: string;
}

/** Finds `../shared/promqltest` next to the repository root (the directory holding `packages/`). */
export function promqltestDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'packages'))) return join(dir, '..', 'shared', 'promqltest');
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (a directory containing packages/) not found');
    dir = up;
  }
}

/** One value of a series line: a float, a native histogram, or undefined for `_`. */
type TestValue = number | FloatHistogram | undefined;

interface ExpectedSeries {
  labels: Labels;
  /** Values by step index; undefined for `_`. */
  values: TestValue[];
}

interface EvalCmd {
  line: number;
  range: boolean;
  start: number;
  end: number;
  step: number;
  expr: string;
  fail: boolean;
  failMsg?: string;
  failRegex?: RegExp;
  ordered: boolean;
  warn?: boolean;
  info?: boolean;
  /** Texts `expect warn msg: …` / `expect info msg: …` require among the annotations. */
  warnMsgs?: string[];
  infoMsgs?: string[];
  series: ExpectedSeries[];
  scalar?: number;
  str?: string;
  rangeVector?: { from: number; to: number; step: number };
}

/** Times in test files are offsets from 0: float seconds (`10`) or a duration (`5m`). */
function parseTime(s: string): number {
  return parseSecondsOrDuration(s);
}

/** Parses a float as the test framework does (Go's ParseFloat plus `Inf`/`NaN`). */
function parseNumber(s: string): number {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  const v = Number(s);
  if (Number.isNaN(v) && t !== 'nan') throw new Error(`bad number ${JSON.stringify(s)}`);
  return v;
}

/** Splits a values string into tokens; a histogram token (`{{…}}`, with its series form) is expanded at once. */
function tokens(text: string): (string | FloatHistogram[])[] {
  const out: (string | FloatHistogram[])[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i]!)) {
      i++;
      continue;
    }
    if (text.startsWith('{{', i)) {
      const r = readHistogramToken(text, i);
      out.push(r.samples);
      i = r.end;
      continue;
    }
    let j = i;
    while (j < text.length && !/\s/.test(text[j]!)) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** Expands a values string: `1+2x3 _ stale 5x2 {{schema:0 count:1}}x2`. Returns undefined entries for `_`. */
export function expandValues(text: string): { values: TestValue[]; histogram: boolean } {
  // A holey start keeps the array's elements tagged: V8 may canonicalise a NaN's payload (the
  // staleness marker) when an all-number array stores its values as raw doubles.
  const out: TestValue[] = [undefined];
  out.pop();
  let histogram = false;
  for (const tok of tokens(text)) {
    if (typeof tok !== 'string') {
      histogram = true;
      out.push(...tok);
      continue;
    }
    if (tok === '') continue;
    const m = /^(.+?)(?:([+-])([^x+-][^x]*))?x(\d+)$/.exec(tok);
    if (m !== null) {
      const n = Number(m[4]);
      if (m[1] === '_') {
        for (let i = 0; i < n; i++) out.push(undefined);
        continue;
      }
      const start = m[1] === 'stale' ? STALE_NAN : parseNumber(m[1]!);
      const inc = m[3] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * parseNumber(m[3]);
      let v = start;
      out.push(v);
      for (let i = 0; i < n; i++) {
        v = m[1] === 'stale' ? v : v + inc;
        out.push(v);
      }
      continue;
    }
    if (tok === '_') out.push(undefined);
    else if (tok === 'stale') out.push(STALE_NAN);
    else out.push(parseNumber(tok));
  }
  return { values: out, histogram };
}

/** Splits `metric{a="b"} values` into label set and values text. */
function splitSeries(line: string): [Labels, string] {
  let i = 0;
  while (i < line.length && /[^\s{]/.test(line[i]!)) i++;
  if (line[i] === '{') {
    let inQuote = false;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (inQuote) {
        if (c === '\\') i++;
        else if (c === '"') inQuote = false;
      } else if (c === '"') inQuote = true;
      else if (c === '}') {
        i++;
        break;
      }
    }
  }
  const sel = line.slice(0, i).trim();
  const rest = line.slice(i);
  if (sel === '{}') return [[], rest];
  const matchers = parseSeriesSelector(sel);
  return [sortLabels(matchers.map((m) => ({ name: m.name, value: m.value }))), rest];
}

function almostEqualHist(a: FloatHistogram, b: FloatHistogram): boolean {
  return a.equals(b, almostEqual);
}

/** A point as the test writes it: `value@seconds`. */
function fmtPoint(p: { t: number; v: number; h?: FloatHistogram }): string {
  return `${p.h === undefined ? String(p.v) : fmtHist(p.h)}@${p.t / 1000}`;
}

function fmtHist(h: FloatHistogram): string {
  const b = (xs: readonly number[]): string => `[${xs.join(' ')}]`;
  const sp = (xs: readonly { offset: number; length: number }[]): string => xs.map((x) => `${x.offset}:${x.length}`).join(',');
  return `{{schema:${h.schema} count:${h.count} sum:${h.sum} z:${h.zeroCount}/${h.zeroThreshold} pos:${sp(h.positiveSpans)}${b(h.positiveBuckets)} neg:${sp(h.negativeSpans)}${b(h.negativeBuckets)}${h.customValues.length > 0 ? ` cv:${b(h.customValues)}` : ''} hint:${h.counterResetHint}}}`;
}

function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const eps = 1e-6;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < eps * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

/** Compares a result with the expectation; returns a reason on mismatch. */
function compare(cmd: EvalCmd, value: Value): string | undefined {
  if (cmd.str !== undefined) {
    if (value.type !== 'string') return `expected string, got ${value.type}`;
    return value.v === cmd.str ? undefined : `expected string ${JSON.stringify(cmd.str)}, got ${JSON.stringify(value.v)}`;
  }
  if (cmd.scalar !== undefined) {
    if (value.type !== 'scalar') return `expected scalar, got ${value.type}`;
    return almostEqual(value.v, cmd.scalar) ? undefined : `expected ${cmd.scalar}, got ${value.v}`;
  }
  if (value.type === 'scalar' || value.type === 'string') return `expected series, got ${value.type} ${String(value.v)}`;
  let got: { labels: Labels; points: { t: number; v: number; h?: FloatHistogram }[] }[];
  if (value.type === 'vector')
    got = value.samples.map((s) => ({ labels: s.metric, points: [s.h === undefined ? { t: s.t, v: s.v } : { t: s.t, v: s.v, h: s.h }] }));
  else got = value.series.map((s) => ({ labels: s.metric, points: s.points }));
  if (got.length !== cmd.series.length) {
    return `expected ${cmd.series.length} series, got ${got.length}: ${got.map((g) => formatLabels(g.labels)).join(', ')}`;
  }
  const byKey = new Map(got.map((g, i) => [labelsKey(g.labels), i]));
  for (let k = 0; k < cmd.series.length; k++) {
    const exp = cmd.series[k]!;
    const idx = byKey.get(labelsKey(exp.labels));
    if (idx === undefined) return `missing series ${formatLabels(exp.labels)}; got ${got.map((g) => formatLabels(g.labels)).join(', ')}`;
    if (cmd.ordered && idx !== k) return `series ${formatLabels(exp.labels)} at position ${idx}, expected ${k}`;
    const g = got[idx]!;
    const want: { t: number; v: number; h?: FloatHistogram }[] = [];
    const base = cmd.rangeVector ?? (cmd.range ? { from: cmd.start, step: cmd.step } : { from: cmd.start, step: 0 });
    exp.values.forEach((v, i) => {
      if (v === undefined) return;
      const t = base.from + i * base.step;
      want.push(typeof v === 'number' ? { t, v } : { t, v: NaN, h: v });
    });
    const fmt = (ps: { t: number; v: number; h?: FloatHistogram }[]): string => ps.map(fmtPoint).join(' ');
    if (want.length !== g.points.length) return `series ${formatLabels(exp.labels)}: expected [${fmt(want)}], got [${fmt(g.points)}]`;
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const p = g.points[i]!;
      const same =
        w.h === undefined
          ? p.h === undefined && almostEqual(w.v, p.v)
          : p.h !== undefined && almostEqualHist(w.h, p.h) && (w.h.counterResetHint === 'unknown' || w.h.counterResetHint === p.h.counterResetHint);
      if (w.t !== p.t || !same) return `series ${formatLabels(exp.labels)}: expected [${fmt(want)}], got [${fmt(g.points)}]`;
    }
  }
  return undefined;
}

function parseEvalHeader(line: string, lineNo: number): EvalCmd {
  const base = {
    line: lineNo,
    fail: false,
    ordered: false,
    series: [] as ExpectedSeries[],
  };
  let m = /^(eval(?:_fail|_warn|_info|_ordered)?)\s+instant\s+at\s+(\S+)\s+(.+)$/.exec(line);
  let cmd: EvalCmd;
  if (m !== null) {
    const t = parseTime(m[2]!);
    cmd = { ...base, range: false, start: t, end: t, step: 0, expr: m[3]! };
  } else {
    m = /^(eval(?:_fail|_warn|_info|_ordered)?)\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$/.exec(line);
    if (m === null) throw new Error(`line ${lineNo}: cannot parse ${JSON.stringify(line)}`);
    cmd = { ...base, range: true, start: parseTime(m[2]!), end: parseTime(m[3]!), step: parseTime(m[4]!), expr: m[5]! };
  }
  const kw = m[1]!;
  if (kw === 'eval_fail') cmd.fail = true;
  if (kw === 'eval_warn') cmd.warn = true;
  if (kw === 'eval_info') cmd.info = true;
  if (kw === 'eval_ordered') cmd.ordered = true;
  return cmd;
}

function parseExpectation(cmd: EvalCmd, text: string): void {
  const m = /^expect\s+(\S+)(.*)$/.exec(text);
  if (m === null) {
    if (text.startsWith('"') || text.startsWith('`')) {
      cmd.str = unquoteString(text);
      return;
    }
    if (/^[+-]?(\d|\.\d|Inf|NaN|inf)[^\s{]*$/.test(text)) {
      cmd.scalar = parseNumber(text);
      return;
    }
    const [labels, rest] = splitSeries(text);
    const { values } = expandValues(rest);
    cmd.series.push({ labels, values });
    return;
  }
  const what = m[1]!;
  const rest = m[2]!.trim();
  switch (what) {
    case 'fail': {
      cmd.fail = true;
      const mm = /^(msg|regex):\s*(.*)$/.exec(rest);
      if (mm?.[1] === 'msg') cmd.failMsg = mm[2]!.trim();
      if (mm?.[1] === 'regex') cmd.failRegex = new RegExp(mm[2]!.trim());
      return;
    }
    case 'ordered':
      cmd.ordered = true;
      return;
    case 'warn': {
      cmd.warn = true;
      const mm = /^msg:\s*(.*)$/.exec(rest);
      if (mm !== null) (cmd.warnMsgs ??= []).push(mm[1]!.trim());
      return;
    }
    case 'no_warn':
      cmd.warn = false;
      return;
    case 'info': {
      cmd.info = true;
      const mm = /^msg:\s*(.*)$/.exec(rest);
      if (mm !== null) (cmd.infoMsgs ??= []).push(mm[1]!.trim());
      return;
    }
    case 'no_info':
      cmd.info = false;
      return;
    case 'string':
      cmd.str = unquoteString(rest);
      return;
    case 'range': {
      const mm = /^vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/.exec(rest);
      if (mm === null) throw new Error(`line ${cmd.line}: bad expect range: ${rest}`);
      cmd.rangeVector = { from: parseTime(mm[1]!), to: parseTime(mm[2]!), step: parseTime(mm[3]!) };
      return;
    }
    default:
      throw new Error(`line ${cmd.line}: unknown expectation ${what}`);
  }
}

/** Runs one conformance file (name without `.test`) and returns the result of each eval. */
export function runConformanceFile(name: string, dir = promqltestDir()): CaseResult[] {
  const file = `${name}.test`;
  const lines = readFileSync(join(dir, file), 'utf8').split('\n');
  const engine = new Engine();
  // With the server's decoded-chunk cache, so every case also checks reads of cached chunks.
  const decodedChunks = new DecodedChunkCache();
  let head = new Head({ maxFutureMs: Infinity, decodedChunks });
  const results: CaseResult[] = [];
  let i = 0;
  const isBody = (l: string): boolean => l.length > 0 && /^\s/.test(l) && l.trim() !== '';
  while (i < lines.length) {
    const raw = lines[i]!;
    const line = raw.trim();
    i++;
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'clear') {
      head = new Head({ maxFutureMs: Infinity, decodedChunks });
      continue;
    }
    const load = /^load(_with_nhcb)?\s+(\S+)$/.exec(line);
    if (load !== null) {
      const interval = parseDuration(load[2]!);
      const nhcb = load[1] !== undefined;
      // Collect first: a series listed twice in one block takes its later values, as Prometheus'
      // test storage does.
      const block = new Map<string, LoadSeries>();
      while (i < lines.length && (isBody(lines[i]!) || lines[i]!.trim().startsWith('#'))) {
        const l = lines[i]!.trim();
        i++;
        if (l.startsWith('#')) continue;
        const [labels, rest] = splitSeries(l);
        const { values } = expandValues(rest);
        const key = labelsKey(labels);
        let entry = block.get(key);
        if (entry === undefined) {
          entry = { labels, samples: new Map() };
          block.set(key, entry);
        }
        const samples = entry.samples;
        values.forEach((v, k) => {
          if (v !== undefined) samples.set(k * interval, v);
        });
      }
      appendLoaded(head, block.values());
      if (nhcb) appendLoaded(head, classicToNhcb(block.values()));
      continue;
    }
    if (!line.startsWith('eval')) throw new Error(`${file}:${i}: unknown command ${JSON.stringify(line)}`);
    const lineNo = i;
    const id = `${file}:${lineNo}`;
    let cmd: EvalCmd;
    try {
      cmd = parseEvalHeader(line, lineNo);
      while (i < lines.length && (isBody(lines[i]!) || lines[i]!.trim().startsWith('#'))) {
        const l = lines[i]!.trim();
        i++;
        if (!l.startsWith('#')) parseExpectation(cmd, l);
      }
    } catch (err) {
      while (i < lines.length && isBody(lines[i]!)) i++;
      results.push({ id, status: 'fail', detail: `cannot parse test: ${(err as Error).message}` });
      continue;
    }
    results.push({ id, ...runEval(engine, head, cmd) });
  }
  return results;
}

function runEval(engine: Engine, head: Head, cmd: EvalCmd): { status: 'pass' | 'fail'; detail?: string } {
  let res;
  try {
    res = cmd.range ? engine.rangeQuery(head, cmd.expr, cmd.start, cmd.end, cmd.step) : engine.instantQuery(head, cmd.expr, cmd.start);
  } catch (err) {
    if (!(err instanceof EngineError)) return { status: 'fail', detail: `crash: ${(err as Error).stack ?? String(err)}` };
    if (!cmd.fail) return { status: 'fail', detail: `unexpected error: ${err.message}` };
    if (cmd.failMsg !== undefined && err.message !== cmd.failMsg)
      return { status: 'fail', detail: `expected error ${JSON.stringify(cmd.failMsg)}, got ${JSON.stringify(err.message)}` };
    if (cmd.failRegex !== undefined && !cmd.failRegex.test(err.message))
      return { status: 'fail', detail: `expected error matching ${String(cmd.failRegex)}, got ${JSON.stringify(err.message)}` };
    return { status: 'pass' };
  }
  if (cmd.fail) return { status: 'fail', detail: 'expected an error, query succeeded' };
  // Warnings are checked loosely: present when expected, absent when `no_warn` is given.
  if (cmd.warn === true && res.warnings.length === 0) return { status: 'fail', detail: 'expected a warning' };
  if (cmd.warn === false && res.warnings.length > 0) return { status: 'fail', detail: `unexpected warnings: ${res.warnings.join('; ')}` };
  for (const m of cmd.warnMsgs ?? [])
    if (!res.warnings.includes(m)) return { status: 'fail', detail: `expected warning ${JSON.stringify(m)}, got ${JSON.stringify(res.warnings)}` };
  const infos = res.infos ?? [];
  if (cmd.info === true && infos.length === 0) return { status: 'fail', detail: 'expected an info annotation' };
  if (cmd.info === false && infos.length > 0) return { status: 'fail', detail: `unexpected infos: ${infos.join('; ')}` };
  for (const m of cmd.infoMsgs ?? [])
    if (!infos.includes(m)) return { status: 'fail', detail: `expected info ${JSON.stringify(m)}, got ${JSON.stringify(infos)}` };
  const why = compare(cmd, res.result);
  return why === undefined ? { status: 'pass' } : { status: 'fail', detail: why };
}

/** Sorts label sets for stable reporting. */
export function sortedLabels(ls: Labels[]): Labels[] {
  return [...ls].sort(compareLabels);
}
