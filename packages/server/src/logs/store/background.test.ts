// The log store's checkpoint and tick (sealing, retention, compaction) run in slices between pushes
// (issue 19, item 6). With a slice budget of 0 they give way after every stream, so a writer that
// pushes on every turn lands between all of their steps; then every acknowledged line is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { yieldToLoop } from '../../core/util/pace.js';
import { LogStore, type LogStoreOptions } from './store.js';

const T0_MS = 1_700_000_000_000;
const NS = 1_000_000n;
const STREAMS = 120;
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logbg-'));

/** Every line of every stream of job="bg", as "stream:line" strings (duplicates kept). */
function lines(store: LogStore): string[] {
  const out: string[] = [];
  for (const r of store.query({ matchers: [new Matcher('=', 'job', 'bg')], start: 0n, end: BigInt(T0_MS + 86_400_000) * NS, direction: 'forward', limit: 1e9 }))
    for (const e of r.entries) out.push(`${r.stream.labels.find((l) => l.name === 's')!.value}:${e.line}`);
  return out.sort();
}

class Writer {
  readonly acked: string[] = [];
  private n = 0;
  constructor(private readonly store: LogStore) {}

  /** Pushes one line to each of `streams` and records them once the push returns (acknowledged). */
  push(streams: number[]): void {
    const t = BigInt(T0_MS) * NS + BigInt(this.n++) * 1000n;
    const batch = streams.map((s) => ({ labels: labelsFrom({ job: 'bg', s: String(s) }), entries: [{ t, line: `line ${this.n} of ${s} ${'x'.repeat(40)}` }] }));
    const r = this.store.push(batch);
    assert.equal(r.rejected.length, 0);
    for (const s of streams) this.acked.push(`${s}:line ${this.n} of ${s} ${'x'.repeat(40)}`);
  }
}

function open(dir: string, opts: Partial<LogStoreOptions> = {}): LogStore {
  const store = new LogStore({ dir, now: () => T0_MS + 60_000, tickIntervalMs: 0, chunkTargetBytes: 2048, sliceMs: 0, ...opts });
  store.start();
  return store;
}

const all = Array.from({ length: STREAMS }, (_, i) => i);

test('pushes during a checkpoint in slices are acknowledged and queryable; nothing lost or twice, also after a restart', async () => {
  const dir = tmp();
  const store = open(dir, { walSegmentBytes: 32 * 1024 });
  const w = new Writer(store);
  // Fill the segment: the push that sees it full queues the checkpoint and returns at once.
  const segment = path.join(dir, 'wal', '00000000');
  while (fs.statSync(segment).size < 32 * 1024) w.push(all);
  assert.ok(!fs.existsSync(path.join(dir, 'wal', 'checkpoint')), 'not checkpointed within the push');
  let done = false;
  void store.idle().then(() => (done = true));
  let turns = 0;
  for (; !done; turns++) {
    // Stream 0 is sealed first: its later lines stay in its head, in the new segment.
    w.push([...new Set([0, turns % STREAMS])]);
    // Queryable as soon as it is acknowledged, whatever the checkpoint has sealed so far.
    assert.ok(lines(store).includes(w.acked.at(-1)!));
    await yieldToLoop();
  }
  assert.ok(turns >= STREAMS / 2, `the writer got ${turns} turns during the checkpoint`);
  assert.ok(fs.existsSync(path.join(dir, 'wal', 'checkpoint')), 'the checkpoint completed');
  assert.ok(!fs.existsSync(path.join(dir, 'wal', '00000000')), 'the covered segment is gone');
  assert.deepEqual(lines(store), [...w.acked].sort());
  // Abandoned as kill -9 would leave it (no seal by stop()): the files alone must hold every line once.
  const crashed = open(dir);
  assert.deepEqual(lines(crashed), [...w.acked].sort(), 'from disk alone: the same lines, once each');
  crashed.stop();
  const again = open(dir);
  assert.deepEqual(lines(again), [...w.acked].sort(), 'after a restart: the same lines, once each');
  again.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('pushes during a tick in slices (sealing old heads, retention, compaction) are all kept exactly once', async () => {
  const dir = tmp();
  let now = T0_MS + 60_000;
  const store = open(dir, { now: () => now, maxChunkAgeMs: 1000, retentionMs: 3_600_000 });
  const w = new Writer(store);
  // Several small chunks per stream (sealed by checkpoints), so compaction has runs to merge.
  for (let round = 0; round < 4; round++) {
    for (let k = 0; k < 3; k++) w.push(all);
    assert.ok(store.checkpoint());
  }
  // And heads old enough to be sealed by the tick.
  for (let k = 0; k < 3; k++) w.push(all);
  now += 2000;
  const chunksBefore = store.stats().chunks;
  let done = false;
  const ticking = store.tickInBackground().then(() => (done = true));
  let turns = 0;
  for (; !done; turns++) {
    w.push([(turns * 7) % STREAMS, STREAMS + (turns % 5)]); // old streams and new ones
    assert.ok(lines(store).includes(w.acked.at(-1)!));
    await yieldToLoop();
  }
  await ticking;
  assert.ok(turns >= STREAMS / 2, `the writer got ${turns} turns during the tick`);
  assert.ok(store.stats().chunks < chunksBefore, `compaction merged chunks (${chunksBefore} → ${store.stats().chunks})`);
  assert.deepEqual(lines(store), [...w.acked].sort());
  // Abandoned as kill -9 would leave it, then restarted cleanly.
  const crashed = open(dir);
  assert.deepEqual(lines(crashed), [...w.acked].sort(), 'from disk alone (as after kill -9)');
  crashed.stop();
  const again = open(dir);
  assert.deepEqual(lines(again), [...w.acked].sort(), 'after a restart too');
  again.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
