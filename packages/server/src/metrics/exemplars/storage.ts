/**
 * Exemplar storage: the bounded {@link ExemplarBuffer} made durable. Every accepted batch is framed
 * (core/encoding/framing: type, length, CRC-32) and written to `<dir>/exemplars.log` before it is
 * applied, so an exemplar a caller saw accepted survives kill -9. The log is replayed into a fresh
 * buffer at start (damaged records are skipped, a torn tail is cut), and rewritten atomically with
 * just the buffer's contents once it holds about twice what the buffer does, so it stays bounded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labelsKey, type Label, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { frame, scanFrames } from '../../core/encoding/framing.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { writeFailure } from '../../core/errors.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { ExemplarBuffer, type ExemplarInput, type ExemplarQueryResult } from './buffer.js';

export { EXEMPLAR_MAX_LABEL_RUNES, type ExemplarInput, type ExemplarQueryResult, type StoredExemplar } from './buffer.js';

/** The only record type of the log: a batch of exemplars. */
const RECORD_BATCH = 1;
const LOG_FILE = 'exemplars.log';

/** Options for {@link ExemplarStorage}. */
export interface ExemplarStorageOptions {
  /** Exemplars kept (Prometheus' `storage.exemplars.max_exemplars`); 0 disables exemplar storage. */
  maxExemplars: number;
  /** Directory of the log; without one the storage is memory-only. */
  dir?: string;
  logger?: Logger;
}

/** What one {@link ExemplarStorage.append} did with its batch. */
export interface ExemplarAppendResult {
  appended: number;
  duplicate: number;
  outOfOrder: number;
  tooLong: number;
}

/** Totals for self-monitoring, named after Prometheus' `prometheus_tsdb_exemplar_*`. */
export interface ExemplarStats {
  appended: number;
  outOfOrder: number;
  tooLong: number;
}

function writeLabels(w: ByteWriter, ls: Labels): void {
  w.uvarint(ls.length);
  for (const l of ls) {
    w.str(l.name);
    w.str(l.value);
  }
}

function readLabels(r: ByteReader): Labels {
  const n = r.uvarint();
  const out: Label[] = [];
  for (let i = 0; i < n; i++) out.push({ name: r.str(), value: r.str() });
  return out;
}

/** Encodes a batch as one framed record. */
export function encodeBatch(batch: readonly ExemplarInput[]): Buffer {
  const w = new ByteWriter(256);
  w.uvarint(batch.length);
  for (const e of batch) {
    writeLabels(w, e.seriesLabels);
    writeLabels(w, e.labels);
    w.f64(e.value);
    // As a double: exact for any timestamp a sender's int64 can bring, not only the ±2^52 a varint here holds.
    w.f64(e.ts);
  }
  return frame(RECORD_BATCH, w.view());
}

/** Decodes a record's payload; throws RangeError when it is not a whole batch. */
export function decodeBatch(buf: Buffer, start: number, end: number): ExemplarInput[] {
  const r = new ByteReader(buf, start, end);
  const n = r.uvarint();
  const out: ExemplarInput[] = [];
  for (let i = 0; i < n; i++) {
    const seriesLabels = readLabels(r);
    const labels = readLabels(r);
    out.push({ seriesLabels, labels, value: r.f64(), ts: r.f64() });
  }
  if (!r.done) throw new RangeError('trailing bytes after the batch');
  return out;
}

/** Durable, bounded exemplar storage. `start()` replays the log; `stop()` syncs and closes it. */
export class ExemplarStorage {
  private buffer: ExemplarBuffer;
  private readonly dir: string | undefined;
  private readonly log: Logger;
  private fd = -1;
  private fileSize = 0;
  /** Exemplars in the log file, so it is rewritten once it holds far more than the buffer. */
  private inFile = 0;
  readonly stats: ExemplarStats = { appended: 0, outOfOrder: 0, tooLong: 0 };
  /** Told about every accepted batch once it is in the log (the remote_write sender forwards them). */
  private readonly listeners = new Set<(batch: readonly ExemplarInput[]) => void>();

  constructor(opts: ExemplarStorageOptions) {
    this.buffer = new ExemplarBuffer(Math.max(0, opts.maxExemplars));
    this.dir = opts.dir;
    this.log = opts.logger ?? nopLogger;
  }

  /** The configured bound (`max_exemplars`). */
  get maxExemplars(): number {
    return this.buffer.capacity;
  }

  /** Exemplars held now. */
  get size(): number {
    return this.buffer.size;
  }

  /** Series holding exemplars. */
  get seriesCount(): number {
    return this.buffer.seriesCount;
  }

