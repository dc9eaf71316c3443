// The out-of-order window in the head and the disk store: what the contract cannot see from
// outside (counters, the block cut taking buffered samples, the fence after a cut, commit races).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { StorageError } from '../../core/errors.js';
import { FloatHistogram } from '../../core/model/histogram.js';
import type { Querier } from '../storage/interface.js';
import { DB } from './db.js';
import { Head } from './head.js';
import { OooSamples } from './ooo.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const lbl = labelsFrom({ __name__: 'm' });

function samples(q: Querier): Array<[number, number]> {
  const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', 'm')]);
  const out: Array<[number, number]> = [];
  while (ss.next()) {
    const it = ss.at().iterator();
    while (it.next()) out.push([it.t(), it.v()]);
  }
  q.close();
  return out;
}

test('the buffer keeps samples sorted, finds them by time and drops a prefix', () => {
  const b = new OooSamples();
  for (const t of [50, 10, 30, 20, 40, 5, 60, 70, 80, 1]) b.insert(t, t / 10);
  assert.deepEqual([...b.ts.subarray(0, b.n)], [1, 5, 10, 20, 30, 40, 50, 60, 70, 80]);
  assert.equal(b.valueAt(30), 3);
  assert.equal(b.valueAt(31), undefined);
  b.dropBefore(25);
  assert.equal(b.mint, 30);
  assert.equal(b.maxt, 80);
  assert.deepEqual([...b.slice(40, 60).ts], [40, 50, 60]);
});

test('head: the window is measured from the newest sample; counters tell accepted from dropped', () => {
  const head = new Head({ outOfOrderWindowMs: 10 * MIN, now: () => T0 });
  const a = head.appender();
  a.append(0, lbl, T0 - 5 * MIN, 1);
  a.commit();
  const b = head.appender();
  b.append(0, lbl, T0 - 10 * MIN, 2);
  assert.throws(
    () => b.append(0, lbl, T0 - 16 * MIN, 3),
    (e: unknown) => e instanceof StorageError && e.code === 'out_of_order' && /out of order sample/.test(e.message),
  );
  b.commit();
  assert.equal(head.samplesOutOfOrderAppended, 1);
  assert.deepEqual(samples(head.querier(-Infinity, Infinity)), [
    [T0 - 10 * MIN, 2],
    [T0 - 5 * MIN, 1],
  ]);
  // Two batches race for one late timestamp: the first commit wins, the second is dropped and counted.
  const x = head.appender();
  const y = head.appender();
  x.append(0, lbl, T0 - 8 * MIN, 10);
  y.append(0, lbl, T0 - 8 * MIN, 20);
  x.commit();
  y.commit();
  assert.equal(head.samplesOutOfOrder, 1);
  assert.equal(head.samplesOutOfOrderAppended, 2);
  assert.deepEqual(samples(head.querier(T0 - 9 * MIN, T0 - 7 * MIN)), [[T0 - 8 * MIN, 10]]);
  // The window off: the old rule again.
  head.outOfOrderWindowMs = 0;
  assert.throws(
    () => head.appender().append(0, lbl, T0 - 7 * MIN, 1),
    (e: unknown) => e instanceof StorageError && e.code === 'out_of_order',
  );
});

