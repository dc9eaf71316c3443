/**
 * How Vigil's errors become HTTP answers, one table per API, so a status is decided in one place:
 * the Prometheus API (its `errorType` envelope), the Alertmanager v2 API (amtool and Grafana read
 * its statuses) and remote write (senders retry 5xx and drop 4xx).
 */

import { VigilError } from '../../core/errors.js';
import { RemoteWriteError, type RemoteWriteErrorCode } from '../../metrics/remotewrite/receiver.js';

/** The error types of the Prometheus API envelope, plus a few of our own. */
export const API_ERROR_TYPES = ['bad_data', 'execution', 'timeout', 'canceled', 'internal', 'unavailable', 'not_found', 'too_large', 'overloaded'] as const;
/** One of {@link API_ERROR_TYPES}. */
export type ApiErrorType = (typeof API_ERROR_TYPES)[number];

const STATUS: Record<ApiErrorType, number> = {
  bad_data: 400,
  too_large: 413,
  execution: 422,
  timeout: 503,
  canceled: 503,
  unavailable: 503,
  overloaded: 503,
  internal: 500,
  not_found: 404,
};

/** An error to report to a client of the Prometheus API; `code` is the envelope's `errorType`. */
export class ApiError extends VigilError {
  declare readonly code: ApiErrorType;
  constructor(
    type: ApiErrorType,
    message: string,
    /** Sent as Retry-After (seconds) when set: the refusal is temporary. */
    readonly retryAfterSec?: number,
  ) {
    super(type, message);
  }

  /** The envelope's `errorType` (the same as `code`). */
  get type(): ApiErrorType {
    return this.code;
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

/**
 * Codes of errors raised below the API (PromQL parsing and evaluation, durations, timestamps) that
 * the Prometheus API reports as the error type of the same name. Other codes (storage, say) are not
 * the client's business and stay internal errors.
 */
const PROMETHEUS_API_PASSTHROUGH: ReadonlySet<string> = new Set<ApiErrorType>(['bad_data', 'execution', 'timeout', 'canceled']);

/** The Prometheus API error for `err`, or undefined when it is not one the API reports as such. */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof VigilError && PROMETHEUS_API_PASSTHROUGH.has(err.code)) return new ApiError(err.code as ApiErrorType, err.message);
  return undefined;
}

/**
 * Alertmanager v2 statuses by error code: bad input is 400, an unknown silence 404, and expiring
 * an expired silence 500, as Alertmanager answers (amtool prints these).
 */
const ALERTMANAGER_STATUS: Readonly<Record<string, number>> = {
  bad_data: 400,
  bad_silence: 400,
  bad_alert: 400,
  not_found: 404,
  silence_expired: 500,
  // A full silence store is a bad request, as in Alertmanager; a full alert store passes as alerts
  // resolve and are collected, so the sender is told to retry.
  silence_limit: 400,
  alert_limit: 429,
  // The state could not be saved: nothing changed; the client may retry once the disk has room.
  disk_full: 507,
  closed: 503,
};

/** The Alertmanager API status for `err`, or undefined when it is not an error that API answers. */
export function alertmanagerStatus(err: unknown): number | undefined {
  return err instanceof VigilError ? ALERTMANAGER_STATUS[err.code] : undefined;
}

/** How the remote-write endpoint answers: a status, and for 5xx when to retry. */
export interface RemoteWriteAnswer {
  readonly status: number;
  readonly retryAfterSec?: number;
}

/**
 * Remote-write answers by refusal. Senders (Prometheus, vmagent) retry 5xx and drop 4xx, so only
 * conditions that pass (overload, a full disk) are 5xx, with a hint of when to come back.
 */
const REMOTE_WRITE_ANSWERS: Readonly<Record<RemoteWriteErrorCode, RemoteWriteAnswer>> = {
  bad_request: { status: 400 },
  overloaded: { status: 503, retryAfterSec: 1 },
  disk_full: { status: 507, retryAfterSec: 10 },
  rate_limited: { status: 429, retryAfterSec: 1 },
  unsupported_media_type: { status: 415 },
};

/** The remote-write answer for `err`, or undefined when it is not a refusal the endpoint reports. */
export function remoteWriteAnswer(err: unknown): RemoteWriteAnswer | undefined {
  if (err instanceof ApiError) return { status: err.status };
  if (err instanceof RemoteWriteError) {
    const answer = REMOTE_WRITE_ANSWERS[err.code];
    // A refusal that knows when it would pass (the rate limit) says so.
    return err.retryAfterSec === undefined ? answer : { ...answer, retryAfterSec: err.retryAfterSec };
  }
  return undefined;
}
