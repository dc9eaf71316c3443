/**
 * The trace WAL: numbered segments `wal/NNNNNNNN` of framed records (core/encoding/framing.ts),
 * one per append: the appended spans in the page encoding (uncompressed), or, when the store kept
 * every span of an OTLP request, that request's (decompressed) body as it came, with a byte for its
 * encoding. Logging the body costs a copy where encoding the spans again cost about a fifth of
 * ingest; replay decodes it with the ingest decoder, without limits, into the same spans. A write that
 * fails part-way is cut back off the segment before the error goes up (core/util/appendfile.ts).
 * When the head is cut into a block, the segment is rotated; the block records the last segment it
 * covers, and segments up to it are deleted then (or at the next start, if a crash came between).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FRAME_HEADER, frame, scanFrames, writeFrameHeader, type FrameProblem } from '../../core/encoding/framing.js';
import { appendAll, syncFd, type LogIo } from '../../core/util/appendfile.js';
import { decodeOtlpTracesJson, decodeOtlpTracesProto } from '../ingest/otlp.js';
import type { TraceLimits } from '../ingest/limits.js';
import type { TraceSource } from '../storage/interface.js';
import type { Span } from '../storage/types.js';
import { byTrace, decodeSpans, encodeSpans } from './spancodec.js';

/** The record type of a span batch in the page encoding. */
export const REC_SPANS = 1;
/** The record type of an OTLP request body: [encoding u8: 0 protobuf, 1 JSON][body]. */
export const REC_OTLP = 2;
const plausible = (t: number): boolean => t === REC_SPANS || t === REC_OTLP;
const OTLP_PROTOBUF = 0;
const OTLP_JSON = 1;

// Replay is never limited: the body's spans were all accepted when it was written.
const REPLAY_LIMITS: TraceLimits = {
  maxAttributesPerSpan: Infinity,
  maxAttributeValueBytes: Infinity,
  maxEventsPerSpan: Infinity,
  maxRequestBytes: Infinity,
  rateSpansPerSec: 0,
  burstSpans: 0,
  maxSpansPerTrace: 0,
};

/** The spans of a REC_OTLP payload; a throw marks the record undecodable. */
function decodeOtlpRecord(b: Buffer): Span[] {
  const body = b.subarray(1);
  const decoded = b[0] === OTLP_PROTOBUF ? decodeOtlpTracesProto(body, REPLAY_LIMITS) : decodeOtlpTracesJson(body.toString('utf8'), REPLAY_LIMITS);
  // Every span of the body was accepted when it was logged; one that no longer decodes means the record is not what was written.
  if (decoded.rejected > 0) throw new Error(`an OTLP WAL record decodes with ${decoded.rejected} spans refused: ${decoded.reasons.join('; ')}`);
  return decoded.spans;
}

export const segmentName = (seg: number): string => String(seg).padStart(8, '0');

/** The segment numbers present in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{8}$/.test(f))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Every whole span batch of a segment file, and its damaged ranges (skipped). */
export function readSegment(file: string, fn: (spans: Span[]) => void): FrameProblem[] {
  const buf = fs.readFileSync(file);
  return scanFrames(
    buf,
    (type, b, start, end) => fn(type === REC_OTLP ? decodeOtlpRecord(b.subarray(start, end)) : decodeSpans(b.subarray(start, end))),
    plausible,
  );
}

export class TraceWal {
  segment = 0;
  private size = 0;
  private fd = -1;

  constructor(
    readonly dir: string,
    private readonly io: LogIo,
    private readonly fsync: boolean,
  ) {}

  /**
   * Deletes segments up to `covered` (they are in blocks) and hands every span batch of the rest to
   * `fn`, cutting a torn tail off. Returns a description of each repair and the last segment seen.
   */
  replay(covered: number, fn: (spans: Span[]) => void): { repairs: string[]; last: number } {
    fs.mkdirSync(this.dir, { recursive: true });
    const repairs: string[] = [];
    let last = covered;
    for (const seg of listSegments(this.dir)) {
      last = Math.max(last, seg);
      const file = path.join(this.dir, segmentName(seg));
      if (seg <= covered) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const problems = readSegment(file, fn);
      const tail = problems.at(-1);
      if (tail?.tail) fs.truncateSync(file, tail.offset);
      for (const p of problems)
        repairs.push(`${file}: ${p.reason} at byte ${p.offset}${p.tail ? '; cut the file there' : `; skipped ${p.end - p.offset} bytes`}`);
    }
    return { repairs, last };
  }

  /** Starts segment `seg` (the current one stays open if this fails). */
  open(seg: number): void {
    const fd = fs.openSync(path.join(this.dir, segmentName(seg)), 'a');
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = fd;
    this.segment = seg;
    this.size = fs.fstatSync(fd).size;
  }

  /** Frames and appends a batch; in the kernel (surviving kill -9) when this returns. Throws as the write did. */
  append(spans: readonly Span[]): number {
    return this.write(frame(REC_SPANS, encodeSpans(byTrace(spans), false)));
  }

  /** Appends the body every span of a batch came from, as it came (see the module comment); the same guarantee. */
  appendSource(source: TraceSource): number {
    const rec = Buffer.allocUnsafe(FRAME_HEADER + 1 + source.bytes.length);
    rec[FRAME_HEADER] = source.encoding === 'otlp-protobuf' ? OTLP_PROTOBUF : OTLP_JSON;
    rec.set(source.bytes, FRAME_HEADER + 1);
    writeFrameHeader(rec, 0, REC_OTLP, 1 + source.bytes.length);
    return this.write(rec);
  }

  private write(rec: Buffer): number {
    appendAll(this.io, this.fd, rec, this.size);
    if (this.fsync) syncFd(this.fd);
    this.size += rec.length;
    return rec.length;
  }

  /** Bytes in the current segment. */
  get bytes(): number {
    return this.size;
  }

  /** Deletes the segments up to `covered`. */
  removeThrough(covered: number): void {
    for (const seg of listSegments(this.dir)) if (seg <= covered) fs.rmSync(path.join(this.dir, segmentName(seg)), { force: true });
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        // Closing anyway; what the kernel has survives a process crash.
      }
      fs.closeSync(this.fd);
    }
    this.fd = -1;
  }
}
