// The WAL watcher on a real WAL: it follows appends across segments, resumes from a saved position
// with every series resolved, and a checkpoint keeps the segments a reader still needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom, type Labels } from '../../../core/model/labels.js';
import { FloatHistogram } from '../../../core/model/histogram.js';
import { RecordType, Wal, WalRecordWriter, walSegments } from '../../tsdb/wal.js';
import { WalWatcher, type WalPosition, type WatcherSink } from './watcher.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watch-'));
}

/** Appends one series record and one samples record (ref 1..n, timestamps t..t+k-1) to the WAL. */
function append(wal: Wal, ref: number, t: number, k: number, withSeries: boolean): void {
  const rw = new WalRecordWriter();
  if (withSeries) {
    rw.begin(RecordType.series);
    rw.series(ref, labelsFrom({ __name__: 'm', ref: String(ref) }));
    rw.end();
  }
  rw.begin(RecordType.samples);
  for (let i = 0; i < k; i++) rw.sample(ref, t + i, t + i);
  rw.end();
  wal.write(rw.w.view());
}

/** A sink that collects what the watcher reads and can be made full. */
function collector(): WatcherSink & { got: Array<[string, number]>; ends: WalPosition[]; isFull: boolean; limit: number; release(): void } {
  const names = new Map<number, Labels>();
  let wake: (() => void) | undefined;
  const c = {
    got: [] as Array<[string, number]>,
    ends: [] as WalPosition[],
    isFull: false,
    limit: 1000,
    series: (ref: number, l: Labels) => void names.set(ref, l),
    samples(refs: number[], ts: number[], _vs: Float64Array, end: WalPosition) {
      refs.forEach((r, i) => c.got.push([names.get(r)?.find((l) => l.name === 'ref')?.value ?? '?', ts[i]!]));
      c.ends.push(end);
      c.isFull = c.got.length >= c.limit;
    },
    full: () => c.isFull,
    drained: () => new Promise<void>((r) => (wake = r)),
    release() {
      c.limit += 1000;
      c.isFull = false;
      wake?.();
    },
  };
  return c;
}

async function until(what: string, f: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the watcher follows appends across segments, waits while its sink is full, and resumes from a position', async () => {
  const dir = tempDir();
  try {
    const wal = new Wal(dir, { warn: () => {}, segmentBytes: 4096 });
    wal.replay({ series: () => {}, sample: () => {} });
    const sink = collector();
    const w = new WalWatcher(dir, sink, { pollMs: 5 });
    w.seek(undefined, { segment: 0, offset: 0 });
    const run = w.run();
    for (let i = 0; i < 40; i++) append(wal, (i % 4) + 1, i * 100, 100, i < 4);
    // 4000 samples: the sink takes 1000, then is full until released.
    await until('a full sink', () => sink.got.length >= 1000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sink.got.length, 1000, 'nothing more is read while the sink is full');
    sink.release();
    await until('the rest', () => sink.got.length >= 2000);
    sink.release();
    await until('the rest', () => sink.got.length >= 3000);
    sink.release();
    await until('all', () => sink.got.length === 4000);
    assert.ok(walSegments(dir).length > 3, 'the WAL rolled over several segments');
    assert.deepEqual(
      sink.got.map(([r, t]) => `${r}@${t}`),
      Array.from({ length: 4000 }, (_, j) => `${(Math.floor(j / 100) % 4) + 1}@${Math.floor(j / 100) * 100 + (j % 100)}`),
      'every sample, in WAL order, with its series resolved',
    );
    w.stop();
    sink.release(); // the sink wakes a watcher waiting for room, as the queue does when it stops
    await run;

    // A second watcher from the position past record 20 reads records 21.. with series from before it.
    const from = sink.ends[19]!;
    const again = collector();
    const w2 = new WalWatcher(dir, again, { pollMs: 5 });
    w2.seek(from, { segment: wal.currentSegment, offset: 0 });
    const run2 = w2.run();
    await until('the tail', () => again.got.length >= 1000);
    again.release();
    await until('the tail', () => again.got.length === 2000);
    assert.deepEqual(again.got[0], ['1', 2000]);
    assert.ok(!again.got.some(([r]) => r === '?'), 'every ref resolved from the series records before the position');
    w2.stop();
    again.release();
    await run2;
    wal.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a WAL checkpoint keeps the segments a reader still needs, and takes them once it has moved on', async () => {
  const dir = tempDir();
  try {
    const wal = new Wal(dir, { warn: () => {}, segmentBytes: 2048 });
    wal.replay({ series: () => {}, sample: () => {} });
    for (let i = 0; i < 20; i++) append(wal, 1, i * 100, 100, i === 0);
    const segs = walSegments(dir);
    assert.ok(segs.length >= 5, `several segments (${segs.length})`);
    let held: number | undefined = segs[2]!;
    wal.retainFrom = () => held;
    await wal.truncate(0, () => true);
    assert.deepEqual(walSegments(dir).slice(0, 2), [segs[2]!, segs[3]!], 'the checkpoint replaced only the segments before the held one');
    held = undefined;
    await wal.truncate(0, () => true);
    assert.equal(walSegments(dir).length, 1, 'nothing held: everything before the fresh segment is checkpointed');
    // Replay still sees every sample once.
    wal.close();
    const replay = new Wal(dir, { warn: () => {} });
    const ts: number[] = [];
    replay.replay({ series: () => {}, sample: (_r, t) => ts.push(t) });
    replay.close();
    assert.deepEqual(
      ts,
      Array.from({ length: 2000 }, (_, i) => i),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('native-histogram records are passed over cleanly: no damage counted, the samples after them arrive', async () => {
  const dir = tempDir();
  try {
    const wal = new Wal(dir, { warn: () => {} });
    wal.replay({ series: () => {}, sample: () => {} });
    const sink = collector();
    const warnings: string[] = [];
    const w = new WalWatcher(dir, sink, { pollMs: 5, warn: (m) => warnings.push(m) });
    w.seek(undefined, { segment: 0, offset: 0 });
    const run = w.run();
    append(wal, 1, 0, 10, true);
    const rw = new WalRecordWriter();
    rw.begin(RecordType.histograms);
    for (let i = 0; i < 5; i++)
      rw.histogram(1, 100 + i, FloatHistogram.of({ count: i, sum: i, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [i] }));
    rw.end();
    wal.write(rw.w.view());
    append(wal, 1, 200, 10, false);
    await until('the samples after the histograms', () => sink.got.length === 20);
    assert.equal(w.skippedBytes, 0, 'a histogram record is not damage');
    assert.equal(w.histogramRecordsSkipped, 1);
    assert.equal(warnings.length, 1, 'said once that histograms are not sent');
    assert.deepEqual(
      sink.got.map(([, t]) => t),
      [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 200 + i)],
    );
    w.stop();
    await run;
    wal.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
