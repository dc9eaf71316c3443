/**
 * One owner per data directory. Two servers writing the same WAL corrupt each other's data, so the
 * first to start writes its pid into `<dir>/lock` (created exclusively) and keeps it until it
 * stops. A lock left by a process that no longer runs (kill -9, power cut) is stale and taken over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../errors.js';

/** The directory is owned by another running process. */
export class DirLockedError extends VigilError {
  override readonly code = 'dir_locked' as const;
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      'dir_locked',
      `data directory ${dir} is in use by process ${pid} (lock file ${path.join(dir, 'lock')}); stop it first, or use another --data directory`,
    );
  }
}

/** A held lock; release() removes the lock file if it is still ours. Idempotent. */
export interface DirLock {
  readonly file: string;
  release(): void;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Directories locked by this process: a pid check cannot tell two servers in one process apart. */
const heldHere = new Set<string>();

/** Takes the lock on `dir` (creating the directory), or throws DirLockedError. */
export function lockDir(dir: string): DirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(fs.realpathSync(dir), 'lock');
  if (heldHere.has(file)) throw new DirLockedError(dir, process.pid);
  // Two tries: the second after removing a stale lock. A racing starter that removed it first wins.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      heldHere.add(file);
      return {
        file,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          if (ownerOf(file) === process.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = ownerOf(file);
    // A lock file with no readable pid is being written right now, or left half-written by a crash:
    // the owner check after a short pause tells which.
    if (owner === undefined) {
      const until = Date.now() + 200;
      while (Date.now() < until && ownerOf(file) === undefined && fs.existsSync(file)) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    const now = ownerOf(file);
    if (now !== undefined && now !== process.pid && running(now)) throw new DirLockedError(dir, now);
    fs.rmSync(file, { force: true });
  }
  throw new DirLockedError(dir, ownerOf(file) ?? 0);
}
