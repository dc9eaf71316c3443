// The HTTP server's connection bounds with real sockets: idle or silent connections cannot lock
// out a real client, and when every slot is busy the newcomer is turned away rather than queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { limitConnections } from './connection_limit.js';
import { startServer } from '../../testkit/helpers.js';

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

test('connections that never send a byte cannot fill the server: a real request still succeeds', async () => {
  const srv = await startServer((c) => {
    c.web.maxConnections = 20;
  });
  const port = Number(new URL(srv.url).port);
  const silent = await Promise.all(Array.from({ length: 40 }, () => connect(port)));
  try {
    await sleep(100);
    assert.ok(srv.server.openConnections() <= 20, `open: ${srv.server.openConnections()}`);
    const r = await fetch(`${srv.url}/-/healthy`);
    assert.equal(r.status, 200);
  } finally {
    for (const s of silent) s.destroy();
    await srv.stop();
  }
});

test('idle keep-alive connections are closed to make room; busy ones are not, and a newcomer is then refused', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') return void req.on('end', () => res.end('done')).resume();
    res.end('ok');
  });
  const open = limitConnections(server, { maxConnections: 5 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 5 });
  const get = (path: string, agent: http.Agent | false = false): Promise<number> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
  try {
    // Five keep-alive connections that served a request and now sit idle in the agent's pool.
    assert.deepEqual(await Promise.all(Array.from({ length: 5 }, () => get('/', idleAgent))), [200, 200, 200, 200, 200]);
    assert.equal(open(), 5);
    assert.equal(await get('/'), 200, 'idle keep-alive connections give way');
    // Five connections each in the middle of a request body: all busy.
    const busy = await Promise.all(Array.from({ length: 5 }, () => connect(port)));
    for (const s of busy) s.write(`POST /slow HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 10\r\n\r\nabc`);
    await sleep(100);
    await assert.rejects(get('/'), 'a sixth connection while five requests are in flight is refused');
    for (const s of busy) s.write('1234567');
    await sleep(100);
    assert.equal(await get('/'), 200);
    for (const s of busy) s.destroy();
  } finally {
    idleAgent.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('a connection that sends nothing is closed after the silent timeout', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  const open = limitConnections(server, { silentTimeoutMs: 200 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const s = await connect((server.address() as AddressInfo).port);
    const closed = new Promise((r) => s.once('close', r));
    await closed;
    // The server side sees its own close a moment after the client does.
    for (let i = 0; i < 50 && open() > 0; i++) await sleep(10);
    assert.equal(open(), 0);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a client that sends its headers too slowly is cut off after the header timeout', async () => {
  // Node checks the deadline on connectionsCheckingInterval; the server sets it to 1 s.
  const server = http.createServer({ connectionsCheckingInterval: 50 }, (_req, res) => res.end('ok'));
  limitConnections(server, { headersTimeoutMs: 300 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const s = await connect((server.address() as AddressInfo).port);
    const began = Date.now();
    s.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n'); // and never the blank line
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    await new Promise((r) => s.once('close', r));
    assert.ok(Date.now() - began < 3000, `closed after ${Date.now() - began} ms`);
    assert.match(answer, /^HTTP\/1.1 408/);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
