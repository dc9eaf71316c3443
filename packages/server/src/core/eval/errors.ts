/**
 * The error the shared evaluation code raises for a query that cannot be evaluated (duplicate
 * series in a match group, a NaN `topk` parameter, …). Each engine turns it into its own
 * execution error at its entry point, so the API of each language keeps its error type.
 */
import { VigilError } from '../errors.js';
export class EvalError extends VigilError {
  constructor(message: string) {
    super('execution', message);
  }
}

/** Throws an {@link EvalError}. */
export function evalError(message: string): never {
  throw new EvalError(message);
}
