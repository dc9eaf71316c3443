/**
 * The stream registry: stream ids by label set, label postings for selection, and the `streams`
 * file that persists them (a framed record per stream, plus WAL marks written when retention drops
 * chunks). Ids are never reused, even of streams whose record was lost: chunks and WAL entries may
 * still name them.
 */
import * as fs from 'node:fs';
import { labelsKey, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import type { StreamInfo } from '../storage/types.js';
import type { ChunkMeta } from './chunkfiles.js';
import { maxMark, type WalMark } from './chunkindex.js';
import { frame, readFramesRepair } from './framing.js';
import { Head } from './head.js';
import { appendAll, syncFd, type LogIo } from '../../core/util/appendfile.js';

export const REC_STREAM = 1;
/** Streams file: a stream's WAL mark, written when retention drops chunks that carried it (so replay cannot resurrect their lines). */
export const REC_STREAM_MARK = 7;
const NS_PER_MS = 1_000_000n;

/** A stream: its sealed chunks (sorted by start), its head and the WAL positions replay needs. */
export class StreamState implements StreamInfo {
  readonly chunks: ChunkMeta[] = [];
  readonly head = new Head();
  minT = BigInt(Number.MAX_SAFE_INTEGER) * NS_PER_MS;
  maxT = -1n;
  /** A line older than a sealed chunk's end arrived: chunks overlap and reads must sort. */
  overlap = false;
  /** Entries at or before this WAL position are in chunks (or were dropped by retention): replay skips them. */
  mark: WalMark | undefined;
  /** WAL position of the newest entry applied to the head (segment -1: none); a seal's mark. */
  headSeg = -1;
  headOff = 0;
  headIdx = 0;
  constructor(
    readonly id: number,
    readonly labels: Labels,
    readonly key: string,
  ) {}
}

/** What loading the streams file found. */
export interface LoadedStreams {
  readonly repairs: string[];
  /** The highest stream id any record names. */
  readonly maxId: number;
  /** WAL marks of chunks retention dropped, by stream id. */
  readonly droppedMarks: Map<number, WalMark>;
}

/** Streams by id, by label set and by label; the streams file. */
export class StreamRegistry {
  /** By id; ids whose record was lost are holes. */
  readonly byId: (StreamState | undefined)[] = [];
  private readonly byKey = new Map<string, StreamState>();
  private readonly postings = new Map<string, Map<string, number[]>>();
  private nextId = 0;
  private fd = -1;
  private fileSize = 0;

  constructor(
    private readonly file: string,
    private readonly io: LogIo,
    private readonly fsync: boolean,
  ) {}

  /** How many streams exist. */
  get count(): number {
    return this.byKey.size;
  }

  /** Reads the streams file (cutting a torn tail) and opens it for appends. */
  load(): LoadedStreams {
    let maxId = -1;
    const droppedMarks = new Map<number, WalMark>();
    const repairs = readFramesRepair(this.file, (type, buf, start, end) => {
      const r = new ByteReader(buf, start, end);
      const id = r.uvarint();
      if (type === REC_STREAM_MARK) {
        droppedMarks.set(id, maxMark(droppedMarks.get(id), { seg: r.uvarint(), off: r.uvarint(), idx: r.uvarint() })!);
      } else if (type === REC_STREAM) {
        const n = r.uvarint();
        const labels: { name: string; value: string }[] = [];
        for (let i = 0; i < n; i++) labels.push({ name: r.str(), value: r.str() });
        this.add(id, labels);
      } else throw new Error(`unknown record type ${type}`);
      if (id > maxId) maxId = id;
    });
    this.fd = fs.openSync(this.file, 'a');
    this.fileSize = fs.fstatSync(this.fd).size;
    return { repairs, maxId, droppedMarks };
  }

  /** New streams get ids above `maxId` (the highest any file names) and above every loaded one. */
  reserveIdsThrough(maxId: number): void {
    this.nextId = Math.max(maxId + 1, this.byId.length, this.nextId);
  }

  /** The stream with exactly these labels. */
  find(labels: Labels): StreamState | undefined {
    return this.byKey.get(labelsKey(labels));
  }

  /** Writes the stream's record, then registers it (a failed write throws and leaves no stream behind). */
  create(labels: Labels): StreamState {
    const id = this.nextId;
    const w = new ByteWriter(256);
    w.uvarint(id);
    w.uvarint(labels.length);
    for (const l of labels) {
      w.str(l.name);
      w.str(l.value);
    }
    this.append(frame(REC_STREAM, w.view()));
    this.nextId++;
    crashPoint('logs.stream.after-write');
    return this.add(id, labels);
  }

  /** Persists the WAL marks of dropped chunks (throws the write failure, the file cut back). */
  appendMarks(marks: readonly { readonly id: number; readonly mark: WalMark }[]): void {
    const w = new ByteWriter(256);
    const frames: Buffer[] = [];
    for (const { id, mark } of marks) {
      w.reset();
      w.uvarint(id);
      w.uvarint(mark.seg);
      w.uvarint(mark.off);
      w.uvarint(mark.idx);
      frames.push(frame(REC_STREAM_MARK, w.view()));
    }
    if (frames.length) this.append(Buffer.concat(frames));
  }

  private append(data: Buffer): void {
    appendAll(this.io, this.fd, data, this.fileSize);
    if (this.fsync) syncFd(this.fd);
    this.fileSize += data.length;
  }

  private add(id: number, labels: Labels): StreamState {
    const key = labelsKey(labels);
    const s = new StreamState(id, labels, key);
    this.byId[id] = s;
    this.byKey.set(key, s);
    for (const l of labels) {
      let byValue = this.postings.get(l.name);
      if (!byValue) this.postings.set(l.name, (byValue = new Map()));
      let ids = byValue.get(l.value);
      if (!ids) byValue.set(l.value, (ids = []));
      ids.push(id);
    }
    return s;
  }

  /** Streams whose labels match all matchers and whose lines may overlap [start, end). */
  select(matchers: readonly Matcher[], start?: bigint, end?: bigint): StreamState[] {
    // The shortest postings list of an equality matcher bounds the candidates.
    let candidates: Iterable<number> | undefined;
    let best = Infinity;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const ids = this.postings.get(m.name)?.get(m.value) ?? [];
      if (ids.length < best) {
        best = ids.length;
        candidates = ids;
      }
    }
    const out: StreamState[] = [];
    const consider = (s: StreamState | undefined): void => {
      if (!s) return;
      if (start !== undefined && s.maxT < start) return;
      if (end !== undefined && s.minT >= end) return;
      for (const m of matchers) {
        let v = '';
        for (const l of s.labels) if (l.name === m.name) v = l.value;
        if (!m.matches(v)) return;
      }
      out.push(s);
    };
    if (candidates) for (const id of candidates) consider(this.byId[id]);
    else for (const s of this.byId) consider(s);
    return out;
  }

  /** Sorted label names over all streams (or those in the time range). */
  labelNames(start?: bigint, end?: bigint): string[] {
    if (start === undefined) return [...this.postings.keys()].sort();
    const names = new Set<string>();
    for (const s of this.select([], start, end)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  /** Sorted values of label `name` over streams matching `matchers` in the range. */
  labelValues(name: string, matchers: readonly Matcher[] = [], start?: bigint, end?: bigint): string[] {
    if (!matchers.length && start === undefined) return [...(this.postings.get(name)?.keys() ?? [])].sort();
    const vals = new Set<string>();
    for (const s of this.select(matchers, start, end)) for (const l of s.labels) if (l.name === name) vals.add(l.value);
    return [...vals].sort();
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
