/**
 * The servers under test: how to start each one fresh, when it is ready, where remote_write goes,
 * how to get its data onto disk in final (block / merged-part) form, and how big that is.
 *
 * Every child process is tracked in one registry so the benchmark can kill them all on an error,
 * on SIGINT, or on a plain exit, and never leaves a server or a temp directory behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, lstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The servers the benchmark knows. */
export const PEER_IDS = ['vigil', 'prometheus', 'vm'] as const;
/** One of {@link PEER_IDS}. */
export type PeerId = (typeof PEER_IDS)[number];

/** Bytes on disk after the flush step, with a breakdown for the JSON report. */
export interface DiskUsage {
  /** The figure used for bytes/sample. */
  readonly bytes: number;
  /** What `bytes` covers, in words. */
  readonly what: string;
  /** Sizes of parts of interest (e.g. chunks vs index), for the JSON report. */
  readonly parts: Readonly<Record<string, number>>;
}

/** A running server. */
export interface ServerHandle {
  readonly id: PeerId;
  readonly pid: number;
  /** `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly logPath: string;
  readonly child: ChildProcess;
}

/** How to run and drive one kind of server. */
export interface PeerDef {
  readonly id: PeerId;
  /** Name for the report, with version when known. */
  readonly title: string;
  /** Command and arguments to start it on `port` with data in `dataDir`. `workDir` holds side files. */
  command(dataDir: string, port: number, workDir: string): { cmd: string; args: string[] };
  /** Path that answers 200 once the server accepts writes. */
  readonly readyPath: string;
  /** remote_write endpoint path. */
  readonly writePath: string;
  /**
   * Makes everything ingested so far durable in the server's final on-disk format and measures it.
   * Bounded by `timeoutMs`.
   */
  flush(h: ServerHandle, timeoutMs: number): Promise<DiskUsage>;
}

// ---- small helpers ----

/** A free TCP port on loopback, found by letting the kernel pick one and releasing it at once. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Recursive sum of regular file sizes under `p` (apparent size, not blocks allocated, so sparse or
 * preallocated files are not counted at their reservation). Names in `exclude` are skipped at any
 * depth. A missing path counts as 0: servers delete files while we walk (merges, temp files).
 */
export function dirSize(p: string, exclude: readonly string[] = []): number {
  let st;
  try {
    st = lstatSync(p);
  } catch {
    return 0;
  }
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let names: string[];
  try {
    names = readdirSync(p);
  } catch {
    return 0;
  }
  let sum = 0;
  for (const n of names) if (!exclude.includes(n)) sum += dirSize(path.join(p, n), exclude);
  return sum;
}

/** Result of a control request. */
export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

/** A control-plane HTTP request (not on the measured path), bounded by `timeoutMs`. */
export async function httpCall(method: 'GET' | 'POST', url: string, timeoutMs: number): Promise<HttpReply> {
  const res = await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last `n` lines of a log file, for error messages. */
export function logTail(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- the registry of children, for cleanup ----

interface Live {
  readonly child: ChildProcess;
  readonly dirs: string[];
}
const live = new Set<Live>();

/** Kills every server still running and removes its temp dirs, synchronously (safe in an exit handler). */
export function killAllSync(): void {
  for (const l of live) {
    if (l.child.exitCode === null && l.child.signalCode === null) {
      try {
        l.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const d of l.dirs) rmSync(d, { recursive: true, force: true });
  }
  live.clear();
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts `def` on a free loopback port with an empty temp data dir and waits until it is ready.
 * Throws (after killing it) if it exits early or is not ready within `readyTimeoutMs`.
 */
export async function startServer(def: PeerDef, workDir: string, readyTimeoutMs: number): Promise<ServerHandle> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `vigil-bench-${def.id}-`));
  const port = await freePort();
  const { cmd, args } = def.command(dataDir, port, workDir);
  const logPath = path.join(workDir, `${def.id}.log`);
  const fd = openSync(logPath, 'w');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: workDir });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  const entry: Live = { child, dirs: [dataDir] };
  live.add(entry);
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  const baseUrl = `http://127.0.0.1:${port}`;
  const h: ServerHandle = { id: def.id, pid: child.pid ?? -1, baseUrl, dataDir, logPath, child };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError) {
      await stopServer(h);
      throw new Error(`${def.id}: could not start ${cmd}: ${spawnError.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = logTail(logPath);
      await stopServer(h);
      throw new Error(`${def.id} exited during startup (code ${child.exitCode ?? child.signalCode}):\n${tail}`);
    }
    try {
      const r = await httpCall('GET', baseUrl + def.readyPath, 2000);
      if (r.status === 200) return h;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const tail = logTail(logPath);
      await stopServer(h);
      throw new Error(`${def.id} not ready after ${readyTimeoutMs} ms:\n${tail}`);
    }
    await sleep(200);
  }
}

/** Stops a server (SIGTERM, then SIGKILL after a grace period) and removes its data dir. */
export async function stopServer(h: ServerHandle): Promise<void> {
  const { child } = h;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    // A clean shutdown may write a final block or flush caches; we are not measuring it, so a short
    // grace period is enough.
    if (!(await waitExit(child, 10_000))) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
  }
  rmSync(h.dataDir, { recursive: true, force: true });
  for (const l of live) if (l.child === child) live.delete(l);
}

// ---- the three servers ----

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * `bin/vigil.js` of this package. The path is the same from `src/testkit/bench` (run by tsx) and
 * `dist-test/testkit/bench` (compiled), so one relative path serves both.
 */
export const VIGIL_BIN = path.resolve(here, '../../../bin/vigil.js');

/** Extra `node` flags for the Vigil server, from BENCH_VIGIL_NODE_ARGS (NODE_OPTIONS refuses `--cpu-prof`). */
function nodeArgs(): string[] {
  return (process.env['BENCH_VIGIL_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
}

/** Vigil: cuts the whole head into compacted blocks on request and reports when done. */
const vigil: PeerDef = {
  id: 'vigil',
  title: 'Vigil',
  command: (dataDir, port) => ({
    cmd: process.execPath,
    // The admin API is off by default (as Prometheus'); the benchmark flushes through it.
    // BENCH_VIGIL_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the server itself.
    args: [...nodeArgs(), VIGIL_BIN, 'start', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--web.enable-admin-api'],
  }),
  readyPath: '/-/ready',
  writePath: '/api/v1/write',
  async flush(h, timeoutMs) {
    const r = await httpCall('POST', `${h.baseUrl}/api/v1/admin/tsdb/flush`, timeoutMs);
    if (r.status !== 200) throw new Error(`vigil flush: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    const blocks = path.join(h.dataDir, 'blocks');
    return { bytes: dirSize(blocks), what: 'DIR/blocks after /api/v1/admin/tsdb/flush (WAL not counted)', parts: {} };
  },
};

