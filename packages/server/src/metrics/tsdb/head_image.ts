/**
 * The head's series as a block write needs them, in flat pages a worker thread can read: per
 * series its labels as UTF-8 and, per chunk, its bounds and where its bytes are. XOR chunks in the
 * head's shared arena pages are referred to, not copied (the worker reads the same memory; a
 * stored chunk is never written again); other chunks are copied in already encoded.
 *
 * Written on the event loop's thread in slices, one series at a time, without making an object per
 * series or chunk: at a million series every object a flush makes is work for the garbage
 * collector, which pauses the thread that acknowledges writes.
 */
import type { Label, Labels } from '../../core/model/labels.js';

const PAGE_BYTES = 1 << 20;

/** How a chunk's bytes are given. */
const ChunkKind = {
  /** XOR head chunk in a shared arena page: page number, offset, length. */
  sharedXor: 0,
  /** XOR head chunk copied in: length, bytes. */
  inlineXor: 1,
  /** Block chunk already encoded (native histograms): sample count, length, bytes. */
  inlineBlock: 2,
} as const;
type ChunkKind = (typeof ChunkKind)[keyof typeof ChunkKind];

/** What the worker receives: the pages and the shared arena pages they refer to. */
export interface HeadImage {
  pages: ArrayBuffer[];
  /** Bytes used in each page. */
  used: number[];
  arena: SharedArrayBuffer[];
  series: number;
}

/** A chunk as read back from an image. */
export interface ImageChunk {
  mint: number;
  maxt: number;
  /** XOR head chunk (to convert into a block chunk), or an encoded block chunk. */
  xor: boolean;
  count: number;
  bytes: Uint8Array;
}

/** Appends series to an image. */
export class HeadImageWriter {
  private readonly pages: Buffer[] = [];
  private readonly used: number[] = [];
  private page: Buffer = Buffer.alloc(0);
  private pos = 0;
  private readonly arenaIndex = new Map<SharedArrayBuffer, number>();
  private readonly arena: SharedArrayBuffer[] = [];
  private series = 0;
  /** The open series' chunk count field, and its count so far. */
  private countAt = -1;
  private chunks = 0;

  private room(n: number): void {
    if (this.pos + n <= this.page.length) return;
    if (this.pages.length > 0) this.used[this.used.length - 1] = this.pos;
    this.page = Buffer.allocUnsafeSlow(Math.max(PAGE_BYTES, n));
    this.pages.push(this.page);
    this.used.push(0);
    this.pos = 0;
  }

  /** Starts a series: its labels, then its chunks through the add methods. */
  beginSeries(labels: Labels): void {
    let need = 8;
    for (const l of labels) need += 8 + 3 * (l.name.length + l.value.length);
    // A series and its chunk headers stay in one page; the chunk bytes may start a new one.
    this.room(need + 64);
    const p = this.page;
    p.writeUInt16LE(labels.length, this.pos);
    this.pos += 2;
    for (const l of labels) {
      this.pos = writeStr(p, this.pos, l.name);
      this.pos = writeStr(p, this.pos, l.value);
    }
    this.countAt = this.pos;
    this.pos += 4;
    this.chunks = 0;
    this.series++;
  }

  /** Writes a chunk's header; {@link closeCountOnPageChange} has made room for the whole chunk. */
  private chunkHeader(kind: ChunkKind, mint: number, maxt: number): void {
    this.page.writeUInt8(kind, this.pos);
    this.page.writeDoubleLE(mint, this.pos + 1);
    this.page.writeDoubleLE(maxt, this.pos + 9);
    this.pos += 17;
  }

  /** Adds an XOR chunk held at `[offset, offset + length)` of `page` (an arena page or any bytes). */
  addXor(mint: number, maxt: number, page: Uint8Array, offset: number, length: number): void {
    if (page.buffer instanceof SharedArrayBuffer) {
      this.closeCountOnPageChange(17 + 12);
      const sab = page.buffer as SharedArrayBuffer;
      let k = this.arenaIndex.get(sab);
      if (k === undefined) {
        k = this.arena.length;
        this.arena.push(sab);
        this.arenaIndex.set(sab, k);
      }
      this.chunkHeader(ChunkKind.sharedXor, mint, maxt);
      this.page.writeUInt32LE(k, this.pos);
      this.page.writeUInt32LE(page.byteOffset + offset, this.pos + 4);
      this.page.writeUInt32LE(length, this.pos + 8);
      this.pos += 12;
      this.chunks++;
    } else this.copyXor(mint, maxt, page, offset, length);
  }

  /**
   * Adds a copy of the XOR chunk at `[offset, offset + length)` of `bytes`: for a head's active
   * chunk, read in place (its encoder's buffer is not shared, and asking a small typed array for
   * its buffer would make it allocate one).
   */
  copyXor(mint: number, maxt: number, bytes: Uint8Array, offset: number, length: number): void {
    this.closeCountOnPageChange(17 + 4 + length);
    this.chunkHeader(ChunkKind.inlineXor, mint, maxt);
    const p = this.page;
    p.writeUInt32LE(length, this.pos);
    const at = this.pos + 4;
    // Byte by byte: a chunk is tens to hundreds of bytes, and a subarray to copy from is an object.
    for (let i = 0; i < length; i++) p[at + i] = bytes[offset + i]!;
    this.pos = at + length;
    this.chunks++;
  }

