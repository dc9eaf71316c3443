/**
 * The write-ahead log. Every committed batch is written here before the write is acknowledged, so
 * that a killed process loses nothing it confirmed: the bytes are in the kernel once `writeSync`
 * returns. Records are framed as [type u8][length u32][crc32 u32][payload] in numbered segment files;
 * a checkpoint file condenses old segments when the head is cut into blocks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Labels } from '../../core/model/labels.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { crc32 } from '../../core/util/crc32.js';
import { writeFailure } from '../../core/errors.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { NEVER_PAUSE, runSliced, runSync, type TimeSlicer } from '../../core/util/pace.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { readHistogram, writeHistogram } from './wal_histogram.js';

/** Record kinds: series, float samples, native-histogram samples. */
export const RecordType = { series: 1, samples: 2, histograms: 3 } as const;

/** True for a record type this WAL writes (readers beside the writer tell records from damage by it). */
export function isWalRecordType(type: number): boolean {
  return type === RecordType.series || type === RecordType.samples || type === RecordType.histograms;
}
const HEADER = 9;
/** Bytes of a record's frame before its payload: type, length, CRC-32. */
export const WAL_RECORD_HEADER = HEADER;
const SEGMENT_NAME = /^\d{8}$/;
const CHECKPOINT_NAME = /^checkpoint\.(\d{8})$/;

/** Receives the contents of the log in order on replay. */
export interface WalReplayHandler {
  series(ref: number, labels: Labels): void;
  /**
   * When given and false for a series record's ref, its labels are passed over undecoded and
   * `series` is not called (a checkpoint drops most series after a full flush: decoding their
   * labels would be a million short-lived objects for nothing).
   */
  wantSeries?(ref: number): boolean;
  sample(ref: number, t: number, v: number): void;
  /**
   * When given, samples before it are passed over without calling `sample` (a checkpoint keeps none
   * of the samples a flush put into a block: handing each one over would allocate its timestamp
   * and value as heap numbers, hundreds of MB of garbage per checkpoint at 300k series).
   * `Infinity` passes over every float and histogram sample.
   */
  samplesFrom?: number;
  /** A native-histogram sample; a reader without it passes over histogram records. */
  histogram?(ref: number, t: number, h: FloatHistogram): void;
}

/** A damaged span of a WAL file found on reading. */
interface WalDamage {
  offset: number;
  reason: string;
  /** Bytes passed over up to the next intact record. */
  skipped: number;
  /** No intact record follows: the damage runs to the end of the file. */
  atEnd: boolean;
}

/** What a replay found. */
export interface WalReplayStats {
  records: number;
  /** Float and histogram samples. */
  samples: number;
  series: number;
  /** Human-readable descriptions of the torn or corrupt tails that were cut off. */
  repairs: string[];
}

/** Options for {@link Wal}. */
export interface WalOptions {
  /** Start a new segment once the current one exceeds this many bytes. */
  segmentBytes?: number;
  /** Told about repairs. */
  warn?: (msg: string) => void;
  /** The write call, replaceable so tests can make the disk fail (ENOSPC part-way through a write). */
  writeSync?: (fd: number, data: Uint8Array, offset: number, length: number) => number;
}

/** Encodes record payloads into a reusable buffer. */
export class WalRecordWriter {
  readonly w = new ByteWriter(1 << 16);
  private start = -1;
  /** First timestamp of the open samples record (NaN until its first sample). */
  private base = NaN;

  /** Starts a record of `type`; write its payload into {@link w}, then call {@link end}. */
  begin(type: number): void {
    this.base = NaN;
    this.start = this.w.length;
    this.w.reserve(HEADER);
    this.w.buf[this.start] = type;
    this.w.length += HEADER;
  }

  /** Finishes the record opened by {@link begin}: fills in its length and checksum. */
  end(): void {
    const { buf } = this.w;
    const payloadStart = this.start + HEADER;
    const len = this.w.length - payloadStart;
    if (len === 0) {
      this.w.length = this.start; // an empty record is not worth a frame
      return;
    }
    buf.writeUInt32LE(len, this.start + 1);
    buf.writeUInt32LE(crc32(buf.subarray(payloadStart, this.w.length)), this.start + 5);
  }

  /** Appends a series record's entry. */
  series(ref: number, labels: Labels): void {
    const w = this.w;
    w.uvarint(ref);
    w.uvarint(labels.length);
    for (const l of labels) {
      w.str(l.name);
      w.str(l.value);
    }
  }

