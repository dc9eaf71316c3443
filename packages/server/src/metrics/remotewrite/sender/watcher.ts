/**
 * Follows the TSDB's WAL as it is written, as Prometheus' WAL watcher does: series records fill
 * a ref → labels map, samples records are handed on with the WAL position just past them, so the
 * sender can save how far the receiver has acknowledged and resume there after a restart. It reads
 * beside the writer (the files are append-only), polls for new bytes, and stops reading while the
 * sink is full: the WAL itself is the buffer during an outage of the receiver.
 */
import * as fs from 'node:fs';
import type { Labels } from '../../../core/model/labels.js';
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { ByteReader } from '../../../core/util/bytes.js';
import { crc32 } from '../../../core/util/crc32.js';
import {
  decodeWalRecord,
  isWalRecordType,
  readWalFile,
  RecordType,
  WAL_RECORD_HEADER,
  walCheckpoint,
  walSegmentPath,
  walSegments,
  type WalReplayStats,
} from '../../tsdb/wal.js';
import type { WalPosition } from '../../../core/util/position.js';

export type { WalPosition } from '../../../core/util/position.js';

/** Where the watcher's records go. */
export interface WatcherSink {
  series(ref: number, labels: Labels): void;
  /** One samples record's samples (arrays the sink may keep), and the position just past the record. */
  samples(refs: number[], ts: number[], vs: Float64Array, end: WalPosition): void;
  /** One histograms record's samples, like {@link samples}. Without it, histogram records are passed over. */
  histograms?(refs: number[], ts: number[], hs: FloatHistogram[], end: WalPosition): void;
  /** True while the sink takes no more samples; the watcher then waits for {@link drained}. */
  full(): boolean;
  /** Resolves when the sink takes samples again (or the watcher should look at `stopped`). */
  drained(): Promise<void>;
}

/** Options for {@link WalWatcher}. */
export interface WatcherOptions {
  /** How often to look for new bytes when the reader has caught up (ms). */
  pollMs?: number;
  warn?: (msg: string, fields?: Record<string, unknown>) => void;
}

const noStats = (): WalReplayStats => ({ records: 0, samples: 0, series: 0, repairs: [] });

/** Reads a WAL directory from a position onwards, handing records to a {@link WatcherSink}. */
export class WalWatcher {
  private segment = 0;
  private offset = 0;
  private fd = -1;
  private buf = Buffer.allocUnsafe(1 << 20);
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly pollMs: number;
  private readonly warn: (msg: string, fields?: Record<string, unknown>) => void;
  /** Damaged or unfinished spans passed over (a segment the writer gave up after a failed write). */
  skippedBytes = 0;
  /** Samples records read. */
  records = 0;
  /** Native-histogram records passed over, for a sink that takes float samples only. */
  histogramRecordsSkipped = 0;

  constructor(
    private readonly dir: string,
    private readonly sink: WatcherSink,
    opts: WatcherOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 100;
    this.warn = opts.warn ?? (() => {});
  }

  /** The position the next record is read from. */
  get position(): WalPosition {
    return { segment: this.segment, offset: this.offset };
  }

