/** Why an OTLP metrics request was refused as a whole, with the HTTP status that says it. */
export class OtlpMetricsError extends Error {
  constructor(
    /** 400 malformed (not retried), 413 too large, 415 unknown type or encoding, 429 over the rate. */
    readonly status: 400 | 413 | 415 | 429,
    message: string,
    readonly retryAfterSec = 0,
  ) {
    super(message);
  }
}