  /**
   * Appends a samples record's entry: the record's first timestamp is written once as a base, then
   * each sample as a varint ref, a zigzag varint offset from the base and the raw float64 value.
   */
  sample(ref: number, t: number, v: number): void {
    this.entry(ref, t);
    this.w.f64(v);
  }

  /** Appends a histograms record's entry: a base timestamp as in {@link sample}, then ref, time offset and the histogram. */
  histogram(ref: number, t: number, h: FloatHistogram): void {
    this.entry(ref, t);
    writeHistogram(this.w, h);
  }

  /** The start of a samples or histograms entry: the record's base timestamp if this is its first, the ref and the time offset. */
  private entry(ref: number, t: number): void {
    const w = this.w;
    if (this.base !== this.base) {
      this.base = t;
      w.f64(t);
    }
    w.uvarint(ref);
    w.svarint(t - this.base);
  }
}

function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

/** The path of segment `i` of the WAL in `dir`. */
export function walSegmentPath(dir: string, i: number): string {
  return path.join(dir, segmentName(i));
}

/** The segment numbers in a WAL directory, ascending (readers beside the writer, such as the remote_write sender). */
export function walSegments(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .filter((f) => SEGMENT_NAME.test(f))
    .map(Number)
    .sort((a, b) => a - b);
}

/** The newest checkpoint's file and the last segment it replaces, if there is one. */
export function walCheckpoint(dir: string): { index: number; file: string } | undefined {
  let best: { index: number; file: string } | undefined;
  for (const f of fs.readdirSync(dir)) {
    const m = CHECKPOINT_NAME.exec(f);
    if (m && (!best || Number(m[1]) > best.index)) best = { index: Number(m[1]), file: path.join(dir, f) };
  }
  return best;
}

/** A write-ahead log in a directory. */
export class Wal {
  readonly dir: string;
  private readonly segmentBytes: number;
  private readonly warn: (msg: string) => void;
  private fd = -1;
  private segment = 0;
  private segmentSize = 0;
  /** Total bytes written to segments since open, for self-monitoring. */
  bytesWritten = 0;
  private readonly writeSync: (fd: number, data: Uint8Array, offset: number, length: number) => number;
  /** Why the last write failed, until a write succeeds again. */
  private failure: string | undefined;
  /** The current segment could not be cut back after a failed write: the next write starts a new one. */
  private segmentSpoiled = false;

  constructor(dir: string, opts: WalOptions = {}) {
    this.dir = dir;
    this.segmentBytes = opts.segmentBytes ?? 128 * 1024 * 1024;
    this.warn = opts.warn ?? ((msg) => console.warn(msg));
    this.writeSync = opts.writeSync ?? fs.writeSync;
    fs.mkdirSync(dir, { recursive: true });
  }

  /**
   * The first segment a reader of the log still needs (the remote_write sender's position): a
   * checkpoint never replaces it or any later segment. Undefined (or no function): nothing held.
   */
  retainFrom: (() => number | undefined) | undefined;

  /** The segment being written. */
  get currentSegment(): number {
    return this.segment;
  }

  private listSegments(): number[] {
    return walSegments(this.dir);
  }

  private latestCheckpoint(): { index: number; file: string } | undefined {
    return walCheckpoint(this.dir);
  }

  /**
   * Reads the checkpoint and every segment, handing records to `h`. A damaged record is skipped and
   * reading resumes at the next intact record, so one bad spot never takes the records after it
   * (acknowledged writes) with it; a torn tail of the last segment is cut off. Every repair is
   * reported as a warning; replay never refuses to start. Opens a fresh segment for writing afterwards.
   */
  replay(h: WalReplayHandler): WalReplayStats {
    const stats: WalReplayStats = { records: 0, samples: 0, series: 0, repairs: [] };
    const cp = this.latestCheckpoint();
    const scratch: ReadScratch = { buf: undefined };
    const report = (msg: string): void => {
      stats.repairs.push(msg);
      this.warn(msg);
    };
    if (cp)
      for (const p of this.readFile(cp.file, h, stats, scratch))
        report(`WAL checkpoint ${cp.file}: ${p.reason} at byte ${p.offset}; ${p.skipped} bytes skipped`);
    const segments = this.listSegments().filter((s) => !cp || s > cp.index);
    for (let i = 0; i < segments.length; i++) {
      const file = path.join(this.dir, segmentName(segments[i]!));
      const problems = this.readFile(file, h, stats, scratch);
      const last = problems.at(-1);
      for (const p of problems) {
        if (p === last && p.atEnd) {
          // Nothing intact follows: a write that never completed (and was never acknowledged).
          fs.truncateSync(file, p.offset);
          report(`WAL segment ${file}: ${p.reason} at byte ${p.offset}; cut the unfinished tail there`);
        } else report(`WAL segment ${file}: ${p.reason} at byte ${p.offset}; skipped ${p.skipped} bytes to the next intact record`);
      }
    }
    const last = this.listSegments().at(-1);
    this.openSegment(last === undefined ? (cp ? cp.index + 1 : 0) : last + 1);
    return stats;
  }

