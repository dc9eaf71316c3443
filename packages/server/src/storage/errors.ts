/** Typed storage errors; the API maps their codes to HTTP statuses in one place. */

/** The closed set of reasons a store rejects a write or a read. */
export const STORAGE_ERROR_CODES = [
  'out_of_order',
  'duplicate_sample',
  'too_old',
  'invalid_series',
  'invalid_argument',
  'closed',
  'overloaded',
  'corruption',
] as const;
/** One of {@link STORAGE_ERROR_CODES}. */
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

/** A rejection by the store, with a code that says why. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}
