/**
 * Time parameters as Prometheus takes them (API `time`/`start`/`end`, promtool's `start_timestamp`):
 * Unix seconds with an optional fraction, or RFC 3339. One parser, so every place that takes a time
 * accepts the same spellings.
 */

import { VigilError } from '../errors.js';

/** A string that is neither Unix seconds nor RFC 3339. */
export class TimestampError extends VigilError {
  override readonly code = 'bad_data' as const;
  constructor(readonly input: string) {
    super('bad_data', `cannot parse ${JSON.stringify(input)} to a valid timestamp`);
  }
}

/** `1700000000`, `-5`, `1700000000.123`, `.5`: Unix seconds; no exponent, as Prometheus' API. */
const UNIX_SECONDS_RE = /^[+-]?(\d+(\.\d+)?|\d*\.\d+)$/;
/** RFC 3339 starts with a full date and a `T`; anything else Date.parse would guess at is refused. */
const RFC3339_PREFIX_RE = /^\d{4}-\d{2}-\d{2}T/;

/**
 * Parses Unix seconds (rounded to whole milliseconds) or an RFC 3339 time into milliseconds since
 * the epoch.
 * @throws {TimestampError} for anything else.
 */
export function parseTimestamp(s: string): number {
  if (UNIX_SECONDS_RE.test(s)) {
    const sec = Number(s);
    if (Number.isFinite(sec)) return Math.round(sec * 1000);
  }
  if (RFC3339_PREFIX_RE.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new TimestampError(s);
}