  /**
   * Reads one file's records through a bounded buffer (a segment can be 128 MiB). At a damaged
   * record it searches forward for the next offset where an intact record starts (known type,
   * length within the file, matching CRC) and goes on from there. Returns the damaged spans.
   */
  private readFile(file: string, h: WalReplayHandler, stats: WalReplayStats, scratch: ReadScratch): WalDamage[] {
    return runSync(readFileSteps(file, h, stats, scratch));
  }

  /** Starts segment `index`; with `syncPrevious`, the finished one is fsynced (in the background) before it is closed. */
  private openSegment(index: number, syncPrevious = false): void {
    // Open the next file before closing the current one: if the open fails, the WAL keeps a
    // usable segment.
    const fd = fs.openSync(path.join(this.dir, segmentName(index)), 'a');
    if (this.fd >= 0) {
      if (syncPrevious) this.syncAndClose(this.fd);
      else fs.closeSync(this.fd);
    }
    this.fd = fd;
    this.segment = index;
    this.segmentSize = fs.fstatSync(this.fd).size;
  }

  /**
   * Writes framed records to the current segment; returns once the kernel has the bytes. A write
   * that fails part-way (disk full, I/O error) is cut back off the segment before this throws, so
   * no later record is ever appended behind a torn one; if it cannot be cut back, the next write
   * starts a new segment. Throws a StorageError ('disk_full' or 'closed').
   */
  write(records: Uint8Array): void {
    if (this.fd < 0) throw new Error('WAL is closed');
    if (records.length === 0) return;
    try {
      if (this.segmentSpoiled || (this.segmentSize > 0 && this.segmentSize + records.length > this.segmentBytes)) {
        this.openSegment(this.segment + 1, !this.segmentSpoiled);
        this.segmentSpoiled = false;
      }
      let off = 0;
      while (off < records.length) off += this.writeSync(this.fd, records, off, records.length - off);
    } catch (err) {
      this.failed(err);
    }
    this.segmentSize += records.length;
    this.bytesWritten += records.length;
    this.failure = undefined;
  }

  /**
   * Makes a finished segment durable through the thread pool, then closes it. Done in line, the
   * fsync of up to a segment's 128 MiB held the thread that acknowledges writes for as long as the
   * disk took (seconds while a block was being written). A write is acknowledged once the kernel
   * has it; this fsync guards against losing the machine, not the process, as Prometheus' WAL
   * syncs a finished segment off its write path.
   */
  private syncAndClose(fd: number): void {
    fs.fsync(fd, (err) => {
      if (err) this.warn(`WAL segment could not be synced to disk: ${err.message}`);
      fs.close(fd, () => {});
    });
  }

  /** Undoes a partial write, remembers why it failed and throws the error to refuse the batch. */
  private failed(err: unknown): never {
    const e = writeFailure('WAL write failed', err);
    this.failure = e.message;
    if (this.fd >= 0) {
      try {
        fs.ftruncateSync(this.fd, this.segmentSize);
      } catch {
        this.segmentSpoiled = true;
      }
    }
    throw e;
  }

  /** Why writes are failing (disk full, I/O error), or undefined while they succeed. */
  writeProblem(): string | undefined {
    return this.failure;
  }

  /** Bytes in all WAL files. */
  size(): number {
    let total = 0;
    for (const f of fs.readdirSync(this.dir)) total += fs.statSync(path.join(this.dir, f)).size;
    return total;
  }

