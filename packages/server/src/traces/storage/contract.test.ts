import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { traceStorageContract, type TraceContractOptions, type TraceContractSubject } from '../../testkit/contracts/trace_storage.js';
import { TraceStore } from '../store/store.js';
import type { TraceStoreOptions } from '../store/options.js';
import { MemoryTraceStore } from './memory.js';

traceStorageContract('in-memory', async (opts) => ({ store: new MemoryTraceStore(opts), close: () => {} }));

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracecontract-'));

/** Tiny blocks and pages, so a few spans already span the head, several blocks and pages, and merged blocks. */
const small = (dir: string, opts: TraceContractOptions): TraceStoreOptions => ({
  dir,
  ...opts,
  blockMaxSpans: 8,
  pageMaxSpans: 3,
  compactBelowSpans: 5,
  tickIntervalMs: 0,
});

/** A disk subject whose `settle` runs `between` (which may replace the store). */
function diskSubject(make: (dir: string) => TraceStore, between: (s: TraceStore, dir: string) => TraceStore): TraceContractSubject {
  const dir = tmp();
  const store = make(dir);
  store.start();
  const subject: TraceContractSubject = {
    store,
    settle: () => {
      subject.store = between(subject.store as TraceStore, dir);
    },
    close: () => {
      (subject.store as TraceStore).stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return subject;
}

traceStorageContract('disk, small blocks, compacted', async (opts) =>
  diskSubject(
    (dir) => new TraceStore(small(dir, opts)),
    (s) => {
      s.tick();
      return s;
    },
  ),
);

traceStorageContract('disk, reopened after stop', async (opts) =>
  diskSubject(
    (dir) => new TraceStore(small(dir, opts)),
    (s, dir) => {
      s.stop();
      const next = new TraceStore(small(dir, opts));
      next.start();
      return next;
    },
  ),
);

traceStorageContract('disk, reopened from the WAL alone (no clean stop)', async (opts) =>
  diskSubject(
    (dir) => new TraceStore({ dir, ...opts, tickIntervalMs: 0 }),
    (s, dir) => {
      s.close();
      const next = new TraceStore({ dir, ...opts, tickIntervalMs: 0 });
      next.start();
      return next;
    },
  ),
);
