/**
 * Reading a columnar chunk (see columnar.ts for the layout): the header is decoded when the chunk
 * opens, each column section only when a line needs it; needle search runs in the values.
 */
import type { Labels } from '../../core/model/labels.js';
import { ByteReader } from '../../core/util/bytes.js';
import type { LogEntry } from '../storage/types.js';
import { decompressBody } from './codec.js';
import { HEX_DIGITS, KIND_DEC, KIND_DICT, KIND_HEX, KIND_RAW, POW10 } from './columnformat.js';
import { readMetas } from './metas.js';
import { TimeColumn } from './timecolumn.js';

/** Common reading interface of the row and columnar chunk layouts. */
export interface ChunkView {
  readonly length: number;
  /** Memory the decoded chunk may hold (for the cache's accounting). */
  readonly memBytes: number;
  /** Timestamp of line `i` (ns). */
  t(i: number): bigint;
  /** `Number(t(i) / 1000n) / 1000`: milliseconds with microsecond precision. */
  timeMs(i: number): number;
  /** Appends {@link timeMs} of lines `idx` (or of lo..hi-1 without `idx`) to `out`. */
  pushTimesMs(idx: Int32Array | undefined, lo: number, hi: number, out: number[]): void;
  /** First index with t >= `t`. */
  lowerBound(t: bigint): number;
  line(i: number): string;
  entry(i: number): LogEntry;
  /** UTF-8 bytes of line `i`. */
  lineBytes(i: number): number;
  /** Ascending indices in [lo, hi) of the lines containing every needle (UTF-8 bytes). */
  match(needles: readonly Buffer[], lo: number, hi: number): Int32Array;
}

interface ShapeReader {
  readonly lits: Buffer[];
  readonly litBytes: number;
  readonly cols: number[];
  /** Bytes next to a value slot on the literal side: a needle holding one may cross a boundary. */
  readonly border: Uint8Array;
  /** A value slot has an empty literal between it and the next: needles must rebuild lines. */
  readonly unsafe: boolean;
  lines: Int32Array;
}

interface ColumnInfo {
  readonly kind: number;
  readonly count: number;
  readonly rawLen: number;
  readonly off: number;
  readonly compLen: number;
  readonly bitmap: Uint32Array;
}

interface RawColumn {
  readonly kind: 0;
  readonly blob: Buffer;
  readonly starts: Int32Array;
  readonly lens: Int32Array;
}
interface DictColumn {
  readonly kind: 1;
  readonly values: Buffer[];
  readonly ids: Uint8Array;
}
type Column = RawColumn | DictColumn;

const EMPTY = new Int32Array(0);

/** Reads a columnar chunk; columns are decompressed on first use. */
export class ColumnarChunk implements ChunkView {
  readonly length: number;
  readonly metas: Map<number, Labels>;
  private readonly times: TimeColumn;
  /** Line lengths, read from the header's end on first use. */
  private lens: Int32Array | undefined;
  private readonly header: Buffer;
  private readonly lensAt: number;
  private readonly codec: number;
  private readonly data: Buffer;
  private readonly shapes: ShapeReader[] = [];
  private readonly shapeOf: Uint8Array;
  private readonly rowOf: Int32Array | undefined;
  private readonly infos: ColumnInfo[] = [];
  private readonly cols: (Column | undefined)[] = [];
  private scratch = Buffer.allocUnsafe(1024);
  /** Memory this chunk may hold once every column is decoded (for the cache's accounting). */
  readonly memBytes: number;