  /**
   * Condenses all segments but a fresh one into a checkpoint holding the series that `keepSeries`
   * accepts and the samples at or after `minT`, then deletes what the checkpoint replaces.
   * `keepSeries` is also told the last segment the checkpoint replaces; the result is that segment,
   * or undefined when there was nothing to replace.
   */
  async truncate(minT: number, keepSeries: (ref: number, upTo: number) => boolean, slicer: TimeSlicer = NEVER_PAUSE): Promise<number | undefined> {
    const cp = this.latestCheckpoint();
    const old = this.listSegments();
    this.openSegment(this.segment + 1);
    crashPoint('walTruncate.segmentOpened');
    // Fixed now: appends go on into this segment (and later ones) while the checkpoint is built,
    // and the checkpoint must name exactly the segments it replaces. Segments a reader still needs
    // (the remote_write sender's, behind during an outage of its receiver) are kept as they are.
    const held = this.retainFrom?.();
    const index = held === undefined ? this.segment - 1 : Math.min(this.segment - 1, held - 1);
    if (index < 0 || (cp && index <= cp.index)) return undefined;
    const sources = [...(cp ? [cp.file] : []), ...old.filter((s) => s <= index).map((s) => path.join(this.dir, segmentName(s)))];
    const rw = new WalRecordWriter();
    const seriesBatch: Array<[number, Labels]> = [];
    const flushSeries = (): void => {
      rw.begin(RecordType.series);
      for (const [ref, labels] of seriesBatch) rw.series(ref, labels);
      rw.end();
      seriesBatch.length = 0;
    };
    // The open samples or histograms record (0: none). Samples keep their order across the two
    // kinds: a series switching between floats and histograms must replay in time order.
    let open = 0;
    const into = (type: number): void => {
      if (open === type) return;
      if (open !== 0) rw.end();
      rw.begin(type);
      open = type;
    };
    const full = (): void => {
      if (rw.w.length > 1 << 20) {
        rw.end();
        open = 0;
      }
    };
    const collector: WalReplayHandler = {
      series(ref, labels) {
        if (!keepSeries(ref, index)) return;
        seriesBatch.push([ref, labels]);
        if (seriesBatch.length >= 1000) flushSeries();
      },
      sample(ref, t, v) {
        if (t < minT || !keepSeries(ref, index)) return;
        into(RecordType.samples);
        rw.sample(ref, t, v);
        full();
      },
      histogram(ref, t, h) {
        if (t < minT || !keepSeries(ref, index)) return;
        into(RecordType.histograms);
        rw.histogram(ref, t, h);
        full();
      },
    };
    // Series records must precede samples that refer to them, so samples are held until after.
    const stats: WalReplayStats = { records: 0, samples: 0, series: 0, repairs: [] };
    const scratch: ReadScratch = { buf: undefined };
    const seriesOnly: WalReplayHandler = {
      series: collector.series,
      wantSeries: (ref) => keepSeries(ref, index),
      sample: () => {},
      samplesFrom: Infinity,
    };
    for (const f of sources) await runSliced(readFileSteps(f, seriesOnly, stats, scratch), slicer);
    flushSeries();
    const samplesOnly: WalReplayHandler = {
      series: () => {},
      wantSeries: () => false,
      sample: collector.sample,
      histogram: collector.histogram!,
      samplesFrom: minT,
    };
    for (const f of sources) await runSliced(readFileSteps(f, samplesOnly, stats, scratch), slicer);
    if (open !== 0) rw.end();

    const target = path.join(this.dir, `checkpoint.${segmentName(index)}`);
    const tmp = `${target}.tmp`;
    // Written and fsynced through the thread pool: a checkpoint can be large.
    const fh = await fs.promises.open(tmp, 'w');
    try {
      const view = rw.w.view();
      let off = 0;
      while (off < view.length) off += (await fh.write(view, off, view.length - off)).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
    crashPoint('walTruncate.checkpointWritten');
    fs.renameSync(tmp, target);
    crashPoint('walTruncate.checkpointRenamed');
    for (const f of sources) if (f !== target) await fs.promises.rm(f, { force: true });
    return index;
  }

  /** Flushes to disk and closes the current segment. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * The read buffer of a pass over several WAL files, one file after another. A buffer per file (up
 * to 4 MiB, outside the heap) stays allocated until a full collection finds it dead, and a
 * checkpoint reads every segment twice: with one buffer per pass, a flush's tail holds one.
 */
interface ReadScratch {
  buf: Buffer | undefined;
}

/** {@link readFile} in steps: pauses after every record, so a checkpoint can read in slices. */
function* readFileSteps(file: string, h: WalReplayHandler, stats: WalReplayStats, scratch: ReadScratch = { buf: undefined }): Generator<void, WalDamage[]> {
  const damage: WalDamage[] = [];
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const first = Math.min(size, 4 << 20);
    let buf = scratch.buf !== undefined && scratch.buf.length >= first ? scratch.buf : (scratch.buf = Buffer.allocUnsafe(first));
    let bufStart = 0; // file offset of buf[0]
    let bufLen = 0;
    const fill = (off: number, need: number): boolean => {
      // Ensure buf holds [off, off + need); false if the file ends first.
      if (off + need > size) return false;
      if (off >= bufStart && off + need <= bufStart + bufLen) return true;
      if (need > buf.length) buf = scratch.buf = Buffer.allocUnsafe(need);
      bufStart = off;
      bufLen = 0;
      const want = Math.min(buf.length, size - off);
      while (bufLen < want) {
        const n = fs.readSync(fd, buf, bufLen, want - bufLen, off + bufLen);
        if (n === 0) break;
        bufLen += n;
      }
      return bufLen >= need;
    };
    /** Why the record at `off` is not intact, or undefined when it is (its bytes are then in buf). */
    const check = (off: number): string | undefined => {
      if (!fill(off, HEADER)) return 'torn record header';
      const at = off - bufStart;
      const type = buf[at]!;
      const len = buf.readUInt32LE(at + 1);
      if (!isWalRecordType(type)) return `unknown record type ${type}`;
      if (!fill(off, HEADER + len)) return 'torn record';
      const start = off - bufStart + HEADER;
      if (crc32(buf.subarray(start, start + len)) !== buf.readUInt32LE(start - 4)) return 'checksum mismatch';
      return undefined;
    };
    let off = 0;
    while (off < size) {
      let reason = check(off);
      if (reason === undefined) {
        const at = off - bufStart;
        const len = buf.readUInt32LE(at + 1);
        try {
          yield* decodeRecordSteps(buf[at]!, new ByteReader(buf, at + HEADER, at + HEADER + len), h, stats);
          stats.records++;
          off += HEADER + len;
          yield;
          continue;
        } catch (err) {
          reason = `undecodable record: ${(err as Error).message}`;
        }
      }
      let next = off + 1;
      while (next < size && check(next) !== undefined) next++;
      damage.push({ offset: off, reason, skipped: next - off, atEnd: next >= size });
      off = next;
    }
    return damage;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads one WAL file's intact records into `h` through a bounded buffer, passing over damaged
 * spans (a reader beside the writer, such as the remote_write sender, never repairs the file).
 */
export function readWalFile(file: string, h: WalReplayHandler): void {
  runSync(readFileSteps(file, h, { records: 0, samples: 0, series: 0, repairs: [] }));
}

/** Decodes one intact record's payload into `h`, counting into `stats`. */
export function decodeWalRecord(type: number, r: ByteReader, h: WalReplayHandler, stats: WalReplayStats): void {
  runSync(decodeRecordSteps(type, r, h, stats));
}

/** Entries decoded between pauses (a power of two). */
const DECODE_STEP = 512;

/**
 * {@link decodeWalRecord} in steps, pausing every {@link DECODE_STEP} entries: one record can hold
 * the series of a whole large remote_write batch, too many to decode in one go while a checkpoint
 * shares the event loop.
 */
function* decodeRecordSteps(type: number, r: ByteReader, h: WalReplayHandler, stats: WalReplayStats): Generator<void, void> {
  let entries = 0;
  if (type === RecordType.series) {
    while (!r.done) {
      if ((++entries & (DECODE_STEP - 1)) === 0) yield;
      const ref = r.uvarint();
      const n = r.uvarint();
      if (h.wantSeries?.(ref) === false) {
        for (let i = 0; i < 2 * n; i++) r.skipStr();
        continue;
      }
      const labels: Array<{ name: string; value: string }> = [];
      for (let i = 0; i < n; i++) labels.push({ name: r.str(), value: r.str() });
      h.series(ref, labels);
      stats.series++;
    }
    return;
  }
  const from = h.samplesFrom ?? -Infinity;
  if (from === Infinity) return;
  if (type === RecordType.histograms) {
    if (h.histogram === undefined) return;
    const base = r.f64();
    while (!r.done) {
      if ((++entries & (DECODE_STEP - 1)) === 0) yield;
      const ref = r.uvarint();
      const t = base + r.svarint();
      const hist = readHistogram(r);
      if (t < from) continue;
      h.histogram(ref, t, hist);
      stats.samples++;
    }
    return;
  }
  const base = r.f64();
  while (!r.done) {
    decodeSamples(base, r, h, from, stats);
    if (!r.done) yield;
  }
}

/**
 * Decodes up to {@link DECODE_STEP} samples of a samples record. A plain function, which V8 can
 * optimize in the middle of its loop (it does not do so for a generator): timestamps and values
 * stay unboxed doubles instead of a heap number each, and samples before `from` are never handed over.
 */
function decodeSamples(base: number, r: ByteReader, h: WalReplayHandler, from: number, stats: WalReplayStats): void {
  for (let n = 0; n < DECODE_STEP && !r.done; n++) {
    const ref = r.uvarint();
    const t = base + r.svarint();
    const v = r.f64();
    if (t < from) continue;
    h.sample(ref, t, v);
    stats.samples++;
  }
}
