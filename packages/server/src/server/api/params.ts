/** Parsing of the Prometheus API's common parameters: times, durations, limits, `match[]`. */
import type { Matcher } from '../../core/model/matcher.js';
import { parseTimestamp, TimestampError } from '../../core/time/timestamp.js';
import { parseSeriesSelector } from '../../metrics/promql/parser/index.js';
import { ApiError } from './errors.js';

/** The earliest and latest times the API accepts when a bound is omitted, in ms. */
export const MIN_TIME = -9_000_000_000_000_000 / 1000;
export const MAX_TIME = 9_000_000_000_000_000 / 1000;

/** Parses a time parameter given as Unix seconds (with fraction) or RFC 3339; returns ms. */
export function parseTime(s: string, param: string): number {
  try {
    return parseTimestamp(s);
  } catch (err) {
    if (!(err instanceof TimestampError)) throw err;
    // Prometheus' clients send Go's extreme times for "no bound"; they are beyond a JavaScript Date.
    if (s === '-292273086-05-16T16:47:06Z' || s === '-9223372036854775808') return MIN_TIME;
    if (s === '292277025-08-17T07:12:55.807999999Z' || s === '9223372036854775807') return MAX_TIME;
    throw new ApiError('bad_data', `invalid parameter "${param}": ${err.message}`);
  }
}

/** Reads an optional time parameter. */
export function timeParam(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  return v === null || v === '' ? dflt : parseTime(v, name);
}

/** Reads the `limit` parameter: a non-negative integer, 0 for none. */
export function limitParam(q: URLSearchParams): number {
  const v = q.get('limit');
  if (v === null || v === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ApiError('bad_data', `invalid parameter "limit": ${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}

/** Parses every `match[]` selector. */
export function matchParams(q: URLSearchParams): Matcher[][] {
  return q.getAll('match[]').map((s) => {
    try {
      return parseSeriesSelector(s);
    } catch (err) {
      throw new ApiError('bad_data', `invalid parameter "match[]": ${(err as Error).message}`);
    }
  });
}