  constructor(data: Buffer) {
    this.data = data;
    this.codec = data[0]! & 0x3f;
    const pre = new ByteReader(data, 1);
    const headerRaw = pre.uvarint();
    const headerComp = pre.uvarint();
    const header = decompressBody(data.subarray(pre.pos, pre.pos + headerComp), this.codec, headerRaw);
    let off = pre.pos + headerComp;
    const r = new ByteReader(header);
    const n = r.uvarint();
    this.length = n;
    this.times = new TimeColumn(r, n);
    this.metas = readMetas(r);
    const shapeCount = r.uvarint();
    for (let s = 0; s < shapeCount; s++) {
      const k = r.uvarint();
      const lits: Buffer[] = [];
      let litBytes = 0;
      for (let j = 0; j <= k; j++) {
        const len = r.uvarint();
        lits.push(r.bytes(len));
        litBytes += len;
      }
      const cols: number[] = [];
      for (let j = 0; j < k; j++) cols.push(r.uvarint());
      const border = new Set<number>();
      let unsafe = false;
      for (let j = 0; j < k; j++) {
        const before = lits[j]!;
        const after = lits[j + 1]!;
        if (before.length) border.add(before[before.length - 1]!);
        else if (j > 0) unsafe = true;
        if (after.length) border.add(after[0]!);
        else if (j + 1 < k) unsafe = true;
      }
      this.shapes.push({ lits, litBytes, cols, border: Uint8Array.from(border), unsafe, lines: EMPTY });
    }
    this.shapeOf = new Uint8Array(n);
    if (shapeCount > 1) for (let i = 0; i < n; i++) this.shapeOf[i] = r.uvarint();
    const colCount = r.uvarint();
    for (let c = 0; c < colCount; c++) {
      const kind = r.u8();
      const count = r.uvarint();
      const rawLen = r.uvarint();
      const compLen = r.uvarint();
      const bitmap = new Uint32Array(8);
      for (let i = 0; i < 8; i++) bitmap[i] = r.u32();
      this.infos.push({ kind, count, rawLen, off, compLen, bitmap });
      this.cols.push(undefined);
      off += compLen;
    }
    this.header = header;
    this.lensAt = r.pos;
    if (shapeCount === 1) {
      // One shape: line i is row i.
      this.rowOf = undefined;
      const lines = new Int32Array(n);
      for (let i = 0; i < n; i++) lines[i] = i;
      this.shapes[0]!.lines = lines;
    } else {
      // Rows of each shape, and each line's row within its shape.
      const counts = new Int32Array(shapeCount);
      const rowOf = new Int32Array(n);
      for (let i = 0; i < n; i++) rowOf[i] = counts[this.shapeOf[i]!]!++;
      for (let s = 0; s < shapeCount; s++) this.shapes[s]!.lines = new Int32Array(counts[s]!);
      for (let i = 0; i < n; i++) this.shapes[this.shapeOf[i]!]!.lines[rowOf[i]!] = i;
      this.rowOf = rowOf;
    }
    let mem = data.length + header.length + n * 25;
    for (const c of this.infos) mem += c.rawLen + c.count * (c.kind === KIND_RAW || c.kind === KIND_DICT ? 8 : 32);
    this.memBytes = mem;
  }

  t(i: number): bigint {
    return this.times.t(i);
  }
  timeMs(i: number): number {
    return this.times.timeMs(i);
  }
  pushTimesMs(idx: Int32Array | undefined, lo: number, hi: number, out: number[]): void {
    this.times.pushTimesMs(idx, lo, hi, out);
  }
  lowerBound(t: bigint): number {
    return this.times.lowerBound(t);
  }

  private column(c: number): Column {
    const have = this.cols[c];
    if (have) return have;
    const info = this.infos[c]!;
    const body = this.data.subarray(info.off, info.off + info.compLen);
    const raw = info.compLen === info.rawLen ? body : decompressBody(body, this.codec, info.rawLen);
    const r = new ByteReader(raw);
    let col: Column;
    if (info.kind === KIND_DICT) {
      const d = r.uvarint();
      const values: Buffer[] = [];
      for (let i = 0; i < d; i++) values.push(r.bytes(r.uvarint()));
      col = { kind: 1, values, ids: raw.subarray(r.pos, r.pos + info.count) };
    } else if (info.kind === KIND_HEX || info.kind === KIND_DEC) col = info.kind === KIND_HEX ? hexColumn(r, info.count) : decColumn(r, info.count);
    else {
      const n = info.count;
      const lens = new Int32Array(n);
      const starts = new Int32Array(n);
      for (let i = 0; i < n; i++) lens[i] = r.uvarint();
      let p = 0;
      for (let i = 0; i < n; i++) {
        starts[i] = p;
        p += lens[i]! + 1;
      }
      col = { kind: 0, blob: raw.subarray(r.pos), starts, lens };
    }
    this.cols[c] = col;
    return col;
  }

