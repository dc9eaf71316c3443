import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { LogStore } from '../store/store.js';
import { LogqlBudgetError, LogqlCanceledError, LogqlEngine, type LogqlStats } from './engine.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const MS = 1_000_000n;
const LINES = 60_000;

const store = new LogStore({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logql-pace-')), now: () => Number(T0 / MS) + 3_600_000 });
store.start();
for (let s = 0; s < 20; s++) {
  const entries = Array.from({ length: LINES / 20 }, (_, i) => ({ t: T0 + BigInt(i) * MS, line: `level=info stream=${s} n=${i} msg="request served"` }));
  store.push([{ labels: labelsFrom({ app: 'busy', shard: String(s) }), entries }]);
}
const END = T0 + 3_600_000n * MS;
const METRIC = 'sum by (shard) (count_over_time({app="busy"} |~ "request" [1h]))';

test('sliced LogQL agrees with the synchronous path and counts what it read', async () => {
  const e = new LogqlEngine(store);
  const stats: LogqlStats = { linesScanned: 0, bytesScanned: 0 };
  const r = await e.instantQueryAsync(METRIC, END, 100, 'backward', { stats });
  assert.deepEqual(r, e.instantQuery(METRIC, END));
  assert.equal(stats.linesScanned, LINES);
  const logs = await e.rangeQueryAsync('{app="busy"} |= "n=7"', T0, END, 1000, 50);
  assert.deepEqual(logs, e.rangeQuery('{app="busy"} |= "n=7"', T0, END, 1000, 50));
});

test('an aborted LogQL query stops with canceled; the timeout fires while it reads', async () => {
  const ac = new AbortController();
  const e = new LogqlEngine(store);
  const run = e.instantQueryAsync(METRIC, END, 100, 'backward', { signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(run, (err) => err instanceof LogqlCanceledError && err.code === 'canceled');
  let now = 0;
  // Each reading of the clock is 10 s later: the first pause is past the 1 s timeout.
  const slow = new LogqlEngine(store, { timeoutMs: 1000, now: () => (now += 10_000) });
  await assert.rejects(slow.rangeQueryAsync(METRIC, T0, END, 60_000), (err) => err instanceof LogqlCanceledError && err.code === 'timeout');
});

test('max_query_bytes_read refuses a query once it has read more than its budget', async () => {
  const e = new LogqlEngine(store, { maxBytesRead: 100_000 });
  await assert.rejects(e.instantQueryAsync(METRIC, END), (err) => err instanceof LogqlBudgetError && /max_query_bytes_read 100000/.test(err.message));
  assert.throws(() => e.rangeQuery('{app="busy"}', T0, END, 1000, 5000), LogqlBudgetError);
  assert.equal(e.rangeQuery('{app="busy"}', T0, END, 1000, 10).type, 'streams', 'a small read passes');
});
