/**
 * The benchmark's results: one record per server, a side-by-side table, Vigil's ratios to each
 * peer, and the JSON file that keeps a run for later comparison.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerId } from './peers.js';

/**
 * Everything measured for one server. Figures are `null` when the run did not get that far (the
 * server failed to start, a flush endpoint is missing, …); `error` then says why.
 */
export interface ServerResult {
  readonly id: PeerId;
  readonly title: string;
  readonly version: string | null;
  readonly error: string | null;
  readonly startupSeconds: number | null;
  /** Samples in requests the server acknowledged with 2xx. */
  readonly ackedSamples: number | null;
  readonly okRequests: number | null;
  readonly failedRequests: number | null;
  readonly status4xx: number | null;
  readonly retries: number | null;
  readonly timedOut: boolean;
  readonly errorSamples: readonly string[];
  /** Wall time of the send phase (first request out to last response in). */
  readonly sendSeconds: number | null;
  readonly samplesPerSecond: number | null;
  /** Server CPU (user+system) during the send phase. */
  readonly cpuSendSeconds: number | null;
  /**
   * CPU of the benchmark process itself while sending. On a small machine client and server share
   * the cores, so a server's throughput is capped by what the client leaves it; this shows how much.
   */
  readonly clientCpuSendSeconds: number | null;
  /** CPU used by every other process on the machine during the send phase (noise; should be ~0). */
  readonly otherCpuSendSeconds: number | null;
  readonly cpuSecondsPerMillionSamples: number | null;
  readonly cpuMicrosPerSample: number | null;
  /** Server CPU during the flush/compaction step, reported apart so it does not blur ingest cost. */
  readonly cpuFlushSeconds: number | null;
  readonly flushSeconds: number | null;
  /** VmHWM of the server process tree, read after flush. */
  readonly peakRssBytes: number | null;
  readonly diskBytes: number | null;
  readonly diskWhat: string | null;
  readonly diskParts: Readonly<Record<string, number>>;
  readonly bytesPerSample: number | null;
  /** What the server answers to PromQL counts over the data's range (null: no answer). */
  readonly storedSeries: number | null;
  readonly storedSamples: number | null;
}

/** Vigil's figures divided by a peer's. */
export interface Ratios {
  readonly peer: PeerId;
  /** Vigil samples/s ÷ peer samples/s (above 1: Vigil is faster). */
  readonly throughput: number | null;
  /** Vigil CPU per sample ÷ peer's (below 1: Vigil is cheaper). */
  readonly cpuPerSample: number | null;
  /** Vigil peak RSS ÷ peer's (below 1: Vigil is leaner). */
  readonly peakRss: number | null;
  /** Vigil bytes/sample ÷ peer's (below 1: Vigil is smaller). */
  readonly bytesPerSample: number | null;
}

function div(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** Vigil's ratios to every other server that produced figures. */
export function ratios(results: readonly ServerResult[]): Ratios[] {
  const v = results.find((r) => r.id === 'vigil');
  if (!v) return [];
  return results
    .filter((r) => r.id !== 'vigil')
    .map((p) => ({
      peer: p.id,
      throughput: div(v.samplesPerSecond, p.samplesPerSecond),
      cpuPerSample: div(v.cpuMicrosPerSample, p.cpuMicrosPerSample),
      peakRss: div(v.peakRssBytes, p.peakRssBytes),
      bytesPerSample: div(v.bytesPerSample, p.bytesPerSample),
    }));
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmt = (n: number | null, digits: number): string => (n === null ? '–' : n.toFixed(digits));
const fmtCount = (n: number | null): string => (n === null ? '–' : fmtInt(n));
const fmtMiB = (n: number | null): string => (n === null ? '–' : (n / 1048576).toFixed(1));

/** A plain-text table: one row per metric, one column per server. */
export function formatTable(results: readonly ServerResult[]): string {
  const rows: Array<[string, (r: ServerResult) => string]> = [
    ['samples acked', (r) => fmtCount(r.ackedSamples)],
    ['send wall time (s)', (r) => fmt(r.sendSeconds, 2)],
    ['throughput (samples/s)', (r) => fmtCount(r.samplesPerSecond)],
    ['server CPU during send (s)', (r) => fmt(r.cpuSendSeconds, 2)],
    // CPU-seconds per million samples and CPU-µs per sample are the same number; one row says both.
    ['CPU-s/M samples (= µs/sample)', (r) => fmt(r.cpuSecondsPerMillionSamples, 3)],
    ['bench client CPU during send (s)', (r) => fmt(r.clientCpuSendSeconds, 2)],
    ['other host CPU during send (s)', (r) => fmt(r.otherCpuSendSeconds, 2)],
    ['flush/compact wall (s)', (r) => fmt(r.flushSeconds, 2)],
    ['flush/compact CPU (s)', (r) => fmt(r.cpuFlushSeconds, 2)],
    ['peak RSS (MiB)', (r) => fmtMiB(r.peakRssBytes)],
    ['bytes on disk', (r) => fmtCount(r.diskBytes)],
    ['bytes per sample', (r) => fmt(r.bytesPerSample, 3)],
    ['4xx responses', (r) => fmtCount(r.status4xx)],
    ['failed requests', (r) => fmtCount(r.failedRequests)],
    ['retries (429/5xx/conn)', (r) => fmtCount(r.retries)],
    ['stored series (PromQL)', (r) => fmtCount(r.storedSeries)],
    ['stored samples (PromQL)', (r) => fmtCount(r.storedSamples)],
  ];
  const header = ['', ...results.map((r) => r.title)];
  const body = rows.map(([name, f]) => [name, ...results.map(f)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Vigil's ratios as text, each with the direction that is better. */
export function formatRatios(rs: readonly Ratios[], titles: Readonly<Record<string, string>>): string {
  const out: string[] = [];
  for (const r of rs) {
    const x = (n: number | null): string => (n === null ? '–' : `${n.toFixed(2)}×`);
    out.push(
      `Vigil vs ${titles[r.peer] ?? r.peer}: throughput ${x(r.throughput)} (>1 better), CPU/sample ${x(r.cpuPerSample)} (<1 better), ` +
        `peak RSS ${x(r.peakRss)} (<1 better), bytes/sample ${x(r.bytesPerSample)} (<1 better)`,
    );
  }
  return out.join('\n');
}

/** The repository's root, where `.bench/` keeps the records. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');

/** Where the records go: `<root>/.bench`, or `VIGIL_BENCH_DIR` (the runner's own test points it at a temporary directory). */
export function benchDir(root: string = REPO_ROOT): string {
  return process.env['VIGIL_BENCH_DIR'] || path.join(root, '.bench');
}

/** Writes `value` as `<bench dir>/<name>-<timestamp>.json`; returns the path. */
export function writeJson(root: string, name: string, startedAt: Date, value: unknown): string {
  const dir = benchDir(root);
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${name}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
  return file;
}
