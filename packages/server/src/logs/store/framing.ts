/**
 * Record framing shared by the log store's files (WAL segments, the stream index, chunk indexes):
 * [type u8][length u32][crc32 u32][payload], as the metrics WAL frames its records. A reader skips
 * a damaged record and resynchronises on the next whole one (so one flipped bit costs one record,
 * not the rest of the file), and reports every damaged range; damage that runs to the end of the
 * file (a torn append) can be cut off.
 */
import * as fs from 'node:fs';
import { crc32 } from '../../core/util/crc32.js';

/** Bytes of a frame header. */
export const FRAME_HEADER = 9;
/** Highest record type any log store file uses; a resync only trusts headers with a type up to this. */
const MAX_TYPE = 15;

/** Writes a frame header for `payload` into `buf` at `at` (the payload follows at `at + 9`). */
export function writeFrameHeader(buf: Buffer, at: number, type: number, payloadLen: number): void {
  buf[at] = type;
  buf.writeUInt32LE(payloadLen, at + 1);
  buf.writeUInt32LE(crc32(buf.subarray(at + FRAME_HEADER, at + FRAME_HEADER + payloadLen)), at + 5);
}

/** One frame around `payload`. */
export function frame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.set(payload, FRAME_HEADER);
  writeFrameHeader(out, 0, type, payload.length);
  return out;
}

/** A damaged byte range of a framed file; `tail` when it runs to the end of the file. */
export interface FrameProblem {
  readonly offset: number;
  readonly end: number;
  readonly reason: string;
  readonly tail: boolean;
}

/** Calls `fn(type, buf, start, end, frameOffset)` per record; a throw marks the record undecodable. */
export type FrameFn = (type: number, buf: Buffer, start: number, end: number, frameOffset: number) => void;

/** Why the frame at `off` is not whole, or undefined when it is (its checksum matches). */
function frameProblem(buf: Buffer, off: number): string | undefined {
  if (off + FRAME_HEADER > buf.length) return 'torn record header';
  const len = buf.readUInt32LE(off + 1);
  if (off + FRAME_HEADER + len > buf.length) return 'torn record';
  if (crc32(buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len)) !== buf.readUInt32LE(off + 5)) return 'checksum mismatch';
  return undefined;
}

/**
 * The next offset after `from` where a whole frame starts, or -1. Only headers with a plausible type
 * and a non-empty payload inside the file are checksummed; the work is bounded so a large damaged
 * file cannot stall a start (past the budget, the rest counts as damaged).
 */
function resync(buf: Buffer, from: number): number {
  let budget = 4 * buf.length + (1 << 20);
  for (let p = from + 1; p + FRAME_HEADER <= buf.length; p++) {
    const type = buf[p]!;
    if (type === 0 || type > MAX_TYPE) continue;
    const len = buf.readUInt32LE(p + 1);
    if (len === 0 || p + FRAME_HEADER + len > buf.length) continue;
    budget -= len;
    if (budget < 0) return -1;
    if (crc32(buf.subarray(p + FRAME_HEADER, p + FRAME_HEADER + len)) === buf.readUInt32LE(p + 5)) return p;
  }
  return -1;
}

/** Reads every whole frame of `buf`; returns the damaged ranges (skipped). */
export function scanFrames(buf: Buffer, fn: FrameFn): FrameProblem[] {
  const problems: FrameProblem[] = [];
  let off = 0;
  while (off < buf.length) {
    let reason = frameProblem(buf, off);
    if (reason === undefined) {
      const start = off + FRAME_HEADER;
      const end = start + buf.readUInt32LE(off + 1);
      try {
        fn(buf[off]!, buf, start, end, off);
        off = end;
        continue;
      } catch (err) {
        reason = `undecodable record: ${(err as Error).message}`;
      }
    }
    const next = resync(buf, off);
    problems.push({ offset: off, end: next < 0 ? buf.length : next, reason, tail: next < 0 });
    if (next < 0) break;
    off = next;
  }
  return problems;
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
