/**
 * Event-loop stalls of background storage work:
 * `node --max-old-space-size=8192 packages/server/dist-test/testkit/bench/stalls.js [--series N] [--samples N] [--streams N] [--lines N]`.
 * The server runs with `--no-memory-reducer` and 4 MiB semi-spaces (bin/vigil.js, server/cmd/memory.ts);
 * add `--no-memory-reducer --max-semi-space-size=4` to measure under the same V8 settings.
 *
 * Builds a TSDB head of `--series` series (default 1,500,000) with `--samples` samples each, then
 * runs head flush (head → block, then the WAL checkpoint), a second flush, block compaction (the two
 * blocks merged) and retention (the merged block deleted); then a log store of `--streams` streams
 * (default 20,000) with `--lines` lines each, and its WAL checkpoint, a tick that seals and compacts,
 * and a tick that applies retention; then a trace store cutting a head of 100,000 spans (its default
 * block size) into a block, and merging five blocks of 20,000. A probe timer measures how long the event loop went without a turn. Reports the max and p99 stall of each phase (and its longest full-GC pause, which tells a collection from the work itself); the target is a
 * max of 50 ms. Run against an older build (copy this file next to its modules) for a before figure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { REPO_ROOT, writeJson } from './report.js';
import { labelsFrom } from '../../core/model/labels.js';
import { DB } from '../../metrics/tsdb/db.js';
import { LogStore } from '../../logs/store/store.js';
import { TraceStore } from '../../traces/store/store.js';
import type { Span } from '../../traces/storage/types.js';
import { demoTrace, rng } from '../tracegen.js';

const TARGET_MS = 50;
const HOUR = 3600_000;

const { values: args } = parseArgs({
  options: { series: { type: 'string' }, samples: { type: 'string' }, streams: { type: 'string' }, lines: { type: 'string' } },
});
const SERIES = Number(args.series ?? 1_500_000);
const SAMPLES = Number(args.samples ?? 4);
const STREAMS = Number(args.streams ?? 20_000);
const LINES = Number(args.lines ?? 5);

/**
 * CPU time of the main thread so far, ms: from Linux's per-thread scheduler statistics (time on a
 * CPU, in ns), else the whole process's CPU time (all threads: GC helpers and the thread pool too,
 * so only an upper bound for the main thread).
 */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const hasSchedstat = ((): boolean => {
  try {
    readFileSync(SCHEDSTAT, 'utf8');
    return true;
  } catch {
    return false;
  }
})();
function mainThreadCpuMs(): number {
  if (hasSchedstat) return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/**
 * Records the gap between turns of a 1 ms timer: a gap of g ms means nothing else ran for ~g ms.
 * On a busy machine part of a gap is time the process waited for a CPU; the main thread's CPU
 * time over the gap tells the two apart.
 */
class StallProbe {
  private gaps: number[] = [];
  private cpuGaps: number[] = [];
  private last = performance.now();
  private lastCpu = mainThreadCpuMs();
  private timer: NodeJS.Timeout | undefined;
  /** Pauses of full (mark-compact) collections on this thread, to tell a stall's cause. */
  private fullGcPauses: number[] = [];
  private readonly gcObserver = new PerformanceObserver((list) => this.noteGc(list.getEntries()));

  private noteGc(entries: PerformanceEntry[]): void {
    for (const e of entries) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.fullGcPauses.push(e.duration);
    }
  }

  start(): void {
    this.gaps = [];
    this.cpuGaps = [];
    this.fullGcPauses = [];
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.last = performance.now();
    this.lastCpu = mainThreadCpuMs();
    const tick = (): void => {
      this.record();
      this.timer = setTimeout(tick, 1);
    };
    this.timer = setTimeout(tick, 1);
  }

  private record(): void {
    const now = performance.now();
    const cpu = mainThreadCpuMs();
    const gap = now - this.last;
    this.gaps.push(gap);
    this.cpuGaps.push(Math.min(gap, cpu - this.lastCpu));
    this.last = now;
    this.lastCpu = cpu;
  }

  stop(): { maxMs: number; p99Ms: number; over50: number; maxCpuMs: number; maxFullGcMs: number } {
    clearTimeout(this.timer);
    // The stretch since the last turn counts too: a phase that never yields shows up whole.
    this.record();
    this.noteGc(this.gcObserver.takeRecords());
    this.gcObserver.disconnect();
    const sorted = [...this.gaps].sort((a, b) => a - b);
    return {
      maxMs: sorted.at(-1) ?? 0,
      p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      over50: sorted.filter((g) => g > TARGET_MS).length,
      maxCpuMs: Math.max(...this.cpuGaps),
      maxFullGcMs: Math.max(0, ...this.fullGcPauses),
    };
  }
}