  /** Writes line `i` into the scratch buffer; returns its length. */
  private build(i: number): number {
    const sh = this.shapes[this.shapeOf[i]!]!;
    const row = this.rowOf ? this.rowOf[i]! : i;
    let len = sh.litBytes;
    const k = sh.cols.length;
    const parts: Buffer[] = [];
    const starts: number[] = [];
    const lens: number[] = [];
    for (let j = 0; j < k; j++) {
      const col = this.column(sh.cols[j]!);
      if (col.kind === 1) {
        const v = col.values[col.ids[row]!]!;
        parts.push(v);
        starts.push(0);
        lens.push(v.length);
        len += v.length;
      } else {
        parts.push(col.blob);
        starts.push(col.starts[row]!);
        lens.push(col.lens[row]!);
        len += col.lens[row]!;
      }
    }
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(Math.max(len, this.scratch.length * 2));
    const out = this.scratch;
    let p = 0;
    for (let j = 0; j <= k; j++) {
      const lit = sh.lits[j]!;
      for (let x = 0; x < lit.length; x++) out[p++] = lit[x]!;
      if (j < k) {
        const src = parts[j]!;
        const s = starts[j]!;
        const e = s + lens[j]!;
        if (e - s > 32) p += src.copy(out, p, s, e);
        else for (let x = s; x < e; x++) out[p++] = src[x]!;
      }
    }
    return p;
  }

  line(i: number): string {
    const len = this.build(i);
    return this.scratch.toString('utf8', 0, len);
  }

  lineBytes(i: number): number {
    if (!this.lens) {
      const r = new ByteReader(this.header, this.lensAt);
      const lens = new Int32Array(this.length);
      for (let j = 0; j < lens.length; j++) lens[j] = r.uvarint();
      this.lens = lens;
    }
    return this.lens[i]!;
  }

  entry(i: number): LogEntry {
    const meta = this.metas.get(i);
    const t = this.times.t(i);
    return meta ? { t, line: this.line(i), meta } : { t, line: this.line(i) };
  }

  match(needles: readonly Buffer[], lo: number, hi: number): Int32Array {
    if (lo >= hi) return EMPTY;
    let mark: Uint8Array | undefined;
    for (const needle of needles) {
      const m = new Uint8Array(this.length);
      this.matchOne(needle, lo, hi, m);
      if (mark) for (let i = lo; i < hi; i++) mark[i]! &= m[i]!;
      else mark = m;
    }
    if (!mark) {
      const all = new Int32Array(hi - lo);
      for (let i = lo; i < hi; i++) all[i - lo] = i;
      return all;
    }
    let count = 0;
    for (let i = lo; i < hi; i++) count += mark[i]!;
    const out = new Int32Array(count);
    let j = 0;
    for (let i = lo; i < hi; i++) if (mark[i]) out[j++] = i;
    return out;
  }

