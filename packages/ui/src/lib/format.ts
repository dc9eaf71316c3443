/** Number formatting by unit, shared by cards, panels, tables and chart axes. */

/** Units the UI knows (Grafana's names where they exist, so imported dashboards keep theirs). */
export type Unit = 's' | 'ms' | 'percent' | 'percentunit' | 'bytes' | 'reqps' | 'ops' | 'short' | 'none' | 'currencyUSD';

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

function trim(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs === 0) return '0';
  if (abs >= 100) return n.toFixed(0);
  return Number(n.toPrecision(digits)).toString();
}

/** Prefixes below one, so tiny values read as `12.3µ` rather than in exponent notation. */
const SI_SMALL = ['m', 'µ', 'n', 'p'];

function si(n: number): string {
  if (n !== 0 && Math.abs(n) < 1e-3) {
    let v = n;
    let i = -1;
    while (Math.abs(v) < 1 && i < SI_SMALL.length - 1) {
      v *= 1000;
      i++;
    }
    return trim(v) + SI_SMALL[i];
  }
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return trim(v) + SI[i];
}

/** Formats `v` for display in `unit`. */
export function formatValue(v: number | null | undefined, unit: Unit | string = 'short'): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 's':
      if (v === 0) return '0 s';
      if (Math.abs(v) < 1e-3) return `${trim(v * 1e6)} µs`;
      if (Math.abs(v) < 1) return `${trim(v * 1000)} ms`;
      if (Math.abs(v) < 120) return `${trim(v)} s`;
      return `${trim(v / 60)} min`;
    case 'ms':
      return formatValue(v / 1000, 's');
    case 'percent':
      return `${trim(v)}%`;
    case 'percentunit':
      return `${trim(v * 100)}%`;
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      let x = v;
      while (Math.abs(x) >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
      return `${trim(x)} ${units[i]}`;
    }
    case 'reqps':
      return `${si(v)} req/s`;
    case 'ops':
      return `${si(v)}/s`;
    case 'currencyUSD':
      return `$${v.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: Math.abs(v) < 1000 ? 2 : 0 })}`;
    case 'none':
      return trim(v, 6);
    default:
      return si(v);
  }
}

/**
 * A sample value as an API sends it: a number, or a string in Go's formats ("3.3912e+00" from
 * Prometheus' `/api/v1/alerts`, "0.25" from queries, "+Inf", "NaN"). Undefined when it is not one.
 */
export function parseSampleValue(v: string | number | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const t = v.trim();
  if (/^[+]?inf$/i.test(t)) return Infinity;
  if (/^-inf$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return undefined;
  return Number(t);
}

/** Words a rule's `unit` annotation or label may use, mapped to the formatter's units. */
const UNIT_WORDS: Record<string, Unit> = {
  s: 's',
  sec: 's',
  seconds: 's',
  ms: 'ms',
  milliseconds: 'ms',
  bytes: 'bytes',
  b: 'bytes',
  percent: 'percent',
  '%': 'percent',
  ratio: 'percentunit',
  percentunit: 'percentunit',
  reqps: 'reqps',
  ops: 'ops',
  none: 'none',
  short: 'short',
};

/**
 * The unit a metric's name declares by Prometheus' naming convention (base units as suffixes,
 * before `_total`, `_sum`, `_bucket`): `_seconds` → s, `_bytes` → bytes, `_ratio` → a 0–1 ratio shown
 * as percent, `_percent` → percent. Counts (`_count`, and a `_total` counter's increase) have no
 * unit; `rate()` of a seconds or bytes counter is a fraction or a throughput, which the name alone
 * does not say, so `_seconds_total` and `_bytes_total` give none either.
 */
export function unitOfMetric(name: string): Unit | undefined {
  if (/_(count|total|created|info)$/.test(name)) return undefined;
  const base = name.replace(/_(sum|bucket|max|min)$/, '');
  if (/_seconds$/.test(base)) return 's';
  if (/_milliseconds$/.test(base)) return 'ms';
  if (/_bytes$/.test(base)) return 'bytes';
  if (/_ratio$/.test(base)) return 'percentunit';
  if (/_percent$/.test(base)) return 'percent';
  return undefined;
}

/** Names in a PromQL expression that are metric names: identifiers not followed by `(`, outside braces, strings and by/without lists. */
function metricNames(expr: string): string[] {
  const out: string[] = [];
  // Strings and label matchers carry no metric names; drop them before scanning.
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  for (const m of bare.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const rest = bare.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue;
    if (/^(and|or|unless|bool|offset|inf|nan|by|without|on|ignoring|group_left|group_right|atan2)$/i.test(m[0])) continue;
    // The exponent of a number (`1e9`) or a duration's unit is not a name.
    if (m.index > 0 && /[\d.]/.test(bare[m.index - 1]!)) continue;
    out.push(m[0]);
  }
  return out;
}

/**
 * The unit of an expression's result: the `hint` when given (a rule's `unit` annotation or label),
 * else the unit every metric in the expression agrees on by its name. A division of two metrics of
 * the same unit is a ratio; anything mixed or unnamed has no unit, and the number is shown bare.
 */
export function unitOf(expr: string | undefined, hint?: string): Unit | undefined {
  if (hint) {
    const u = UNIT_WORDS[hint.trim().toLowerCase()];
    if (u) return u;
  }
  if (!expr) return undefined;
  const names = metricNames(expr);
  if (names.length === 0) return undefined;
  // One counter's rate over its own rate (successes over all attempts) is a fraction of it; a count
  // aggregation (`sum(x) / count(x)`) is an average instead, so it is left out.
  if (
    names.length >= 2 &&
    new Set(names).size === 1 &&
    /_(total|count)$/.test(names[0]!) &&
    expr.includes('/') &&
    /\b(rate|increase|irate)\s*\(/.test(expr) &&
    !/\bcount\s*\(/.test(expr)
  )
    return /\*\s*100\b|\b100\s*\*/.test(expr) ? 'percent' : 'percentunit';
  // A histogram's `_sum` over its `_count` is a mean in the `_sum`'s unit: the count is a divisor.
  const counted = names.filter((n) => !(n.endsWith('_count') && names.includes(n.replace(/_count$/, '_sum'))));
  const units = new Set(counted.map(unitOfMetric));
  if (units.size !== 1) return undefined;
  const u = [...units][0];
  // seconds / seconds (e.g. a _sum over a _count is not this: _count has no unit) is a fraction.
  if (u !== undefined && u !== 'percentunit' && u !== 'percent' && new Set(counted).size > 1 && expr.includes('/')) return 'percentunit';
  return u;
}

/**
 * A sample value for people: significant digits and the unit where known, never Go's `%e`
 * (`3.3912e+00` shows as `3.39`, `0.0123` seconds as `12.3 ms`, `0.953` as a ratio as `95.3%`).
 */
export function formatSample(v: string | number | null | undefined, unit?: Unit | string): string {
  const n = parseSampleValue(v);
  if (n === undefined) return typeof v === 'string' && v !== '' ? v : '–';
  if (Number.isNaN(n)) return 'NaN';
  return formatValue(n, unit ?? 'short');
}
