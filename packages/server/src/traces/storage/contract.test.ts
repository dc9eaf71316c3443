import { traceStorageContract } from '../../testkit/contracts/trace_storage.js';
import { MemoryTraceStore } from './memory.js';

traceStorageContract('in-memory', async (opts) => ({ store: new MemoryTraceStore(opts), close: () => {} }));
