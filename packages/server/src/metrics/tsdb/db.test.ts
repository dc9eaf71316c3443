import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { storageContract } from '../../testkit/contracts/metrics_storage.js';
import { CONTRACT_OOO_WINDOW_MS, outOfOrderContract } from '../../testkit/contracts/metrics_storage_ooo.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { DB } from './db.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-db-'));
}

async function openDB(dir: string, extra: Partial<ConstructorParameters<typeof DB>[0]> = {}): Promise<DB> {
  const db = new DB({ dir, maintenanceIntervalMs: 0, ...extra });
  await db.start();
  return db;
}

storageContract('disk store (head + WAL)', async () => {
  const dir = tempDir();
  const db = await openDB(dir);
  return {
    store: db,
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

storageContract('disk store (data flushed into blocks)', async () => {
  const dir = tempDir();
  const db = await openDB(dir);
  return {
    store: db,
    settle: () => db.flush(),
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

storageContract('disk store (reopened: blocks and WAL replayed)', async () => {
  const dir = tempDir();
  let db = await openDB(dir);
  const store = {
    appender: () => db.appender(),
    querier: (a: number, b: number) => db.querier(a, b),
  };
  return {
    store,
    settle: async () => {
      await db.stop();
      db = await openDB(dir);
    },
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

storageContract('disk store (flushed into blocks, merged, reopened)', async () => {
  const dir = tempDir();
  let db = await openDB(dir);
  const store = {
    appender: () => db.appender(),
    querier: (a: number, b: number) => db.querier(a, b),
  };
  return {
    store,
    settle: async () => {
      // A second settle gives a second block in the same window, which the flush merges.
      await db.flush();
      await db.stop();
      db = await openDB(dir);
    },
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

// The clock sits at the contract's data (2024), so nothing is too far in the future.
const OOO_OPTS = { outOfOrderWindowMs: CONTRACT_OOO_WINDOW_MS, now: () => Date.UTC(2024, 0, 1, 2) };

outOfOrderContract('disk store (head + WAL)', async () => {
  const dir = tempDir();
  const db = await openDB(dir, OOO_OPTS);
  return {
    store: db,
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

outOfOrderContract('disk store (cut into a block)', async () => {
  const dir = tempDir();
  const db = await openDB(dir, OOO_OPTS);
  return {
    store: db,
    settle: () => db.flush(),
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

outOfOrderContract('disk store (reopened: WAL replayed with the window off)', async () => {
  const dir = tempDir();
  let db = await openDB(dir, OOO_OPTS);
  const store = {
    appender: () => db.appender(),
    querier: (a: number, b: number) => db.querier(a, b),
  };
  return {
    store,
    settle: async () => {
      await db.stop();
      // What the WAL acknowledged comes back even if the window was turned off meanwhile.
      db = await openDB(dir, { ...OOO_OPTS, outOfOrderWindowMs: 0 });
    },
    close: async () => {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const HOUR = 3600_000;

function count(db: DB, from: number, to: number): number {
  const q = db.querier(from, to);
  const ss = q.select({ start: from, end: to }, [new Matcher('=~', '__name__', '.+')]);
  let n = 0;
  while (ss.next()) {
    const it = ss.at().iterator();
    while (it.next()) n++;
  }
  q.close();
  return n;
}

test('head is cut into 2h blocks once it spans 3h, blocks merge, and queries span both', async () => {
  const dir = tempDir();
  const db = await openDB(dir);
  try {
    const a = db.appender();
    const refs = [0, 0, 0];
    // 10 hours of data at 1-minute spacing for three series.
    for (let t = 0; t < 10 * HOUR; t += 60_000)
      for (let i = 0; i < 3; i++) refs[i] = a.append(refs[i]!, labelsFrom({ __name__: 'c', i: String(i) }), t, t / 1000);
    a.commit();
    const cut = await db.compactHead(false);
    assert.ok(cut >= 3, `cut ${cut} blocks`);
    assert.ok(db.head.maxt - db.head.mint <= 1.5 * 2 * HOUR);
    assert.equal(count(db, 0, 10 * HOUR), 3 * 600);
    await db.compactBlocks(false);
    const levels = db.listBlocks().map((b) => b.meta.compaction.level);
    assert.ok(levels.includes(2), `levels ${levels.join(',')}`);
    assert.equal(count(db, 0, 10 * HOUR), 3 * 600);
    // Samples older than the head are now refused with a clear error.
    const late = db.appender();
    assert.throws(() => late.append(0, labelsFrom({ __name__: 'c', i: '0' }), 1000, 1), /out of bounds/);
    late.rollback();
    await db.stop();
    const again = await openDB(dir);
    assert.equal(count(again, 0, 10 * HOUR), 3 * 600);
    await again.stop();
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retention deletes blocks by age and by size', async () => {
  const dir = tempDir();
  // The clock stands at the newest sample; retention counts back from it.
  const db = await openDB(dir, { retentionMs: 6 * HOUR, now: () => 20 * HOUR });
  try {
    const a = db.appender();
    let ref = 0;
    for (let t = 0; t < 20 * HOUR; t += 60_000) ref = a.append(ref, labelsFrom({ __name__: 'r' }), t, 1);
    a.commit();
    await db.compactHead(false);
    await db.applyRetention();
    assert.ok(db.listBlocks().length > 0, 'recent blocks are kept');
    const oldest = Math.min(...db.listBlocks().map((b) => b.minTime));
    assert.ok(oldest >= 20 * HOUR - 6 * HOUR - 2 * HOUR, `oldest block starts at ${oldest / HOUR}h`);
    await db.stop();
    const sized = await openDB(dir, { retentionBytes: 1 });
    await sized.applyRetention();
    assert.equal(sized.listBlocks().length, 0);
    await sized.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn or corrupt WAL tail is cut off with a warning and the rest replayed', async () => {
  const dir = tempDir();
  const warnings: string[] = [];
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn: (msg: string) => void warnings.push(msg),
    child() {
      return logger;
    },
  };
  try {
    const db = await openDB(dir);
    for (let i = 0; i < 10; i++) {
      const a = db.appender();
      a.append(0, labelsFrom({ __name__: 'w' }), i * 1000, i);
      a.commit();
    }
    await db.stop();
    const seg = fs
      .readdirSync(path.join(dir, 'wal'))
      .filter((f) => /^\d+$/.test(f))
      .sort()
      .at(-1)!;
    const file = path.join(dir, 'wal', seg);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 5); // a torn last record
    const db2 = await openDB(dir, { logger });
    assert.equal(count(db2, 0, 1e6), 9);
    assert.match(warnings.join('\n'), /torn record/);
    await db2.stop();
    // Flip a byte inside the second-to-last record of the (now repaired) first segment.
    const buf = fs.readFileSync(file);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0xff;
    fs.writeFileSync(file, buf);
    const db3 = await openDB(dir, { logger });
    assert.equal(count(db3, 0, 1e6), 8);
    assert.match(warnings.join('\n'), /checksum mismatch/);
    await db3.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
