// Retention anchored to the clock, head compaction that keeps the head when the block write fails,
// and blocks in the old index layout (3, no chunk checksums) still opening and answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyTsdb } from '../../server/cmd/tsdb_verify.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { ByteWriter } from '../../core/util/bytes.js';
import { crc32 } from '../../core/util/crc32.js';
import { writeBlock } from './block.js';
import { newUlid } from './block_format.js';
import { toBlockChunk } from './chunkenc/blockchunk.js';
import { XorEncoder } from './chunkenc/xor.js';
import { DB } from './db.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2025, 0, 1);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-blocks-'));
}

function count(db: DB, metric: string): number {
  const q = db.querier(-Infinity, Infinity);
  const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', metric)]);
  let n = 0;
  while (ss.next()) for (const it = ss.at().iterator(); it.next();) n++;
  q.close();
  return n;
}

function appendRange(db: DB, metric: string, from: number, to: number, step: number): number {
  const a = db.appender();
  let ref = 0;
  let n = 0;
  for (let t = from; t < to; t += step, n++) ref = a.append(ref, labelsFrom({ __name__: metric }), t, t / 1000);
  a.commit();
  return n;
}

test('one sample ten years ahead deletes nothing: retention and merging follow the clock', async () => {
  const dir = tempDir();
  const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW, retentionMs: 15 * DAY });
  await db.start();
  try {
    const n = appendRange(db, 'cur', NOW - 8 * HOUR, NOW, 60_000);
    await db.compactHead(false);
    const blocks = db.listBlocks().length;
    assert.ok(blocks >= 2);
    // Straight into the head, past any bound on appends: db.ts must hold up on its own.
    db.head.appendChecked(db.head.getOrCreate(labelsFrom({ __name__: 'future' })), NOW + 3650 * DAY, 1);
    await db.maintain();
    await db.applyRetention();
    assert.ok(db.listBlocks().length >= 1);
    assert.equal(count(db, 'cur'), n, 'no current data deleted');
    assert.ok(
      db.listBlocks().every((b) => b.maxTime <= NOW),
      'the future sample did not close current windows into its block',
    );
    // A block from the future on disk: still nothing current is deleted.
    await writeBlock(path.join(dir, 'blocks'), [], { minTime: NOW + 3650 * DAY, maxTime: NOW + 3650 * DAY + 2 * HOUR }, { level: 1 }, NOW);
    await db.stop();
    const again = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW, retentionMs: 15 * DAY });
    await again.start();
    await again.maintain();
    assert.equal(count(again, 'cur'), n);
    await again.stop();
    // Only what lies wholly before now - retention goes.
    const later = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW + 15 * DAY + 3 * HOUR, retentionMs: 15 * DAY });
    await later.start();
    await later.applyRetention();
    assert.ok(later.listBlocks().every((b) => b.maxTime > NOW - 8 * HOUR + 3 * HOUR));
    assert.ok(
      later.listBlocks().some((b) => b.minTime > NOW),
      'the future block is kept',
    );
    await later.stop();
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a block write that fails leaves the head intact, no .tmp behind, and the next maintenance retries', async () => {
  const dir = tempDir();
  const errors: string[] = [];
  const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m), child: () => logger };
  const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW, logger });
  await db.start();
  try {
    const n = appendRange(db, 'm', NOW - 6 * HOUR, NOW, 60_000);
    // The blocks directory replaced by a file: every block write fails for real (ENOTDIR).
    const blocksDir = path.join(dir, 'blocks');
    fs.rmSync(blocksDir, { recursive: true });
    fs.writeFileSync(blocksDir, '');
    await db.maintain();
    assert.match(errors.join('\n'), /head compaction failed/);
    assert.equal(db.listBlocks().length, 0);
    assert.equal(count(db, 'm'), n, 'the head still holds every sample');
    fs.rmSync(blocksDir);
    fs.mkdirSync(blocksDir);
    await db.maintain();
    assert.ok(db.listBlocks().length > 0);
    assert.equal(count(db, 'm'), n);
    assert.deepEqual(
      fs.readdirSync(blocksDir).filter((x) => x.endsWith('.tmp')),
      [],
    );
    await db.stop();
    const again = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW });
    await again.start();
    assert.equal(count(again, 'm'), n);
    await again.stop();
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Writes a block in index layout 3 exactly as the writer before chunk checksums did. */
function writeV3Block(parent: string, metric: string, samples: Array<[number, number]>): string {
  const ulid = newUlid(NOW);
  const dir = path.join(parent, ulid);
  fs.mkdirSync(dir, { recursive: true });
  const enc = new XorEncoder();
  for (const [t, v] of samples) enc.append(t, v);
  const chunk = toBlockChunk(enc.bytesView().subarray(0, enc.byteLength));
  fs.writeFileSync(path.join(dir, 'chunks'), chunk);
  const minTime = samples[0]![0];
  const maxTime = samples.at(-1)![0] + 1;
  const idx = new ByteWriter();
  idx.bytes(Buffer.from('VIGILIX3'));
  const symbols = ['__name__', metric];
  idx.uvarint(symbols.length);
  for (const s of symbols) idx.str(s);
  idx.uvarint(1); // series
  idx.uvarint(1); // labels
  idx.uvarint(0);
  idx.uvarint(1);
  idx.uvarint(1); // chunks
  idx.svarint(enc.mint - minTime);
  idx.uvarint(enc.maxt - enc.mint);
  idx.uvarint(0); // offset
  idx.uvarint(chunk.length);
  idx.uvarint(1); // postings pairs
  idx.uvarint(0);
  idx.uvarint(1);
  idx.uvarint(1);
  idx.uvarint(0);
  idx.u32(crc32(idx.view()));
  fs.writeFileSync(path.join(dir, 'index'), idx.view());
  const meta = {
    ulid,
    minTime,
    maxTime,
    stats: { numSamples: samples.length, numSeries: 1, numChunks: 1 },
    compaction: { level: 1, sources: [ulid] },
    version: 1,
  };
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
  return ulid;
}

