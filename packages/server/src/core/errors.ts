/**
 * Vigil's error family. Every error Vigil raises on purpose is a {@link VigilError}: callers branch on
 * its `code` (a stable string), never on the message, and each HTTP API maps codes to statuses in one
 * place (server/api/errors.ts). Storage errors, the most shared ones, are defined here too.
 */

/** The base of Vigil's errors: a machine-readable `code` and a `name` that is the class's name. */
export class VigilError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    // The subclass's own name, so logs and stack traces say `DurationError: …`, not `Error: …`.
    this.name = new.target.name;
  }
}

/** The closed set of reasons a store rejects a write or a read. */
export const STORAGE_ERROR_CODES = [
  'out_of_order',
  'duplicate_sample',
  'too_old',
  'too_new',
  'invalid_series',
  'invalid_argument',
  'closed',
  'overloaded',
  'corruption',
  'disk_full',
  'limit_exceeded',
] as const;
/** One of {@link STORAGE_ERROR_CODES}. */
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

/** A rejection by the store, with a code that says why. */
export class StorageError extends VigilError {
  declare readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string) {
    super(code, message);
  }
}

/** Error codes from the file system that mean "no room to write": the disk or a quota is full. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** True for a file-system error that means the disk (or a quota) is full. */
export function isNoSpace(err: unknown): boolean {
  return NO_SPACE.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Wraps a failed durable write as a StorageError: `disk_full` when the disk is full, else `closed`
 * (the store cannot take writes until the condition clears). The message names what failed.
 */
export function writeFailure(what: string, err: unknown): StorageError {
  const e = err as NodeJS.ErrnoException;
  if (isNoSpace(err)) return new StorageError('disk_full', `${what}: no space left on device (${e.code}); writes are refused until space is freed`);
  return new StorageError('closed', `${what}: ${e.code ?? e.message}; writes are refused until the write succeeds again`);
}
