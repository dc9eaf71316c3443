/**
 * Trace benchmark through the real path:
 * `node packages/server/dist-test/testkit/bench/traces_http.js [--spans N] [--senders N] [--quick] [--keep] [--cpu-prof DIR]
 *   [--generator on|off] [--compare-spans N] [--compare-rounds R] [--ingest-only]`
 * (also BENCH_QUICK=1 and BENCH_TRACE_SPANS=N, so `npm run bench` can be kept short).
 *
 * Starts `vigil start` as a child process on an empty data dir and sends it N spans (10 million by
 * default, 200,000 with --quick) of traces shaped like the demo's (trace_sender.ts) as OTLP/HTTP
 * protobuf requests of about 1000 spans from several concurrent senders, while writing the same
 * spans as uncompressed OTLP/JSON to a raw file (for `grep -F`). Generation runs in this process
 * and is not counted: the server's CPU is read from /proc of the child (and its descendants) before
 * and after the send phase. The metrics generator (span metrics, service graph) is on, as by default.
 *
 * Then: the server is stopped with SIGTERM (its store cuts the head into a block), bytes on disk are
 * summed; it is started again and 100 trace ids are fetched by `GET /api/traces/<id>` (median over
 * HTTP, cold cache), and `GET /api/search` runs `{ resource.service.name = "shop" && status = error }`
 * over the last hour, first 20 traces (first and median of 3); last `grep -F` of a trace id over
 * the raw OTLP/JSON.
 *
 * Last, the metrics generator's cost (issue 14's target: at most 15% more ingest CPU): fresh servers
 * with `traces.metrics_generator.enabled` false and true, alternating (off, on, then on, off, ...,
 * so drift in the machine's load falls on both), each sent the same --compare-spans spans (1
 * million by default, at most N); the server CPU of each and the ratio of the sums.
 * --ingest-only sends the N spans and stops (no raw file, lookups or comparison): for profiling.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { exited, freePort, spawnVigil, type VigilProcess } from '../helpers.js';
import { rng } from '../tracegen.js';
import { positiveInt } from './cli.js';
import { REPO_ROOT, writeJson } from './report.js';
import { cpuSeconds, hostBusyCpuSeconds, memStat } from './procstat.js';
import { sendAll, TraceWorkload, type SendResult } from './trace_sender.js';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string' },
    senders: { type: 'string' },
    quick: { type: 'boolean' },
    keep: { type: 'boolean' },
    'cpu-prof': { type: 'string' },
    generator: { type: 'string' },
    'compare-spans': { type: 'string' },
    'compare-rounds': { type: 'string' },
    'ingest-only': { type: 'boolean' },
  },
});
const env = process.env;
const quick = args.quick ?? (env['BENCH_QUICK'] !== undefined && env['BENCH_QUICK'] !== '' && env['BENCH_QUICK'] !== '0');
const N = positiveInt('--spans', args.spans ?? env['BENCH_TRACE_SPANS'], quick ? 200_000 : 10_000_000);
const SENDERS = positiveInt('--senders', args.senders, 4);
const COMPARE_SPANS = positiveInt('--compare-spans', args['compare-spans'], Math.min(N, 1_000_000));
const COMPARE_ROUNDS = positiveInt('--compare-rounds', args['compare-rounds'], 2);
if (args.generator !== undefined && args.generator !== 'on' && args.generator !== 'off')
  throw new Error(`--generator must be on or off, got ${JSON.stringify(args.generator)}`);
const GENERATOR = args.generator !== 'off';
const INGEST_ONLY = args['ingest-only'] === true;
const QUERY = '{ resource.service.name = "shop" && status = error }';
const SEED = 20261202;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracebench-http-'));
const rawFile = path.join(dir, 'raw.json');
const nowMs = Date.now();

/** A config file switching the metrics generator on or off (everything else default). */
function generatorConfig(on: boolean): string {
  const file = path.join(dir, `generator-${on ? 'on' : 'off'}.yml`);
  fs.writeFileSync(file, `traces:\n  metrics_generator:\n    enabled: ${on}\n`);
  return file;
}

interface Ingest {
  sent: SendResult;
  serverCpuS: number;
  wallS: number;
  otherCpuS: number;
  peakRss: number;
}

