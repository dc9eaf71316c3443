/**
 * A store that cannot write: Loki push answers 507 (disk full) or 503 with Retry-After, OTLP the
 * same statuses with a google.rpc.Status; nothing of the refused push is kept and the next push
 * succeeds once writes do. The store's I/O seam stands in for the full disk.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Router } from '../../server/api/http.js';
import { LogStore } from '../store/store.js';
import { nopLogger } from '../../core/util/log.js';
import { registerLogIngest } from '../../server/api/log_ingest.js';

let failCode: string | undefined;
const store = new LogStore({
  dir: fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logwritefail-')),
  io: {
    writeSync: (fd, buf, off, len) => {
      if (failCode) throw Object.assign(new Error(failCode), { code: failCode });
      return fs.writeSync(fd, buf, off, len);
    },
  },
});
store.start();
const router = new Router(nopLogger);
const stats = registerLogIngest(router, store);
const server = http.createServer((req, res) => router.listener(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.close();
  store.stop();
});

const nowNs = (): string => String(BigInt(Date.now()) * 1_000_000n);
const lokiPush = (line: string): Promise<Response> =>
  fetch(`${base}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream: { app: 'w' }, values: [[nowNs(), line]] }] }),
  });
const otlpPush = (line: string): Promise<Response> =>
  fetch(`${base}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'w' } }] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: nowNs(), body: { stringValue: line } }] }],
        },
      ],
    }),
  });

test('disk full answers 507, other write failures 503 with Retry-After, then ingest resumes', async () => {
  failCode = 'ENOSPC';
  const full = await lokiPush('refused');
  assert.equal(full.status, 507);
  assert.match(await full.text(), /no space left/);
  const otlpFull = await otlpPush('refused');
  assert.equal(otlpFull.status, 507);
  assert.match(((await otlpFull.json()) as { message: string }).message, /no space left/);
  failCode = 'EIO';
  const io = await lokiPush('refused');
  assert.equal(io.status, 503);
  assert.equal(io.headers.get('retry-after'), '5');
  const otlpIo = await otlpPush('refused');
  assert.equal(otlpIo.status, 503);
  assert.equal(otlpIo.headers.get('retry-after'), '5');
  assert.match(store.writeProblem() ?? '', /EIO/);
  assert.equal(stats.refused['disk_full'], 2);
  assert.equal(stats.refused['unavailable'], 2);
  failCode = undefined;
  assert.equal((await lokiPush('kept')).status, 204);
  assert.equal(store.writeProblem(), undefined);
  assert.equal(store.stats().entries, 1, 'only the accepted line is stored');
});
