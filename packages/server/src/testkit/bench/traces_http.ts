/**
 * Trace benchmark through the real path:
 * `node packages/server/dist-test/testkit/bench/traces_http.js [--spans N] [--senders N] [--quick] [--keep] [--cpu-prof DIR]`.
 *
 * Starts `vigil start` as a child process on an empty data dir, then generates traces shaped like the
 * demo's (testkit/tracegen.ts: about 10 spans per trace across 2 to 5 services, 15 to 25 attributes
 * per span, some errors) and sends them as OTLP/HTTP protobuf requests of about 1000 spans from
 * several concurrent senders, while writing the same spans as uncompressed OTLP/JSON to a raw file
 * (for `grep -F`). Generation runs in this process and is not counted: the server's CPU is read
 * from /proc of the child (and its descendants) before and after the send phase.
 *
 * Then: the server is stopped with SIGTERM (its store cuts the head into a block), bytes on disk
 * are summed; it is started again and 100 trace ids are fetched by `GET /api/traces/<id>` (median
 * over HTTP, cold cache); it is stopped and the TraceQL search
 * `{ resource.service.name = "shop" && status = error }` over the last hour, first 20 traces, runs
 * in-process on the store it left (the Tempo search API is not on this branch); last `grep -F` of a
 * trace id over the raw OTLP/JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeTracesData, toOtlpJson } from '../../traces/ingest/otlp_encode.js';
import { TraceStore } from '../../traces/store/store.js';
import type { Span } from '../../traces/storage/types.js';
import { hintsOf, searchTraces } from '../../traces/traceql/index.js';
import { exited, freePort, spawnVigil, type VigilProcess } from '../helpers.js';
import { demoTrace, rng } from '../tracegen.js';
import { positiveInt } from './cli.js';
import { REPO_ROOT, writeJson } from './report.js';
import { cpuSeconds, hostBusyCpuSeconds, memStat } from './procstat.js';

const { values: args } = parseArgs({
  options: { spans: { type: 'string' }, senders: { type: 'string' }, quick: { type: 'boolean' }, keep: { type: 'boolean' }, 'cpu-prof': { type: 'string' } },
});
const N = positiveInt('--spans', args.spans, args.quick ? 200_000 : 10_000_000);
const SENDERS = positiveInt('--senders', args.senders, 4);
const QUERY = '{ resource.service.name = "shop" && status = error }';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracebench-http-'));
const dataDir = path.join(dir, 'data');
const rawFile = path.join(dir, 'raw.json');
const rawFd = fs.openSync(rawFile, 'w');
const nowMs = Date.now();
// The traces fill the last 50 minutes, oldest first, as a live system would see them.
const spanEvery = (50n * 60n * 1_000_000_000n) / BigInt(N);
const t0 = BigInt(nowMs) * 1_000_000n - 50n * 60n * 1_000_000_000n;

const r = rng(20261202);
const ids: string[] = [];
let generated = 0;
let rawBytes = 0;
let requests = 0;
let retries = 0;

/** The next request body (about 1000 whole traces' spans), or undefined when N spans were generated. */
function nextBody(): { body: Buffer; spans: number } | undefined {
  if (generated >= N) return undefined;
  const batch: Span[] = [];
  while (batch.length < 1000 && generated + batch.length < N) {
    const t = demoTrace(r, t0 + BigInt(generated + batch.length) * spanEvery);
    batch.push(...t);
    if (ids.length < 100_000) ids.push(t[0]!.traceId);
  }
  generated += batch.length;
  const raw = JSON.stringify({ resourceSpans: toOtlpJson(batch) }) + '\n';
  fs.writeSync(rawFd, raw);
  rawBytes += Buffer.byteLength(raw);
  return { body: encodeTracesData(batch), spans: batch.length };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: SENDERS });

function post(url: string, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/v1/traces`,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One sender: takes bodies until none are left; waits out 429/503 as an OTLP exporter would. */
async function sender(url: string): Promise<void> {
  for (let next = nextBody(); next; next = nextBody()) {
    for (;;) {
      const res = await post(url, next.body);
      requests++;
      if (res.status === 429 || res.status === 503) {
        retries++;
        await new Promise((ok) => setTimeout(ok, 1000 * Number(res.headers['retry-after'] ?? 1)));
        continue;
      }
      // A full success is an empty ExportTraceServiceResponse; anything else is a partial success or an error.
      if (res.status !== 200 || res.body.length > 0) throw new Error(`POST /v1/traces: ${res.status} ${res.body.toString('latin1')}`);
      break;
    }
  }
}

async function stop(v: VigilProcess): Promise<void> {
  v.proc.kill('SIGTERM');
  const end = await exited(v.proc);
  if (end.code !== 0) throw new Error(`vigil exited with ${end.code ?? end.signal}: ${v.stderr().slice(-2000)}`);
}

const du = (d: string): number => {
  let n = 0;
  for (const f of fs.readdirSync(d, { withFileTypes: true })) n += f.isDirectory() ? du(path.join(d, f.name)) : fs.statSync(path.join(d, f.name)).size;
  return n;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Send phase.
fs.mkdirSync(dataDir);
// --cpu-prof DIR: the server of the send phase writes a V8 CPU profile there when it stops. The
// heap limit is given so that bin/vigil.js runs the server on its main thread, the one profiled.
const profArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`, '--max-old-space-size=4096'] : [];
let vigil = await spawnVigil(dataDir, await freePort(), [], process.env, profArgs);
const pid = vigil.proc.pid!;
const cpu0 = cpuSeconds(pid);
const host0 = hostBusyCpuSeconds();
const self0 = process.cpuUsage();
const wall0 = performance.now();
await Promise.all(Array.from({ length: SENDERS }, () => sender(vigil.url)));
const sendWallS = (performance.now() - wall0) / 1000;
const serverCpuS = cpuSeconds(pid) - cpu0;
const selfCpu = process.cpuUsage(self0);
const otherCpuS = hostBusyCpuSeconds() - host0 - serverCpuS - (selfCpu.user + selfCpu.system) / 1e6;
const peakRss = memStat(pid)?.peakRssBytes ?? 0;
fs.closeSync(rawFd);
agent.destroy();
await stop(vigil);
const tracesDir = path.join(dataDir, 'traces');
const diskBytes = du(tracesDir);

