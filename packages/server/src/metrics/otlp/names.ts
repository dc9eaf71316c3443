/**
 * OTLP metric and attribute names as Prometheus 3 writes them (its `otlp.translation_strategy`,
 * after the OpenTelemetry "Prometheus and OpenMetrics compatibility" specification):
 *
 * - `UnderscoreEscapingWithSuffixes` (the default): characters outside [a-zA-Z0-9:] become `_`
 *   (runs collapsed), the unit is appended as words (`s` → `seconds`, `By/s` →
 *   `bytes_per_second`; `{…}` annotations dropped), `_total` for monotonic sums, `_ratio` for
 *   gauges of unit `1`; a name or label starting with a digit gets `_` / `key_` in front.
 * - `UnderscoreEscapingWithoutSuffixes`: the same escaping, no suffixes.
 * - `NoUTF8EscapingWithSuffixes`: names kept as sent (UTF-8), suffixes added.
 * - `NoTranslation`: names and labels exactly as sent.
 */

export const TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
] as const;
export type TranslationStrategy = (typeof TRANSLATION_STRATEGIES)[number];

/** The Prometheus type a metric becomes, which decides its suffixes. */
export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary';

const UNITS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

const PER_UNITS: Readonly<Record<string, string>> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

export function escapes(s: TranslationStrategy): boolean {
  return s === 'UnderscoreEscapingWithSuffixes' || s === 'UnderscoreEscapingWithoutSuffixes';
}

export function addsSuffixes(s: TranslationStrategy): boolean {
  return s === 'UnderscoreEscapingWithSuffixes' || s === 'NoUTF8EscapingWithSuffixes';
}

/** The unit's main and per parts as words, before escaping ('' when absent or an annotation). */
function unitWords(unit: string): [string, string] {
  const slash = unit.indexOf('/');
  const main = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const per = slash < 0 ? '' : unit.slice(slash + 1).trim();
  const mainWord = main !== '' && !/[{}]/.test(main) ? (UNITS[main] ?? main) : '';
  const perWord = per !== '' && !/[{}]/.test(per) ? 'per_' + (PER_UNITS[per] ?? per) : '';
  return [mainWord, perWord];
}

/** Splits on every character outside [a-zA-Z0-9:], dropping empty pieces (which collapses runs). */
function tokens(s: string): string[] {
  return s.split(/[^a-zA-Z0-9:]+/).filter((t) => t !== '');
}

/** Escapes a unit word: invalid characters to `_`, runs collapsed, no leading `_`. */
function cleanUnit(u: string): string {
  return u
    .replace(/[^a-zA-Z0-9:]/g, '_')
    .replace(/__+/g, '_')
    .replace(/^_/, '');
}

/** The stored metric name of an OTLP metric; '' when nothing valid is left (the metric is refused). */
export function metricName(name: string, unit: string, type: PromType, strategy: TranslationStrategy): string {
  const suffixes = addsSuffixes(strategy);
  if (!escapes(strategy)) return suffixes ? utf8WithSuffixes(name, unit, type) : name;
  let out: string;
  if (suffixes) {
    let toks = tokens(name);
    const [mainW, perW] = unitWords(unit);
    let main = cleanUnit(mainW);
    let per = cleanUnit(perW);
    if (toks.includes(main)) main = '';
    if (per === 'per_') per = '';
    else {
      per = per.replace(/_$/, '');
      if (toks.includes(per)) per = '';
    }
    if (per !== '') main = main.replace(/_$/, '');
    if (main !== '') toks.push(main);
    if (per !== '') toks.push(per);
    if (type === 'counter') toks = [...toks.filter((t) => t !== 'total'), 'total'];
    if (unit === '1' && type === 'gauge') toks = [...toks.filter((t) => t !== 'ratio'), 'ratio'];
    out = toks.join('_');
  } else {
    out = name
      .split(/[^a-zA-Z0-9:_]+/)
      .filter((t) => t !== '')
      .join('_');
  }
  if (/^[0-9]/.test(out)) out = '_' + out;
  if (/^_*$/.test(out)) return '';
  return out;
}

function trimSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length + 1 ? name.slice(0, name.length - suffix.length - 1) : name;
}

/** Suffixes on an unescaped (UTF-8) name: each trimmed off first so it is not doubled, then added in order. */
function utf8WithSuffixes(name: string, unit: string, type: PromType): string {
  const [main, per] = unitWords(unit);
  const ratio = unit === '1' && type === 'gauge';
  if (ratio) name = trimSuffix(name, 'ratio');
  if (type === 'counter') name = trimSuffix(name, 'total');
  if (per !== '') name = trimSuffix(name, per);
  if (main !== '' && !name.endsWith(main)) name += '_' + main;
  if (per !== '') name += '_' + per;
  if (type === 'counter') name += '_total';
  if (ratio) name += '_ratio';
  return name;
}

/** The label name of an attribute key; '' for one that cannot be a label (empty, or only underscores). */
export function labelName(key: string, strategy: TranslationStrategy): string {
  if (key === '') return '';
  if (!escapes(strategy)) return /^_+$/.test(key) ? '' : key;
  let out: string;
  const reserved = key.length >= 4 && key.startsWith('__') && key.endsWith('__');
  const inner = reserved ? key.slice(2, -2) : key;
  out = inner.replace(/[^a-zA-Z0-9]+/g, '_');
  if (reserved) out = `__${out}__`;
  if (/^[0-9]/.test(out)) out = 'key_' + out;
  if (/^_*$/.test(out)) return '';
  return out;
}

/** The unit in words, as metadata shows it (`By/s` → `bytes_per_second`, `1` → ''). */
export function unitName(unit: string): string {
  const [main, per] = unitWords(unit);
  return [cleanUnit(main), cleanUnit(per)]
    .filter((u) => u !== '')
    .join('_')
    .replace(/^_+|_+$/g, '');
}

/** Prometheus' `strconv.FormatFloat(x, 'f', -1, 64)`, for `le` and `quantile`. */
export function formatBound(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  const s = String(x);
  if (!s.includes('e')) return s;
  // Plain decimal notation without an exponent, as Go's 'f' format writes it.
  const [mant, expText] = s.split('e') as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const point = mant.replace('-', '').indexOf('.');
  const intLen = (point < 0 ? mant.replace('-', '').length : point) + exp;
  const body =
    intLen <= 0
      ? '0.' + '0'.repeat(-intLen) + digits
      : intLen >= digits.length
        ? digits + '0'.repeat(intLen - digits.length)
        : digits.slice(0, intLen) + '.' + digits.slice(intLen);
  return (neg ? '-' : '') + body;
}
