/**
 * Follows the log store's WAL as it is written (the files are append-only: the reader reads beside
 * the writer), from a saved position on, handing each entry on with the position just past it. The
 * position can fall inside a record (`entry`: how many of its entries are taken), so a batch of
 * the forwarder may end in the middle of a large push and the next one resume there. The WAL
 * itself is the buffer while the receiver is away: the reader takes entries only as fast as the
 * forwarder sends them.
 */
import * as fs from 'node:fs';
import type { Labels } from '../../core/model/labels.js';
import { FRAME_HEADER, frameProblem, nextWholeFrame } from '../../core/encoding/framing.js';
import type { WalPosition } from '../../core/util/position.js';
import { forEachEntry, REC_ENTRIES, walSegmentNumbers, walSegmentPath } from '../store/wal.js';

/** Called per entry with the position past it; false: not taken (the batch is full), and reading stops before it. */
export type ForwardEntryFn = (streamId: number, t: bigint, line: string, meta: Labels | undefined, after: WalPosition) => boolean;

/** The WAL's segment numbers, ascending (none while the directory cannot be read). */
export function logWalSegments(dir: string): number[] {
  try {
    return walSegmentNumbers(dir);
  } catch {
    return [];
  }
}

const isEntries = (type: number): boolean => type === REC_ENTRIES;

interface DecodedEntry {
  readonly id: number;
  readonly t: bigint;
  readonly line: string;
  readonly meta: Labels | undefined;
}

/** Reads a log WAL directory from a position onwards. */
export class LogWalReader {
  private segment = 0;
  private offset = 0;
  private entry = 0;
  private fd = -1;
  private buf = Buffer.allocUnsafe(1 << 20);
  /** Damaged or unfinished bytes passed over. */
  skippedBytes = 0;
  /** Entry records read whole. */
  records = 0;

  constructor(
    private readonly dir: string,
    private readonly warn: (msg: string, fields?: Record<string, unknown>) => void = () => {},
  ) {}

  /** The position of the next entry. */
  get position(): WalPosition {
    return this.entry > 0 ? { segment: this.segment, offset: this.offset, entry: this.entry } : { segment: this.segment, offset: this.offset };
  }

  /**
   * Starts at `from` (undefined: `end`, so a new forwarder sends new lines only). A `from` whose
   * segment is gone (let go past the forwarder's WAL bound) starts at the next segment there is,
   * and one past the end of the WAL (the WAL was removed) at its end; both are reported.
   */
  seek(from: WalPosition | undefined, end: WalPosition): void {
    if (from && (from.segment > end.segment || (from.segment === end.segment && from.offset > end.offset))) {
      // Past the end: the log WAL was removed or replaced under a kept position. Waiting there would send nothing.
      this.warn('log forwarder: the saved position is past the end of the log WAL; starting at its end', { saved: from, end });
      from = undefined;
    }
    let start = from ?? end;
    const segs = logWalSegments(this.dir);
    if (from && from.segment < end.segment && !segs.includes(from.segment)) {
      const next = segs.find((s) => s > from.segment) ?? end.segment;
      this.warn('log forwarder: the WAL segment of the saved position is gone; its lines up to the next segment are not sent', {
        segment: from.segment,
        next,
      });
      start = { segment: next, offset: 0 };
    }
    this.open(start.segment, start.offset, start.entry ?? 0);
  }

  private open(segment: number, offset: number, entry = 0): void {
    this.close();
    this.segment = segment;
    this.offset = offset;
    this.entry = entry;
    try {
      this.fd = fs.openSync(walSegmentPath(this.dir, segment), 'r');
    } catch (err) {
      // Not created yet (the store opens it at start or at a checkpoint): looked for again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * Hands on the entries written since the last call until `fn` refuses one. Returns 'full' when
   * `fn` refused, 'caught-up' when everything written so far is read.
   */
  read(fn: ForwardEntryFn): 'full' | 'caught-up' {
    for (;;) {
      if (this.fd < 0) this.open(this.segment, this.offset, this.entry);
      if (this.fd >= 0 && this.readAvailable(fn) === 'full') return 'full';
      // Caught up with this segment. A later one means the writer moved on: read this one to its
      // end once more (bytes may have landed since), then go on to the next.
      const next = logWalSegments(this.dir).find((s) => s > this.segment);
      if (next === undefined) return 'caught-up';
      if (this.fd >= 0 && this.readAvailable(fn) === 'full') return 'full';
      const size = this.fd >= 0 ? fs.fstatSync(this.fd).size : 0;
      if (size > this.offset) {
        this.skippedBytes += size - this.offset;
        this.warn('log forwarder: an unfinished record at the end of a WAL segment was passed over', { segment: this.segment, bytes: size - this.offset });
      }
      this.open(next, 0);
    }
  }

  /** Reads the whole records between the position and the end of the file. */
  private readAvailable(fn: ForwardEntryFn): 'full' | 'caught-up' {
    const size = fs.fstatSync(this.fd).size;
    while (this.offset + FRAME_HEADER <= size) {
      const got = fs.readSync(this.fd, this.buf, 0, Math.min(size - this.offset, this.buf.length), this.offset);
      const view = this.buf.subarray(0, got);
      let p = 0;
      let whole = true;
      while (p + FRAME_HEADER <= got) {
        const end = p + FRAME_HEADER + view.readUInt32LE(p + 1);
        if (end > got) {
          whole = false; // the rest of the record is not in the buffer (or not written yet)
          break;
        }
        if (frameProblem(view, p) !== undefined || !isEntries(view[p]!)) {
          // Damaged: on to the next intact record, as replay does.
          const next = nextWholeFrame(view, p, isEntries);
          if (next < 0) {
            whole = false;
            break;
          }
          this.skippedBytes += next - p;
          this.offset += next - p;
          p = next;
          continue;
        }
        const entries = decodeEntries(view, p + FRAME_HEADER, end);
        if (!entries) this.skippedBytes += end - p;
        else {
          const frameOffset = this.offset;
          const last: WalPosition = { segment: this.segment, offset: frameOffset + end - p };
          for (let k = this.entry; k < entries.length; k++) {
            const e = entries[k]!;
            if (!fn(e.id, e.t, e.line, e.meta, k + 1 < entries.length ? { segment: this.segment, offset: frameOffset, entry: k + 1 } : last)) return 'full';
            this.entry = k + 1;
          }
          this.records++;
        }
        this.offset += end - p;
        this.entry = 0;
        p = end;
      }
      if (whole || p > 0) continue;
      // Not one whole record in the buffer. The file holds more than the buffer took: a record
      // longer than the buffer (grow it and read again). Otherwise the writer is mid-record: wait.
      if (got < size - this.offset) {
        const len = view.readUInt32LE(1);
        this.buf = Buffer.allocUnsafe(Math.max(this.buf.length * 2, FRAME_HEADER + len));
        continue;
      }
      break;
    }
    return 'caught-up';
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** The entries of one record, or undefined when it cannot be decoded. */
function decodeEntries(buf: Buffer, start: number, end: number): DecodedEntry[] | undefined {
  const out: DecodedEntry[] = [];
  try {
    forEachEntry(buf, start, end, (_k, id, t, src, a, b, meta) => out.push({ id, t, line: src.toString('utf8', a, b), meta }));
  } catch {
    return undefined;
  }
  return out;
}
