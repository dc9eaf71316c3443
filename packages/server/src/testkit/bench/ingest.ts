/**
 * `npm run bench`: remote_write ingest benchmark of Vigil side by side with Prometheus and
 * VictoriaMetrics.
 *
 * One data set is generated and encoded up front; then each server in turn is started fresh on an
 * empty temp dir, sent exactly the same request bodies, made to write its final on-disk form, and
 * measured (throughput, server CPU per sample, peak RSS, bytes per sample on disk) before it is
 * killed and its dir removed. Servers never run at the same time, so they do not compete for the
 * machine's cores.
 *
 * Options (flag, or environment variable):
 *   --series N             BENCH_SERIES              distinct series (20000)
 *   --samples N            BENCH_SAMPLES             samples per series, 15 s apart (480)
 *   --senders N            BENCH_SENDERS             concurrent requests (8)
 *   --series-per-request N BENCH_SERIES_PER_REQUEST  series per request (2000)
 *   --only a,b             BENCH_ONLY                servers: vigil, prometheus, vm (all)
 *   --quick                BENCH_QUICK=1             smoke run: 2000 series × 120 samples, 200 per request
 *   --seed N               BENCH_SEED                PRNG seed (1)
 *   --send-timeout S       BENCH_SEND_TIMEOUT        cap on one server's send phase, seconds (240)
 */
import { positiveInt } from './cli.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultEndMs, generateDataset, type Dataset } from './datagen.js';
import { PEERS, PEER_IDS, VIGIL_BIN, httpCall, killAllSync, logTail, startServer, stopServer, storedCounts, type PeerId } from './peers.js';
import { clkTck, cpuSeconds, hostBusyCpuSeconds, memStat } from './procstat.js';
import { formatRatios, formatTable, ratios, writeJson, type ServerResult } from './report.js';
import { sendDataset } from './sender.js';

const STEP_MS = 15_000;
const READY_TIMEOUT_MS = 60_000;
const FLUSH_TIMEOUT_MS = 180_000;
const QUERY_TIMEOUT_MS = 60_000;

/** Resolved options of one run. */
interface BenchOptions {
  readonly series: number;
  readonly samples: number;
  readonly senders: number;
  readonly seriesPerRequest: number;
  readonly only: readonly PeerId[];
  readonly seed: number;
  readonly sendTimeoutMs: number;
}

const USAGE = `usage: npm run bench -- [--series N] [--samples N] [--senders N] [--series-per-request N]
                       [--only vigil,prometheus,vm] [--quick] [--seed N] [--send-timeout S]`;

/** Flags win over environment variables, which win over the (quick or full) defaults. */
function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      series: { type: 'string' },
      samples: { type: 'string' },
      senders: { type: 'string' },
      'series-per-request': { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      seed: { type: 'string' },
      'send-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? (env['BENCH_QUICK'] !== undefined && env['BENCH_QUICK'] !== '' && env['BENCH_QUICK'] !== '0');
  const onlyRaw = values.only ?? env['BENCH_ONLY'] ?? PEER_IDS.join(',');
  const only: PeerId[] = [];
  for (const part of onlyRaw.split(',')) {
    const name = part.trim().toLowerCase();
    if (!name) continue;
    const id = name === 'victoriametrics' || name === 'victoria-metrics' ? 'vm' : name === 'prom' ? 'prometheus' : name;
    if (!(PEER_IDS as readonly string[]).includes(id)) throw new Error(`unknown server ${JSON.stringify(part)} in --only (known: ${PEER_IDS.join(', ')})`);
    if (!only.includes(id as PeerId)) only.push(id as PeerId);
  }
  if (only.length === 0) throw new Error('--only names no server');
  return {
    series: positiveInt('--series', values.series ?? env['BENCH_SERIES'], quick ? 2000 : 20_000),
    samples: positiveInt('--samples', values.samples ?? env['BENCH_SAMPLES'], quick ? 120 : 480),
    senders: positiveInt('--senders', values.senders ?? env['BENCH_SENDERS'], 8),
    seriesPerRequest: positiveInt('--series-per-request', values['series-per-request'] ?? env['BENCH_SERIES_PER_REQUEST'], quick ? 200 : 2000),
    only,
    seed: positiveInt('--seed', values.seed ?? env['BENCH_SEED'], 1),
    sendTimeoutMs: positiveInt('--send-timeout', values['send-timeout'] ?? env['BENCH_SEND_TIMEOUT'], 240) * 1000,
  };
}

/** First line of a version command's output, or null; for the JSON record only. */
function versionOf(cmd: string, args: string[]): string | null {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim().split('\n')[0] || null;
  } catch {
    return null;
  }
}

