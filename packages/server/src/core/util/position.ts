/**
 * A reader's place in a write-ahead log, saved beside the data so that a restart resumes where a
 * receiver stopped taking records. The metrics remote_write queues and the log forwarder both keep
 * one per receiver: the position below which everything is settled (acknowledged, or refused for
 * good), with the URL it was sent to, so a receiver that changed starts afresh.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A place in a WAL: a segment, a byte offset in it and (`entry`) how many entries of the record there are already taken. */
export interface WalPosition {
  readonly segment: number;
  readonly offset: number;
  /** Entries of the record at `offset` already settled (logs split a record across batches; absent: 0). */
  readonly entry?: number;
}

/** Orders two positions. */
export function comparePositions(a: WalPosition, b: WalPosition): number {
  return a.segment - b.segment || a.offset - b.offset || (a.entry ?? 0) - (b.entry ?? 0);
}

/** A saved position (and the url it was sent to), or undefined when there is none or it is unreadable. */
export function readPosition(file: string): (WalPosition & { url: unknown }) | undefined {
  try {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { segment?: unknown; offset?: unknown; entry?: unknown; url?: unknown };
    if (typeof p.segment !== 'number' || typeof p.offset !== 'number') return undefined;
    const entry = typeof p.entry === 'number' && p.entry > 0 ? { entry: p.entry } : {};
    return { segment: p.segment, offset: p.offset, ...entry, url: p.url };
  } catch {
    return undefined;
  }
}

/**
 * Saves a position: written whole and renamed into place, so a kill leaves the old or the new one,
 * never half. Not fsynced: the kernel keeps it through a kill -9, and a position lost with the
 * machine only means records sent twice.
 */
export function writePosition(file: string, p: WalPosition, url: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ segment: p.segment, offset: p.offset, ...(p.entry ? { entry: p.entry } : {}), url }));
  fs.renameSync(tmp, file);
}