test('a block in the old index layout (VIGILIX3, no chunk checksums) opens, answers and verifies; its damage is a warning', async () => {
  const dir = tempDir();
  try {
    const blocksDir = path.join(dir, 'blocks');
    const samples = Array.from({ length: 100 }, (_, i) => [NOW - 5 * HOUR + i * 60_000, i] as [number, number]);
    const ulid = writeV3Block(blocksDir, 'old', samples);
    const lines: string[] = [];
    assert.equal(
      verifyTsdb(dir, (l) => lines.push(l)),
      0,
    );
    assert.match(lines.join('\n'), /layout 3/);
    const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW });
    await db.start();
    assert.equal(db.listBlocks()[0]!.version, 3);
    assert.equal(db.listBlocks()[0]!.ulid, ulid);
    assert.equal(count(db, 'old'), 100);
    // Damage in an unchecksummed chunk surfaces as a decoding problem: a warning, not a failure.
    await db.stop();
    const f = path.join(blocksDir, ulid, 'chunks');
    const buf = fs.readFileSync(f);
    buf.fill(0xff, 4); // same size, so the index still matches the file
    fs.writeFileSync(f, buf);
    const damaged = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW });
    await damaged.start();
    const q = damaged.querier(-Infinity, Infinity);
    const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', 'old')]);
    let n = 0;
    while (ss.next()) for (const it = ss.at().iterator(); it.next();) n++;
    assert.ok(n < 100);
    assert.match(ss.warnings().join('\n'), new RegExp(`corrupt chunk: block ${ulid}, series old\\{\\}, chunk at offset 0: read past the end`));
    await damaged.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a block's chunks file starts with a magic and a format version; a damaged header quarantines the block", async () => {
  const dir = tempDir();
  try {
    const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW });
    await db.start();
    const n = appendRange(db, 'framed', NOW - 3 * HOUR, NOW, 60_000);
    await db.flush();
    const [block] = db.listBlocks();
    assert.ok(block);
    assert.equal(block.version, 5);
    const chunks = path.join(block.dir, 'chunks');
    assert.deepEqual([...fs.readFileSync(chunks).subarray(0, 8)], [0x56, 0x43, 0x48, 0x4b, 1, 0, 0, 0]);
    assert.equal(count(db, 'framed'), n);
    await db.stop();

    // A chunk format this code does not know is refused at open, not misread.
    const fd = fs.openSync(chunks, 'r+');
    fs.writeSync(fd, Buffer.from([9]), 0, 1, 4);
    fs.closeSync(fd);
    const lines: string[] = [];
    assert.equal(
      verifyTsdb(dir, (l) => lines.push(l)),
      1,
    );
    assert.match(lines.join('\n'), /unknown chunk format version 9/);
    const reopened = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW });
    await reopened.start();
    assert.equal(reopened.listBlocks().length, 0, 'the block was quarantined');
    assert.ok(fs.readdirSync(path.join(dir, 'blocks')).some((f) => f.endsWith('.corrupt')));
    await reopened.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a query still reading a block that retention drops meanwhile gets all its samples; the file closes when the query does', async () => {
  const dir = tempDir();
  let now = NOW;
  const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => now, retentionMs: 15 * DAY });
  await db.start();
  try {
    const n = appendRange(db, 'old', NOW - 8 * HOUR, NOW - 4 * HOUR, 60_000);
    await db.compactHead(false);
    const dropped = db.listBlocks().filter((b) => b.maxTime <= NOW - 4 * HOUR + 1);
    assert.ok(dropped.length >= 1);
    // A paced query selects, then yields to the event loop before reading the chunks.
    const q = db.querier(-Infinity, Infinity);
    const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', 'old')]);
    now = NOW + 16 * DAY;
    await db.applyRetention();
    assert.ok(!db.listBlocks().some((b) => dropped.includes(b)), 'retention dropped the blocks');
    // Each descriptor the blocks held is still theirs: opening other files must not take its number.
    const others = Array.from({ length: 8 }, () => fs.openSync(path.join(dir, '..'), 'r'));
    let read = 0;
    while (ss.next()) for (const it = ss.at().iterator(); it.next();) read++;
    for (const fd of others) fs.closeSync(fd);
    assert.equal(read, n);
    const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = openFds();
    q.close();
    assert.equal(openFds(), before - dropped.length, "the dropped blocks' files close with the last query reading them");
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
