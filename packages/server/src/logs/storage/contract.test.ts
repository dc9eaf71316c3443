import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { logStorageContract, type LogContractOptions, type LogContractSubject } from '../../testkit/contracts/log_storage.js';
import { LogStore } from '../store/store.js';
import { MemoryLogStore } from './memory.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logcontract-'));

/** Small chunks, so a few thousand lines span sealed chunks and the head. */
function diskStore(dir: string, opts: LogContractOptions): LogStore {
  return new LogStore({ dir, ...opts, chunkTargetBytes: 4096, tickIntervalMs: 0 });
}

logStorageContract('in-memory', async (opts) => ({ store: new MemoryLogStore(opts), close: () => {} }));

logStorageContract('disk', async (opts) => {
  const dir = tmp();
  const store = diskStore(dir, opts);
  store.start();
  return {
    store,
    close: () => {
      store.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

logStorageContract('disk, reopened after stop', async (opts) => {
  const dir = tmp();
  let store = diskStore(dir, opts);
  store.start();
  const subject: LogContractSubject = {
    store,
    // Every answer after this comes from what the stopped store left on disk.
    settle: () => {
      store.stop();
      store = diskStore(dir, opts);
      store.start();
      subject.store = store;
    },
    close: () => {
      store.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return subject;
});
