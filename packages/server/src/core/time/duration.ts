/**
 * The one duration syntax of Vigil: Prometheus' `model.Duration` (`1h30m`, `5m`, `500ms`, `1y`),
 * parsed and printed with the rules and messages of prometheus/common, because PromQL, rule files,
 * scrape and Alertmanager configuration and templates all take that syntax. The HTTP APIs also take
 * plain float seconds ({@link parseSecondsOrDuration}), as Prometheus' and Loki's do.
 */

import { VigilError } from '../errors.js';
import { goQuote } from '../util/goquote.js';

/** An invalid duration string. The message is the one Prometheus gives. */
export class DurationError extends VigilError {
  /** Maps to HTTP 400 at the API, like every input error. */
  override readonly code = 'bad_data' as const;
  constructor(message: string) {
    super('bad_data', message);
    this.name = 'DurationError';
  }
}

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;
const MS_PER_WEEK = 7 * MS_PER_DAY;
const MS_PER_YEAR = 365 * MS_PER_DAY;

/**
 * Largest duration in milliseconds: Prometheus stores durations as int64 nanoseconds, so anything
 * beyond about 292 years overflows and is rejected.
 */
export const MAX_DURATION_MS = 9223372036854;

/** Units in the order they must appear (biggest first), with their size in milliseconds. */
const UNITS: ReadonlyMap<string, { readonly order: number; readonly ms: number }> = new Map([
  ['y', { order: 1, ms: MS_PER_YEAR }],
  ['w', { order: 2, ms: MS_PER_WEEK }],
  ['d', { order: 3, ms: MS_PER_DAY }],
  ['h', { order: 4, ms: MS_PER_HOUR }],
  ['m', { order: 5, ms: MS_PER_MINUTE }],
  ['s', { order: 6, ms: MS_PER_SECOND }],
  ['ms', { order: 7, ms: 1 }],
]);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parses a Prometheus duration string into milliseconds. Units must appear at most once and from
 * the biggest to the smallest; `"0"` alone is allowed without a unit.
 * @throws {DurationError} for an empty, malformed or out-of-range duration.
 */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new DurationError('empty duration string');
  const invalid = (): DurationError => new DurationError(`not a valid duration string: ${goQuote(s)}`);
  let total = 0;
  let lastOrder = 0;
  let i = 0;
  while (i < s.length) {
    const numStart = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === numStart) throw invalid();
    const value = Number(s.slice(numStart, i));
    const unitStart = i;
    while (i < s.length && !isDigit(s.charCodeAt(i))) i++;
    if (i === unitStart) throw invalid();
    const unitText = s.slice(unitStart, i);
    const unit = UNITS.get(unitText);
    if (unit === undefined) {
      throw new DurationError(`unknown unit ${goQuote(unitText)} in duration ${goQuote(s)}`);
    }
    // Units must go from the biggest to the smallest, each at most once.
    if (unit.order <= lastOrder) throw invalid();
    lastOrder = unit.order;
    total += value * unit.ms;
    if (!Number.isFinite(total) || total > MAX_DURATION_MS) throw new DurationError('duration out of range');
  }
  return total;
}

/**
 * Prints milliseconds as Prometheus does (`1h30m`, `5m`, `1ms`, `0s`). Years and weeks are used only
 * when the duration is an exact multiple of them. Negative durations get a leading `-`.
 */
export function formatDuration(ms: number): string {
  if (ms < 0) return '-' + formatDuration(-ms);
  let rest = Math.trunc(ms);
  if (rest === 0) return '0s';
  let out = '';
  if (rest % MS_PER_YEAR === 0) {
    out += `${rest / MS_PER_YEAR}y`;
    return out;
  }
  if (rest % MS_PER_WEEK === 0) {
    out += `${rest / MS_PER_WEEK}w`;
    return out;
  }
  const units: ReadonlyArray<readonly [string, number]> = [
    ['d', MS_PER_DAY],
    ['h', MS_PER_HOUR],
    ['m', MS_PER_MINUTE],
    ['s', MS_PER_SECOND],
    ['ms', 1],
  ];
  for (const [unit, size] of units) {
    const v = Math.floor(rest / size);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * size;
    }
  }
  return out;
}

/** Float seconds as the HTTP APIs accept them: optional sign, fraction and exponent (`30`, `0.5`, `1e3`). */
const FLOAT_SECONDS_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a duration given either as float seconds (`30`, `0.5`) or as a Prometheus duration
 * (`5m`), into milliseconds (seconds are rounded to whole milliseconds). This is what Prometheus'
 * API does for `step`, `timeout` and `lookback_delta`.
 * @throws {DurationError} when `s` is neither.
 */
export function parseSecondsOrDuration(s: string): number {
  if (FLOAT_SECONDS_RE.test(s)) {
    const sec = Number(s);
    // Beyond 2^53 ms the value cannot be represented exactly; treat it as not a number of seconds.
    if (Number.isFinite(sec) && sec * 1000 <= Number.MAX_SAFE_INTEGER) return Math.round(sec * 1000);
  }
  return parseDuration(s);
}
