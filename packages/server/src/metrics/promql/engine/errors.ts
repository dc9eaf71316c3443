/** Typed errors of the PromQL engine; the API maps `code` to an HTTP status in one place. */

import { VigilError } from '../../../core/errors.js';

/** The closed set of engine error codes, after Prometheus' API error types. */
export const ENGINE_ERROR_CODES = ['bad_data', 'execution', 'timeout', 'canceled'] as const;
/** One of {@link ENGINE_ERROR_CODES}. */
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** A query that could not be evaluated. */
export class EngineError extends VigilError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string) {
    super(code, message);
  }
}
