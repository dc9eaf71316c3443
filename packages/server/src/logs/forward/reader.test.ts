import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import type { WalPosition } from '../../core/util/position.js';
import { LogStore } from '../store/store.js';
import { LogWalReader, logWalSegments } from './reader.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const now = (): number => Number(T0 / 1_000_000n);
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logfwd-reader-'));

/** Pushes lines [from, to) of streams a and b in one push (one WAL record). */
function push(store: LogStore, from: number, to: number): void {
  const entries = (s: string): { t: bigint; line: string }[] =>
    Array.from({ length: to - from }, (_, i) => ({ t: T0 + BigInt(from + i) * 1_000_000n, line: `${s} ${from + i}` }));
  store.push([
    { labels: labelsFrom({ app: 'a' }), entries: entries('a') },
    { labels: labelsFrom({ app: 'b' }), entries: entries('b') },
  ]);
}

/** Reads up to `max` entries from the reader; returns them and the position past the last one taken. */
function take(r: LogWalReader, store: LogStore, max: number): { lines: string[]; end: WalPosition | undefined } {
  const lines: string[] = [];
  let end: WalPosition | undefined;
  r.read((id, _t, line, _meta, after) => {
    if (lines.length >= max) return false;
    lines.push(`${store.streamLabels(id)![0]!.value}:${line}`);
    end = after;
    return true;
  });
  return { lines, end };
}

test('the reader follows the WAL across segments, and resumes inside a record from a saved position', () => {
  const dir = tmp();
  const store = new LogStore({ dir, now, tickIntervalMs: 0 });
  const hold: { from?: number } = {};
  store.holdWal(() => hold.from);
  store.start();
  const r = new LogWalReader(store.walDir);
  r.seek(undefined, store.walEnd());
  hold.from = r.position.segment;
  push(store, 0, 3);
  store.checkpoint(); // the next lines go to a new segment
  push(store, 3, 5);
  // Five entries: the first record's six are split, so the position falls inside it.
  const first = take(r, store, 5);
  assert.deepEqual(first.lines, ['a:a 0', 'a:a 1', 'a:a 2', 'b:b 0', 'b:b 1']);
  assert.equal(first.end!.entry, 5);
  assert.deepEqual(r.position, first.end);
  // A new reader from that position (a restart) goes on with the sixth entry, then the next segment.
  const again = new LogWalReader(store.walDir);
  again.seek(first.end, store.walEnd());
  const rest = take(again, store, 100);
  assert.deepEqual(rest.lines, ['b:b 2', 'a:a 3', 'a:a 4', 'b:b 3', 'b:b 4']);
  assert.deepEqual(again.position, store.walEnd());
  assert.equal(take(again, store, 100).lines.length, 0, 'caught up');
  r.close();
  again.close();
  store.stop();
});

test('the store keeps WAL segments a reader holds through checkpoints and a restart, and lets them go once passed', () => {
  const dir = tmp();
  let hold: number | undefined;
  const open = (): LogStore => {
    const s = new LogStore({ dir, now, tickIntervalMs: 0 });
    s.holdWal(() => hold);
    s.start();
    return s;
  };
  let store = open();
  const from = store.walEnd();
  hold = from.segment;
  push(store, 0, 2);
  store.checkpoint();
  push(store, 2, 4);
  store.checkpoint();
  assert.ok(logWalSegments(store.walDir).includes(from.segment), 'the held segment survives checkpoints');
  store.stop();
  store = open();
  assert.ok(logWalSegments(store.walDir).includes(from.segment), 'and a restart');
  const r = new LogWalReader(store.walDir);
  r.seek(from, store.walEnd());
  assert.equal(take(r, store, 100).lines.length, 8, 'every line is still there to read');
  const held = store.query({ matchers: [new Matcher('=', 'app', 'a')], start: T0, end: T0 + 10n ** 12n, direction: 'forward', limit: 100 });
  assert.equal(held[0]!.entries.length, 4, 'held segments are not replayed into the store again');
  hold = r.position.segment;
  store.tick();
  assert.ok(!logWalSegments(store.walDir).includes(from.segment), 'a segment is deleted once the reader has passed it');
  r.close();
  store.stop();
});

test('a saved position past the end of the WAL (the WAL was removed) starts at its end, not waiting for a segment that will not come', () => {
  const dir = tmp();
  const store = new LogStore({ dir, now, tickIntervalMs: 0 });
  store.start();
  const warnings: string[] = [];
  const r = new LogWalReader(store.walDir, (msg) => warnings.push(msg));
  r.seek({ segment: store.walEnd().segment + 5, offset: 100 }, store.walEnd());
  assert.deepEqual(r.position, store.walEnd());
  assert.equal(warnings.length, 1);
  push(store, 0, 1);
  assert.deepEqual(take(r, store, 10).lines, ['a:a 0', 'b:b 0']);
  r.close();
  store.stop();
});