  /** Replays the log into the buffer and opens it for appends. Idempotent. */
  start(): void {
    if (this.fd >= 0 || this.dir === undefined) return;
    const file = path.join(this.dir, LOG_FILE);
    if (this.buffer.capacity === 0) {
      // Disabled: nothing is kept, and an old log is not worth keeping either.
      fs.rmSync(file, { force: true });
      return;
    }
    fs.mkdirSync(this.dir, { recursive: true });
    fs.rmSync(`${file}.tmp`, { force: true });
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      data = Buffer.alloc(0);
    }
    let replayed = 0;
    const problems = scanFrames(
      data,
      (type, buf, start, end) => {
        if (type !== RECORD_BATCH) throw new RangeError(`unknown record type ${type}`);
        const batch = decodeBatch(buf, start, end);
        // Replay is not counted in the appended total: those were counted by the run that took them.
        for (const e of batch) {
          const key = labelsKey(e.seriesLabels);
          if (this.buffer.check(e, key) === undefined) this.buffer.add(e, key);
        }
        replayed += batch.length;
      },
      (t) => t === RECORD_BATCH,
    );
    let size = data.length;
    for (const p of problems) {
      this.log.warn('exemplar log damaged; skipped', { file, offset: p.offset, end: p.end, reason: p.reason });
      if (p.tail) size = p.offset;
    }
    this.fd = fs.openSync(file, 'a');
    if (size < data.length) fs.ftruncateSync(this.fd, size);
    this.fileSize = size;
    this.inFile = replayed;
    if (this.inFile > 2 * this.buffer.capacity) this.rewrite();
  }

  /**
   * Validates a batch (label length, duplicates, order per series, within the batch too), writes
   * what passes to the log and then to the buffer. Throws a StorageError (`disk_full`, `closed`)
   * when the log write fails; nothing of the batch is kept then.
   */
  append(batch: readonly ExemplarInput[]): ExemplarAppendResult {
    const res: ExemplarAppendResult = { appended: 0, duplicate: 0, outOfOrder: 0, tooLong: 0 };
    if (batch.length === 0 || this.buffer.capacity === 0) return res;
    const accepted: Array<{ e: ExemplarInput; key: string }> = [];
    const newest = new Map<string, { ts: number; value: number; labelsKey: string }>();
    for (const e of batch) {
      const key = labelsKey(e.seriesLabels);
      const why = this.buffer.check(e, key, newest.get(key));
      if (why === 'duplicate') res.duplicate++;
      else if (why === 'out_of_order') res.outOfOrder++;
      else if (why === 'too_long') res.tooLong++;
      else {
        accepted.push({ e, key });
        newest.set(key, { ts: e.ts, value: e.value, labelsKey: labelsKey(e.labels) });
      }
    }
    this.stats.outOfOrder += res.outOfOrder;
    this.stats.tooLong += res.tooLong;
    if (accepted.length === 0) return res;
    this.writeRecord(encodeBatch(accepted.map((a) => a.e)));
    crashPoint('exemplars_after_log_write');
    for (const a of accepted) this.buffer.add(a.e, a.key);
    if (this.listeners.size > 0) {
      const out = accepted.map((a) => a.e);
      for (const l of this.listeners) l(out);
    }
    res.appended = accepted.length;
    this.stats.appended += accepted.length;
    this.inFile += accepted.length;
    if (this.fd >= 0 && this.inFile > 2 * this.buffer.capacity) this.rewrite();
    return res;
  }

  /** Calls `listener` with each accepted batch from now on; returns the function that stops it. */
  onAppended(listener: (batch: readonly ExemplarInput[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Exemplars in `[start, end]` (ms) of the series matching any of the matcher sets. */
  select(start: number, end: number, matcherSets: readonly (readonly Matcher[])[]): ExemplarQueryResult[] {
    return this.buffer.select(start, end, matcherSets);
  }

  /** Syncs and closes the log. Idempotent. */
  stop(): void {
    if (this.fd < 0) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Appends a record whole or not at all: a failed write is cut back off the file before the error goes up. */
  private writeRecord(rec: Buffer): void {
    if (this.fd < 0) return;
    let off = 0;
    try {
      while (off < rec.length) {
        const n = fs.writeSync(this.fd, rec, off, rec.length - off);
        if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
        off += n;
      }
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, this.fileSize);
      } catch {
        // The cut failed too: replay skips the torn record (framing resynchronises).
      }
      throw writeFailure('exemplar log write failed', err);
    }
    this.fileSize += rec.length;
  }

  /**
   * Replaces the log with the buffer's contents: written to a temporary file, synced, renamed over
   * the old one, so a crash leaves either the old log or the new one, both whole. A failure keeps
   * the old log (still correct, only longer).
   */
  private rewrite(): void {
    const file = path.join(this.dir!, LOG_FILE);
    const tmp = `${file}.tmp`;
    const w = new ByteWriter(1 << 16);
    const chunk: ExemplarInput[] = [];
    let n = 0;
    const flush = (): void => {
      if (chunk.length === 0) return;
      const rec = encodeBatch(chunk);
      w.bytes(rec);
      n += chunk.length;
      chunk.length = 0;
    };
    for (const e of this.buffer.all()) {
      chunk.push(e);
      if (chunk.length === 1000) flush();
    }
    flush();
    let tfd = -1;
    try {
      tfd = fs.openSync(tmp, 'w');
      fs.writeFileSync(tfd, w.view());
      fs.fsyncSync(tfd);
      fs.closeSync(tfd);
      tfd = -1;
      crashPoint('exemplars_before_rewrite_rename');
      fs.renameSync(tmp, file);
      const dfd = fs.openSync(this.dir!, 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch (err) {
      if (tfd >= 0) fs.closeSync(tfd);
      fs.rmSync(tmp, { force: true });
      this.log.warn('exemplar log rewrite failed; keeping the longer log', { err });
      return;
    }
    fs.closeSync(this.fd);
    this.fd = fs.openSync(file, 'a');
    this.fileSize = w.length;
    this.inFile = n;
  }
}
