/**
 * Rule unit tests in promtool's format (`promtool test rules`, cmd/promtool/unittest.go): input
 * series in expanding notation loaded into an in-memory head as time advances, the rule groups
 * evaluated at every evaluation interval, alerts compared at `eval_time`, PromQL expressions
 * compared afterwards. Output and exit status follow promtool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { compareLabels, type Labels, sortLabels } from '../../core/model/labels.js';
import { expandValues } from '../../metrics/promql/engine/conformance.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { formatDuration, parseDuration } from '../../core/time/duration.js';
import { parseTimestamp, TimestampError } from '../../core/time/timestamp.js';
import { goQuote } from '../../core/util/goquote.js';
import { parseSeriesSelector } from '../../metrics/promql/parser/index.js';
import type { Appendable, Queryable } from '../../metrics/storage/interface.js';
import { nopLogger } from '../../core/util/log.js';
import { AlertingRule } from './alerting.js';
import { loadRuleFile, type RuleGroupDef } from './file.js';
import { isSLOFile, loadSLORuleFile } from '../slo/load.js';
import { globFiles } from '../../core/util/glob.js';
import { Group, type GroupContext } from './group.js';
import { buildRules } from './manager.js';
import { type FloatHistogram, histogramString } from '../../core/model/histogram.js';
import { parseHistogram } from '../../metrics/promql/engine/histogram_notation.js';
import type { RuleQueryResult } from './types.js';
import { systemClock } from '../../core/time/clock.js';
import type { CompiledRegex } from '../../core/regex/re2.js';

/** Where the runner writes: promtool prints progress to stdout and failures to stderr. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Writes to the process' stdout and stderr. */
export const processOutput: CliOutput = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

type Raw = unknown;

class FieldError extends Error {}

/** Strict decoding of the failsafe-schema YAML (every scalar is a string, as Go's yaml.v2 into string fields). */
function fields(node: Raw, type: string, allowed: readonly string[]): Map<string, Raw> {
  const out = new Map<string, Raw>();
  if (node === undefined || node === null || (isScalar(node) && (node.value === '' || node.value === null))) return out;
  if (!isMap(node)) throw new FieldError(`yaml: unmarshal errors:\n  cannot unmarshal into ${type}`);
  const bad: string[] = [];
  for (const pair of (node as YAMLMap).items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.includes(k)) bad.push(`  field ${k} not found in type ${type}`);
    out.set(k, pair.value);
  }
  if (bad.length > 0) throw new FieldError(`yaml: unmarshal errors:\n${bad.join('\n')}`);
  return out;
}

function scalar(node: Raw): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (isScalar(node)) return node.value === null ? undefined : String(node.value);
  throw new FieldError('yaml: unmarshal errors:\n  expected a scalar');
}

function list(node: Raw): Raw[] {
  if (node === undefined || node === null || (isScalar(node) && (node.value === null || node.value === ''))) return [];
  if (!isSeq(node)) throw new FieldError('yaml: unmarshal errors:\n  expected a list');
  return node.items;
}

function stringMap(node: Raw): Record<string, string> {
  const out: Record<string, string> = {};
  if (node === undefined || node === null || (isScalar(node) && (node.value === null || node.value === ''))) return out;
  if (!isMap(node)) throw new FieldError('yaml: unmarshal errors:\n  expected a mapping');
  for (const p of (node as YAMLMap).items) out[String(isScalar(p.key) ? p.key.value : '')] = scalar(p.value) ?? '';
  return out;
}

function duration(node: Raw): number {
  const s = scalar(node);
  return s === undefined ? 0 : parseDuration(s);
}

interface SeriesInput {
  series: string;
  values: string;
}
interface AlertCase {
  evalTime: number;
  alertname: string;
  exp: { labels: Record<string, string>; annotations: Record<string, string> }[];
}
interface ExprCase {
  expr: string;
  evalTime: number;
  exp: { labels: string; value: number; histogram: string }[];
}
interface TestGroup {
  interval: number;
  inputSeries: SeriesInput[];
  alertTests: AlertCase[];
  exprTests: ExprCase[];
  externalLabels: Record<string, string>;
  externalURL: string;
  name: string;
  startMs: number;
}
interface TestFile {
  ruleFiles: string[];
  evaluationInterval: number;
  groupEvalOrder: string[];
  tests: TestGroup[];
  fuzzyCompare: boolean;
}