  private matchOne(needle: Buffer, lo: number, hi: number, mark: Uint8Array): void {
    const hasNewline = needle.includes(10);
    for (const sh of this.shapes) {
      const lines = sh.lines;
      if (!lines.length || lines[lines.length - 1]! < lo || lines[0]! >= hi) continue;
      let inLit = false;
      for (const lit of sh.lits) if (lit.indexOf(needle) >= 0) inLit = true;
      if (inLit) {
        for (const i of lines) mark[i] = 1;
        continue;
      }
      let crosses = hasNewline || sh.unsafe;
      for (const b of sh.border) if (needle.includes(b)) crosses = true;
      if (crosses) {
        for (const i of lines) {
          if (i < lo || i >= hi) continue;
          const len = this.build(i);
          if (this.scratch.subarray(0, len).indexOf(needle) >= 0) mark[i] = 1;
        }
        continue;
      }
      for (const c of sh.cols) {
        if (!covers(this.infos[c]!.bitmap, needle)) continue;
        const col = this.column(c);
        if (col.kind === 1) {
          const hit = new Uint8Array(col.values.length);
          let any = false;
          for (let d = 0; d < col.values.length; d++)
            if (col.values[d]!.indexOf(needle) >= 0) {
              hit[d] = 1;
              any = true;
            }
          if (!any) continue;
          const ids = col.ids;
          for (let r = 0; r < ids.length; r++) if (hit[ids[r]!]) mark[lines[r]!] = 1;
        } else {
          const { blob, starts, lens } = col;
          let pos = 0;
          for (;;) {
            const at = blob.indexOf(needle, pos);
            if (at < 0) break;
            let a = 0;
            let b = starts.length - 1;
            while (a < b) {
              const mid = (a + b + 1) >>> 1;
              if (starts[mid]! <= at) a = mid;
              else b = mid - 1;
            }
            mark[lines[a]!] = 1;
            pos = starts[a]! + lens[a]! + 1;
          }
        }
      }
    }
  }
}

/** Rebuilds the text of a hex column. */
function hexColumn(r: ByteReader, n: number): RawColumn {
  const prefix = r.bytes(r.uvarint());
  const bytes = r.uvarint();
  const src = r.bytes(n * bytes);
  const len = prefix.length + bytes * 2;
  const stride = len + 1;
  // Every value has the same layout: lay down prefix and separators with one native fill.
  const template = Buffer.alloc(stride, 10);
  prefix.copy(template, 0);
  const blob = Buffer.allocUnsafe(Math.max(0, n * stride - 1));
  if (n > 0) blob.fill(template);
  const starts = new Int32Array(n);
  const lens = new Int32Array(n).fill(len);
  const p = prefix.length;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const s = i * stride;
    starts[i] = s;
    let o = s + p;
    for (let k = 0; k < bytes; k++) {
      const x = src[q++]!;
      blob[o++] = HEX_DIGITS[x >>> 4]!;
      blob[o++] = HEX_DIGITS[x & 15]!;
    }
  }
  return { kind: 0, blob, starts, lens };
}

/** Rebuilds the text of a decimal column. */
function decColumn(r: ByteReader, n: number): RawColumn {
  const prefix = r.bytes(r.uvarint());
  const scale = r.u8();
  const width = r.u8();
  const src = r.bytes(n * width);
  const div = POW10[scale]!;
  const blob = Buffer.allocUnsafe(n * (prefix.length + 18));
  const starts = new Int32Array(n);
  const lens = new Int32Array(n);
  const digits = new Uint8Array(16);
  let o = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let k = width - 1; k >= 0; k--) v = v * 256 + src[k * n + i]!;
    if (i > 0) blob[o++] = 10;
    const s = o;
    starts[i] = o;
    for (let k = 0; k < prefix.length; k++) blob[o++] = prefix[k]!;
    let int = Math.floor(v / div);
    let frac = v - int * div;
    let d = 0;
    do {
      digits[d++] = 48 + (int % 10);
      int = Math.floor(int / 10);
    } while (int > 0);
    while (d > 0) blob[o++] = digits[--d]!;
    if (scale > 0) {
      blob[o++] = 0x2e;
      for (let k = scale - 1; k >= 0; k--) {
        blob[o + k] = 48 + (frac % 10);
        frac = Math.floor(frac / 10);
      }
      o += scale;
    }
    lens[i] = o - s;
  }
  return { kind: 0, blob: blob.subarray(0, o), starts, lens };
}

/** True when every byte of `needle` occurs somewhere in the column (its bitmap). */
function covers(bitmap: Uint32Array, needle: Buffer): boolean {
  for (let i = 0; i < needle.length; i++) {
    const c = needle[i]!;
    if ((bitmap[c >>> 5]! & (1 << (c & 31))) === 0) return false;
  }
  return true;
}
