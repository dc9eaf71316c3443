import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { labelsFrom } from '../../core/model/labels.js';
import { LogStore } from './store.js';

const NOW = 1_700_000_000_000;
const tmp = (): string => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-loglife-')), 'logs');
const line = { labels: labelsFrom({ app: 'a' }), entries: [{ t: BigInt(NOW) * 1_000_000n, line: 'hello' }] };

test('the constructor touches nothing; start loads, stop seals; both are idempotent', () => {
  const dir = tmp();
  const store = new LogStore({ dir, now: () => NOW, tickIntervalMs: 0 });
  assert.equal(fs.existsSync(dir), false);
  store.stop();
  assert.deepEqual(store.start(), []);
  assert.deepEqual(store.start(), []);
  store.push([line]);
  store.stop();
  store.stop();
  assert.throws(() => store.start(), /cannot start again/);
  const again = new LogStore({ dir, now: () => NOW, tickIntervalMs: 0 });
  again.start();
  assert.equal(again.stats().entries, 1);
  assert.equal(again.stats().chunks, 1);
  again.stop();
});

test('start runs tick on the store’s own timer; stop ends it', async () => {
  const dir = tmp();
  // maxChunkAgeMs 0: any tick seals the head, so a sealed chunk shows that a tick ran.
  const store = new LogStore({ dir, now: () => NOW, maxChunkAgeMs: 0, tickIntervalMs: 20 });
  store.start();
  store.push([line]);
  for (let i = 0; i < 100 && store.counters.chunksSealed === 0; i++) await sleep(10);
  assert.equal(store.counters.chunksSealed, 1);
  store.stop();
});

test('tickIntervalMs 0 starts no timer: the owner ticks', async () => {
  const dir = tmp();
  const store = new LogStore({ dir, now: () => NOW, maxChunkAgeMs: 0, tickIntervalMs: 0 });
  store.start();
  store.push([line]);
  await sleep(100);
  assert.equal(store.counters.chunksSealed, 0);
  store.tick();
  assert.equal(store.counters.chunksSealed, 1);
  store.stop();
});
