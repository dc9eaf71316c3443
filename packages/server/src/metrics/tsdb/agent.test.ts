import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';
import { tempDir } from '../../testkit/helpers.js';
import { AgentStorage } from './agent.js';
import { readWalFile, walCheckpoint, walSegmentPath, walSegments } from './wal.js';

const series = (i: number): Labels => labelsFrom({ __name__: 'agent_test', i: String(i) });

/** Every series and sample a WAL directory holds now (checkpoint and segments). */
function walContents(dir: string): { series: Map<number, string>; samples: Array<[number, number, number]> } {
  const out = { series: new Map<number, string>(), samples: [] as Array<[number, number, number]> };
  const h = {
    series: (ref: number, l: Labels) => out.series.set(ref, l.find((x) => x.name === 'i')!.value),
    sample: (ref: number, t: number, v: number) => out.samples.push([ref, t, v]),
  };
  const cp = walCheckpoint(dir);
  if (cp) readWalFile(cp.file, h);
  for (const s of walSegments(dir)) if (!cp || s > cp.index) readWalFile(walSegmentPath(dir, s), h);
  return out;
}

test('agent storage: appends are logged in the WAL only, checked for order, and survive a restart', async () => {
  const { dir, cleanup } = tempDir('vigil-agent-store-');
  try {
    const now = Date.now();
    const a = new AgentStorage({ walDir: path.join(dir, 'wal'), truncateIntervalMs: 0 });
    a.start();
    const app = a.appender();
    const r0 = app.append(0, series(0), now - 2000, 1);
    app.append(0, series(1), now - 2000, 10);
    assert.equal(app.append(r0, series(0), now - 1000, 2), r0);
    app.commit();
    const late = a.appender();
    assert.throws(
      () => late.append(r0, series(0), now - 1500, 9),
      (e: unknown) => e instanceof StorageError && e.code === 'out_of_order',
    );
    assert.throws(
      () => late.append(r0, series(0), now - 1000, 3),
      (e: unknown) => e instanceof StorageError && e.code === 'duplicate_sample',
    );
    late.append(r0, series(0), now - 1000, 2); // the same sample again: accepted, not logged twice
    assert.throws(
      () => late.append(0, series(2), now + 7_200_000, 1),
      (e: unknown) => e instanceof StorageError && e.code === 'too_new',
    );
    late.rollback();
    assert.equal(a.numSeries, 2, 'the rolled-back batch’s new series is taken back');
    assert.deepEqual(a.latestSample(series(0), now, 60_000), { t: now - 1000, v: 2 });
    assert.equal(a.latestSample(series(0), now - 1500, 60_000), undefined, 'newest sample is after t');
    assert.equal(a.stats().samplesAppended, 3);
    await a.stop();
    const wal = walContents(path.join(dir, 'wal'));
    assert.equal(wal.series.size, 2);
    assert.equal(wal.samples.length, 3);

    const b = new AgentStorage({ walDir: path.join(dir, 'wal'), truncateIntervalMs: 0 });
    b.start();
    assert.equal(b.numSeries, 2);
    assert.equal(b.maxt, now - 1000);
    const again = b.appender();
    // Known refs and the newest sample come back: the old sample is still out of order.
    assert.throws(
      () => again.append(0, series(0), now - 1500, 9),
      (e: unknown) => e instanceof StorageError && e.code === 'out_of_order',
    );
    assert.equal(again.append(0, series(0), now, 4), r0);
    assert.notEqual(again.append(0, series(5), now, 1), r0, 'a new series gets a new ref');
    again.commit();
    await b.stop();
  } finally {
    cleanup();
  }
});

test('agent storage: truncation condenses only segments the readers are past, and keeps the records of idle series they still need', async () => {
  const { dir, cleanup } = tempDir('vigil-agent-trunc-');
  try {
    let clock = Date.now();
    const walDir = path.join(dir, 'wal');
    const gone: number[] = [];
    const a = new AgentStorage({ walDir, truncateIntervalMs: 0, idleSeriesMs: 60_000, now: () => clock, onSeriesGone: (g) => gone.push(...g.keys()) });
    a.start();
    let held: number | undefined = a.walSegment;
    a.holdWal(() => held);
    const write = (ids: number[], t: number): void => {
      const app = a.appender();
      for (const i of ids) app.append(0, series(i), t, i);
      app.commit();
    };
    write([0, 1, 2], clock);
    const first = a.walSegment;
    // The reader is in the segment being written: a round starts a new segment and condenses nothing.
    await a.truncate();
    assert.equal(a.walSegment, first + 1);
    assert.equal(a.stats().truncations, 0);
    // Series 2 goes idle; 0 and 1 go on.
    clock += 120_000;
    write([0, 1], clock);
    // A reader still in the first segment: nothing is condensed and no segment opened.
    await a.truncate();
    assert.equal(a.walSegment, first + 1);
    assert.equal(walCheckpoint(walDir), undefined);
    assert.equal(a.numSeries, 2, 'series 2 left memory');
    // The reader is past the first segment: it becomes a checkpoint of series records only. Series
    // 2's record stays: the held segment (its samples there) may still need it after a restart.
    held = first + 1;
    await a.truncate();
    assert.equal(a.stats().truncations, 1);
    assert.deepEqual(gone, [], 'a held segment may still hold series 2’s samples');
    let wal = walContents(walDir);
    assert.deepEqual([...wal.series.values()].sort(), ['0', '1', '2']);
    assert.deepEqual(
      wal.samples.map(([, , v]) => v),
      [0, 1],
      'the first segment’s samples are gone; the held one’s stay',
    );
    // Once the readers are past every segment that can hold series 2’s samples, its record goes too.
    write([0, 1], clock + 1000);
    held = a.walSegment;
    await a.truncate();
    held = a.walSegment;
    await a.truncate();
    wal = walContents(walDir);
    assert.deepEqual([...wal.series.values()].sort(), ['0', '1']);
    // The readers are told then, and only then, that they may forget it.
    assert.equal(gone.length, 1);
    await a.stop();
    assert.ok(fs.readdirSync(walDir).length <= 3, `few files left: ${fs.readdirSync(walDir).join(' ')}`);
  } finally {
    cleanup();
  }
});

test('agent storage: thousands of series are each found by their labels', async () => {
  const { dir, cleanup } = tempDir('vigil-agent-hash-');
  try {
    const t = Date.now();
    const a = new AgentStorage({ walDir: path.join(dir, 'wal'), truncateIntervalMs: 0 });
    a.start();
    const refs = new Map<number, number>();
    const app = a.appender();
    for (let i = 0; i < 20_000; i++) refs.set(i, app.append(0, series(i), t, i));
    app.commit();
    assert.equal(new Set(refs.values()).size, 20_000);
    for (let i = 0; i < 20_000; i += 7) assert.deepEqual(a.latestSample(series(i), t, 1000), { t, v: i });
    const again = a.appender();
    for (let i = 0; i < 20_000; i += 13) assert.equal(again.append(0, series(i), t + 1, i), refs.get(i));
    again.commit();
    await a.stop();
  } finally {
    cleanup();
  }
});
