/** The log store's crash points (see core/util/crashpoint.ts). */

/** Every crash point the log store passes, named for the kill -9 tests (crash.test.ts tries each). */
export const CRASH_POINTS = [
  'logs.wal.after-write',
  'logs.stream.after-write',
  'logs.seal.after-dat',
  'logs.seal.after-idx',
  'logs.checkpoint.before-marker',
  'logs.checkpoint.after-marker',
  'logs.compact.after-dat',
  'logs.compact.after-idx',
  'logs.compact.before-remove',
  'logs.retention.after-mark',
  'logs.retention.after-remove',
] as const;
