import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { LogStore } from './store.js';
import { safeTokens } from '../../core/util/bloom.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logstore-'));
const app = (v: string): Matcher[] => [new Matcher('=', 'app', v)];

function fill(store: LogStore, n: number, app = 'api'): void {
  const entries = [];
  for (let i = 0; i < n; i++)
    entries.push({ t: T0 + BigInt(i) * 1_000_000n, line: JSON.stringify({ i, request_id: `req-${i}`, msg: i % 100 === 0 ? 'boom error' : 'ok' }) });
  store.push([{ labels: labelsFrom({ app }), entries }]);
}

test('push, query forward/backward with limit, line needle, bloom skips chunks', () => {
  const dir = tmp();
  const store = new LogStore({ dir, chunkTargetBytes: 4096, now: () => Number(T0 / 1_000_000n) });
  store.start();
  fill(store, 5000);
  fill(store, 10, 'web');
  const fwd = store.query({ matchers: app('api'), start: T0, end: T0 + 10n ** 12n, direction: 'forward', limit: 3 });
  assert.deepEqual(
    fwd[0]!.entries.map((e) => JSON.parse(e.line).i),
    [0, 1, 2],
  );
  const back = store.query({ matchers: app('api'), start: T0, end: T0 + 10n ** 12n, limit: 2 });
  assert.deepEqual(
    back[0]!.entries.map((e) => JSON.parse(e.line).i),
    [4999, 4998],
  );
  const before = store.counters.chunksRead;
  const found = store.query({ matchers: app('api'), start: T0, end: T0 + 10n ** 12n, filter: { tokens: safeTokens('"req-4321"'), needle: '"req-4321"' } });
  assert.equal(found[0]!.entries.length, 1);
  assert.ok(store.counters.chunksSkippedByBloom > 50, `bloom skipped ${store.counters.chunksSkippedByBloom}`);
  assert.ok(store.counters.chunksRead - before < 5);
  assert.deepEqual(store.labelValues('app'), ['api', 'web']);
  store.stop();
  // Reopen: everything is back from chunks.
  const again = new LogStore({ dir, chunkTargetBytes: 4096 });
  again.start();
  assert.equal(again.stats().entries, 5010);
  again.stop();
});

test('out-of-order window and retention', () => {
  const dir = tmp();
  let now = Number(T0 / 1_000_000n);
  const store = new LogStore({ dir, outOfOrderWindowMs: 60_000, retentionMs: 3_600_000, chunkTargetBytes: 100, chunkFileBytes: 200, now: () => now });
  store.start();
  const l = labelsFrom({ app: 'a' });
  store.push([{ labels: l, entries: [{ t: T0 + 120_000_000_000n, line: 'late base' }] }]);
  const r = store.push([
    {
      labels: l,
      entries: [
        { t: T0 + 100_000_000_000n, line: 'within window' },
        { t: T0, line: 'too old' },
      ],
    },
  ]);
  assert.equal(r.accepted, 1);
  assert.equal(r.rejected.length, 1);
  assert.match(r.rejected[0]!.reason, /too far behind/);
  const got = store.query({ matchers: app('a'), start: 0n, end: T0 * 2n, direction: 'forward' });
  assert.deepEqual(
    got[0]!.entries.map((e) => e.line),
    ['within window', 'late base'],
  );
  now += 10 * 3_600_000;
  store.tick();
  assert.equal(store.query({ matchers: app('a'), start: 0n, end: T0 * 2n }).length, 0);
  store.stop();
});

