// The WAL under write failures: a disk that fills up part-way through a record must never leave a
// torn record for later, acknowledged records to be appended behind, and damage in the middle of a
// segment must not take the records after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';
import { Head } from './head.js';
import { Wal, walSegments } from './wal.js';
import { waitFor } from '../../testkit/helpers.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-wal-'));
}

/** A write call that fails with ENOSPC (after writing `partial` bytes of the failing call) while `full()` says so. */
function fillableDisk(): { writeSync: (fd: number, d: Uint8Array, o: number, l: number) => number; full: boolean; partial: number } {
  const disk = {
    full: false,
    partial: 0,
    writeSync(fd: number, data: Uint8Array, off: number, len: number): number {
      if (!disk.full) return fs.writeSync(fd, data, off, len);
      if (disk.partial > 0) {
        // The kernel took some bytes, then the disk filled: the next call reports ENOSPC.
        const n = Math.min(disk.partial, len);
        disk.partial -= n;
        return fs.writeSync(fd, data, off, n);
      }
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    },
  };
  return disk;
}

function replayCount(dir: string): { samples: Map<number, number[]>; repairs: string[] } {
  const wal = new Wal(dir, { warn: () => {} });
  const samples = new Map<number, number[]>();
  const stats = wal.replay({ series: () => {}, sample: (ref, t) => samples.set(ref, [...(samples.get(ref) ?? []), t]) });
  wal.close();
  return { samples, repairs: stats.repairs };
}

