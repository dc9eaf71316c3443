/**
 * The attacks of issue 19 (items 5 and 6) against a `vigil start` child process, measured:
 * `node packages/server/dist-test/testkit/bench/web_limits.js [--lines N] [--idle N]`.
 *
 * 1. a tail asking `limit=2000000&start=0` over N stored lines of 1 KB: bytes it is sent;
 * 2. five tail clients that never read while 1 KB lines are pushed for 10 s: Vigil's peak RSS and
 *    how many of the five are still connected afterwards;
 * 3. `--idle` connections that never send a byte, then 20 real requests: how many succeed, and
 *    their latency.
 */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnVigil, tempDir } from '../helpers.js';
import { memStat } from './procstat.js';

const { values: args } = parseArgs({ options: { lines: { type: 'string' }, idle: { type: 'string' } } });
const LINES = Number(args.lines ?? 30_000);
const IDLE = Number(args.idle ?? 19_980);
const LINE = 'x'.repeat(1000);
const MB = 1024 * 1024;

const { dir, cleanup } = tempDir('vigil-bench-web-');
const port = await freePort();
const vigil = await spawnVigil(dir, port);
const pid = vigil.proc.pid!;

async function push(job: string, n: number): Promise<void> {
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const values = Array.from({ length: n }, (_, i) => [String(t0 + BigInt(i)), LINE]);
  const r = await fetch(`${vigil.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream: { job }, values }] }),
  });
  if (r.status === 429) await sleep(1000);
  else if (r.status !== 204) throw new Error(`push: ${r.status} ${await r.text()}`);
}

/** A tail WebSocket opened by hand; `paused` stops reading right after the handshake. */
async function tail(query: string, paused: boolean): Promise<{ socket: net.Socket; bytes: () => number }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    `GET /loki/api/v1/tail?${query} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${randomBytes(16).toString('base64')}\r\nsec-websocket-version: 13\r\n\r\n`,
  );
  let bytes = 0;
  socket.on('data', (d: Buffer) => {
    bytes += d.length;
    if (paused) socket.pause();
  });
  return { socket, bytes: () => bytes };
}

const report: Record<string, unknown> = {};
try {
  for (let i = 0; i < LINES; i += 1000) await push('flood', 1000);
  const big = await tail(`query=${encodeURIComponent('{job="flood"}')}&limit=2000000&start=0`, false);
  await sleep(3000);
  report['tailBackfillBytes'] = big.bytes();
  report['tailBackfillMB'] = +(big.bytes() / MB).toFixed(2);
  big.socket.destroy();

  const slow = await Promise.all(Array.from({ length: 5 }, () => tail(`query=${encodeURIComponent('{job="live"}')}`, true)));
  const rssBefore = memStat(pid)!.rssBytes;
  const until = Date.now() + 10_000;
  let pushed = 0;
  while (Date.now() < until) {
    await push('live', 1000);
    pushed += 1000;
  }
  await sleep(2000);
  const mem = memStat(pid)!;
  // A paused client never sees its socket close, so ask Vigil how many tails it still serves.
  const selfMetrics = await (await fetch(`${vigil.url}/metrics`)).text();
  const stillServed = Number(/^vigil_loki_tail_clients (\d+)/m.exec(selfMetrics)?.[1] ?? NaN);
  report['slowClients'] = {
    pushedLines: pushed,
    rssBeforeMB: Math.round(rssBefore / MB),
    rssAfterMB: Math.round(mem.rssBytes / MB),
    peakRssMB: Math.round(mem.peakRssBytes / MB),
    tailsStillServed: stillServed,
  };
  for (const s of slow) s.socket.destroy();

  const idle: net.Socket[] = [];
  for (let i = 0; i < IDLE; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    idle.push(s);
    if (i % 500 === 499) await sleep(20);
  }
  await sleep(1000);
  const openOnServer = Number(/^vigil_http_open_connections (\d+)/m.exec(await (await fetch(`${vigil.url}/metrics`)).text())?.[1] ?? NaN);
  const latencies: number[] = [];
  let ok = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    try {
      const r = await fetch(`${vigil.url}/api/v1/query?query=1`, { signal: AbortSignal.timeout(5000) });
      if (r.status === 200) ok++;
      await r.text();
    } catch {
      /* counted as a failure */
    }
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  report['idleConnections'] = { opened: IDLE, openOnServer, realRequestsOk: `${ok}/20`, p50Ms: +latencies[10]!.toFixed(1), maxMs: +latencies[19]!.toFixed(1) };
  for (const s of idle) s.destroy();
} finally {
  vigil.proc.kill('SIGTERM');
  await new Promise((r) => vigil.proc.once('exit', r));
  cleanup();
}
console.log(JSON.stringify(report, null, 2));
