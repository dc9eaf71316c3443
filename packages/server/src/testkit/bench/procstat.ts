/**
 * CPU time and memory of a server process, read from Linux /proc. Only the process tree of the
 * server is counted, never the benchmark's own process, so the client's work (HTTP, waiting) does
 * not pollute the server's figures.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clockTicks: number | undefined;

/**
 * Clock ticks per second, the unit of utime/stime in /proc/PID/stat. Asked of `getconf CLK_TCK`
 * once; 100 is the value on practically every Linux build, so it is the fallback.
 */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
      clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * Fields of /proc/PID/stat after the command name. The name is in parentheses and may itself hold
 * spaces or parentheses, so split after the last `)`. Index 0 is field 3 (state).
 */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process is gone
  }
}

/** Direct children of `pid`, gathered over all its threads (a child belongs to the thread that forked it). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (c.trim()) out.push(Number(c));
      }
    } catch {
      // thread exited between readdir and read
    }
  }
  return out;
}

/** `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 1000) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...childrenOf(p));
  }
  return out;
}

/**
 * CPU seconds (user + system) used so far by `pid` and its descendants, including children it has
 * already reaped (cutime/cstime). Covers all threads, so Go runtimes and Node worker threads count.
 */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (!f) continue;
    // utime, stime, cutime, cstime are fields 14–17 (indexes 11–14 here).
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / clkTck();
}

/** Memory figures from /proc/PID/status, in bytes. */
export interface MemStat {
  /** Peak resident set size (VmHWM). */
  readonly peakRssBytes: number;
  /** Current resident set size (VmRSS). */
  readonly rssBytes: number;
}

function statusKb(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Peak and current RSS of `pid`'s tree. The peak is the sum of each process' own peak: an upper
 * bound when there are several processes (their peaks need not coincide), exact for one process,
 * which is the case for all three servers measured here.
 */
export function memStat(pid: number): MemStat | undefined {
  let peak = 0;
  let rss = 0;
  let found = false;
  for (const p of processTree(pid)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      continue;
    }
    found = true;
    peak += statusKb(text, 'VmHWM') * 1024;
    rss += statusKb(text, 'VmRSS') * 1024;
  }
  return found ? { peakRssBytes: peak, rssBytes: rss } : undefined;
}

/**
 * CPU seconds the whole machine has spent busy (all cores, from the first line of /proc/stat:
 * user+nice+system+irq+softirq+steal). Its delta over the send phase, minus the server's and the
 * client's, is what other processes took: a benchmark on a shared machine is only as good as that
 * figure is small.
 */
export function hostBusyCpuSeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / clkTck();
  } catch {
    return 0;
  }
}
