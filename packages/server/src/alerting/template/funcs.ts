/**
 * The template functions Prometheus adds to text/template (`template/template.go`): query helpers,
 * humanizers, string and regexp helpers. Number formatting goes through Go's `%.4g` so the text
 * matches Prometheus byte for byte.
 */
import { compileRegex, type CompiledRegex } from '../../core/regex/re2.js';
import { parseDuration } from '../../core/time/duration.js';
import { formatG, goTypeName, sprintf, type TStruct, type TValue } from './gofmt.js';
import type { TemplateFunc } from './exec.js';

/** One element of a `query` result, shaped like Prometheus' template `sample`. */
export interface QuerySample extends TStruct {
  readonly Labels: Map<string, TValue>;
  readonly Value: number;
}

/** Runs a PromQL query for the `query` function; must answer synchronously. */
export type TemplateQueryFn = (query: string) => QuerySample[];

/** Go's strconv.ParseFloat error text, for humanize on a bad string. */
function parseGoFloat(s: string): number {
  const t = s.trim() === s ? s : '';
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?0[xX][0-9a-fA-F.]+([pP][+-]?\d+)?$/.test(t)) {
    const v = Number(t.replace(/_/g, ''));
    if (!Number.isNaN(v)) return v;
  }
  throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/** Prometheus' convertToFloat. */
function toFloat(v: TValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return parseGoFloat(v);
  throw new Error(`can't convert ${goTypeName(v)} to float`);
}

function g4(v: number): string {
  return formatG(v, 4);
}

/** `humanize`: SI prefixes, 4 significant digits. */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

/** `humanize1024`: binary prefixes. */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

/** `humanizeDuration`: seconds as `1d 2h 3m 4s`, or with sub-second prefixes. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

/** Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTimeString(seconds: number): string {
  const ms = Math.floor(seconds * 1000);
  const d = new Date(ms);
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const nanos = Math.round((seconds - Math.floor(seconds)) * 1e9);
  const frac = nanos === 0 ? '' : '.' + String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

/** Go's regexp.ReplaceAllString template expansion: `$1`, `${1}`, `${name}`, `$$`. */
function goExpand(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))/g, (_s, all: string, braced: string | undefined, bare: string | undefined) => {
    if (all === '$') return '$';
    const name = braced ?? bare ?? '';
    if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
    return m.groups?.[name] ?? '';
  });
}

/** Go's `regexp.MustCompile`: unanchored, on RE2 so a template cannot stall the alert pipeline. */
function goRegex(pattern: string): CompiledRegex {
  return compileRegex(pattern, 'none');
}