/**
 * Prometheus: the head is written as a block into a snapshot, the same format a 2-hour block
 * would have; the WAL is not counted, as for Vigil.
 */
const prometheus: PeerDef = {
  id: 'prometheus',
  title: 'Prometheus',
  command: (dataDir, port, workDir) => {
    const config = path.join(workDir, 'prometheus.yml');
    // No scrape jobs: the server only receives remote_write, so nothing but our data is stored.
    writeFileSync(config, 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
    return {
      cmd: 'prometheus',
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--web.enable-admin-api',
      ],
    };
  },
  readyPath: '/-/ready',
  writePath: '/api/v1/write',
  async flush(h, timeoutMs) {
    const r = await httpCall('POST', `${h.baseUrl}/api/v1/admin/tsdb/snapshot?skip_head=false`, timeoutMs);
    if (r.status !== 200) throw new Error(`prometheus snapshot: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    const name = (JSON.parse(r.body) as { data?: { name?: string } }).data?.name;
    if (!name) throw new Error(`prometheus snapshot: no name in ${r.body.slice(0, 300)}`);
    const snap = path.join(h.dataDir, 'snapshots', name);
    const parts: Record<string, number> = {};
    for (const block of readdirSync(snap)) {
      parts['chunks'] = (parts['chunks'] ?? 0) + dirSize(path.join(snap, block, 'chunks'));
      parts['index'] = (parts['index'] ?? 0) + dirSize(path.join(snap, block, 'index'));
    }
    return { bytes: dirSize(snap), what: 'DIR/snapshots/<name> (head written as block(s); WAL not counted)', parts };
  },
};

/**
 * VictoriaMetrics: force_flush makes recent rows searchable parts on disk, force_merge merges parts
 * in the background. Bytes are the whole data dir except `cache/` (rebuildable caches) and the lock
 * file: that is `data/` (samples) plus `indexdb/` (the inverted index), which together match what
 * a Prometheus block holds (chunks + index).
 */
const vm: PeerDef = {
  id: 'vm',
  title: 'VictoriaMetrics',
  command: (dataDir, port) => ({
    cmd: 'victoria-metrics',
    args: [`-storageDataPath=${dataDir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y'],
  }),
  readyPath: '/health',
  writePath: '/api/v1/write',
  async flush(h, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    const f = await httpCall('GET', `${h.baseUrl}/internal/force_flush`, timeoutMs);
    if (f.status !== 200) throw new Error(`vm force_flush: HTTP ${f.status}: ${f.body.slice(0, 300)}`);
    const m = await httpCall('GET', `${h.baseUrl}/internal/force_merge`, Math.max(1000, deadline - Date.now()));
    if (m.status !== 200) throw new Error(`vm force_merge: HTTP ${m.status}: ${m.body.slice(0, 300)}`);
    // force_merge returns before the merge ends; wait until the size has not changed for 3 s.
    const exclude = ['cache', 'flock.lock'];
    let last = dirSize(h.dataDir, exclude);
    let stableSince = Date.now();
    while (Date.now() - stableSince < 3000 && Date.now() < deadline) {
      await sleep(500);
      const s = dirSize(h.dataDir, exclude);
      if (s !== last) {
        last = s;
        stableSince = Date.now();
      }
    }
    return {
      bytes: last,
      what: 'whole DIR minus cache/ (data/ + indexdb/) after force_flush + force_merge',
      parts: { data: dirSize(path.join(h.dataDir, 'data')), indexdb: dirSize(path.join(h.dataDir, 'indexdb')) },
    };
  },
};

/** The server definitions by id. */
export const PEERS: Readonly<Record<PeerId, PeerDef>> = { vigil, prometheus, vm };

/** Series and samples a server reports having stored, from PromQL instant queries (best effort). */
export interface StoredCounts {
  readonly series: number | undefined;
  readonly samples: number | undefined;
}

function scalarResult(body: string): number | undefined {
  const j = JSON.parse(body) as { status?: string; data?: { result?: Array<{ value?: [number, string] }> } };
  const v = j.data?.result?.[0]?.value?.[1];
  return v === undefined ? undefined : Number(v);
}

/**
 * Asks the server how many series and samples it holds in the data's time range, to catch a server
 * that acknowledged writes but dropped data. `windowMs` must cover the data; queries are evaluated
 * at `endMs`. One query per metric name: `count_over_time` drops `__name__`, and over all names at
 * once Prometheus would refuse the result (two series differing only by name collide). Returns
 * undefined fields where the server has no PromQL or a query fails.
 */
export async function storedCounts(h: ServerHandle, metricNames: readonly string[], endMs: number, windowMs: number, timeoutMs: number): Promise<StoredCounts> {
  const deadline = Date.now() + timeoutMs;
  const at = (endMs / 1000).toFixed(3);
  const q = async (expr: string): Promise<number | undefined> => {
    try {
      // nocache: VictoriaMetrics would otherwise serve a cached (possibly pre-flush) answer.
      const url = `${h.baseUrl}/api/v1/query?nocache=1&time=${at}&query=${encodeURIComponent(expr)}`;
      const r = await httpCall('GET', url, Math.max(1000, deadline - Date.now()));
      // An empty result is a count of 0 (sum() and count() of nothing return no sample).
      return r.status === 200 ? (scalarResult(r.body) ?? 0) : undefined;
    } catch {
      return undefined;
    }
  };
  const window = `${Math.ceil(windowMs / 1000)}s`;
  let series: number | undefined = 0;
  let samples: number | undefined = 0;
  for (const name of metricNames) {
    const s: number | undefined = series === undefined ? undefined : await q(`count(last_over_time(${name}[${window}]))`);
    const n: number | undefined = samples === undefined ? undefined : await q(`sum(count_over_time(${name}[${window}]))`);
    series = s === undefined || series === undefined ? undefined : series + s;
    samples = n === undefined || samples === undefined ? undefined : samples + n;
    if (series === undefined && samples === undefined) break;
  }
  return { series, samples };
}
