/** The one error type of the exposition parsers. */

/**
 * A malformed scrape body. `line` and `column` are 1-based; the column counts characters (UTF-8
 * code points) from the start of the line. The message reads like Prometheus' own, prefixed with
 * the position, so a scrape-failure log points at the offending byte (see {@link byteError} for
 * binary bodies).
 */

import { VigilError } from '../../../core/errors.js';
export class ExpositionError extends VigilError {
  override readonly code = 'bad_exposition' as const;
  constructor(
    /** The Prometheus-style description without the position. */
    readonly detail: string,
    readonly line: number,
    readonly column: number,
    message = `${line}:${column}: ${detail}`,
  ) {
    super('bad_exposition', message);
  }
}

/**
 * An {@link ExpositionError} in a binary body (the protobuf format), where lines mean nothing:
 * line and column are 0 and the message names the byte offset.
 */
export function byteError(offset: number, detail: string): ExpositionError {
  return new ExpositionError(detail, 0, 0, `protobuf exposition, byte ${offset}: ${detail}`);
}

/** Builds an {@link ExpositionError} for byte offset `pos` of `b`, computing line and column only now. */
export function errorAt(b: Uint8Array, pos: number, detail: string): ExpositionError {
  const end = Math.max(0, Math.min(pos, b.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (b[i] === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  // Count code points, not bytes: continuation bytes (10xxxxxx) do not start a character.
  for (let i = lineStart; i < end; i++) if ((b[i]! & 0xc0) !== 0x80) column++;
  return new ExpositionError(detail, line, column);
}

const MAX_QUOTED = 120;

/**
 * Quotes a byte range for an error message, as Go's `%q` would, but bounded: a 10 MB label value
 * must not become a 10 MB log line.
 */
export function quoteBytes(b: Buffer, start: number, end: number): string {
  const s = Math.max(0, start);
  const e = Math.min(b.length, end);
  if (e <= s) return '""';
  if (e - s <= MAX_QUOTED) return JSON.stringify(b.toString('utf8', s, e));
  return `${JSON.stringify(b.toString('utf8', s, s + MAX_QUOTED))}…(${e - s} bytes)`;
}