test('an acknowledged push survives kill -9', async () => {
  const dir = tmp();
  const child = fileURLToPath(new URL('../../testkit/children/logstore_pusher.js', import.meta.url));
  const p = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = 0;
  await new Promise<void>((resolve) => {
    p.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/acked (\d+)/g)) acked = Number(m[1]);
      if (acked >= 20) {
        p.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((r) => p.on('exit', r));
  const store = new LogStore({ dir });
  store.start();
  const all = store.query({ matchers: app('durable'), start: 0n, end: 1n << 62n, limit: 100000 });
  const n = all.reduce((a, s) => a + s.entries.length, 0);
  assert.ok(n >= acked * 100, `recovered ${n} lines, acknowledged ${acked * 100}`);
  store.stop();
});

test("compaction merges a stream's small chunks, survives reopen without duplicates and drops dead files", () => {
  const dir = tmp();
  let now = Number(T0 / 1_000_000n);
  const opts = { dir, chunkTargetBytes: 64 * 1024, chunkFileBytes: 2048, maxChunkAgeMs: 1000, now: () => now };
  const store = new LogStore(opts);
  store.start();
  const l = labelsFrom({ app: 'quiet' });
  const want: string[] = [];
  for (let i = 0; i < 40; i++) {
    const entries = [0, 1, 2].map((j) => ({ t: T0 + BigInt(i * 3 + j) * 1_000_000n, line: JSON.stringify({ i, j, msg: `tick ${i}` }) }));
    want.push(...entries.map((e) => e.line));
    store.push([{ labels: l, entries }]);
    // Another stream shares the chunk files.
    store.push([{ labels: labelsFrom({ app: 'busy' }), entries: [{ t: T0 + BigInt(i) * 1_000_000n, line: `busy ${i}` }] }]);
    now += 2000;
    // tick() seals on age (and compacts); a checkpoint seals as a WAL rollover does.
    if (i % 2) store.checkpoint();
    else store.tick();
  }
  const all = (s: LogStore): string[] =>
    s.query({ matchers: app('quiet'), start: 0n, end: 1n << 62n, direction: 'forward', limit: 1e6 })[0]!.entries.map((e) => e.line);
  assert.deepEqual(all(store), want);
  store.compact();
  const st = store.stats([new Matcher('=', 'app', 'quiet')]);
  assert.equal(st.chunks, 1, 'one chunk after compaction');
  assert.equal(st.entries, 120);
  assert.deepEqual(all(store), want);
  const found = store.query({ matchers: app('quiet'), start: 0n, end: 1n << 62n, filter: { tokens: safeTokens('"tick 17"'), needle: 'tick 17"' } });
  assert.equal(found[0]!.entries.length, 3);
  // Simulate a crash: open a second store on the directory without closing the first.
  const again = new LogStore(opts);
  again.start();
  assert.deepEqual(all(again), want);
  assert.equal(again.stats([new Matcher('=', 'app', 'quiet')]).chunks, 1);
  assert.equal(again.stats([new Matcher('=', 'app', 'busy')]).entries, 40);
  again.stop();
  store.stop();
  const files = fs.readdirSync(path.join(dir, 'chunks'));
  assert.ok(files.length < 40, `${files.length} chunk files left`);
});

test('compaction is crash-safe: a merged chunk whose index record is torn leaves the originals', () => {
  const dir = tmp();
  const store = new LogStore({ dir, chunkTargetBytes: 64 * 1024 });
  store.start();
  const l = labelsFrom({ app: 'a' });
  for (let i = 0; i < 5; i++) {
    store.push([{ labels: l, entries: [{ t: T0 + BigInt(i), line: `line ${i}` }] }]);
    store.checkpoint();
  }
  store.compact();
  store.stop();
  // Tear the last index record (the merged chunk's) as a crash mid-write would.
  const idx = fs
    .readdirSync(path.join(dir, 'chunks'))
    .filter((f) => f.endsWith('.idx'))
    .sort()
    .at(-1)!;
  const file = path.join(dir, 'chunks', idx);
  const size = fs.statSync(file).size;
  if (size > 0) fs.truncateSync(file, size - 3);
  const again = new LogStore({ dir, chunkTargetBytes: 64 * 1024 });
  again.start();
  const got = again.query({ matchers: app('a'), start: 0n, end: 1n << 62n, direction: 'forward', limit: 100 });
  assert.deepEqual(
    got[0]!.entries.map((e) => e.line),
    [0, 1, 2, 3, 4].map((i) => `line ${i}`),
  );
  again.stop();
});

test('matchTimes (count-only queries) equals filtering the returned lines, over chunks, head and late lines', () => {
  const dir = tmp();
  const store = new LogStore({ dir, chunkTargetBytes: 8 * 1024, now: () => Number(T0 / 1_000_000n) });
  store.start();
  const l = labelsFrom({ app: 'm' });
  let seed = 5;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const msgs = ['request completed', 'quest', 'pool exhausted after 5000ms', 'a"b', 'x,y'];
  for (let b = 0; b < 40; b++) {
    const entries = [];
    for (let i = 0; i < 50; i++) {
      const late = rnd() < 0.05 ? -BigInt(Math.floor(rnd() * 1e9)) : 0n;
      const t = T0 + BigInt(b * 50 + i) * 1_000_000n + late;
      entries.push({
        t,
        line:
          rnd() < 0.9
            ? JSON.stringify({ msg: msgs[Math.floor(rnd() * msgs.length)], id: Math.floor(rnd() * 1e6).toString(16), n: Math.floor(rnd() * 100) })
            : `plain ${b} ${i}`,
      });
    }
    store.push([{ labels: l, entries }]);
  }
  const [s] = store.selectStreams([new Matcher('=', 'app', 'm')]);
  for (const needles of [['quest comple'], ['quest'], ['"msg":"a'], ['a\\"b'], ['e', '1'], [''], ['plain 3'], ['nothing here']]) {
    for (const [start, end] of [
      [0n, 1n << 62n],
      [T0 + 500_000_000n, T0 + 1_500_000_000n],
    ] as const) {
      const want = [...store.entries(s!, start, end, 'forward')].filter((e) => needles.every((n) => e.line.includes(n))).map((e) => Number(e.t / 1000n) / 1000);
      const got = store.matchTimes(s!, start, end, needles);
      assert.deepEqual(
        got.times,
        want.sort((a, b) => a - b),
        needles.join('|'),
      );
    }
  }
  store.stop();
});
