// Flush, block merging and retention run in slices while writes and queries go on (issue 19,
// item 6). Each test holds the background job at a named step (a deferred, not a timer), writes
// and reads meanwhile, then lets it finish and counts every sample: none lost, none twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { StorageError } from '../../core/errors.js';
import { yieldToLoop } from '../../core/util/pace.js';
import { DB, type DBOptions, type MaintenanceStep } from './db.js';

const HOUR = 3600_000;
const T0 = Date.UTC(2025, 0, 1);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-flushlive-'));
}

/** A hold that stops the job the first time it reaches `step`, until `release()`. */
function holdAt(step: MaintenanceStep): { hold: NonNullable<DBOptions['hold']>; reached: Promise<void>; release: () => void } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const gate = new Promise<void>((r) => (release = r));
  let used = false;
  return {
    hold: (s: MaintenanceStep): Promise<void> | undefined => {
      if (s !== step || used) return undefined;
      used = true;
      reach();
      return gate;
    },
    reached,
    release,
  };
}

/** Every sample of every series of `metric`, as "series@t=v" strings (duplicates kept). */
function samples(db: DB, metric: string): string[] {
  const q = db.querier(-Infinity, Infinity);
  const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', metric)]);
  const out: string[] = [];
  while (ss.next()) {
    const s = ss.at();
    const id = s.labels.find((l) => l.name === 'id')!.value;
    let last = -Infinity;
    for (const it = s.iterator(); it.next();) {
      // A sample present twice would show as a timestamp that does not move forward.
      assert.ok(it.t() > last, `series ${id}: samples out of order or duplicated at ${it.t()}`);
      last = it.t();
      out.push(`${id}@${it.t()}=${it.v()}`);
    }
  }
  q.close();
  return out.sort();
}

/** Appends one sample per series id at time `t` (value t/1000 + id) and returns what was acknowledged. */
function write(db: DB, metric: string, ids: number[], t: number): string[] {
  const a = db.appender();
  for (const id of ids) a.append(0, labelsFrom({ __name__: metric, id: String(id) }), t, t / 1000 + id);
  a.commit();
  return ids.map((id) => `${id}@${t}=${t / 1000 + id}`);
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

async function open(dir: string, opts: Partial<DBOptions> = {}): Promise<DB> {
  const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => T0 + 3 * HOUR, ...opts });
  await db.start();
  return db;
}

test('a write during a head flush is acknowledged and queryable; afterwards nothing is lost or duplicated, also after a restart', async () => {
  const dir = tempDir();
  const h = holdAt('writeBlock.chunksWritten');
  const db = await open(dir, { hold: h.hold });
  const acked: string[] = [];
  for (let k = 0; k < 20; k++) acked.push(...write(db, 'm', range(50), T0 + k * 60_000));
  const flushing = db.flush();
  await h.reached;
  // Held with the block's chunks on disk and the head untouched: writes go on.
  acked.push(...write(db, 'm', range(60), T0 + HOUR)); // ten of them new series
  assert.deepEqual(samples(db, 'm'), acked.sort(), 'old and new samples are queryable during the flush');
  // Older than what the flush takes: refused now, exactly as right after a flush.
  assert.throws(
    () => write(db, 'm', [999], T0 + 5 * 60_000 + 1),
    (e: unknown) => e instanceof StorageError && e.code === 'too_old',
  );
  h.release();
  await flushing;
  assert.equal(db.listBlocks().length, 1);
  assert.equal(db.listBlocks()[0]!.meta.stats.numSamples, 50 * 20, 'the block holds exactly what the head held when the flush began');
  acked.push(...write(db, 'm', range(60), T0 + HOUR + 60_000));
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  await db.stop();
  const again = await open(dir);
  assert.deepEqual(samples(again, 'm'), [...acked].sort(), 'after a restart: the same samples, once each');
  await again.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('held after the block is written and before the head lets go: queries see each sample once', async () => {
  const dir = tempDir();
  const h = holdAt('compactHead.blockWritten');
  const db = await open(dir, { hold: h.hold });
  const acked: string[] = [];
  for (let k = 0; k < 10; k++) acked.push(...write(db, 'm', range(30), T0 + k * 60_000));
  const flushing = db.flush();
  await h.reached;
  acked.push(...write(db, 'm', range(30), T0 + HOUR));
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  h.release();
  await flushing;
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  await db.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('appends between every slice of a flush (slice budget 0) are all kept exactly once', async () => {
  const dir = tempDir();
  // Budget 0: the flush gives way after every series, so writes land between all of its steps.
  const db = await open(dir, { sliceMs: 0 });
  const acked: string[] = [];
  for (let k = 0; k < 5; k++) acked.push(...write(db, 'm', range(200), T0 + k * 60_000));
  let done = false;
  let turns = 0;
  const flushing = db.flush().finally(() => (done = true));
  // A writer that takes a turn whenever the flush yields: new series, old series, and series the
  // flush empties and drops from the head.
  for (let t = T0 + HOUR; !done; t += 10, turns++) {
    acked.push(...write(db, 'm', [...new Set([turns % 250, (turns * 7) % 250])], t));
    await yieldToLoop();
  }
  await flushing;
  assert.ok(turns > 50, `the writer got ${turns} turns during the flush`);
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  await db.stop();
  const again = await open(dir);
  assert.deepEqual(samples(again, 'm'), [...acked].sort(), 'after a restart too');
  await again.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a write and a query during block merging: the sources answer until the merged block replaces them', async () => {
  const dir = tempDir();
  const h = holdAt('mergeBlocks.inPlace');
  let now = T0 + 3 * HOUR;
  const db = await open(dir, { hold: h.hold, now: () => now, retentionMs: 100 * 24 * HOUR });
  const acked: string[] = [];
  for (let k = 0; k < 10; k++) acked.push(...write(db, 'm', range(40), T0 + k * 60_000));
  await db.compactHead(true);
  for (let k = 0; k < 10; k++) acked.push(...write(db, 'm', range(40), T0 + HOUR + k * 60_000));
  await db.compactHead(true);
  assert.equal(db.listBlocks().length, 2);
  now = T0 + 7 * HOUR; // the 6 h window of both blocks is over
  const merging = db.compactBlocks(false);
  await h.reached;
  acked.push(...write(db, 'm', range(40), T0 + 2 * HOUR));
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  h.release();
  assert.equal(await merging, 1);
  assert.equal(db.listBlocks().length, 1);
  assert.equal(db.listBlocks()[0]!.meta.compaction.level, 2);
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  await db.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a flush whose block write fails restores the fence: the head keeps its samples and takes older ones again', async () => {
  const dir = tempDir();
  const h = holdAt('writeBlock.chunksWritten');
  const db = await open(dir, { hold: h.hold });
  const acked: string[] = [];
  for (let k = 0; k < 5; k++) acked.push(...write(db, 'm', range(10), T0 + k * 60_000));
  const flushing = db.flush();
  await h.reached;
  // The block's temporary directory vanishes under the writer: its index write fails.
  const tmp = fs.readdirSync(path.join(dir, 'blocks')).find((n) => n.endsWith('.tmp'))!;
  fs.rmSync(path.join(dir, 'blocks', tmp), { recursive: true });
  h.release();
  await assert.rejects(flushing);
  assert.equal(db.listBlocks().length, 0);
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  // The fence is gone again: a sample just after the head's newest one for a new series is taken.
  acked.push(...write(db, 'm', [99], T0 + 4 * 60_000 - 1));
  await db.flush();
  assert.deepEqual(samples(db, 'm'), [...acked].sort());
  await db.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
