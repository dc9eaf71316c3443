/** Errors and accounting of LogQL evaluation. */
import { VigilError } from '../../core/errors.js';

/** A query error at evaluation time (maps to 400/422 at the API). */
export class LogqlExecError extends VigilError {
  override readonly code = 'execution' as const;
  constructor(message: string) {
    super('execution', message);
  }
}

/** Work done by a query, for the API's `stats`. */
export interface LogqlStats {
  linesScanned: number;
  bytesScanned: number;
}
