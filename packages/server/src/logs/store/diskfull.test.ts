/**
 * Writes that fail part-way, through the store's I/O seam (the one injection: a real full disk is
 * another test's job): the file is cut back, the push refused with a typed error and nothing of it
 * applied; a failed seal keeps the lines in the head and WAL; ingest resumes by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { StorageError } from '../../core/errors.js';
import { LogStore } from './store.js';
import type { LogIo } from '../../core/util/appendfile.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const NOW = Number(T0 / 1_000_000n);

/**
 * Real writes until armed; then writes to files matching `target` write up to `budget` bytes and
 * fail with `code` (as the kernel does when the disk fills mid-write).
 */
class FailingIo implements LogIo {
  budget = Infinity;
  code = 'ENOSPC';
  target: RegExp = /./;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number): number {
    if (this.budget === Infinity || !this.target.test(fs.readlinkSync(`/proc/self/fd/${fd}`))) return fs.writeSync(fd, buf, off, len);
    const n = Math.min(len, this.budget);
    if (n > 0) fs.writeSync(fd, buf, off, n);
    this.budget -= n;
    if (n < len) throw Object.assign(new Error(`${this.code}: simulated`), { code: this.code });
    return n;
  }
}

const lines = (store: LogStore, app = 'a'): string[] =>
  store
    .query({ matchers: [new Matcher('=', 'app', app)], start: 0n, end: 1n << 62n, direction: 'forward', limit: 1e6 })
    .flatMap((g) => g.entries.map((e) => e.line));
const batch = (b: number, n = 10, app = 'a') => [
  {
    labels: labelsFrom({ app }),
    entries: Array.from({ length: n }, (_, i) => ({ t: T0 + BigInt(b * n + i) * 1000n, line: `b=${b} i=${i} ${'x'.repeat(40)}` })),
  },
];
const walFile = (dir: string): string =>
  path.join(
    dir,
    'wal',
    fs
      .readdirSync(path.join(dir, 'wal'))
      .filter((f) => /^\d{8}$/.test(f))
      .sort()
      .at(-1)!,
  );

test('a WAL write that fails part-way is cut back and refused, and ingest resumes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logfull-'));
  const io = new FailingIo();
  const store = new LogStore({ dir, io, now: () => NOW });
  store.start();
  store.push(batch(0));
  const size = fs.statSync(walFile(dir)).size;
  io.target = /wal/;
  io.budget = 100;
  assert.throws(
    () => store.push(batch(1)),
    (e: unknown) => e instanceof StorageError && e.code === 'disk_full' && /no space/.test(e.message),
  );
  assert.equal(fs.statSync(walFile(dir)).size, size, 'torn bytes cut off');
  assert.match(store.writeProblem() ?? '', /no space/);
  assert.equal(lines(store).length, 10, 'refused lines not applied');
  io.code = 'EIO';
  io.budget = 3;
  assert.throws(
    () => store.push(batch(1)),
    (e: unknown) => e instanceof StorageError && e.code === 'closed',
  );
  io.budget = Infinity;
  store.push(batch(2));
  assert.equal(store.writeProblem(), undefined);
  assert.equal(lines(store).length, 20);
  // As after kill -9: a second store on the directory sees exactly the acknowledged lines.
  const again = new LogStore({ dir });
  assert.deepEqual(again.start(), []);
  assert.deepEqual(
    lines(again),
    [...batch(0), ...batch(2)].flatMap((s) => s.entries.map((e) => e.line)),
  );
  again.stop();
  store.stop();
});

test('a stream record that cannot be written refuses the push and leaves no stream', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logfull-'));
  const io = new FailingIo();
  const store = new LogStore({ dir, io, now: () => NOW });
  store.start();
  store.push(batch(0));
  io.target = /streams$/;
  io.budget = 5;
  assert.throws(
    () => store.push(batch(1, 10, 'new')),
    (e: unknown) => e instanceof StorageError && e.code === 'disk_full',
  );
  assert.deepEqual(store.labelValues('app'), ['a']);
  io.budget = Infinity;
  store.push(batch(1, 10, 'new'));
  assert.deepEqual(store.labelValues('app'), ['a', 'new']);
  const again = new LogStore({ dir });
  assert.deepEqual(again.start(), []);
  assert.equal(lines(again, 'new').length, 10);
  again.stop();
  store.stop();
});