test('disk store: a block cut takes the late samples before its end, merged into its chunks; the head keeps the rest', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ooo-'));
  const db = new DB({ dir, blockRange: 10 * MIN, maintenanceIntervalMs: 0, outOfOrderWindowMs: 30 * MIN, now: () => T0 + 40 * MIN });
  await db.start();
  try {
    const a = db.appender();
    for (let i = 0; i <= 40; i += 2) a.append(0, lbl, T0 + i * MIN, i);
    a.commit();
    const late = db.appender();
    for (let i = 11; i <= 39; i += 2) late.append(0, lbl, T0 + i * MIN, i);
    late.commit();
    // The head spans 40 minutes: windows are cut until it spans at most 15.
    assert.ok((await db.compactHead(false)) >= 2);
    const blocks = db.listBlocks();
    const inBlocks = blocks.flatMap((b) => samples(b.querier(-Infinity, Infinity)));
    const inHead = samples(db.head.querier(-Infinity, Infinity));
    // Every sample once, in exactly one place, the late ones where their time puts them.
    const all = [...inBlocks, ...inHead].sort((x, y) => x[0] - y[0]);
    const expected = [...Array.from({ length: 21 }, (_, k) => 2 * k), ...Array.from({ length: 15 }, (_, k) => 11 + 2 * k)].sort((x, y) => x - y);
    assert.deepEqual(
      all,
      expected.map((i) => [T0 + i * MIN, i]),
    );
    const cutEnd = db.head.minValidTime;
    assert.ok(inBlocks.every(([t]) => t < cutEnd) && inHead.every(([t]) => t >= cutEnd));
    assert.ok(
      inBlocks.some(([t]) => t === T0 + 11 * MIN),
      'a late sample went into a block',
    );
    for (const b of blocks) {
      const ts = samples(b.querier(-Infinity, Infinity)).map(([t]) => t);
      assert.deepEqual(
        ts,
        [...ts].sort((x, y) => x - y),
        `block ${b.ulid} reads back in time order`,
      );
    }
    // Within the window but before the cut: refused as too old, naming the head's start.
    assert.throws(
      () => db.appender().append(0, lbl, cutEnd - 30_000, 1),
      (e: unknown) => e instanceof StorageError && e.code === 'too_old',
    );
    // The merged query over blocks and head is the same series.
    assert.deepEqual(
      samples(db.querier(-Infinity, Infinity)),
      expected.map((i) => [T0 + i * MIN, i]),
    );
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('disk store: a series that switches to histograms and back keeps its late float sample in a block that reads back in order', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ooo-'));
  const db = new DB({ dir, maintenanceIntervalMs: 0, outOfOrderWindowMs: 30 * MIN, now: () => T0 + 10 * MIN });
  await db.start();
  try {
    const a = db.appender();
    for (let i = 0; i <= 4; i++) a.append(0, lbl, T0 + i * MIN, i);
    a.commit();
    const late = db.appender();
    late.append(0, lbl, T0 + 2.5 * MIN, 2.5);
    late.commit();
    // Histograms from minute 5, floats again from minute 7: the late float may no longer come.
    const h = db.appender();
    h.appendHistogram(
      0,
      lbl,
      T0 + 5 * MIN,
      FloatHistogram.of({ schema: 0, count: 1, sum: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] }),
    );
    h.append(0, lbl, T0 + 7 * MIN, 7);
    assert.throws(
      () => h.append(0, lbl, T0 + 3.5 * MIN, 3.5),
      (e: unknown) => e instanceof StorageError && e.code === 'out_of_order',
    );
    h.commit();
    await db.flush();
    assert.equal(db.listBlocks().length, 1);
    const q = db.listBlocks()[0]!.querier(-Infinity, Infinity);
    const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', 'm')]);
    const got: Array<[number, string]> = [];
    while (ss.next()) {
      const it = ss.at().iterator();
      while (it.next()) got.push([(it.t() - T0) / MIN, it.h?.() ? 'h' : String(it.v())]);
    }
    q.close();
    assert.deepEqual(got, [
      [0, '0'],
      [1, '1'],
      [2, '2'],
      [2.5, '2.5'],
      [3, '3'],
      [4, '4'],
      [5, 'h'],
      [7, '7'],
    ]);
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a series with out-of-order samples reads in bulk to its end, as the engine reads floats', () => {
  const head = new Head({ now: () => T0, outOfOrderWindowMs: 30 * MIN });
  const a = head.appender();
  const ref = a.append(0, lbl, T0, 1);
  a.append(ref, lbl, T0 + 2 * MIN, 3);
  a.commit();
  const late = head.appender();
  late.append(ref, lbl, T0 + MIN, 2);
  late.commit();
  const q = head.querier(T0 - MIN, T0 + 10 * MIN);
  const set = q.select({ start: T0 - MIN, end: T0 + 10 * MIN }, [new Matcher('=', '__name__', 'm')]);
  assert.ok(set.next());
  const it = set.at().iterator();
  assert.ok(it.seek(T0 - MIN));
  const sink = { ts: new Float64Array(0), vs: new Float64Array(0), n: 0, start: 0 };
  // The merged samples run out before maxt: the read ends there instead of asking a spent iterator for its time.
  assert.equal(it.readFloats!(T0 + 10 * MIN, sink, true), true);
  assert.deepEqual([...sink.ts.subarray(0, sink.n)], [T0, T0 + MIN, T0 + 2 * MIN]);
  assert.deepEqual([...sink.vs.subarray(0, sink.n)], [1, 2, 3]);
  q.close();
});