function dpkgVersion(pkg: string): string | null {
  const v = versionOf('dpkg-query', ['-W', '-f=${Version}', pkg]);
  return v ? `${pkg} ${v} (Debian package)` : null;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: this file sits at packages/server/{src,dist}/bench. */
const REPO_ROOT = path.resolve(here, '../../../../..');

function vigilVersion(): string | null {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(here, '../../../package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

const VERSIONS: Readonly<Record<PeerId, () => string | null>> = {
  vigil: vigilVersion,
  prometheus: () => versionOf('prometheus', ['--version']),
  // Debian's build prints an empty -version (and reports "" on /metrics); the package knows.
  vm: () => versionOf('victoria-metrics', ['-version']) ?? dpkgVersion('victoria-metrics'),
};

/** The version a server reports on /metrics (`vm_app_version`, `*_build_info`), or null. */
async function versionFromMetrics(baseUrl: string): Promise<string | null> {
  try {
    const r = await httpCall('GET', `${baseUrl}/metrics`, 5000);
    return /(?:vm_app_version|_build_info)\{[^}]*\bversion="([^"]+)"/.exec(r.body)?.[1] ?? null;
  } catch {
    return null;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs one server through start → send → flush → measure → stop. Never throws. */
async function runOne(id: PeerId, data: Dataset, opts: BenchOptions, workDir: string): Promise<ServerResult> {
  const def = PEERS[id];
  const result: { -readonly [K in keyof ServerResult]: ServerResult[K] } = {
    id,
    title: def.title,
    version: VERSIONS[id](),
    error: null,
    startupSeconds: null,
    ackedSamples: null,
    okRequests: null,
    failedRequests: null,
    status4xx: null,
    retries: null,
    timedOut: false,
    errorSamples: [],
    sendSeconds: null,
    samplesPerSecond: null,
    cpuSendSeconds: null,
    clientCpuSendSeconds: null,
    otherCpuSendSeconds: null,
    cpuSecondsPerMillionSamples: null,
    cpuMicrosPerSample: null,
    cpuFlushSeconds: null,
    flushSeconds: null,
    peakRssBytes: null,
    diskBytes: null,
    diskWhat: null,
    diskParts: {},
    bytesPerSample: null,
    storedSeries: null,
    storedSamples: null,
  };
  log(`\n== ${def.title}`);
  const t0 = performance.now();
  let h;
  try {
    h = await startServer(def, workDir, READY_TIMEOUT_MS);
  } catch (e) {
    result.error = errText(e);
    log(`   failed to start: ${result.error}`);
    return result;
  }
  try {
    result.startupSeconds = (performance.now() - t0) / 1000;
    // Debian's victoria-metrics prints an empty -version; its /metrics knows.
    if (!result.version) result.version = await versionFromMetrics(h.baseUrl);
    log(`   ${result.version ?? 'version unknown'}; ready in ${result.startupSeconds.toFixed(1)} s at ${h.baseUrl} (pid ${h.pid}); sending…`);

    // CPU is read right before and after sending, so startup and flush work stay out of it.
    const cpu0 = cpuSeconds(h.pid);
    const client0 = process.cpuUsage();
    const host0 = hostBusyCpuSeconds();
    const send = await sendDataset(data, { url: h.baseUrl + def.writePath, senders: opts.senders, deadlineMs: opts.sendTimeoutMs });
    const cpu1 = cpuSeconds(h.pid);
    const client = process.cpuUsage(client0);
    const hostBusy = hostBusyCpuSeconds() - host0;
    result.clientCpuSendSeconds = (client.user + client.system) / 1e6;
    result.otherCpuSendSeconds = Math.max(0, hostBusy - result.clientCpuSendSeconds - (cpu1 - cpu0));
    result.ackedSamples = send.okSamples;
    result.okRequests = send.okRequests;
    result.failedRequests = send.failedRequests;
    result.status4xx = send.status4xx;
    result.retries = send.retries;
    result.timedOut = send.timedOut;
    result.errorSamples = send.errorSamples;
    result.sendSeconds = send.wallMs / 1000;
    result.cpuSendSeconds = cpu1 - cpu0;
    if (send.okSamples > 0) {
      result.samplesPerSecond = send.okSamples / result.sendSeconds;
      result.cpuSecondsPerMillionSamples = (result.cpuSendSeconds / send.okSamples) * 1e6;
      result.cpuMicrosPerSample = (result.cpuSendSeconds / send.okSamples) * 1e6;
    }
    log(
      `   sent ${send.okRequests}/${data.totalRequests} requests in ${result.sendSeconds.toFixed(2)} s` +
        ` (${send.status4xx} × 4xx, ${send.failedRequests} failed, ${send.retries} retries${send.timedOut ? ', TIMED OUT' : ''})`,
    );
    for (const m of send.errorSamples) log(`     ! ${m}`);
    if (result.otherCpuSendSeconds > 0.1 * result.sendSeconds * os.cpus().length) {
      log(`   ! other processes used ${result.otherCpuSendSeconds.toFixed(1)} CPU-s during the send phase; figures are noisy`);
    }

    log('   flushing to disk…');
    const f0 = performance.now();
    try {
      const disk = await def.flush(h, FLUSH_TIMEOUT_MS);
      result.flushSeconds = (performance.now() - f0) / 1000;
      result.cpuFlushSeconds = cpuSeconds(h.pid) - cpu1;
      result.diskBytes = disk.bytes;
      result.diskWhat = disk.what;
      result.diskParts = disk.parts;
      if (send.okSamples > 0) result.bytesPerSample = disk.bytes / send.okSamples;
      log(`   flushed in ${result.flushSeconds.toFixed(1)} s: ${disk.bytes.toLocaleString('en-US')} bytes (${disk.what})`);
    } catch (e) {
      result.error = `flush failed: ${errText(e)}`;
      log(`   ${result.error}`);
    }

    // Peak RSS is read before the verification queries below, which load every chunk and would
    // otherwise count query memory as ingest memory.
    const mem = memStat(h.pid);
    result.peakRssBytes = mem ? mem.peakRssBytes : null;

    const names = [...new Set(data.labels.map((ls) => ls.find((l) => l.name === '__name__')?.value ?? ''))].filter((n) => n !== '');
    const counts = await storedCounts(h, names, data.maxTimeMs, data.options.samples * STEP_MS, QUERY_TIMEOUT_MS);
    result.storedSeries = counts.series ?? null;
    result.storedSamples = counts.samples ?? null;
    if (counts.samples !== undefined && counts.samples !== send.okSamples) {
      log(`   ! server reports ${counts.samples} samples stored, ${send.okSamples} were acknowledged`);
    }
  } catch (e) {
    result.error = `${errText(e)}\n${logTail(h.logPath)}`;
    log(`   error: ${result.error}`);
  } finally {
    await stopServer(h);
  }
  return result;
}

function log(msg: string): void {
  console.log(msg);
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const startedAt = new Date();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-run-'));
  // Cleanup on every way out: a normal exit, an error, or Ctrl-C / kill.
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

  if (opts.only.includes('vigil')) {
    try {
      readFileSync(path.resolve(here, '../../../dist/server/cmd/main.js'));
    } catch {
      log(`note: ${path.resolve(here, '../../../dist/server/cmd/main.js')} is missing; Vigil will fail to start (run \`npm run build\`).`);
    }
  }
  const spanH = ((opts.samples - 1) * STEP_MS) / 3_600_000;
  if (spanH > 2.4) log(`warning: ${opts.samples} samples at 15 s span ${spanH.toFixed(1)} h; Prometheus may reject the oldest as out of bounds.`);

  const endMs = defaultEndMs(Date.now(), STEP_MS);
  log(
    `Generating ${opts.series.toLocaleString('en-US')} series × ${opts.samples} samples (${(opts.series * opts.samples).toLocaleString('en-US')} samples), ` +
      `${opts.seriesPerRequest} series per request, seed ${opts.seed}…`,
  );
  const g0 = performance.now();
  const data = generateDataset({
    series: opts.series,
    samples: opts.samples,
    seriesPerRequest: opts.seriesPerRequest,
    stepMs: STEP_MS,
    endMs,
    seed: opts.seed,
  });
  const genSeconds = (performance.now() - g0) / 1000;
  const concurrency = Math.min(opts.senders, data.groups.length);
  log(
    `  ${data.totalRequests} requests in ${data.groups.length} groups, ${(data.compressedBytes / 1048576).toFixed(1)} MiB snappy ` +
      `(${(data.rawBytes / 1048576).toFixed(1)} MiB raw), built in ${genSeconds.toFixed(1)} s; ` +
      `${concurrency} requests in flight at most; time range ${new Date(data.minTimeMs).toISOString()} … ${new Date(data.maxTimeMs).toISOString()}`,
  );

  const results: ServerResult[] = [];
  for (const id of opts.only) results.push(await runOne(id, data, opts, workDir));

  log('\n' + formatTable(results));
  const rs = ratios(results);
  if (rs.length > 0) {
    log('');
    log(formatRatios(rs, Object.fromEntries(results.map((r) => [r.id, r.title]))));
  }
  for (const r of results) if (r.error) log(`\n${r.title}: ${r.error.split('\n')[0]}`);

  const file = writeJson(REPO_ROOT, 'ingest', startedAt, {
    benchmark: 'ingest/remote_write',
    startedAt: startedAt.toISOString(),
    host: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memBytes: os.totalmem(),
      kernel: os.release(),
      node: process.version,
      clkTck: clkTck(),
    },
    options: { ...opts, stepMs: STEP_MS, vigilBin: VIGIL_BIN },
    dataset: {
      series: data.options.series,
      samplesPerSeries: data.options.samples,
      totalSamples: data.totalSamples,
      requests: data.totalRequests,
      groups: data.groups.length,
      rawBytes: data.rawBytes,
      compressedBytes: data.compressedBytes,
      minTime: new Date(data.minTimeMs).toISOString(),
      maxTime: new Date(data.maxTimeMs).toISOString(),
      generateSeconds: genSeconds,
    },
    results,
    vigilRatios: rs,
  });
  log(`\nresults written to ${path.relative(process.cwd(), file) || file}`);
  return results.some((r) => r.error !== null || (r.status4xx ?? 0) > 0) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`bench: ${errText(e)}`);
    process.exitCode = 1;
  },
);