test('a failed seal keeps the lines in the head and WAL, cuts the chunk files back and retries', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logfull-'));
  const io = new FailingIo();
  const store = new LogStore({ dir, io, chunkTargetBytes: 1024, walSegmentBytes: 1 << 20, now: () => NOW });
  store.start();
  const sizes = (): number[] =>
    fs
      .readdirSync(path.join(dir, 'chunks'))
      .sort()
      .map((f) => fs.statSync(path.join(dir, 'chunks', f)).size);
  const want: string[] = [];
  for (const target of [/\.dat$/, /\.idx$/]) {
    const before = sizes();
    io.target = target;
    io.budget = 20;
    const b = want.length / 30;
    // Acknowledged: the WAL write succeeded; only the seal failed.
    assert.equal(store.push(batch(b, 30)).accepted, 30);
    want.push(...batch(b, 30)[0]!.entries.map((e) => e.line));
    assert.match(store.writeProblem() ?? '', /no space/);
    assert.deepEqual(sizes(), before, `${target}: chunk files cut back`);
    assert.equal(store.counters.chunksSealed, 0);
    assert.deepEqual(lines(store), want);
    assert.equal(store.checkpoint(), false, 'no checkpoint while a seal fails');
  }
  io.budget = Infinity;
  store.push(batch(2, 30));
  want.push(...batch(2, 30)[0]!.entries.map((e) => e.line));
  assert.equal(store.writeProblem(), undefined);
  assert.ok(store.counters.chunksSealed >= 1, 'the next push sealed');
  assert.deepEqual(lines(store), want);
  const again = new LogStore({ dir });
  assert.deepEqual(again.start(), []);
  assert.deepEqual(lines(again), want, 'nothing lost or doubled after a restart');
  again.stop();
  store.stop();
});

test('lines too far in the future are refused per entry and do not block current lines', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logfuture-'));
  const store = new LogStore({ dir, now: () => NOW });
  store.start();
  const l = labelsFrom({ app: 'a' });
  const tenYears = T0 + 10n * 365n * 86_400n * 1_000_000_000n;
  const r = store.push([
    {
      labels: l,
      entries: [
        { t: tenYears, line: 'from a broken clock' },
        { t: T0 + 300_000_000_000n, line: 'five minutes ahead' },
      ],
    },
  ]);
  assert.equal(r.accepted, 1);
  assert.equal(r.rejected.length, 1);
  assert.match(r.rejected[0]!.reason, /too far in the future/);
  assert.equal(r.rejected[0]!.t, tenYears);
  // An hour-old line is within the out-of-order window of the accepted newest line.
  const r2 = store.push([{ labels: l, entries: [{ t: T0 - 1_000_000_000n, line: 'now-ish' }] }]);
  assert.equal(r2.accepted, 1);
  assert.deepEqual(lines(store), ['now-ish', 'five minutes ahead']);
  store.stop();
});

test('retention-dropped chunks whose lines are still in the WAL do not come back on replay', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logretain-'));
  const store = new LogStore({ dir, chunkTargetBytes: 256, chunkFileBytes: 512, retentionBytes: 3000, walSegmentBytes: 1 << 20, now: () => NOW });
  store.start();
  // A stream that goes quiet: retention drops all of its chunks, so no newer chunk's mark covers them.
  for (let b = 0; b < 20; b++) store.push(batch(b, 4, 'old'));
  for (let b = 0; b < 20; b++) store.push(batch(b, 4));
  store.enforceRetention();
  const kept = { old: lines(store, 'old'), a: lines(store) };
  assert.ok(kept.old.length < 80, `${kept.old.length} old lines kept`);
  // Not closed: the WAL still holds every line, as after kill -9.
  const again = new LogStore({ dir });
  again.start();
  assert.deepEqual({ old: lines(again, 'old'), a: lines(again) }, kept);
  again.stop();
  store.stop();
});