interface PhaseResult {
  phase: string;
  seconds: number;
  maxMs: number;
  p99Ms: number;
  /** Stalls longer than the target. */
  over50: number;
  /** The longest stall counted in the main thread's CPU time (without time spent waiting for a CPU). */
  maxCpuMs: number;
  /** The longest pause of a full collection on the main thread (its atomic part), wall time. */
  maxFullGcMs: number;
}

async function phase(name: string, work: () => unknown): Promise<PhaseResult> {
  const probe = new StallProbe();
  probe.start();
  const began = performance.now();
  // Awaited whether `work` is sync (older builds) or async: the probe sees the same thing.
  await work();
  const seconds = (performance.now() - began) / 1000;
  const { maxMs, p99Ms, over50, maxCpuMs, maxFullGcMs } = probe.stop();
  const r = {
    phase: name,
    seconds: Number(seconds.toFixed(1)),
    maxMs: Math.round(maxMs),
    p99Ms: Math.round(p99Ms),
    over50,
    maxCpuMs: Math.round(maxCpuMs),
    maxFullGcMs: Math.round(maxFullGcMs),
  };
  const col = (v: number, w: number): string => String(v).padStart(w);
  console.log(
    `${name.padEnd(28)} ${r.seconds.toFixed(1).padStart(7)} s   max stall ${col(r.maxMs, 6)} ms (CPU ${col(r.maxCpuMs, 5)} ms)   p99 ${col(r.p99Ms, 5)} ms   stalls > ${TARGET_MS} ms: ${over50}   longest full GC ${col(r.maxFullGcMs, 5)} ms`,
  );
  return r;
}

/** Appends `SAMPLES` samples per series, one minute apart from `t0`, in batches of 10,000 series. */
function fill(db: DB, t0: number): void {
  const refs = new Array<number>(SERIES).fill(0);
  for (let k = 0; k < SAMPLES; k++) {
    for (let i = 0; i < SERIES; i += 10_000) {
      const app = db.appender();
      for (let s = i; s < Math.min(SERIES, i + 10_000); s++) {
        const labels = k === 0 ? labelsFrom({ __name__: `bench_metric_${s % 50}`, job: 'bench', instance: `host-${s % 1000}`, series: String(s) }) : [];
        refs[s] = app.append(refs[s]!, labels, t0 + k * 60_000, s + k);
      }
      app.commit();
    }
  }
}

/** The log store's background jobs in slices where this build has them, else the synchronous calls. */
interface LogJobs {
  checkpoint(): boolean;
  tick(): void;
  checkpointInBackground?: () => Promise<void>;
  tickInBackground?: () => Promise<void>;
}

