/**
 * API errors: a small closed set of types, mapped to HTTP statuses in this one place, as the
 * Prometheus HTTP API does.
 */

/** The error types of the Prometheus API envelope, plus a few of our own. */
export const API_ERROR_TYPES = ['bad_data', 'execution', 'timeout', 'canceled', 'internal', 'unavailable', 'not_found', 'too_large', 'overloaded'] as const;
/** One of {@link API_ERROR_TYPES}. */
export type ApiErrorType = (typeof API_ERROR_TYPES)[number];

const STATUS: Record<ApiErrorType, number> = {
  bad_data: 400,
  too_large: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  unavailable: 503,
  overloaded: 503,
  internal: 500,
  not_found: 404,
};

/** An error to report to the client. */
export class ApiError extends Error {
  readonly type: ApiErrorType;
  constructor(type: ApiErrorType, message: string) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
  }

  /** The HTTP status for this error's type. */
  get status(): number {
    return STATUS[this.type];
  }
}

/** The HTTP status for an error type. */
export function statusOf(type: ApiErrorType): number {
  return STATUS[type];
}
