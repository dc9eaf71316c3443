/**
 * Alertmanager's template types and functions (its `template` package), for notification
 * templates: label sets are `KV` maps with `.SortedPairs`, `.Names`, `.Values` and `.Remove`; alert
 * lists have `.Firing` and `.Resolved`; the function map has Alertmanager's string, regexp, time
 * and HTML helpers instead of Prometheus' query helpers.
 *
 * Vigil extras, used by Vigil's default templates and harmless to Alertmanager templates: the
 * `shortDuration` function (`12m`, `3h4m`, `2d5h`) and the `.SortedByStart` method of alert lists.
 */
import type { TemplateFunc } from './exec.js';
import { prometheusFuncs, humanizeDuration } from './funcs.js';
import { goTypeName, type TStruct, type TValue } from './gofmt.js';
import { durationSeconds, goDuration, goTime, loadLocation, timeArg } from './gotime.js';
import { getter, goTypeOf, methods, opaque, opaqueState, withGoType, type GoType } from './gotype.js';

function strArg(v: TValue): string {
  if (typeof v !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(v)}`);
  return v;
}

function stringsArg(v: TValue): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`wrong type for value; expected []string; got ${goTypeName(v)}`);
  return v as string[];
}

const PAIR_TYPE: GoType = { name: 'template.Pair' };

function pairs(v: TValue): Array<{ Name: string; Value: string }> {
  return (v as TStruct[]).map((p) => ({ Name: p['Name'] as string, Value: p['Value'] as string }));
}

function pairsString(v: TValue): string {
  return pairs(v)
    .map((p) => `${p.Name}=${p.Value}`)
    .join(', ');
}

/** Alertmanager's Pairs: a list of `{Name, Value}` with `.Names` and `.Values`. */
export const PAIRS_TYPE: GoType = {
  name: 'template.Pairs',
  string: pairsString,
  methods: methods({
    Names: getter((v) => pairs(v).map((p) => p.Name)),
    Values: getter((v) => pairs(v).map((p) => p.Value)),
    String: getter(pairsString),
  }),
};

function kvOf(v: TValue): Map<string, TValue> {
  return v as Map<string, TValue>;
}

/** `alertname` first, then the other names in byte order, as Alertmanager sorts them. */
function sortedPairs(v: TValue): TValue[] {
  const m = kvOf(v);
  const names = [...m.keys()].filter((k) => k !== 'alertname').sort();
  if (m.has('alertname')) names.unshift('alertname');
  return withGoType(
    names.map((k) => withGoType({ Name: k, Value: m.get(k) ?? '' }, PAIR_TYPE)),
    PAIRS_TYPE,
  );
}

/** Alertmanager's KV: a label or annotation set. It prints as `a=1, b=2` (Alertmanager ≥ 0.26). */
export const KV_TYPE: GoType = {
  name: 'template.KV',
  string: (v) => pairsString(sortedPairs(v)),
  methods: methods({
    SortedPairs: getter(sortedPairs),
    Names: getter((v) => pairs(sortedPairs(v)).map((p) => p.Name)),
    Values: getter((v) => pairs(sortedPairs(v)).map((p) => p.Value)),
    String: getter((v) => pairsString(sortedPairs(v))),
    Remove: {
      minArgs: 1,
      maxArgs: 1,
      call: (v, [keys]) => {
        const drop = new Set(stringsArg(keys));
        return kv(Object.fromEntries([...kvOf(v)].filter(([k]) => !drop.has(k))) as Record<string, string>);
      },
    },
  }),
};

/** A KV value from a label set. */
export function kv(rec: Readonly<Record<string, string>>): Map<string, TValue> {
  return withGoType(new Map<string, TValue>(Object.entries(rec)), KV_TYPE);
}

function byStatus(v: TValue, status: string): TValue[] {
  return alertList((v as TStruct[]).filter((a) => a['Status'] === status));
}

function startMs(a: TStruct): number {
  return timeArg(a['StartsAt']).ms;
}

/** Alertmanager's Alerts: a list with `.Firing` and `.Resolved` (and Vigil's `.SortedByStart`). */
export const ALERTS_TYPE: GoType = {
  name: 'template.Alerts',
  methods: methods({
    Firing: getter((v) => byStatus(v, 'firing')),
    Resolved: getter((v) => byStatus(v, 'resolved')),
    SortedByStart: getter((v) => alertList([...(v as TStruct[])].sort((a, b) => startMs(a) - startMs(b)))),
  }),
};

/** An Alerts value. */
export function alertList(alerts: TStruct[]): TValue[] {
  return withGoType([...alerts], ALERTS_TYPE);
}

/** html/template's HTML: text that HTML output does not escape. */
export const HTML_TYPE: GoType = {
  name: 'template.HTML',
  string: (v) => opaqueState<string>(v, HTML_TYPE) ?? '',
  basic: (v) => opaqueState<string>(v, HTML_TYPE) ?? '',
};

/** True for values made by `safeHtml`. */
export function isSafeHtml(v: TValue): boolean {
  return goTypeOf(v) === HTML_TYPE;
}

/** Go's strings.ToUpper/ToLower map rune by rune; a rune whose mapping is longer stays as it is. */
function mapRunes(s: string, f: (c: string) => string): string {
  let out = '';
  for (const c of s) {
    const m = f(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

const words = new Intl.Segmenter('en', { granularity: 'word' });

/**
 * golang.org/x/text/cases Title: in each word the first cased letter is upper-cased and the rest
 * lower-cased (`hELLO wORLD` → `Hello World`, `3am` → `3Am`). Prometheus' `title` only upper-cases.
 */
export function titleCase(s: string): string {
  let out = '';
  for (const seg of words.segment(s)) {
    if (!seg.isWordLike) {
      out += seg.segment;
      continue;
    }
    let seen = false;
    for (const c of seg.segment) {
      const cased = c.toLowerCase() !== c.toUpperCase();
      out += cased && !seen ? c.toUpperCase() : c.toLowerCase();
      if (cased) seen = true;
    }
  }
  return out;
}

/** Go's url.QueryUnescape. */
function queryUnescape(s: string): string {
  const bad = /%(?![0-9a-fA-F]{2})/.exec(s);
  if (bad) throw new Error(`invalid URL escape ${JSON.stringify(s.slice(bad.index, bad.index + 3))}`);
  const bytes = Buffer.from(
    s.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  return bytes.toString('utf8');
}

/** "12m", "3h4m", "2d5h": how long, roughly (Vigil's default texts use it). */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** Seconds from a Duration, a number or a numeric string (as Prometheus' convertToFloat). */
function seconds(v: TValue): number {
  const d = durationSeconds(v);
  if (d !== undefined) return d;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim())) return Number(v);
  throw new Error(`can't convert ${goTypeName(v)} to float`);
}

