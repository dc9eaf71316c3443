/**
 * Record framing for append-only files: [type u8][length u32 LE][crc32 (IEEE) u32 LE][payload].
 * The log store frames its WAL, stream index and chunk indexes this way, and the metrics WAL uses
 * the same layout. A reader skips a damaged record and resynchronises on the next whole one (so one
 * flipped bit costs one record, not the rest of the file), reporting every damaged range; damage
 * that runs to the end of the file (a torn append) is marked `tail` so the owner can cut it off.
 */
import { crc32 } from '../util/crc32.js';

/** Bytes of a frame header. */
export const FRAME_HEADER = 9;

/** Writes a frame header for the payload already at `buf[at + 9, at + 9 + payloadLen)`. */
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

/** A damaged byte range of a framed buffer; `tail` when it runs to the end. */
export interface FrameProblem {
  readonly offset: number;
  readonly end: number;
  readonly reason: string;
  readonly tail: boolean;
}

/** Called per whole record with its payload at `buf[start, end)`; a throw marks the record undecodable. */
export type FrameFn = (type: number, buf: Buffer, start: number, end: number, frameOffset: number) => void;

/** Why the frame at `off` is not whole, or undefined when it is (its checksum matches). */
export function frameProblem(buf: Buffer, off: number): string | undefined {
  if (off + FRAME_HEADER > buf.length) return 'torn record header';
  const len = buf.readUInt32LE(off + 1);
  if (off + FRAME_HEADER + len > buf.length) return 'torn record';
  if (crc32(buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len)) !== buf.readUInt32LE(off + 5)) return 'checksum mismatch';
  return undefined;
}

/**
 * The next offset after `from` where a whole frame starts, or -1. Only headers whose type passes
 * `plausibleType` and whose non-empty payload lies inside the buffer are checksummed (so random
 * bytes rarely cost a CRC), and the work is bounded so a large damaged file cannot stall a start:
 * past the budget, the rest counts as damaged.
 */
export function nextWholeFrame(buf: Buffer, from: number, plausibleType: (type: number) => boolean): number {
  let budget = 4 * buf.length + (1 << 20);
  for (let p = from + 1; p + FRAME_HEADER <= buf.length; p++) {
    const type = buf[p]!;
    if (!plausibleType(type)) continue;
    const len = buf.readUInt32LE(p + 1);
    if (len === 0 || p + FRAME_HEADER + len > buf.length) continue;
    budget -= len;
    if (budget < 0) return -1;
    if (crc32(buf.subarray(p + FRAME_HEADER, p + FRAME_HEADER + len)) === buf.readUInt32LE(p + 5)) return p;
  }
  return -1;
}

/** Hands every whole frame of `buf` to `fn`; returns the damaged ranges, which are skipped. */
export function scanFrames(buf: Buffer, fn: FrameFn, plausibleType: (type: number) => boolean): FrameProblem[] {
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
    const next = nextWholeFrame(buf, off, plausibleType);
    problems.push({ offset: off, end: next < 0 ? buf.length : next, reason, tail: next < 0 });
    if (next < 0) break;
    off = next;
  }
  return problems;
}
