/**
 * Record framing shared by the log store's files (WAL segments, the stream index, chunk indexes):
 * [type u8][length u32][crc32 u32][payload], as the metrics WAL frames its records. A reader stops
 * at the first torn or corrupt record and reports where, so the file can be cut there.
 */
import * as fs from 'node:fs';
import { crc32 } from '../util/crc32.js';

/** Bytes of a frame header. */
export const FRAME_HEADER = 9;

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

/**
 * Reads every frame of `file`, calling `fn(type, buf, start, end)` for each payload. Returns the
 * byte offset and reason of a torn or corrupt tail, or undefined when the file is whole.
 */
export function readFrames(file: string, fn: (type: number, buf: Buffer, start: number, end: number) => void): { offset: number; reason: string } | undefined {
  if (!fs.existsSync(file)) return undefined;
  const buf = fs.readFileSync(file);
  let off = 0;
  while (off < buf.length) {
    if (off + FRAME_HEADER > buf.length) return { offset: off, reason: 'torn record header' };
    const type = buf[off]!;
    const len = buf.readUInt32LE(off + 1);
    const sum = buf.readUInt32LE(off + 5);
    const start = off + FRAME_HEADER;
    if (start + len > buf.length) return { offset: off, reason: 'torn record' };
    if (crc32(buf.subarray(start, start + len)) !== sum) return { offset: off, reason: 'checksum mismatch' };
    try {
      fn(type, buf, start, start + len);
    } catch (err) {
      return { offset: off, reason: `undecodable record: ${(err as Error).message}` };
    }
    off = start + len;
  }
  return undefined;
}

/** Reads frames and cuts a damaged tail off the file; returns a description of the repair. */
export function readFramesRepair(file: string, fn: (type: number, buf: Buffer, start: number, end: number) => void): string | undefined {
  const problem = readFrames(file, fn);
  if (!problem) return undefined;
  fs.truncateSync(file, problem.offset);
  return `${file}: ${problem.reason} at byte ${problem.offset}; cut the file there`;
}

/** Writes all of `data` to `fd` (the kernel has the bytes when this returns: they survive kill -9). */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}