function f1(call: (a: TValue) => TValue): TemplateFunc {
  return { minArgs: 1, maxArgs: 1, call: (a) => call(a[0]) };
}

function f2(call: (a: TValue, b: TValue) => TValue): TemplateFunc {
  return { minArgs: 2, maxArgs: 2, call: (a) => call(a[0], a[1]) };
}

const prom = prometheusFuncs({ externalURL: '' });

/**
 * Alertmanager's function map (`DefaultFuncs`). `now` is the clock `since` reads, so tests and
 * replays render the same text.
 */
export function alertmanagerFuncs(now: () => number): Map<string, TemplateFunc> {
  return new Map<string, TemplateFunc>([
    ['toUpper', f1((s) => mapRunes(strArg(s), (c) => c.toUpperCase()))],
    ['toLower', f1((s) => mapRunes(strArg(s), (c) => c.toLowerCase()))],
    ['title', f1((s) => titleCase(strArg(s)))],
    ['trimSpace', f1((s) => strArg(s).trim())],
    ['join', f2((sep, list) => stringsArg(list).join(strArg(sep)))],
    ['match', prom.get('match')!],
    ['reReplaceAll', prom.get('reReplaceAll')!],
    ['safeHtml', f1((s) => opaque(HTML_TYPE, strArg(s)))],
    // Vigil has no URL-context escaping to bypass, so safeUrl is the identity.
    ['safeUrl', f1((s) => strArg(s))],
    ['urlUnescape', f1((s) => queryUnescape(strArg(s)))],
    ['stringSlice', { minArgs: 0, maxArgs: Infinity, call: (a) => a.map(strArg) }],
    [
      'date',
      f2((layout, t) => {
        const l = strArg(layout);
        timeArg(t);
        return formatWith(l, t);
      }),
    ],
    ['tz', f2((name, t) => goTime(timeArg(t).ms, loadLocation(strArg(name))))],
    ['since', f1((t) => goDuration(BigInt(now() - timeArg(t).ms) * 1_000_000n))],
    ['humanizeDuration', f1((v) => humanizeDuration(seconds(v)))],
    ['shortDuration', f1((v) => shortDuration(seconds(v)))],
  ]);
}

function formatWith(layout: string, t: TValue): string {
  const fmt = goTypeOf(t)!.methods!.get('Format')!;
  return fmt.call(t, [layout]) as string;
}