/** `start_timestamp`: Unix seconds or RFC 3339, as promtool takes it; absent means 0. */
function parseStart(s: string | undefined): number {
  if (s === undefined || s === '') return 0;
  try {
    return parseTimestamp(s);
  } catch (err) {
    if (err instanceof TimestampError) throw new FieldError(`cannot parse start_timestamp ${JSON.stringify(s)}`);
    throw err;
  }
}

function decodeTestFile(text: string): TestFile {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: true });
  if (doc.errors.length > 0) throw new FieldError(`yaml: ${doc.errors[0]!.message.split('\n')[0]}`);
  const root = fields(doc.contents, 'main.unitTestFile', ['rule_files', 'evaluation_interval', 'group_eval_order', 'tests', 'fuzzy_compare']);
  const fuzzy = scalar(root.get('fuzzy_compare'));
  return {
    ruleFiles: list(root.get('rule_files')).map((n) => scalar(n) ?? ''),
    evaluationInterval: duration(root.get('evaluation_interval')),
    groupEvalOrder: list(root.get('group_eval_order')).map((n) => scalar(n) ?? ''),
    fuzzyCompare: fuzzy === 'true',
    tests: list(root.get('tests')).map((tn) => {
      const t = fields(tn, 'main.testGroup', [
        'interval',
        'input_series',
        'alert_rule_test',
        'promql_expr_test',
        'external_labels',
        'external_url',
        'name',
        'start_timestamp',
      ]);
      return {
        interval: duration(t.get('interval')),
        inputSeries: list(t.get('input_series')).map((sn) => {
          const s = fields(sn, 'main.series', ['series', 'values']);
          return { series: scalar(s.get('series')) ?? '', values: scalar(s.get('values')) ?? '' };
        }),
        alertTests: list(t.get('alert_rule_test')).map((an) => {
          const a = fields(an, 'main.alertTestCase', ['eval_time', 'alertname', 'exp_alerts']);
          return {
            evalTime: duration(a.get('eval_time')),
            alertname: scalar(a.get('alertname')) ?? '',
            exp: list(a.get('exp_alerts')).map((en) => {
              const e = fields(en, 'main.alert', ['exp_labels', 'exp_annotations']);
              return { labels: stringMap(e.get('exp_labels')), annotations: stringMap(e.get('exp_annotations')) };
            }),
          };
        }),
        exprTests: list(t.get('promql_expr_test')).map((pn) => {
          const p = fields(pn, 'main.promqlTestCase', ['expr', 'eval_time', 'exp_samples']);
          return {
            expr: scalar(p.get('expr')) ?? '',
            evalTime: duration(p.get('eval_time')),
            exp: list(p.get('exp_samples')).map((sn) => {
              const s = fields(sn, 'main.sample', ['labels', 'value', 'histogram']);
              const v = scalar(s.get('value'));
              return { labels: scalar(s.get('labels')) ?? '', value: v === undefined ? 0 : Number(v), histogram: scalar(s.get('histogram')) ?? '' };
            }),
          };
        }),
        externalLabels: stringMap(t.get('external_labels')),
        externalURL: scalar(t.get('external_url')) ?? '',
        name: scalar(t.get('name')) ?? '',
        startMs: parseStart(scalar(t.get('start_timestamp'))),
      };
    }),
  };
}

/** Parses a series description (`metric{a="b"}`, `{a="b"}`, empty) into a label set. */
export function parseMetric(s: string): Labels {
  const t = s.trim();
  if (t === '' || t === '{}') return [];
  const ms = parseSeriesSelector(t);
  return sortLabels(ms.map((m) => ({ name: m.name, value: m.value })));
}

/** Prometheus' `labels.Labels.String()`: `{a="b", c="d"}`. */
export function promLabelsString(ls: Labels): string {
  return '{' + ls.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ') + '}';
}

