/** The embedded log store. */
export { LogStore, type LogStoreOptions, type TailListener } from './store.js';
export type { LogEntry, PushStream, PushResult, StreamInfo, Direction, LineFilterHint, StoreStats } from './types.js';
export { safeTokens } from './bloom.js';
