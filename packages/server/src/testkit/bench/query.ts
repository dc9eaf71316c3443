/**
 * Query benchmark: latency of typical dashboard and rule queries on Vigil, Prometheus and
 * VictoriaMetrics, on the ingest benchmark's data (plus a small real histogram).
 *
 * The data is generated once; each server in turn is started fresh, loaded with the same request
 * bodies, and asked every query (instant and range) a few times to warm up, then `--reps` times
 * measured, one query at a time, before it is stopped. Servers never run at the same time.
 * Latency is the client's wall time for the whole HTTP exchange, body included.
 *
 * Options (flag, or environment variable):
 *   --series N   BENCH_SERIES   distinct series of the ingest data (10000)
 *   --samples N  BENCH_SAMPLES  samples per series, 15 s apart (260: a little over an hour)
 *   --reps N     BENCH_REPS     measured repetitions per query (15)
 *   --only a,b   BENCH_ONLY     servers: vigil, prometheus, vm (all)
 *   --quick      BENCH_QUICK=1  smoke run: 1000 series, 5 reps
 *   --seed N     BENCH_SEED     PRNG seed (1)
 */
import { positiveInt } from './cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultEndMs, generateDataset, type Dataset } from './datagen.js';
import { PEERS, PEER_IDS, httpCall, killAllSync, logTail, startServer, stopServer, type PeerId, type ServerHandle } from './peers.js';
import { memStat } from './procstat.js';
import { withHistogram } from './query_histogram.js';
import { QUERIES, type BenchQuery } from './query_set.js';
import { formatQueryTable, queryRatios, type QueryResult, type ServerQueryResult } from './query_report.js';
import { writeJson } from './report.js';
import { sendDataset } from './sender.js';

const STEP_MS = 15_000;
const READY_TIMEOUT_MS = 60_000;
const SEND_TIMEOUT_MS = 300_000;
const QUERY_TIMEOUT_MS = 60_000;
const WARMUPS = 2;
/** A query slower than this on its first warm-up is measured only a few times, to bound the run. */
const SLOW_QUERY_MS = 5_000;

export { QUERIES, type BenchQuery } from './query_set.js';

interface Options {
  readonly series: number;
  readonly samples: number;
  readonly reps: number;
  readonly only: readonly PeerId[];
  readonly seed: number;
  readonly quick: boolean;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      series: { type: 'string' },
      samples: { type: 'string' },
      reps: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: node packages/server/dist-test/testkit/bench/query.js [--series N] [--samples N] [--reps N] [--only vigil,prometheus,vm] [--quick] [--seed N]',
    );
    process.exit(0);
  }
  const quick = values.quick ?? (env['BENCH_QUICK'] !== undefined && env['BENCH_QUICK'] !== '' && env['BENCH_QUICK'] !== '0');
  const only: PeerId[] = [];
  for (const part of (values.only ?? env['BENCH_ONLY'] ?? PEER_IDS.join(',')).split(',')) {
    const name = part.trim().toLowerCase();
    if (!name) continue;
    const id = name === 'victoriametrics' || name === 'victoria-metrics' ? 'vm' : name === 'prom' ? 'prometheus' : name;
    if (!(PEER_IDS as readonly string[]).includes(id)) throw new Error(`unknown server ${JSON.stringify(part)} in --only (known: ${PEER_IDS.join(', ')})`);
    if (!only.includes(id as PeerId)) only.push(id as PeerId);
  }
  if (only.length === 0) throw new Error('--only names no server');
  return {
    series: positiveInt('--series', values.series ?? env['BENCH_SERIES'], quick ? 1000 : 10_000),
    // An hour of range plus the 30 m subquery window would need 90 m; 65 m keeps Prometheus'
    // one-hour out-of-order bound comfortable and gives every 5 m window full data.
    samples: positiveInt('--samples', values.samples ?? env['BENCH_SAMPLES'], 260),
    reps: positiveInt('--reps', values.reps ?? env['BENCH_REPS'], quick ? 5 : 15),
    only,
    seed: positiveInt('--seed', values.seed ?? env['BENCH_SEED'], 1),
    quick,
  };
}

