/**
 * Log store benchmark: `node packages/server/dist-test/testkit/bench/logs.js [--lines N] [--quick] [--codec brotli|deflate]`.
 *
 * Generates JSON lines like the demo shop's (about 10 fields, request ids, ~1% errors), writes them
 * to a raw file (for `grep -F`), then pushes them through the Loki push path (JSON body decode,
 * limits, WAL, heads, chunk sealing) in 1000-line requests and measures: ingest lines per CPU
 * second of the whole process (process.cpuUsage over the push calls: the store runs no worker
 * threads, so that is all its work) and per wall-clock second, bytes on disk vs raw, time to find
 * all lines of one request id (bloom filtered), and the scan rate of line filters that no bloom can
 * help, next to `grep -F` over the raw file. Query and grep timings are medians of 3 runs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, writeJson } from './report.js';
import { LogStore } from '../../logs/store/store.js';
import { safeTokens } from '../../core/util/bloom.js';
import type { Codec } from '../../logs/store/chunk.js';
import { LogqlEngine } from '../../logs/logql/engine.js';
import { decodeLokiJson } from '../../logs/ingest/loki_push.js';
import { DEFAULT_LOG_LIMITS } from '../../logs/ingest/limits.js';

const { values: args } = parseArgs({
  options: { lines: { type: 'string' }, quick: { type: 'boolean' }, codec: { type: 'string' }, keep: { type: 'boolean' } },
});
const N = Number(args.lines ?? (args.quick ? 500_000 : 10_000_000));
const codec = (args.codec ?? 'brotli') as Codec;

let seed = 42;
const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const SERVICES = ['checkout', 'payments', 'catalog', 'shipping', 'users'];
const PATHS = ['/api/orders', '/api/pay', '/api/items', '/api/cart', '/api/ship'];
const hex = (n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[(rnd() * 16) | 0];
  return s;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logbench-'));
const rawFile = path.join(dir, 'raw.log');
const rawFd = fs.openSync(rawFile, 'w');
// No timer tick: compaction at a random moment would blur the ingest and query timings.
const store = new LogStore({ dir: path.join(dir, 'store'), codec, chunkCacheBytes: 64 << 20, tickIntervalMs: 0 });
store.start();
const t0ms = Date.now() - 3_600_000;
let rawBytes = 0;
let pushNs = 0n;
let pushCpuUs = 0;
let targetId = '';
const BATCH = 1000;
const started = process.hrtime.bigint();
for (let i = 0; i < N; i += BATCH) {
  const byStream = new Map<string, [string, string][]>();
  const rawLines: string[] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) {
    const svc = SERVICES[j % 5]!;
    const err = rnd() < 0.01;
    const rid = `req-${hex(12)}`;
    if (j === Math.floor(N / 2)) targetId = rid;
    const tMs = t0ms + Math.floor((j * 3_600_000) / N);
    const line = `{"ts":"${new Date(tMs).toISOString()}","level":"${err ? 'error' : 'info'}","service":"${svc}","msg":"${err ? 'database pool exhausted after 5000ms' : 'request completed'}","request_id":"${rid}","user_id":"u-${(rnd() * 50000) | 0}","order_id":"o-${(rnd() * 1e6) | 0}","method":"${rnd() < 0.7 ? 'GET' : 'POST'}","path":"${PATHS[(rnd() * 5) | 0]}","status":${err ? 500 : 200},"latency_ms":${(rnd() * 300) | 0},"amount":${(rnd() * 500).toFixed(2)}}`;
    rawLines.push(line);
    const key = `${svc}|${err ? 'error' : 'info'}`;
    let v = byStream.get(key);
    if (!v) byStream.set(key, (v = []));
    v.push([String(BigInt(tMs) * 1_000_000n + BigInt(j % 1000)), line]);
  }
  const text = rawLines.join('\n') + '\n';
  rawBytes += Buffer.byteLength(text);
  fs.writeSync(rawFd, text);
  const body = JSON.stringify({
    streams: [...byStream].map(([k, values]) => ({ stream: { service: k.split('|')[0], level: k.split('|')[1], env: 'prod' }, values })),
  });
  const a = process.hrtime.bigint();
  const c = process.cpuUsage();
  store.push(decodeLokiJson(body, DEFAULT_LOG_LIMITS));
  const cu = process.cpuUsage(c);
  pushCpuUs += cu.user + cu.system;
  pushNs += process.hrtime.bigint() - a;
}
fs.closeSync(rawFd);
{
  // Sealing the last heads is part of ingest.
  const a = process.hrtime.bigint();
  const c = process.cpuUsage();
  store.checkpoint();
  const cu = process.cpuUsage(c);
  pushCpuUs += cu.user + cu.system;
  pushNs += process.hrtime.bigint() - a;
}
const genSec = Number(process.hrtime.bigint() - started) / 1e9;
const ingestRate = N / (Number(pushNs) / 1e9);
const ingestCpuRate = N / (pushCpuUs / 1e6);
const median = <T>(runs: T[], key: (x: T) => number): T => runs.sort((x, y) => key(x) - key(y))[runs.length >> 1]!;
const thrice = <T>(fn: () => T, key: (x: T) => number): T => median([fn(), fn(), fn()], key);
const disk = store.diskBytes();

const far = 1n << 62n;
const findId = (): { ms: number; n: number } => {
  const a = performance.now();
  let n = 0;
  const hint = { tokens: safeTokens(targetId, true), needle: targetId };
  for (const s of store.selectStreams([], 0n, far)) for (const e of store.entries(s, 0n, far, 'forward', hint)) if (e.line.includes(targetId)) n++;
  return { ms: performance.now() - a, n };
};
findId(); // warm the file cache as grep's runs are warm too
const cold = thrice(findId, (x) => x.ms);

const engine = new LogqlEngine(store);
const needle = 'pool exhausted after';
const scan = (): { sec: number; n: number } => {
  const a = performance.now();
  const r = engine.instantQuery(`sum(count_over_time({env="prod"} |= "${needle}" [2h]))`, BigInt(Date.now()) * 1_000_000n);
  const n = r.type === 'vector' ? (r.samples[0]?.v ?? 0) : 0;
  return { sec: (performance.now() - a) / 1000, n };
};
const sc = thrice(scan, (x) => x.sec);
// A needle with no whole token (`quest comple`): every chunk must be decompressed and searched.
const fullNeedle = 'quest comple';
const fullScan = (): { sec: number; n: number } => {
  const a = performance.now();
  const r = engine.instantQuery(`sum(count_over_time({env="prod"} |= "${fullNeedle}" [2h]))`, BigInt(Date.now()) * 1_000_000n);
  return { sec: (performance.now() - a) / 1000, n: r.type === 'vector' ? (r.samples[0]?.v ?? 0) : 0 };
};
const fs2 = thrice(fullScan, (x) => x.sec);
// A needle with no whole token whose bytes occur in a high-cardinality column (request ids).
const hexNeedle = 'a3f';
const hexScan = (): { sec: number; n: number } => {
  const a = performance.now();
  const r = engine.instantQuery(`sum(count_over_time({env="prod"} |= "${hexNeedle}" [2h]))`, BigInt(Date.now()) * 1_000_000n);
  return { sec: (performance.now() - a) / 1000, n: r.type === 'vector' ? (r.samples[0]?.v ?? 0) : 0 };
};
const hs = thrice(hexScan, (x) => x.sec);
// The log query path (lines rebuilt and returned): the newest 1000 matches.
const logQuery = (): { sec: number; n: number } => {
  const a = performance.now();
  const r = engine.rangeQuery(`{env="prod"} |= "${fullNeedle}"`, 0n, 1n << 62n, 1000, 1000);
  return { sec: (performance.now() - a) / 1000, n: r.type === 'streams' ? r.streams.reduce((x, st) => x + st.entries.length, 0) : 0 };
};
const lq = thrice(logQuery, (x) => x.sec);
const grep = (pat: string): { sec: number; out: string } => {
  const a = performance.now();
  const r = spawnSync('grep', ['-cF', pat, rawFile], { encoding: 'utf8' });
  return { sec: (performance.now() - a) / 1000, out: r.stdout.trim() };
};
grep(needle);
const g1 = thrice(
  () => grep(needle),
  (x) => x.sec,
);
const g2 = thrice(
  () => grep(targetId),
  (x) => x.sec,
);
const g3 = thrice(
  () => grep(fullNeedle),
  (x) => x.sec,
);
const g4 = thrice(
  () => grep(hexNeedle),
  (x) => x.sec,
);
const mb = rawBytes / 1e6;
const report = {
  lines: N,
  codec,
  raw_mb: +mb.toFixed(1),
  disk_mb: +(disk / 1e6).toFixed(1),
  disk_ratio: +(disk / rawBytes).toFixed(4),
  ingest_lines_per_cpu_sec: Math.round(ingestCpuRate),
  ingest_lines_per_sec: Math.round(ingestRate),
  ingest_mb_per_sec: +(rawBytes / 1e6 / (Number(pushNs) / 1e9)).toFixed(1),
  ingest_cpu_sec: +(pushCpuUs / 1e6).toFixed(1),
  ingest_wall_sec: +(Number(pushNs) / 1e9).toFixed(1),
  generation_and_ingest_sec: +genSec.toFixed(1),
  request_id_lookup_ms: +cold.ms.toFixed(1),
  request_id_lines: cold.n,
  grep_request_id_ms: +(g2.sec * 1000).toFixed(1),
  grep_request_id_count: Number(g2.out),
  filter_scan_gb_per_sec: +(rawBytes / 1e9 / sc.sec).toFixed(3),
  filter_matches: sc.n,
  grep_scan_gb_per_sec: +(rawBytes / 1e9 / g1.sec).toFixed(3),
  grep_matches: Number(g1.out),
  full_scan_gb_per_sec: +(rawBytes / 1e9 / fs2.sec).toFixed(3),
  full_scan_matches: fs2.n,
  grep_full_scan_gb_per_sec: +(rawBytes / 1e9 / g3.sec).toFixed(3),
  grep_full_scan_matches: Number(g3.out),
  hex_scan_gb_per_sec: +(rawBytes / 1e9 / hs.sec).toFixed(3),
  hex_scan_matches: hs.n,
  grep_hex_scan_gb_per_sec: +(rawBytes / 1e9 / g4.sec).toFixed(3),
  grep_hex_scan_matches: Number(g4.out),
  log_query_1000_newest_ms: +(lq.sec * 1000).toFixed(1),
  log_query_lines: lq.n,
  bloom_chunks_skipped: store.counters.chunksSkippedByBloom,
  chunks_read: store.counters.chunksRead,
};
console.log(JSON.stringify(report, null, 2));
writeJson(REPO_ROOT, 'logs', new Date(), report);
store.stop();
if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
