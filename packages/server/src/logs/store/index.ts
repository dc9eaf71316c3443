/** The embedded log store. */
export { LogStore, type CorruptChunk, type LogStoreOptions, type TailListener } from './store.js';
export type { LogIo } from '../../core/util/appendfile.js';
export type { LogEntry, PushStream, PushResult, StreamInfo, Direction, LineFilterHint, StoreStats } from '../storage/types.js';
export { safeTokens } from '../../core/util/bloom.js';