// Trace by id over HTTP, from a server started anew: nothing cached.
vigil = await spawnVigil(dataDir, await freePort());
const pick = rng(7);
const lookups: number[] = [];
for (let i = 0; i < 100; i++) {
  const id = ids[Math.floor(pick() * ids.length)]!;
  const a = performance.now();
  const res = await fetch(`${vigil.url}/api/traces/${id}`);
  const body = (await res.json()) as { batches?: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
  lookups.push(performance.now() - a);
  const got = (body.batches ?? []).reduce((n, b) => n + b.scopeSpans.reduce((m, s) => m + s.spans.length, 0), 0);
  if (res.status !== 200 || got < 8) throw new Error(`trace ${id}: ${res.status}, ${got} spans`);
}
await stop(vigil);

// TraceQL search, in-process on the store the server left, through the store's hints as the API will.
const reader = new TraceStore({ dir: tracesDir, tickIntervalMs: 0 });
reader.start();
const endNs = BigInt(Date.now()) * 1_000_000n;
const startNs = endNs - 3_600_000_000_000n;
const hints = hintsOf(QUERY, { startNanos: startNs, endNanos: endNs });
const service = hints.equals.find((c) => c.scope === 'resource' && c.name === 'service.name')?.value;
const searches: number[] = [];
let found = 0;
for (let run = 0; run < 3; run++) {
  const a = performance.now();
  const candidates = reader.search({ start: startNs, end: endNs + 1n, ...(typeof service === 'string' ? { service } : {}) });
  const res = await searchTraces(QUERY, candidates, { limit: 20, startNanos: startNs, endNanos: endNs });
  searches.push(performance.now() - a);
  found = res.traces.length;
}
reader.stop();
if (found !== 20) throw new Error(`search found ${found} traces, not 20`);

const target = ids[Math.floor(ids.length / 2)]!;
const greps: number[] = [];
for (let run = 0; run < 3; run++) {
  const a = performance.now();
  const g = spawnSync('grep', ['-F', '-c', target, rawFile]);
  greps.push(performance.now() - a);
  if (g.status !== 0) throw new Error(`grep found nothing: ${g.stderr.toString()}`);
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`trace benchmark (OTLP/HTTP protobuf to vigil start): ${fmt(generated)} demo-shaped spans, ${fmt(requests)} requests from ${SENDERS} senders`);
console.log(
  `  ingest: server ${fmt(serverCpuS, 1)} CPU s = ${fmt(generated / serverCpuS)} spans per CPU second (${fmt((serverCpuS * 1e6) / generated, 1)} µs per span); ` +
    `${fmt(generated / sendWallS)} per wall second; ${retries} retries; peak RSS ${fmt(peakRss / 2 ** 20)} MiB; ` +
    `other processes on the machine took ${fmt(otherCpuS, 0)} CPU s of the ${fmt(sendWallS, 0)} s`,
);
console.log(
  `  on disk: ${fmt(diskBytes)} bytes, ${fmt(diskBytes / generated, 1)} bytes per span (raw OTLP/JSON: ${fmt(rawBytes / generated, 1)} bytes per span, ${fmt(rawBytes / diskBytes, 1)}x)`,
);
console.log(`  trace by id over HTTP: median ${fmt(median(lookups), 2)} ms (max ${fmt(Math.max(...lookups), 2)} ms) over 100 ids`);
console.log(`  ${QUERY} over the last hour, first 20 (in-process TraceQL on the store): median ${fmt(median(searches), 1)} ms (${found} traces)`);
console.log(`  grep -F of one trace id over the raw OTLP/JSON (${fmt(rawBytes / 1e6)} MB): median ${fmt(median(greps), 1)} ms`);
writeJson(REPO_ROOT, 'traces', new Date(), {
  spans: generated,
  spansPerServerCpuSecond: generated / serverCpuS,
  microsPerSpan: (serverCpuS * 1e6) / generated,
  spansPerWallSecond: generated / sendWallS,
  peakRssBytes: peakRss,
  diskBytesPerSpan: diskBytes / generated,
  rawJsonBytesPerSpan: rawBytes / generated,
  traceByIdMedianMs: median(lookups),
  searchFirst20MedianMs: median(searches),
  grepTraceIdMedianMs: median(greps),
});
if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`  kept ${dir}`);