test('a write that fails part-way is cut back; later acknowledged writes all replay', () => {
  const dir = tempDir();
  try {
    const disk = fillableDisk();
    const head = new Head({ wal: new Wal(dir, { warn: () => {}, writeSync: disk.writeSync }), now: () => 0 });
    const wal = (head as unknown as { wal: Wal }).wal;
    wal.replay({ series: () => {}, sample: () => {} });
    const acked: number[] = [];
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      // The disk fills at batch 100 (100 bytes of the record get through) and frees at batch 200.
      if (i === 100) {
        disk.full = true;
        disk.partial = 100;
      }
      if (i === 200) disk.full = false;
      const app = head.appender();
      for (let s = 0; s < 20; s++) app.append(0, labelsFrom({ __name__: 'm', s: String(s) }), i * 1000, i);
      try {
        app.commit();
        acked.push(i);
      } catch (err) {
        app.rollback();
        assert.ok(err instanceof StorageError);
        assert.equal(err.code, 'disk_full');
        assert.match(err.message, /no space left on device/);
        assert.match(wal.writeProblem() ?? '', /no space/);
        refused++;
      }
    }
    assert.equal(wal.writeProblem(), undefined, 'the condition clears with the first good write');
    assert.equal(refused, 100);
    wal.close();
    const { samples, repairs } = replayCount(dir);
    assert.deepEqual(repairs, [], 'nothing torn was left in the log');
    assert.equal(samples.size, 20);
    for (const ts of samples.values())
      assert.deepEqual(
        ts,
        acked.map((i) => i * 1000),
      );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a series first seen in a refused batch is logged again with the next batch', () => {
  const dir = tempDir();
  try {
    const disk = fillableDisk();
    const wal = new Wal(dir, { warn: () => {}, writeSync: disk.writeSync });
    wal.replay({ series: () => {}, sample: () => {} });
    const head = new Head({ wal, now: () => 0 });
    disk.full = true;
    const a = head.appender();
    a.append(0, labelsFrom({ __name__: 'fresh' }), 1000, 1);
    assert.throws(() => a.commit(), /no space/);
    a.rollback();
    disk.full = false;
    const b = head.appender();
    b.append(0, labelsFrom({ __name__: 'fresh' }), 2000, 2);
    b.commit();
    wal.close();
    const replayed = new Head({ now: () => 0 });
    new Wal(dir, { warn: () => {} }).replay({ series: (ref, l) => replayed.replaySeries(ref, l), sample: (ref, t, v) => replayed.replaySample(ref, t, v) });
    assert.equal(replayed.numSeries, 1);
    assert.equal(replayed.stats().samplesAppended, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Descriptors this process holds open on files in `dir`. */
function openFilesIn(dir: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // The descriptor readdir itself used, closed meanwhile.
    }
  }
  return n;
}

/** A head over a fresh WAL of 4 KiB segments, so a few thousand samples span many of them. */
function smallSegmentHead(dir: string): { wal: Wal; head: Head } {
  const wal = new Wal(dir, { warn: () => {}, segmentBytes: 4096 });
  wal.replay({ series: () => {}, sample: () => {} });
  return { wal, head: new Head({ wal, now: () => 0 }) };
}

test('at each segment change the finished segment is closed (its fsync runs in the background); every record replays', async () => {
  const dir = tempDir();
  try {
    const { wal, head } = smallSegmentHead(dir);
    let ref = 0;
    for (let t = 1; t <= 2000; t++) {
      const a = head.appender();
      ref = a.append(ref, labelsFrom({ __name__: 'segmented' }), t, t);
      a.commit();
    }
    assert.ok(walSegments(dir).length > 10, `${walSegments(dir).length} segments`);
    // Only the segment being written stays open once the background syncs are done.
    await waitFor('finished segments closed', () => Promise.resolve(openFilesIn(dir) === 1 ? true : undefined), 10_000, 10);
    wal.close();
    assert.equal(openFilesIn(dir), 0);
    assert.deepEqual(
      replayCount(dir).samples.get(ref),
      Array.from({ length: 2000 }, (_, i) => i + 1),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('damage in the middle of a segment skips only the damaged record', () => {
  const dir = tempDir();
  try {
    const head = new Head({ wal: new Wal(dir, { warn: () => {} }), now: () => 0 });
    const wal = (head as unknown as { wal: Wal }).wal;
    wal.replay({ series: () => {}, sample: () => {} });
    const offsets: number[] = [];
    const seg = (): string =>
      path.join(
        dir,
        fs
          .readdirSync(dir)
          .filter((f) => /^\d{8}$/.test(f))
          .sort()
          .at(-1)!,
      );
    for (let i = 0; i < 50; i++) {
      offsets.push(fs.existsSync(seg()) ? fs.statSync(seg()).size : 0);
      const app = head.appender();
      app.append(0, labelsFrom({ __name__: 'm' }), i * 1000, i);
      app.commit();
    }
    wal.close();
    // Flip bits inside the record of batch 20 (its samples record follows the series record of batch 0 only).
    const file = seg();
    const buf = fs.readFileSync(file);
    for (const bit of [3, 17, 29]) buf[offsets[20]! + 12 + (bit >> 3)]! ^= 1 << (bit & 7);
    fs.writeFileSync(file, buf);
    const { samples, repairs } = replayCount(dir);
    assert.equal(repairs.length, 1);
    assert.match(repairs[0]!, /checksum mismatch at byte \d+; skipped \d+ bytes to the next intact record/);
    const ts = samples.get(1)!;
    assert.equal(ts.length, 49);
    assert.ok(!ts.includes(20_000));
    assert.ok(ts.includes(49_000), 'records after the damage are kept');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('samples stamped too far ahead of the clock are refused; the head stays usable', () => {
  const now = Date.UTC(2026, 11, 2);
  const head = new Head({ now: () => now });
  const tenYears = now + 10 * 365 * 86_400_000;
  const a = head.appender();
  assert.throws(
    () => a.append(0, labelsFrom({ __name__: 'm' }), tenYears, 1),
    (err: unknown) => err instanceof StorageError && err.code === 'too_new' && /is more than 3600s ahead of the server's clock/.test(err.message),
  );
  a.rollback();
  const b = head.appender();
  b.append(0, labelsFrom({ __name__: 'm' }), now + 3_600_000, 1); // the edge of the window is accepted
  b.commit();
  const c = head.appender();
  assert.throws(() => c.append(0, labelsFrom({ __name__: 'm' }), 9e15, 1), /9000000000000000 ms/);
  c.rollback();
});

test('replay and checkpoint read small and large segments through one buffer; every sample comes back', async () => {
  const dir = tempDir();
  try {
    const { wal, head } = smallSegmentHead(dir);
    let ref = 0;
    const append = (from: number, to: number, perCommit: number): void => {
      for (let t = from; t <= to; t += perCommit) {
        const a = head.appender();
        for (let k = t; k < t + perCommit && k <= to; k++) ref = a.append(ref, labelsFrom({ __name__: 'mixed' }), k, k);
        a.commit();
      }
    };
    // Small records in small segments, then one record several times a segment's size (its own,
    // larger segment: the shared buffer must grow), then small ones again.
    append(1, 600, 1);
    append(601, 5600, 5000);
    append(5601, 6200, 1);
    assert.ok(walSegments(dir).length > 5, `${walSegments(dir).length} segments`);
    const want = Array.from({ length: 6200 }, (_, i) => i + 1);
    wal.close();
    assert.deepEqual(replayCount(dir).samples.get(ref), want);
    // A checkpoint keeping everything reads every segment twice through the same buffer.
    const again = new Wal(dir, { warn: () => {}, segmentBytes: 4096 });
    again.replay({ series: () => {}, sample: () => {} });
    assert.notEqual(await again.truncate(0, () => true), undefined);
    again.close();
    assert.deepEqual(replayCount(dir).samples.get(ref), want);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
