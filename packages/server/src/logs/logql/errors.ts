/** Errors and accounting of LogQL evaluation. */

/** A query error at evaluation time (maps to 400/422 at the API). */
export class LogqlExecError extends Error {
  readonly code = 'execution' as const;
}

/** Work done by a query, for the API's `stats`. */
export interface LogqlStats {
  linesScanned: number;
  bytesScanned: number;
}