async function stop(v: VigilProcess): Promise<void> {
  v.proc.kill('SIGTERM');
  const end = await exited(v.proc);
  if (end.code !== 0) throw new Error(`vigil exited with ${end.code ?? end.signal}: ${v.stderr().slice(-2000)}`);
}

/** Starts a server on `dataDir`, sends `n` spans (seeded: the same spans for the same n), stops it; its CPU over the send. */
async function ingest(dataDir: string, n: number, generator: boolean, rawFd?: number, nodeArgs: string[] = []): Promise<Ingest> {
  fs.mkdirSync(dataDir, { recursive: true });
  const vigil = await spawnVigil(dataDir, await freePort(), ['--config', generatorConfig(generator)], process.env, nodeArgs);
  const pid = vigil.proc.pid!;
  const cpu0 = cpuSeconds(pid);
  const host0 = hostBusyCpuSeconds();
  const self0 = process.cpuUsage();
  const wall0 = performance.now();
  const sent = await sendAll(vigil.url, new TraceWorkload(n, nowMs, SEED, rawFd), SENDERS);
  const wallS = (performance.now() - wall0) / 1000;
  const serverCpuS = cpuSeconds(pid) - cpu0;
  const selfCpu = process.cpuUsage(self0);
  const otherCpuS = hostBusyCpuSeconds() - host0 - serverCpuS - (selfCpu.user + selfCpu.system) / 1e6;
  const peakRss = memStat(pid)?.peakRssBytes ?? 0;
  await stop(vigil);
  return { sent, serverCpuS, wallS, otherCpuS, peakRss };
}