  /** Adds an encoded block chunk of `count` samples. */
  addBlockChunk(mint: number, maxt: number, count: number, bytes: Uint8Array): void {
    this.closeCountOnPageChange(17 + 8 + bytes.length);
    this.chunkHeader(ChunkKind.inlineBlock, mint, maxt);
    this.page.writeUInt32LE(count, this.pos);
    this.page.writeUInt32LE(bytes.length, this.pos + 4);
    this.page.set(bytes, this.pos + 8);
    this.pos += 8 + bytes.length;
    this.chunks++;
  }

  /** Updates the open series' chunk count in place; when the next write starts a page, a count of
   * chunks continued on the next page is written as a marker instead. */
  private closeCountOnPageChange(need: number): void {
    if (this.pos + need <= this.page.length) return;
    // The series goes on in a new page: mark the count field with the chunks so far plus a flag.
    this.page.writeUInt32LE((this.chunks | CONTINUED) >>> 0, this.countAt);
    this.room(need + 4);
    this.countAt = this.pos;
    this.pos += 4;
    this.chunks = 0;
  }

  /** Ends the open series. */
  endSeries(): void {
    this.page.writeUInt32LE(this.chunks, this.countAt);
  }

  /** Number of series written. */
  get count(): number {
    return this.series;
  }

  /** The image, ready to transfer (the writer must not be used afterwards). */
  finish(): HeadImage {
    if (this.pages.length > 0) this.used[this.used.length - 1] = this.pos;
    return { pages: this.pages.map((p) => p.buffer as ArrayBuffer), used: this.used, arena: this.arena, series: this.series };
  }
}

/** Set in a chunk count when the series' chunks go on at the start of the next page. */
const CONTINUED = 0x80000000;

function writeStr(p: Buffer, at: number, s: string): number {
  const n = p.write(s, at + 4, 'utf8');
  p.writeUInt32LE(n, at);
  return at + 4 + n;
}

/** One series of an image: its labels, and where its chunks start. */
export interface ImageSeries {
  labels: Labels;
  page: number;
  at: number;
}

/** Reads the series of an image (labels only; chunks are read with {@link imageChunks}). */
export function* imageSeries(img: HeadImage): IterableIterator<ImageSeries> {
  let pi = 0;
  let pos = 0;
  for (let n = 0; n < img.series; n++) {
    while (pos >= img.used[pi]!) {
      pi++;
      pos = 0;
    }
    const p = Buffer.from(img.pages[pi]!);
    const nl = p.readUInt16LE(pos);
    pos += 2;
    const labels = new Array<Label>(nl);
    for (let i = 0; i < nl; i++) {
      const nlen = p.readUInt32LE(pos);
      const name = p.toString('utf8', pos + 4, pos + 4 + nlen);
      pos += 4 + nlen;
      const vlen = p.readUInt32LE(pos);
      const value = p.toString('utf8', pos + 4, pos + 4 + vlen);
      pos += 4 + vlen;
      labels[i] = { name, value };
    }
    const s: ImageSeries = { labels, page: pi, at: pos };
    yield s;
    // Skip the chunks to reach the next series.
    [pi, pos] = walkChunks(img, pi, pos, undefined);
  }
}

/** The chunks of a series read by {@link imageSeries}. */
export function imageChunks(img: HeadImage, s: ImageSeries): ImageChunk[] {
  const out: ImageChunk[] = [];
  walkChunks(img, s.page, s.at, out);
  return out;
}

function walkChunks(img: HeadImage, pi: number, pos: number, out: ImageChunk[] | undefined): [number, number] {
  for (;;) {
    const p = Buffer.from(img.pages[pi]!);
    const field = p.readUInt32LE(pos);
    pos += 4;
    const n = field & ~CONTINUED;
    for (let c = 0; c < n; c++) {
      const kind = p.readUInt8(pos) as ChunkKind;
      const mint = p.readDoubleLE(pos + 1);
      const maxt = p.readDoubleLE(pos + 9);
      pos += 17;
      if (kind === ChunkKind.sharedXor) {
        const k = p.readUInt32LE(pos);
        const off = p.readUInt32LE(pos + 4);
        const len = p.readUInt32LE(pos + 8);
        pos += 12;
        if (out) {
          const bytes = new Uint8Array(img.arena[k]!, off, len);
          out.push({ mint, maxt, xor: true, count: (bytes[0]! << 8) | bytes[1]!, bytes });
        }
      } else if (kind === ChunkKind.inlineXor) {
        const len = p.readUInt32LE(pos);
        if (out) {
          const bytes = new Uint8Array(img.pages[pi]!, pos + 4, len);
          out.push({ mint, maxt, xor: true, count: (bytes[0]! << 8) | bytes[1]!, bytes });
        }
        pos += 4 + len;
      } else {
        const count = p.readUInt32LE(pos);
        const len = p.readUInt32LE(pos + 4);
        if (out) out.push({ mint, maxt, xor: false, count, bytes: new Uint8Array(img.pages[pi]!, pos + 8, len) });
        pos += 8 + len;
      }
    }
    if ((field & CONTINUED) === 0) return [pi, pos];
    pi++;
    pos = 0;
  }
}