  /**
   * Positions the watcher at `from` (undefined: the end of the WAL, as Prometheus starts with new
   * samples only), after reading the series records before it from the checkpoint and segments,
   * so that every ref after it resolves. A `from` whose segment is gone (let go past the
   * sender's WAL bound) starts at the next segment there is; the gap is reported.
   */
  seek(from: WalPosition | undefined, current: WalPosition): void {
    const segs = walSegments(this.dir);
    let start = from ?? current;
    if (from && !segs.includes(from.segment)) {
      const next = segs.find((s) => s > from.segment) ?? current.segment;
      this.warn('remote_write: the WAL segment of the saved position is gone; samples from it up to the next segment are not sent', {
        segment: from.segment,
        next,
      });
      start = { segment: next, offset: 0 };
    }
    // Series records only, through the WAL's bounded reader (a segment can be 128 MiB). Series
    // records after the position in its segment are read too: early, which does no harm (a ref's
    // labels never change), and read again when the watcher gets there.
    const seriesOnly = { series: (ref: number, l: Labels) => this.sink.series(ref, l), sample: () => {} };
    const cp = walCheckpoint(this.dir);
    const read = (file: string): void => {
      try {
        readWalFile(file, seriesOnly);
      } catch (err) {
        // Deleted by a checkpoint in between: its series are in that checkpoint, read next.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    };
    if (cp) read(cp.file);
    for (const s of segs) if (s <= start.segment && !(cp && s <= cp.index)) read(walSegmentPath(this.dir, s));
    const cpAfter = walCheckpoint(this.dir);
    if (cpAfter && cpAfter.file !== cp?.file) read(cpAfter.file);
    this.open(start.segment, start.offset);
  }

  private open(segment: number, offset: number): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.segment = segment;
    this.offset = offset;
    try {
      this.fd = fs.openSync(walSegmentPath(this.dir, segment), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Not created yet (the writer opens the next segment at its next write): looked for again.
    }
  }

  /** Reads until {@link stop}; resolves once stopped. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (this.sink.full()) {
        await this.sink.drained();
        continue;
      }
      if (this.fd < 0) this.open(this.segment, this.offset);
      if (this.fd >= 0 && this.readAvailable()) continue;
      // Caught up with this segment. A later one means the writer has moved on: read this one to
      // its end once more (bytes may have landed since), then go on to the next.
      const next = walSegments(this.dir).find((s) => s > this.segment);
      if (next !== undefined && !this.sink.full()) {
        if (this.fd >= 0 && this.readAvailable()) continue;
        if (this.sink.full()) continue;
        const size = this.fd >= 0 ? fs.fstatSync(this.fd).size : 0;
        if (size > this.offset) {
          this.skippedBytes += size - this.offset;
          this.warn('remote_write: an unfinished record at the end of a WAL segment was passed over', { segment: this.segment, bytes: size - this.offset });
        }
        this.open(next, 0);
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Ends {@link run} at its next step. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /**
   * Reads the complete records between the position and the end of the file; true when it
   * consumed anything. Stops before a samples record while the sink is full. A record whose
   * checksum fails is searched past, byte by byte, to the next intact one (as replay does).
   */
  private readAvailable(): boolean {
    const size = fs.fstatSync(this.fd).size;
    const before = this.offset;
    while (this.offset + WAL_RECORD_HEADER <= size && !this.stopped) {
      const want = Math.min(size - this.offset, Math.max(this.buf.length, 1 << 20));
      if (want > this.buf.length) this.buf = Buffer.allocUnsafe(want);
      const got = fs.readSync(this.fd, this.buf, 0, want, this.offset);
      const buf = this.buf;
      let p = 0;
      let stall = false;
      while (p + WAL_RECORD_HEADER <= got) {
        const type = buf[p]!;
        const len = buf.readUInt32LE(p + 1);
        const start = p + WAL_RECORD_HEADER;
        const known = isWalRecordType(type);
        if (known && start + len > got) {
          // Not all here: the rest of a record still being written (wait for it), or a record
          // longer than the buffer (grow it and read again from this record).
          if (this.offset + start + len > size) stall = true;
          else if (p === 0) this.buf = Buffer.allocUnsafe(start + len);
          break;
        }
        if (!known || crc32(buf.subarray(start, start + len)) !== buf.readUInt32LE(p + 5)) {
          if (this.offset + p + WAL_RECORD_HEADER + (known ? len : 0) > size) {
            stall = true;
            break;
          }
          p++; // damaged: look for the next intact record
          this.skippedBytes++;
          continue;
        }
        if (type === RecordType.histograms && this.sink.histograms === undefined) {
          if (this.histogramRecordsSkipped++ === 0) this.warn('remote_write: native histogram samples are not sent (this reader takes float samples only)');
        } else if (type === RecordType.histograms) {
          if (this.sink.full()) {
            stall = true;
            break;
          }
          const refs: number[] = [];
          const ts: number[] = [];
          const hs: FloatHistogram[] = [];
          decodeWalRecord(
            type,
            new ByteReader(buf, start, start + len),
            {
              series: () => {},
              sample: () => {},
              histogram: (ref, t, h) => {
                refs.push(ref);
                ts.push(t);
                hs.push(h);
              },
            },
            noStats(),
          );
          this.records++;
          this.sink.histograms!(refs, ts, hs, { segment: this.segment, offset: this.offset + start + len });
        } else if (type === RecordType.samples) {
          if (this.sink.full()) {
            stall = true;
            break;
          }
          const refs: number[] = [];
          const ts: number[] = [];
          // At least 10 bytes a sample (varint ref, varint offset, float64) bound the count; a
          // Float64Array keeps NaN payloads (the staleness marker) that a plain array may not.
          const vs = new Float64Array(Math.ceil(len / 10));
          decodeWalRecord(
            type,
            new ByteReader(buf, start, start + len),
            {
              series: () => {},
              sample: (ref, t, v) => {
                refs.push(ref);
                ts.push(t);
                vs[refs.length - 1] = v;
              },
            },
            noStats(),
          );
          this.records++;
          this.sink.samples(refs, ts, vs, { segment: this.segment, offset: this.offset + start + len });
        } else decodeWalRecord(type, new ByteReader(buf, start, start + len), { series: (ref, l) => this.sink.series(ref, l), sample: () => {} }, noStats());
        p = start + len;
      }
      this.offset += p;
      if (stall) break;
    }
    return this.offset > before;
  }
}
