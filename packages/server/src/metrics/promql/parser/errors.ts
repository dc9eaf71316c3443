/** The parse error type, shared by the parser and the type checker. */

import type { PosRange } from './ast.js';
import { VigilError } from '../../../core/errors.js';

/** A query that cannot be parsed or does not type-check. Maps to HTTP 400 (`bad_data`). */
export class ParseError extends VigilError {
  /** The Prometheus API error type. */
  override readonly code = 'bad_data' as const;
  /** The message without the position prefix, e.g. `unexpected end of input`. */
  readonly reason: string;
  /** Where in the query the problem is (character offsets). */
  readonly position: PosRange;
  /** 1-based line of `position.start` (0 when the query is empty). */
  readonly line: number;
  /** 1-based column of `position.start` (0 when the query is empty). */
  readonly column: number;

  constructor(query: string, position: PosRange, reason: string) {
    let where: string;
    let line = 0;
    let column = 0;
    if (query === '') {
      where = 'unknown position';
    } else if (position.start < 0 || position.start > query.length) {
      where = 'invalid position';
    } else {
      // Same arithmetic as Prometheus' PositionRange.StartPosInput.
      const before = query.slice(0, position.start);
      const lastBreak = before.lastIndexOf('\n');
      for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 0x0a) line++;
      line += 1;
      column = position.start - lastBreak;
      where = `${line}:${column}`;
    }
    super('bad_data', `${where}: parse error: ${reason}`);
    this.reason = reason;
    this.position = position;
    this.line = line;
    this.column = column;
  }
}