/** Go's strconv.FormatFloat(v, 'E', -1, 64). */
function formatE(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const [m, e] = v.toExponential().split('e') as [string, string];
  const n = Number(e);
  return `${m}E${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

/** Go's time.Duration.String() for whole milliseconds. */
function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  const h = Math.floor(rest / 3600_000);
  rest -= h * 3600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  let out = '';
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${s}s`;
  if (ms < 1000 && ms > -1000) out = `${Math.abs(ms)}ms`;
  return (neg ? '-' : '') + out;
}

function indentLines(lines: string, indent: string): string {
  return lines.split('\n').join('\n' + indent);
}

interface LabelsAndAnnotations {
  labels: Labels;
  annotations: Labels;
}

function laString(la: LabelsAndAnnotations[]): string {
  if (la.length === 0) return '[]';
  const one = (x: LabelsAndAnnotations): string => `Labels:${promLabelsString(x.labels)}\nAnnotations:${promLabelsString(x.annotations)}`;
  let s = '[\n0:' + indentLines('\n' + one(la[0]!), '  ');
  la.slice(1).forEach((x, i) => (s += `,\n${i + 1}:` + indentLines('\n' + one(x), '  ')));
  return s + '\n]';
}

function laCompare(a: LabelsAndAnnotations, b: LabelsAndAnnotations): number {
  return compareLabels(a.labels, b.labels) || compareLabels(a.annotations, b.annotations);
}

function recordLabels(r: Record<string, string>): Labels {
  return sortLabels(Object.entries(r).map(([name, value]) => ({ name, value })));
}

/** Float comparison: exact, or within about one unit in the last place when fuzzy. */
function floatsEqual(a: number, b: number, fuzzy: boolean): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (!fuzzy) return false;
  return Math.abs(a - b) <= Number.EPSILON * Math.max(Math.abs(a), Math.abs(b));
}

interface ParsedSample {
  labels: Labels;
  value: number;
  histogram: FloatHistogram | undefined;
}

function sampleString(s: ParsedSample): string {
  return promLabelsString(s.labels) + ' ' + (s.histogram ? histogramString(s.histogram) : formatE(s.value));
}

function samplesString(ss: ParsedSample[]): string {
  return ss.length === 0 ? 'nil' : ss.map(sampleString).join(', ');
}

/**
 * Makes an empty in-memory store for one test group. Test series are stamped from time 0 onwards,
 * far from the wall clock, so the store must not bound timestamps by the clock.
 */
export type TestStoreFactory = () => Appendable & Queryable;

