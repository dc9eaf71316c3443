import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelsFrom } from '../model/labels.js';
import { Matcher } from '../model/matcher.js';
import { LogStore } from './store.js';
import { safeTokens } from './bloom.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logstore-'));
const app = (v: string): Matcher[] => [new Matcher('=', 'app', v)];

function fill(store: LogStore, n: number, app = 'api'): void {
  const entries = [];
  for (let i = 0; i < n; i++) entries.push({ t: T0 + BigInt(i) * 1_000_000n, line: JSON.stringify({ i, request_id: `req-${i}`, msg: i % 100 === 0 ? 'boom error' : 'ok' }) });
  store.push([{ labels: labelsFrom({ app }), entries }]);
}

test('push, query forward/backward with limit, line needle, bloom skips chunks', () => {
  const dir = tmp();
  const store = new LogStore({ dir, chunkTargetBytes: 4096, now: () => Number(T0 / 1_000_000n) });
  store.open();
  fill(store, 5000);
  fill(store, 10, 'web');
  const fwd = store.query({ matchers: app('api'), start: T0, end: T0 + 10n ** 12n, direction: 'forward', limit: 3 });
  assert.deepEqual(fwd[0]!.entries.map((e) => JSON.parse(e.line).i), [0, 1, 2]);
  const back = store.query({ matchers: app('api'), start: T0, end: T0 + 10n ** 12n, limit: 2 });
  assert.deepEqual(back[0]!.entries.map((e) => JSON.parse(e.line).i), [4999, 4998]);
  const before = store.counters.chunksRead;
  const found = store.query({ matchers: app('api'), start: T0, end: T0 + 10n ** 12n, filter: { tokens: safeTokens('"req-4321"'), needle: '"req-4321"' } });
  assert.equal(found[0]!.entries.length, 1);
  assert.ok(store.counters.chunksSkippedByBloom > 50, `bloom skipped ${store.counters.chunksSkippedByBloom}`);
  assert.ok(store.counters.chunksRead - before < 5);
  assert.deepEqual(store.labelValues('app'), ['api', 'web']);
  store.close();
  // Reopen: everything is back from chunks.
  const again = new LogStore({ dir, chunkTargetBytes: 4096 });
  again.open();
  assert.equal(again.stats().entries, 5010);
  again.close();
});

test('out-of-order window and retention', () => {
  const dir = tmp();
  let now = Number(T0 / 1_000_000n);
  const store = new LogStore({ dir, outOfOrderWindowMs: 60_000, retentionMs: 3_600_000, chunkTargetBytes: 100, chunkFileBytes: 200, now: () => now });
  store.open();
  const l = labelsFrom({ app: 'a' });
  store.push([{ labels: l, entries: [{ t: T0 + 120_000_000_000n, line: 'late base' }] }]);
  const r = store.push([{ labels: l, entries: [{ t: T0 + 100_000_000_000n, line: 'within window' }, { t: T0, line: 'too old' }] }]);
  assert.equal(r.accepted, 1);
  assert.equal(r.rejected.length, 1);
  assert.match(r.rejected[0]!.reason, /too far behind/);
  const got = store.query({ matchers: app('a'), start: 0n, end: T0 * 2n, direction: 'forward' });
  assert.deepEqual(got[0]!.entries.map((e) => e.line), ['within window', 'late base']);
  now += 10 * 3_600_000;
  store.tick();
  assert.equal(store.query({ matchers: app('a'), start: 0n, end: T0 * 2n }).length, 0);
  store.close();
});

test('an acknowledged push survives kill -9', async () => {
  const dir = tmp();
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testchild.js');
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
  store.open();
  const all = store.query({ matchers: app('durable'), start: 0n, end: 1n << 62n, limit: 100000 });
  const n = all.reduce((a, s) => a + s.entries.length, 0);
  assert.ok(n >= acked * 100, `recovered ${n} lines, acknowledged ${acked * 100}`);
  store.close();
});