function str(v: TValue): string {
  if (typeof v !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(v)}`);
  return v;
}

function sample(v: TValue): QuerySample {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || v instanceof Map || !('Labels' in v))
    throw new Error(`wrong type for value; expected *template.sample; got ${goTypeName(v)}`);
  return v as QuerySample;
}

function samples(v: TValue): QuerySample[] {
  if (!Array.isArray(v)) throw new Error(`wrong type for value; expected template.queryResult; got ${goTypeName(v)}`);
  return v.map(sample);
}

/** Go's url.PathEscape. */
function pathEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%(24|26|2B|2C|3A|3D|40)/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Go's net.SplitHostPort, returning the host or the input on error. */
function stripPort(hostPort: string): string {
  const m = /^\[([^\]]*)\]:[^:]*$/.exec(hostPort) ?? /^([^:[\]]*):[^:]*$/.exec(hostPort);
  return m === null ? hostPort : m[1]!;
}

function f1(call: (a: TValue) => TValue): TemplateFunc {
  return { minArgs: 1, maxArgs: 1, call: (a) => call(a[0]) };
}

function f2(call: (a: TValue, b: TValue) => TValue): TemplateFunc {
  return { minArgs: 2, maxArgs: 2, call: (a) => call(a[0], a[1]) };
}

/** Builds Prometheus' function map for one expansion. */
export function prometheusFuncs(opts: { query?: TemplateQueryFn; externalURL: string }): Map<string, TemplateFunc> {
  const m = new Map<string, TemplateFunc>();
  m.set(
    'query',
    f1((q) => {
      if (opts.query === undefined) throw new Error('query is not available here');
      return opts.query(str(q));
    }),
  );
  m.set(
    'first',
    f1((v) => {
      const s = samples(v);
      if (s.length === 0) throw new Error('first() called on vector with no elements');
      return s[0]!;
    }),
  );
  m.set(
    'label',
    f2((l, s) => {
      const smp = sample(s);
      return smp.Labels.get(str(l)) ?? '';
    }),
  );
  m.set(
    'value',
    f1((s) => sample(s).Value),
  );
  m.set(
    'strvalue',
    f1((s) => sample(s).Labels.get('__value__') ?? ''),
  );
  m.set('args', {
    minArgs: 0,
    maxArgs: Infinity,
    call: (a) => new Map<string, TValue>(a.map((v, i) => [`arg${i}`, v])),
  });
  m.set('reReplaceAll', {
    minArgs: 3,
    maxArgs: 3,
    call: (a) => {
      const re = goRegex(str(a[0]));
      const repl = str(a[1]);
      return re.replaceAll(str(a[2]), (m) => goExpand(repl, m));
    },
  });
  m.set(
    'match',
    f2((p, s) => goRegex(str(p)).test(str(s))),
  );
  m.set(
    'safeHtml',
    f1((s) => str(s)),
  );
  m.set(
    'title',
    f1((s) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase())),
  );
  m.set(
    'toUpper',
    f1((s) => str(s).toUpperCase()),
  );
  m.set(
    'toLower',
    f1((s) => str(s).toLowerCase()),
  );
  m.set(
    'sortByLabel',
    f2((l, v) => {
      const name = str(l);
      return [...samples(v)].sort((a, b) => {
        const x = a.Labels.get(name) ?? '';
        const y = b.Labels.get(name) ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }),
  );
  m.set(
    'humanize',
    f1((v) => humanize(toFloat(v))),
  );
  m.set(
    'humanize1024',
    f1((v) => humanize1024(toFloat(v))),
  );
  m.set(
    'humanizeDuration',
    f1((v) => humanizeDuration(toFloat(v))),
  );
  m.set(
    'humanizePercentage',
    f1((v) => sprintf('%.4g%%', [toFloat(v) * 100])),
  );
  m.set(
    'humanizeTimestamp',
    f1((v) => {
      const f = toFloat(v);
      return Number.isFinite(f) ? goTimeString(f) : g4(f);
    }),
  );
  m.set(
    'pathEscape',
    f1((s) => pathEscape(str(s))),
  );
  m.set('pathPrefix', { minArgs: 0, maxArgs: 0, call: () => new URL(opts.externalURL || 'http://localhost/').pathname.replace(/\/$/, '') });
  m.set('externalURL', { minArgs: 0, maxArgs: 0, call: () => opts.externalURL });
  m.set(
    'stripPort',
    f1((s) => stripPort(str(s))),
  );
  m.set(
    'stripDomain',
    f1((s) => {
      const hp = str(s);
      const host = stripPort(hp);
      const port = host === hp ? '' : hp.slice(hp.lastIndexOf(':'));
      if (/^[0-9.]+$/.test(host) || host.includes(':')) return hp;
      return host.split('.')[0]! + port;
    }),
  );
  m.set(
    'parseDuration',
    f1((s) => parseDuration(str(s)) / 1000),
  );
  m.set(
    'graphLink',
    f1((e) => `/graph?g0.expr=${encodeURIComponent(str(e))}&g0.tab=0`),
  );
  m.set(
    'tableLink',
    f1((e) => `/graph?g0.expr=${encodeURIComponent(str(e))}&g0.tab=1`),
  );
  return m;
}