/** Runs one test group; returns its error messages (empty: passed). */
async function runGroup(tg: TestGroup, file: TestFile, ruleFiles: string[], evalInterval: number, newStore: TestStoreFactory): Promise<string[]> {
  const head = newStore();
  const pending: { labels: Labels; t: number; v: number | FloatHistogram }[] = [];
  const mint = tg.startMs;
  try {
    for (const is of tg.inputSeries) {
      const labels = parseMetric(is.series);
      const { values } = expandValues(is.values);
      values.forEach((v, i) => v !== undefined && pending.push({ labels, t: mint + i * tg.interval, v }));
    }
  } catch (err) {
    return [(err as Error).message];
  }
  pending.sort((a, b) => a.t - b.t);
  let loaded = 0;
  const loadTill = (ts: number): void => {
    const app = head.appender();
    while (loaded < pending.length && pending[loaded]!.t <= ts) {
      const p = pending[loaded++]!;
      if (typeof p.v === 'number') app.append(0, p.labels, p.t, p.v);
      else if (app.appendHistogram) app.appendHistogram(0, p.labels, p.t, p.v);
      else throw new Error('the test store does not take native histograms');
    }
    app.commit();
  };

  const engine = new Engine({ defaultEvalIntervalMs: evalInterval });
  const queryFn = (expr: string, t: number): RuleQueryResult => engine.instantQuery(head, expr, t).result;
  const defs: RuleGroupDef[] = [];
  const loadErrors: string[] = [];
  for (const f of ruleFiles) {
    // SLO files (slo_files:) are tested through the rules generated from them.
    const parsed = isSLOFile(f) ? loadSLORuleFile(f) : loadRuleFile(f);
    loadErrors.push(...parsed.errors.map((e) => e.message));
    defs.push(...parsed.groups);
  }
  if (loadErrors.length > 0) return loadErrors;
  const ctx: GroupContext = {
    queryFn,
    notifyFn: () => {},
    appendable: head,
    externalLabels: tg.externalLabels,
    externalURL: tg.externalURL,
    resendDelayMs: 60_000,
    outageToleranceMs: 3600_000,
    gracePeriodMs: 600_000,
    clock: systemClock,
    logger: nopLogger,
  };
  const order = new Map(file.groupEvalOrder.map((n, i) => [n, i]));
  const groups = defs
    .map(
      (g) =>
        new Group(
          {
            name: g.name,
            file: g.file,
            intervalMs: tg.interval,
            queryOffsetMs: g.queryOffsetMs ?? 0,
            limit: g.limit,
            rules: buildRules(g, { externalLabels: tg.externalLabels, externalURL: tg.externalURL, restored: true, logger: nopLogger }),
            shouldRestore: false,
          },
          ctx,
        ),
    )
    .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));

  for (const a of tg.alertTests) {
    if (a.alertname === '') {
      return [
        `an item under alert_rule_test misses required attribute alertname at eval_time ${formatDuration(a.evalTime)}${tg.name ? ` (in TestGroup ${tg.name})` : ''}`,
      ];
    }
  }
  const alertEvalTimes = [...new Set(tg.alertTests.map((a) => a.evalTime))].sort((a, b) => a - b);
  const maxt = mint + Math.max(0, ...tg.alertTests.map((a) => a.evalTime), ...tg.exprTests.map((e) => e.evalTime));
  const errs: string[] = [];
  let curr = 0;
  for (let ts = mint; ts <= maxt; ts += evalInterval) {
    loadTill(ts);
    const evalErrs: string[] = [];
    for (const g of groups) {
      await g.eval(ts);
      for (const r of g.rules) if (r.health === 'err') evalErrs.push(`    rule: ${r.name}, time: ${goDuration(ts)}, err: ${r.lastError}`);
    }
    errs.push(...evalErrs);
    if (evalErrs.length > 0) return errs;
    while (curr < alertEvalTimes.length && ts - mint <= alertEvalTimes[curr]! && alertEvalTimes[curr]! < ts + evalInterval - mint) {
      const t = alertEvalTimes[curr]!;
      const cases = tg.alertTests.filter((a) => a.evalTime === t);
      const names = new Set(cases.map((c) => c.alertname));
      const got = new Map<string, LabelsAndAnnotations[]>();
      for (const g of groups) {
        for (const r of g.rules) {
          if (!(r instanceof AlertingRule) || !names.has(r.name)) continue;
          const firing = r
            .activeAlerts()
            .filter((a) => a.state === 'firing')
            .map((a) => ({ labels: a.labels, annotations: recordLabels(a.annotations) }));
          got.set(r.name, [...(got.get(r.name) ?? []), ...firing]);
        }
      }
      for (const c of cases) {
        const gotAlerts = [...(got.get(c.alertname) ?? [])].sort(laCompare);
        const expAlerts = c.exp
          .map((e) => ({ labels: recordLabels({ ...e.labels, alertname: c.alertname }), annotations: recordLabels(e.annotations) }))
          .sort(laCompare);
        const same = gotAlerts.length === expAlerts.length && gotAlerts.every((g, i) => laCompare(g, expAlerts[i]!) === 0);
        if (!same) {
          errs.push(
            `    alertname: ${c.alertname}, time: ${formatDuration(c.evalTime)}, \n        exp:${indentLines(laString(expAlerts), '            ')}, \n        got:${indentLines(laString(gotAlerts), '            ')}`,
          );
        }
      }
      curr++;
    }
  }

  outer: for (const tc of tg.exprTests) {
    const where = `    expr: ${goQuote(tc.expr)}, time: ${formatDuration(tc.evalTime)}`;
    let gotSamples: ParsedSample[];
    try {
      gotSamples = vectorOf(queryFn(tc.expr, mint + tc.evalTime));
    } catch (err) {
      errs.push(`${where}, err: ${(err as Error).message}`);
      continue;
    }
    const expSamples: ParsedSample[] = [];
    for (const s of tc.exp) {
      try {
        expSamples.push({ labels: parseMetric(s.labels), value: s.value, histogram: s.histogram ? parseHistogramText(s.histogram) : undefined });
      } catch (err) {
        errs.push(`${where}, err: labels ${goQuote(s.labels)}: ${(err as Error).message}`);
        continue outer;
      }
    }
    expSamples.sort((a, b) => compareLabels(a.labels, b.labels));
    gotSamples.sort((a, b) => compareLabels(a.labels, b.labels));
    const same =
      expSamples.length === gotSamples.length &&
      expSamples.every((e, i) => {
        const g = gotSamples[i]!;
        if (compareLabels(e.labels, g.labels) !== 0) return false;
        if (e.histogram || g.histogram) {
          if (e.histogram === undefined || g.histogram === undefined || !e.histogram.equals(g.histogram)) return false;
          // A hint is compared when the expectation names one.
          return e.histogram.counterResetHint === 'unknown' || e.histogram.counterResetHint === g.histogram.counterResetHint;
        }
        return floatsEqual(e.value, g.value, file.fuzzyCompare);
      });
    if (!same) errs.push(`${where},\n        exp: ${samplesString(expSamples)}\n        got: ${samplesString(gotSamples)}`);
  }
  return errs;
}

