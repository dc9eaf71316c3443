// Live tail's bounds with real sockets: a client that never reads is dropped with a close frame,
// a frame declaring 2^40 bytes closes the connection at once, `limit` is capped, the number of
// tails is bounded, and a page on another origin cannot open one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Router } from './http.js';
import { registerLokiApi } from './loki.js';
import { registerLogIngest } from './log_ingest.js';
import { LogqlEngine } from '../../logs/logql/engine.js';
import { LocalLogQueryService } from '../../logs/query/service.js';
import { LogStore } from '../../logs/store/store.js';
import { nopLogger } from '../../core/util/log.js';
import { startServer } from '../../testkit/helpers.js';
import { frames, openTail } from '../../testkit/ws_tail.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tail-limits-'));
const store = new LogStore({ dir });
store.start();
const router = new Router(nopLogger);
registerLogIngest(router, store, { limits: { maxLineBytes: 100_000, rateBytesPerSec: 1e9, burstBytes: 1e9 } });
const loki = registerLokiApi(router, new LocalLogQueryService(store, new LogqlEngine(store)), {
  maxTailClients: 3,
  tailLimits: { maxBufferedBytes: 256 * 1024, closeGraceMs: 3000 },
});
const server = http.createServer(router.listener);
server.on('upgrade', (req, sock, head) => {
  if (!loki.upgrade(req, sock, head)) sock.destroy();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
after(() => {
  server.closeAllConnections();
  server.close();
  store.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function push(job: string, lines: string[]): Promise<void> {
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const body = JSON.stringify({ streams: [{ stream: { job }, values: lines.map((l, i) => [String(t0 + BigInt(i)), l]) }] });
  const r = await fetch(`http://127.0.0.1:${port}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(r.status, 204);
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('limit is capped at 5000 however much is asked for', async () => {
  await push(
    'cap',
    Array.from({ length: 6000 }, (_, i) => `line ${i}`),
  );
  const t = await openTail(port, `query=${encodeURIComponent('{job="cap"}')}&limit=2000000&start=0`);
  assert.match(t.head, /^HTTP\/1.1 101/);
  await until('the backfill frame', () => frames(t.received()).length > 0);
  const first = JSON.parse(frames(t.received())[0]!.payload.toString()) as { streams: Array<{ values: unknown[] }> };
  assert.equal(
    first.streams.reduce((n, s) => n + s.values.length, 0),
    5000,
  );
  t.socket.destroy();
  await until('the tail to be released', () => loki.tailClients() === 0);
});

test('a frame declaring 2^40 bytes closes the connection with 1009 before any of it is buffered', async () => {
  const t = await openTail(port, `query=${encodeURIComponent('{job="x"}')}`);
  assert.match(t.head, /^HTTP\/1.1 101/);
  const closed = new Promise((r) => t.socket.once('close', r));
  const header = Buffer.alloc(14);
  header[0] = 0x82; // binary, final
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(2n ** 40n, 2);
  t.socket.write(header);
  await closed;
  const close = frames(t.received()).find((f) => f.op === 8);
  assert.ok(close, 'a close frame');
  assert.equal(close.payload.readUInt16BE(0), 1009);
  await until('the tail to be released', () => loki.tailClients() === 0);
});

test('a client that never reads is dropped with a close frame once its backlog passes the cap', async () => {
  const t = await openTail(port, `query=${encodeURIComponent('{job="flood"}')}`);
  assert.match(t.head, /^HTTP\/1.1 101/);
  t.socket.pause(); // stops reading: the kernel's buffers fill, then the server's
  assert.equal(loki.tailClients(), 1);
  const line = 'x'.repeat(10_000);
  for (let i = 0; i < 200 && loki.tailClients() > 0; i++)
    await push(
      'flood',
      Array.from({ length: 100 }, () => line),
    );
  await until('the slow client to be dropped', () => loki.tailClients() === 0);
  // Once the client reads again (within the grace period), the close frame and its reason are the last thing it gets.
  t.socket.resume();
  await new Promise((r) => (t.socket.destroyed ? r(undefined) : t.socket.once('close', r)));
  const all = frames(t.received());
  const close = all[all.length - 1];
  assert.equal(close?.op, 8);
  assert.equal(close.payload.readUInt16BE(0), 1008);
  assert.match(close.payload.subarray(2).toString(), /too slow/);
});

test('more tails than allowed are refused with 429', async () => {
  const open = await Promise.all([1, 2, 3].map(() => openTail(port, `query=${encodeURIComponent('{job="x"}')}`)));
  for (const t of open) assert.match(t.head, /^HTTP\/1.1 101/);
  const fourth = await openTail(port, `query=${encodeURIComponent('{job="x"}')}`);
  assert.match(fourth.head, /^HTTP\/1.1 429/);
  for (const t of [...open, fourth]) t.socket.destroy();
  await until('the tails to be released', () => loki.tailClients() === 0);
});

test('the server refuses a tail handshake from another origin and accepts its own and originless clients', async () => {
  const srv = await startServer();
  const p = Number(new URL(srv.url).port);
  try {
    const q = `query=${encodeURIComponent('{job="x"}')}`;
    const foreign = await openTail(p, q, { origin: 'http://attacker.example' });
    assert.match(foreign.head, /^HTTP\/1.1 403/);
    const own = await openTail(p, q, { origin: `http://127.0.0.1:${p}` });
    assert.match(own.head, /^HTTP\/1.1 101/);
    const cli = await openTail(p, q);
    assert.match(cli.head, /^HTTP\/1.1 101/);
    for (const t of [foreign, own, cli]) t.socket.destroy();
  } finally {
    await srv.stop();
  }
});