/** A log store of `--streams` streams with `--lines` lines each, then checkpoint, tick (seal, compact) and retention. */
async function logPhases(results: PhaseResult[]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-stalls-logs-'));
  const T0 = Date.now() - 2 * HOUR;
  let now = T0 + HOUR;
  // Heads sealed by checkpoints only (no size seal), one chunk per stream per checkpoint.
  const store = new LogStore({ dir, now: () => now, tickIntervalMs: 0, retentionMs: 24 * HOUR, maxChunkAgeMs: 60_000, chunkTargetBytes: 1 << 20 });
  const jobs = store as unknown as LogJobs;
  store.start();
  try {
    const push = (round: number): void => {
      for (let i = 0; i < STREAMS; i += 1000) {
        const batch = [];
        for (let s = i; s < Math.min(STREAMS, i + 1000); s++) {
          const entries = [];
          for (let k = 0; k < LINES; k++) {
            const t = BigInt(T0 + round * 600_000 + k * 1000) * 1_000_000n;
            entries.push({ t, line: `level=info stream=${s} round=${round} k=${k} msg="request served" duration_ms=${(s * 7 + k) % 500}` });
          }
          batch.push({ labels: labelsFrom({ job: 'bench', stream: String(s) }), entries });
        }
        store.push(batch);
      }
    };
    let began = performance.now();
    push(0);
    console.log(`log store: ${STREAMS} streams × ${LINES} lines in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    results.push(await phase('log WAL checkpoint', () => (jobs.checkpointInBackground ? jobs.checkpointInBackground() : jobs.checkpoint())));
    began = performance.now();
    for (let r = 1; r <= 3; r++) {
      push(r);
      if (r < 3) jobs.checkpoint();
    }
    console.log(`log store refilled in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    now += 10 * 60_000; // every head is older than maxChunkAgeMs: the tick seals them all, then compacts
    results.push(await phase('log tick: seal + compaction', () => (jobs.tickInBackground ? jobs.tickInBackground() : jobs.tick())));
    now += 48 * HOUR;
    results.push(await phase('log tick: retention', () => (jobs.tickInBackground ? jobs.tickInBackground() : jobs.tick())));
  } finally {
    store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The trace store's background jobs where this build has them, else the synchronous calls. */
interface TraceJobs {
  cut(): void;
  tick(): void;
  cutInBackground?: () => Promise<void>;
  tickInBackground?: () => Promise<void>;
}

/** A trace store's cut of a full head (100,000 demo spans, the default block size), then a merge of five small blocks. */
async function tracePhases(results: PhaseResult[]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-stalls-traces-'));
  const BLOCK_SPANS = 100_000;
  const store = new TraceStore({ dir, tickIntervalMs: 0, blockMaxSpans: BLOCK_SPANS + 1000 });
  const jobs = store as unknown as TraceJobs;
  store.start();
  const r = rng(1);
  let startNs = BigInt(Date.now() - HOUR) * 1_000_000n;
  const append = (spans: number): void => {
    for (let n = 0; n < spans;) {
      const batch: Span[] = [];
      while (batch.length < 1000) {
        batch.push(...demoTrace(r, startNs));
        startNs += 10_000_000n;
      }
      store.append(batch);
      n += batch.length;
    }
  };
  try {
    append(BLOCK_SPANS);
    results.push(await phase('trace head cut', () => (jobs.cutInBackground ? jobs.cutInBackground() : jobs.cut())));
    for (let i = 0; i < 5; i++) {
      append(BLOCK_SPANS / 5);
      jobs.cut();
    }
    results.push(await phase('trace block merge', () => (jobs.tickInBackground ? jobs.tickInBackground() : jobs.tick())));
  } finally {
    store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-stalls-'));
  // A clock the bench moves: the data lies in the past, and retention is reached by moving it on.
  const start = Math.floor(Date.now() / (6 * HOUR)) * 6 * HOUR - 12 * HOUR;
  let now = start + 3 * HOUR;
  const db = new DB({ dir, now: () => now, maintenanceIntervalMs: 0, retentionMs: 100 * HOUR });
  const results: PhaseResult[] = [];
  try {
    await db.start();
    let began = performance.now();
    fill(db, start);
    console.log(`head: ${SERIES} series × ${SAMPLES} samples in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    results.push(await phase('head flush + WAL checkpoint', () => db.compactHead(true)));
    began = performance.now();
    fill(db, start + HOUR);
    console.log(`head refilled in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    results.push(await phase('second head flush', () => db.compactHead(true)));
    now = start + 7 * HOUR; // the 6 h window of both blocks is over: they merge
    results.push(await phase('block compaction', () => db.compactBlocks(false)));
    now = start + 120 * HOUR;
    results.push(await phase('retention', () => db.applyRetention()));
  } finally {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  await logPhases(results);
  await tracePhases(results);
  const worst = Math.max(...results.map((r) => r.maxMs));
  console.log(`worst stall ${worst} ms (target ≤ ${TARGET_MS} ms): ${worst <= TARGET_MS ? 'met' : 'NOT met'}`);
  const record = { series: SERIES, samplesPerSeries: SAMPLES, streams: STREAMS, linesPerStream: LINES, results };
  console.log(JSON.stringify(record));
  writeJson(REPO_ROOT, 'stalls', new Date(), record);
}

await main();