const du = (d: string): number => {
  let n = 0;
  for (const f of fs.readdirSync(d, { withFileTypes: true })) n += f.isDirectory() ? du(path.join(d, f.name)) : fs.statSync(path.join(d, f.name)).size;
  return n;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

// Send phase. --cpu-prof DIR: the server of the send phase writes a V8 CPU profile there when it
// stops. The heap limit is given so that bin/vigil.js runs the server on its main thread, the one profiled.
const dataDir = path.join(dir, 'data');
const profArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`, '--max-old-space-size=4096'] : [];
const rawFd = INGEST_ONLY ? undefined : fs.openSync(rawFile, 'w');
const main = await ingest(dataDir, N, GENERATOR, rawFd, profArgs);
if (rawFd !== undefined) fs.closeSync(rawFd);
const { sent } = main;
const tracesDir = path.join(dataDir, 'traces');
const diskBytes = du(tracesDir);
console.log(
  `trace benchmark (OTLP/HTTP protobuf to vigil start, metrics generator ${GENERATOR ? 'on' : 'off'}): ${fmt(sent.spans)} demo-shaped spans, ${fmt(sent.requests)} requests from ${SENDERS} senders`,
);
console.log(
  `  ingest: server ${fmt(main.serverCpuS, 1)} CPU s = ${fmt(sent.spans / main.serverCpuS)} spans per CPU second (${fmt((main.serverCpuS * 1e6) / sent.spans, 1)} µs per span); ` +
    `${fmt(sent.spans / main.wallS)} per wall second; ${sent.retries} retries; peak RSS ${fmt(main.peakRss / 2 ** 20)} MiB; ` +
    `other processes on the machine took ${fmt(main.otherCpuS, 0)} CPU s of the ${fmt(main.wallS, 0)} s`,
);
console.log(
  `  on disk: ${fmt(diskBytes)} bytes, ${fmt(diskBytes / sent.spans, 1)} bytes per span` +
    (INGEST_ONLY ? '' : ` (raw OTLP/JSON: ${fmt(sent.rawBytes / sent.spans, 1)} bytes per span, ${fmt(sent.rawBytes / diskBytes, 1)}x)`),
);
/** What `npm run bench` keeps of this run (.bench/runs/), for the regression guard. */
const record: Record<string, number | boolean> = {
  spans: sent.spans,
  generator: GENERATOR,
  spansPerServerCpuSecond: sent.spans / main.serverCpuS,
  microsPerSpan: (main.serverCpuS * 1e6) / sent.spans,
  spansPerWallSecond: sent.spans / main.wallS,
  peakRssBytes: main.peakRss,
  diskBytesPerSpan: diskBytes / sent.spans,
};

if (!INGEST_ONLY) {
  // Trace by id and the TraceQL search over HTTP, from a server started anew: nothing cached.
  const vigil = await spawnVigil(dataDir, await freePort());
  const ids = sent.ids;
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
  const endS = Math.ceil(Date.now() / 1000);
  const searchUrl = `${vigil.url}/api/search?${new URLSearchParams({ q: QUERY, limit: '20', start: String(endS - 3600), end: String(endS) })}`;
  const searches: number[] = [];
  let found = 0;
  for (let run = 0; run < 3; run++) {
    const a = performance.now();
    const res = await fetch(searchUrl);
    const body = (await res.json()) as { traces?: unknown[] };
    searches.push(performance.now() - a);
    if (res.status !== 200) throw new Error(`GET /api/search: ${res.status} ${JSON.stringify(body)}`);
    found = body.traces?.length ?? 0;
  }
  await stop(vigil);
  if (found !== 20) throw new Error(`search found ${found} traces, not 20`);

  const target = ids[Math.floor(ids.length / 2)]!;
  const greps: number[] = [];
  for (let run = 0; run < 3; run++) {
    const a = performance.now();
    const g = spawnSync('grep', ['-F', '-c', target, rawFile]);
    greps.push(performance.now() - a);
    if (g.status !== 0) throw new Error(`grep found nothing: ${g.stderr.toString()}`);
  }
  console.log(`  trace by id over HTTP: median ${fmt(median(lookups), 2)} ms (max ${fmt(Math.max(...lookups), 2)} ms) over 100 ids`);
  console.log(
    `  GET /api/search ${QUERY} over the last hour, first 20: first ${fmt(searches[0]!, 1)} ms, median of 3 ${fmt(median(searches), 1)} ms (${found} traces)`,
  );
  console.log(`  grep -F of one trace id over the raw OTLP/JSON (${fmt(sent.rawBytes / 1e6)} MB): median ${fmt(median(greps), 1)} ms`);
  fs.rmSync(rawFile, { force: true });
  Object.assign(record, {
    rawJsonBytesPerSpan: sent.rawBytes / sent.spans,
    traceByIdMedianMs: median(lookups),
    searchFirst20FirstMs: searches[0]!,
    searchFirst20MedianMs: median(searches),
    grepTraceIdMedianMs: median(greps),
  });

  // The metrics generator's cost: off and on alternating, the same spans each time.
  const cpu = { off: 0, on: 0 };
  const rows: string[] = [];
  for (let round = 0; round < COMPARE_ROUNDS; round++) {
    for (const on of round % 2 ? [true, false] : [false, true]) {
      const d = path.join(dir, `compare-${round}-${on ? 'on' : 'off'}`);
      const r = await ingest(d, COMPARE_SPANS, on);
      fs.rmSync(d, { recursive: true, force: true });
      cpu[on ? 'on' : 'off'] += r.serverCpuS;
      rows.push(`${on ? 'on' : 'off'} ${fmt((r.serverCpuS * 1e6) / r.sent.spans, 1)}`);
    }
  }
  const extra = (cpu.on / cpu.off - 1) * 100;
  const perSpan = (s: number): string => fmt((s * 1e6) / (COMPARE_SPANS * COMPARE_ROUNDS), 1);
  console.log(
    `  metrics generator, ${COMPARE_ROUNDS} rounds of ${fmt(COMPARE_SPANS)} spans each way: off ${perSpan(cpu.off)} µs per span (${fmt((COMPARE_SPANS * COMPARE_ROUNDS) / cpu.off)} per CPU s), ` +
      `on ${perSpan(cpu.on)} µs per span (${fmt((COMPARE_SPANS * COMPARE_ROUNDS) / cpu.on)} per CPU s): ${extra >= 0 ? '+' : ''}${fmt(extra, 1)}% CPU [µs per span by phase: ${rows.join(', ')}]`,
  );
  record['generatorExtraCpuPercent'] = extra;
}
writeJson(REPO_ROOT, 'traces', new Date(), record);
if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`  kept ${dir}`);
