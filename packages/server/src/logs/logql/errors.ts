/** Errors and accounting of LogQL evaluation. */
import { VigilError } from '../../core/errors.js';

/** A query error at evaluation time (maps to 400/422 at the API). */
export class LogqlExecError extends VigilError {
  override readonly code = 'execution' as const;
  constructor(message: string) {
    super('execution', message);
  }
}

/** A query stopped by its timeout or because its client went away. */
export class LogqlCanceledError extends VigilError {
  constructor(
    override readonly code: 'timeout' | 'canceled',
    message: string,
  ) {
    super(code, message);
  }
}

/** A query refused because it would read more than its budget (maps to 422, like max_samples). */
export class LogqlBudgetError extends VigilError {
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