/** The value at fraction `q` of sorted `xs` (nearest rank). */
function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Sends one query; resolves with its wall time and the number of series (or a scalar's 1). */
async function runQuery(h: ServerHandle, q: BenchQuery, endS: number): Promise<{ ms: number; series: number }> {
  const form = new URLSearchParams({ query: q.expr });
  // nocache: VictoriaMetrics would otherwise answer repeated range queries from its result cache;
  // the other servers ignore the parameter.
  form.set('nocache', '1');
  if (q.kind === 'instant') form.set('time', String(endS));
  else {
    form.set('start', String(endS - 3600));
    form.set('end', String(endS));
    form.set('step', '15');
  }
  const t0 = performance.now();
  const res = await fetch(`${h.baseUrl}/api/v1/${q.kind === 'instant' ? 'query' : 'query_range'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { data?: { result?: unknown } };
  const result = body.data?.result;
  return { ms, series: Array.isArray(result) ? result.length : 1 };
}

async function measure(h: ServerHandle, q: BenchQuery, endS: number, reps: number): Promise<QueryResult> {
  try {
    let first = 0;
    for (let i = 0; i < WARMUPS; i++) {
      const r = await runQuery(h, q, endS);
      if (i === 0) first = r.ms;
    }
    const n = first > SLOW_QUERY_MS ? Math.min(3, reps) : reps;
    const times: number[] = [];
    let series = 0;
    for (let i = 0; i < n; i++) {
      const r = await runQuery(h, q, endS);
      times.push(r.ms);
      series = r.series;
    }
    return {
      name: q.name,
      expr: q.expr,
      kind: q.kind,
      medianMs: percentile(times, 0.5),
      p90Ms: percentile(times, 0.9),
      minMs: Math.min(...times),
      reps: n,
      series,
      error: null,
    };
  } catch (e) {
    return {
      name: q.name,
      expr: q.expr,
      kind: q.kind,
      medianMs: null,
      p90Ms: null,
      minMs: null,
      reps: 0,
      series: null,
      error: e instanceof Error ? e.message : String(e),
    };
  }
}

/** Starts one server, loads the data, runs every query, stops it. Never throws. */
async function runServer(id: PeerId, data: Dataset, opts: Options, workDir: string): Promise<ServerQueryResult> {
  const def = PEERS[id];
  const out: ServerQueryResult = {
    id,
    title: def.title,
    error: null,
    loadSeconds: null,
    ackedSamples: null,
    rssAfterLoadBytes: null,
    peakRssBytes: null,
    queries: [],
  };
  console.log(`\n== ${def.title}`);
  let h: ServerHandle;
  try {
    h = await startServer(def, workDir, READY_TIMEOUT_MS);
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
    console.log(`   failed to start: ${out.error}`);
    return out;
  }
  try {
    const send = await sendDataset(data, { url: h.baseUrl + def.writePath, senders: 4, deadlineMs: SEND_TIMEOUT_MS });
    out.loadSeconds = send.wallMs / 1000;
    out.ackedSamples = send.okSamples;
    console.log(`   loaded ${send.okSamples.toLocaleString('en-US')}/${data.totalSamples.toLocaleString('en-US')} samples in ${out.loadSeconds.toFixed(1)} s`);
    if (send.okSamples !== data.totalSamples) {
      out.error = `only ${send.okSamples} of ${data.totalSamples} samples acknowledged: ${send.errorSamples.join('; ')}`;
      console.log(`   ! ${out.error}`);
    }
    // VictoriaMetrics makes fresh rows searchable after about a second; force it so the first query sees all data.
    if (id === 'vm') await httpCall('GET', `${h.baseUrl}/internal/force_flush`, 30_000);
    out.rssAfterLoadBytes = memStat(h.pid)?.rssBytes ?? null;
    const endS = Math.floor(data.maxTimeMs / 1000);
    for (const q of QUERIES) {
      const r = await measure(h, q, endS, opts.reps);
      out.queries.push(r);
      console.log(
        r.error !== null
          ? `   ${q.name.padEnd(30)} error: ${r.error}`
          : `   ${q.name.padEnd(30)} median ${r.medianMs!.toFixed(1).padStart(8)} ms  p90 ${r.p90Ms!.toFixed(1).padStart(8)} ms  (${r.series} series, ${r.reps} runs)`,
      );
    }
    out.peakRssBytes = memStat(h.pid)?.peakRssBytes ?? null;
  } catch (e) {
    out.error = `${e instanceof Error ? e.message : String(e)}\n${logTail(h.logPath)}`;
    console.log(`   error: ${out.error}`);
  } finally {
    await stopServer(h);
  }
  return out;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: this file sits at packages/server/{src,dist}/bench. */
const REPO_ROOT = path.resolve(here, '../../../../..');

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const startedAt = new Date();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-qbench-'));
  process.on('exit', () => {
    killAllSync();
    rmSync(workDir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping servers`);
      process.exit(130);
    });
  }
  const endMs = defaultEndMs(Date.now(), STEP_MS);
  const base = generateDataset({
    series: opts.series,
    samples: opts.samples,
    seriesPerRequest: opts.quick ? 250 : 1000,
    stepMs: STEP_MS,
    endMs,
    seed: opts.seed,
  });
  const data = withHistogram(base, opts.quick ? 4 : 20);
  console.log(
    `Query benchmark: ${data.labels.length.toLocaleString('en-US')} series (${opts.series} ingest-benchmark series + ${data.labels.length - opts.series} histogram series) × ` +
      `${opts.samples} samples at 15 s; ${QUERIES.length} queries × (${WARMUPS} warm-ups + ${opts.reps} runs) per server`,
  );
  const results: ServerQueryResult[] = [];
  for (const id of opts.only) results.push(await runServer(id, data, opts, workDir));

  console.log('\n' + formatQueryTable(results));
  const ratios = queryRatios(results);
  const file = writeJson(REPO_ROOT, 'query', startedAt, {
    benchmark: 'query',
    startedAt: startedAt.toISOString(),
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memBytes: os.totalmem(), node: process.version },
    options: { ...opts, stepMs: STEP_MS, warmups: WARMUPS },
    dataset: {
      series: data.labels.length,
      samples: data.totalSamples,
      minTime: new Date(data.minTimeMs).toISOString(),
      maxTime: new Date(data.maxTimeMs).toISOString(),
    },
    results,
    vigilRatios: ratios,
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file) || file}`);
  return results.some((r) => r.error !== null || r.queries.some((q) => q.error !== null)) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
