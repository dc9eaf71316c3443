/**
 * The log store's framed files (WAL segments, the stream index, chunk indexes): the shared framing
 * of core/encoding/framing.ts, read whole from disk, with damage at the end cut off.
 */
import * as fs from 'node:fs';
import { scanFrames as scanFramesOf, type FrameFn, type FrameProblem } from '../../core/encoding/framing.js';

export { FRAME_HEADER, frame, writeFrameHeader, type FrameFn, type FrameProblem } from '../../core/encoding/framing.js';

/** Highest record type any log store file uses; a resync only trusts headers with a type up to this. */
const MAX_TYPE = 15;
const plausibleLogType = (type: number): boolean => type !== 0 && type <= MAX_TYPE;

/** Reads every whole frame of `buf`; returns the damaged ranges (skipped). */
export function scanFrames(buf: Buffer, fn: FrameFn): FrameProblem[] {
  return scanFramesOf(buf, fn, plausibleLogType);
}

/** {@link scanFrames} over a file (none: no problems). */
export function readFrames(file: string, fn: FrameFn): FrameProblem[] {
  if (!fs.existsSync(file)) return [];
  return scanFrames(fs.readFileSync(file), fn);
}

/** Describes a problem for logs and repair reports. */
export function describeProblem(file: string, p: FrameProblem): string {
  return `${file}: ${p.reason} at byte ${p.offset}${p.tail ? '; cut the file there' : `; skipped ${p.end - p.offset} bytes`}`;
}

/**
 * Reads frames, cutting damage at the end of the file off (appends then follow whole records) and
 * skipping damaged records in the middle; returns a description of each.
 */
export function readFramesRepair(file: string, fn: FrameFn): string[] {
  const problems = readFrames(file, fn);
  const last = problems.at(-1);
  if (last?.tail) fs.truncateSync(file, last.offset);
  return problems.map((p) => describeProblem(file, p));
}
