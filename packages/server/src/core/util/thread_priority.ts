/**
 * Scheduling priority of the calling thread. On Linux a thread's nice value is its own, set through
 * its kernel thread id (found from `/proc/thread-self`); elsewhere nothing is changed.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { basename } from 'node:path';

/**
 * Lowers the calling thread's priority to `nice` (never raises it: an unprivileged process cannot
 * take it back). Returns whether it could. For background threads: where the cores are busy, the
 * thread that acknowledges writes is then scheduled before them; with a core to spare nothing changes.
 */
export function lowerThreadPriority(nice: number): boolean {
  try {
    const tid = Number(basename(readlinkSync('/proc/thread-self')));
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