function vectorOf(res: RuleQueryResult): ParsedSample[] {
  if (res.type === 'vector') return res.samples.map((s) => ({ labels: s.metric, value: s.v, histogram: s.h as FloatHistogram | undefined }));
  if (res.type === 'scalar') return [{ labels: [], value: res.v, histogram: undefined }];
  throw new Error('rule result is not a vector or scalar');
}

/** A `histogram:` expectation, `{{…}}` in the test notation. */
function parseHistogramText(text: string): FloatHistogram {
  const m = /^\{\{(.*)\}\}$/s.exec(text.trim());
  if (m === null) throw new Error(`invalid histogram ${JSON.stringify(text)}`);
  return parseHistogram(m[1]!);
}

function matchesRun(name: string, run: readonly CompiledRegex[]): boolean {
  return run.length === 0 || run.some((r) => r.test(name));
}

/** Runs one unit-test file like `promtool test rules FILE`; returns whether it passed. */
export async function runTestFile(filename: string, run: readonly CompiledRegex[], out: CliOutput, newStore: TestStoreFactory): Promise<boolean> {
  out.out(`Unit Testing:  ${filename}\n`);
  let file: TestFile;
  try {
    file = decodeTestFile(fs.readFileSync(filename, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const msg = e.code === 'ENOENT' ? `open ${filename}: no such file or directory` : e.message;
    out.err(`  FAILED:\n${msg}\n`);
    out.out('\n');
    return false;
  }
  const baseDir = path.dirname(filename);
  const ruleFiles = [...new Set(file.ruleFiles.flatMap((f) => globFiles(f, baseDir)))].map((f) => path.relative(process.cwd(), f) || f);
  const evalInterval = file.evaluationInterval || 60_000;
  const seenOrder = new Set<string>();
  for (const g of file.groupEvalOrder) {
    if (seenOrder.has(g)) {
      out.err(`  FAILED:\ngroup name repeated in evaluation order: ${g}\n`);
      return false;
    }
    seenOrder.add(g);
  }
  const errs: string[] = [];
  for (let i = 0; i < file.tests.length; i++) {
    const tg = file.tests[i]!;
    if (!matchesRun(tg.name, run)) continue;
    const name = tg.name || `#${i}`;
    if (tg.interval === 0) tg.interval = evalInterval;
    let ers: string[];
    try {
      ers = await runGroup(tg, file, ruleFiles, evalInterval, newStore);
    } catch (err) {
      ers = [(err as Error).message];
    }
    for (const e of ers) errs.push(`    name: ${name},\n${e}`);
  }
  if (errs.length > 0) {
    out.out('  FAILED:\n');
    for (const e of errs) {
      out.err(e + '\n');
      out.out('\n');
    }
    return false;
  }
  out.out('  SUCCESS\n\n');
  return true;
}
