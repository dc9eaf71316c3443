import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_HTTP_CLIENT_CONFIG } from '../../core/httpclient/config.js';
import { labelsFrom } from '../../core/model/labels.js';
import { nopLogger } from '../../core/util/log.js';
import { freePort } from '../../testkit/helpers.js';
import { LogStore } from '../store/store.js';
import { LOG_FORWARD_DEFAULTS, type LogForwardConfig } from './config.js';
import { LogForwarder } from './index.js';
import { logWalSegments } from './reader.js';

const T0 = 1_700_000_000_000n * 1_000_000n;

/**
 * A store whose forwarder pushes to a port nothing listens on (the receiver is down: every push
 * fails and is retried), holding up to `walRetentionBytes` of WAL.
 */
async function setup(walRetentionBytes: number): Promise<{ store: LogStore; fwd: LogForwarder; first: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logfwd-hold-'));
  const store = new LogStore({ dir: path.join(dir, 'logs'), now: () => Number(T0 / 1_000_000n), tickIntervalMs: 0 });
  const fwd = new LogForwarder({ source: store, stateDir: path.join(dir, 'log_forward'), logger: nopLogger, pollMs: 10, flushDeadlineMs: 50 });
  store.holdWal(() => fwd.retainFrom());
  const config: LogForwardConfig = {
    ...LOG_FORWARD_DEFAULTS,
    url: `http://127.0.0.1:${await freePort()}/loki/api/v1/push`,
    name: 'down',
    tenantId: undefined,
    headers: {},
    batchWaitMs: 10,
    minBackoffMs: 50,
    maxBackoffMs: 50,
    externalLabels: [],
    walRetentionBytes,
    httpClient: DEFAULT_HTTP_CLIENT_CONFIG,
  };
  await fwd.apply([config]);
  store.start();
  fwd.start();
  const first = store.walEnd().segment;
  for (let k = 0; k < 3; k++) {
    const entries = Array.from({ length: 50 }, (_, i) => ({ t: T0 + BigInt(k * 50 + i) * 1_000_000n, line: `line ${k * 50 + i} ${'x'.repeat(80)}` }));
    store.push([{ labels: labelsFrom({ app: 'a' }), entries }]);
    store.checkpoint();
  }
  return { store, fwd, first };
}

test('while the receiver is down, the store keeps the WAL segments the forwarder has not sent', async () => {
  const { store, fwd, first } = await setup(LOG_FORWARD_DEFAULTS.walRetentionBytes);
  assert.deepEqual(logWalSegments(store.walDir).slice(0, 3), [first, first + 1, first + 2], 'every checkpointed segment is still there');
  assert.equal(fwd.retainFrom(), first);
  assert.equal(fwd.holdsReleased, 0);
  await fwd.stop();
  store.stop();
});

test('past wal_retention_size the hold is let go: the oldest segments are deleted and the release counted', async () => {
  const { store, fwd, first } = await setup(4096);
  // Each checkpoint found the backlog (4.5 KB a segment) past 4 KB and let the oldest segment go.
  assert.ok(fwd.holdsReleased >= 3, `releases: ${fwd.holdsReleased}`);
  const left = logWalSegments(store.walDir);
  assert.ok(!left.includes(first) && !left.includes(first + 1) && !left.includes(first + 2), `the checkpointed segments went: ${left.join(',')}`);
  await fwd.stop();
  store.stop();
});
