/**
 * Gorilla-style XOR chunks: timestamps as delta-of-delta, values as XOR with the previous value.
 * Layout: a 2-byte big-endian sample count, then the bit stream. Typical scrape data costs about
 * 1–2 bytes per sample.
 */
import { ForwardChunkIterator } from './iterator.js';
import { BitReader, BitWriter, bitsAt, wideBitsAt } from './bitstream.js';
import { STALE_HI, STALE_LO } from '../../../core/model/value.js';
import { type FloatSink, reserveFloats } from '../../storage/interface.js';
import { readDod, readInt64, writeDod, writeInt64 } from './varbits.js';
import { newXorWindow, readXorValue, writeXorValue, type XorWindow } from './xorvalue.js';

/** Bytes of the sample-count header in front of the bit stream. */
export const CHUNK_HEADER_BYTES = 2;

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer); // little-endian: [0] low word, [1] high word

/**
 * Encodes samples into a chunk; appends must be in increasing time order (the head checks). The
 * encoder is its own bit writer and its own XOR window: a scrape appends to every series' encoder
 * once, long after it last touched it, and each object on the way (writer, window) would be one
 * more cold cache line per sample.
 */
export class XorEncoder extends BitWriter implements XorWindow {
  /** Samples in the chunk. */
  count = 0;
  /** Timestamp of the first sample. */
  mint = 0;
  /** Timestamp of the last sample. */
  maxt = 0;
  private prevDelta = 0;
  /** The XOR window ({@link XorWindow}): the previous value's words and the window's bounds. */
  hi = 0;
  lo = 0;
  leading = -1;
  trailing = 0;

  /** `sizeHint`: expected bytes, so a chunk like its predecessor is not reallocated as it grows. */
  constructor(sizeHint = 48) {
    super(sizeHint);
    this.writeBits(0, CHUNK_HEADER_BYTES * 8);
  }

  /**
   * Starts a new, empty chunk in the same memory. Only for a chunk whose bytes were copied out and
   * that no iterator still reads: iterators of a live chunk share its buffer.
   */
  override reset(): void {
    super.reset();
    this.writeBits(0, CHUNK_HEADER_BYTES * 8);
    this.count = 0;
    this.mint = 0;
    this.maxt = 0;
    this.prevDelta = 0;
    this.hi = 0;
    this.lo = 0;
    this.leading = -1;
    this.trailing = 0;
  }

  /** Adds one sample. */
  append(t: number, v: number): void {
    f64[0] = v;
    const hi = words[1]!;
    const lo = words[0]!;
    if (this.count === 0) {
      writeInt64(this, t);
      this.writeBits(hi, 32);
      this.writeBits(lo, 32);
      this.hi = hi;
      this.lo = lo;
      this.mint = t;
    } else {
      const delta = t - this.maxt;
      writeDod(this, delta - this.prevDelta);
      this.prevDelta = delta;
      writeXorValue(this, this, hi, lo);
    }
    this.maxt = t;
    this.count++;
  }

  /** The bytes of the chunk so far, with the count header filled in (shares the buffer). */
  bytesView(): Uint8Array {
    const b = this.bytes;
    b[0] = this.count >>> 8;
    b[1] = this.count & 0xff;
    return b;
  }

  /** A compact copy of the finished chunk. */
  override finish(): Uint8Array {
    this.bytesView();
    return super.finish();
  }

  /** An iterator over the samples appended so far; later appends are not seen by it. */
  iterator(): XorIterator {
    return new XorIterator(this.bytesView(), this.count, this.bitLength);
  }
}

/** Reads the sample count from a finished chunk's header. */
export function chunkSampleCount(chunk: Uint8Array): number {
  return (chunk[0]! << 8) | chunk[1]!;
}

/** Where {@link XorIterator.seek} decodes the samples it passes. */
const skipped: FloatSink = { ts: new Float64Array(256), vs: new Float64Array(256), n: 0, start: 0 };

/** Iterates the samples of a chunk. */
export class XorIterator extends ForwardChunkIterator {
  protected readonly r: BitReader;
  private readonly total: number;
  private curV = 0;
  /** The previous sample's timestamp delta (the base of the next delta-of-delta). */
  protected delta = 0;
  private readonly win: XorWindow = newXorWindow();

  /** Iterates `count` samples of `bytes`, reading no further than `endBit` (default: whole chunk). */
  constructor(bytes: Uint8Array, count = chunkSampleCount(bytes), endBit = bytes.length * 8) {
    super();
    this.r = new BitReader(bytes, CHUNK_HEADER_BYTES * 8, endBit);
    this.total = count;
  }

  next(): boolean {
    if (this.read >= this.total) return false;
    const r = this.r;
    this.readTime();
    if (this.read === 0) {
      this.win.hi = r.readBits(32);
      this.win.lo = r.readBits(32);
    } else {
      readXorValue(r, this.win);
    }
    words[1] = this.win.hi;
    words[0] = this.win.lo;
    this.curV = f64[0]!;
    this.read++;
    return true;
  }

  /** Reads the current sample's timestamp into `curT`: the first in 64 bits, later ones as delta-of-delta. */
  protected readTime(): void {
    if (this.read === 0) this.curT = readInt64(this.r);
    else {
      this.delta += readDod(this.r);
      this.curT += this.delta;
    }
  }

  v(): number {
    return this.curV;
  }

  /** Seeks with the bulk decoder (the samples passed are decoded into a scratch sink and dropped). */
  override seek(t: number): boolean {
    if (this.read > 0 && this.curT >= t) return true;
    // Timestamps are whole milliseconds: "past t - 1" is "at or after t".
    if (this.constructor !== XorIterator || !Number.isInteger(t)) return super.seek(t);
    if (this.read === 0 && !this.next()) return false;
    if (this.curT >= t) return true;
    skipped.n = 0;
    skipped.start = 0;
    return this.readFloatRun(t - 1, skipped, false);
  }

  /**
   * {@link SampleIterator.readFloats}: the rest of the chunk decoded in one loop over local
   * copies of the state, which is what most of a big query's time went to sample by sample.
   */
  readFloats(maxt: number, sink: FloatSink, dropStale: boolean): boolean {
    this.readFloatRun(maxt, sink, dropStale);
    return true;
  }

  /**
   * Reads as {@link readFloats}; true when it stopped past `maxt`, false at the chunk's end. Only
   * for this class's own encoding (not a subclass that reads timestamps otherwise).
   */
  readFloatRun(maxt: number, sink: FloatSink, dropStale: boolean): boolean {
    if (this.read === 0 && !this.next()) return false;
    if (this.curT > maxt) return true;
    const total = this.total;
    reserveFloats(sink, total - this.read + 1);
    const outT = sink.ts;
    const outV = sink.vs;
    let n = sink.n;
    if (!(dropStale && isStaleWords(this.win.hi, this.win.lo))) {
      outT[n] = this.curT;
      outV[n] = this.curV;
      n++;
    }
    const r = this.r;
    const bytes = r.bytes;
    const end = r.end;
    let pos = r.pos;
    let t = this.curT;
    let delta = this.delta;
    const win = this.win;
    let hi = win.hi;
    let lo = win.lo;
    let leading = win.leading;
    let trailing = win.trailing;
    let read = this.read;
    let past = false;
    while (read < total) {
      // The timestamp: up to four 1-bits ended by a 0 select the delta-of-delta's width (varbits.ts).
      let ones = 0;
      while (ones < 4 && ((bytes[pos >>> 3]! >>> (7 - (pos & 7))) & 1) === 1) {
        ones++;
        pos++;
      }
      if (ones < 4) pos++;
      if (ones !== 0) {
        let dod: number;
        if (ones === 4) {
          dod = (wideBitsAt(bytes, pos, 32) | 0) * 4294967296 + wideBitsAt(bytes, pos + 32, 32);
          pos += 64;
        } else {
          const width = ones === 1 ? 14 : ones === 2 ? 17 : 20;
          dod = bitsAt(bytes, pos, width);
          pos += width;
          if (dod > 2 ** (width - 1)) dod -= 2 ** width;
        }
        delta += dod;
      }
      t += delta;
      // The value, as readXorValue reads it.
      if (((bytes[pos >>> 3]! >>> (7 - (pos & 7))) & 1) === 1) {
        pos++;
        if (((bytes[pos >>> 3]! >>> (7 - (pos & 7))) & 1) === 1) {
          pos++;
          leading = bitsAt(bytes, pos, 5);
          let sig = bitsAt(bytes, pos + 5, 6);
          pos += 11;
          if (sig === 0) sig = 64;
          trailing = 64 - leading - sig;
        } else pos++;
        const width = 64 - leading - trailing;
        let xh = 0;
        let xl: number;
        if (width > 32) {
          xh = wideBitsAt(bytes, pos, width - 32);
          xl = wideBitsAt(bytes, pos + width - 32, 32);
        } else xl = wideBitsAt(bytes, pos, width);
        pos += width;
        if (trailing >= 32) {
          xh = xl << (trailing - 32);
          xl = 0;
        } else if (trailing > 0) {
          xh = (xh << trailing) | (xl >>> (32 - trailing));
          xl = xl << trailing;
        }
        hi = (hi ^ xh) >>> 0;
        lo = (lo ^ xl) >>> 0;
      } else pos++;
      read++;
      if (pos > end) {
        sink.n = n;
        r.pos = pos;
        throw new RangeError('read past the end of a chunk');
      }
      if (t > maxt) {
        past = true;
        break;
      }
      if (dropStale && isStaleWords(hi, lo)) continue;
      words[1] = hi;
      words[0] = lo;
      outT[n] = t;
      outV[n] = f64[0]!;
      n++;
    }
    sink.n = n;
    r.pos = pos;
    this.curT = t;
    this.delta = delta;
    win.hi = hi;
    win.lo = lo;
    win.leading = leading;
    win.trailing = trailing;
    words[1] = hi;
    words[0] = lo;
    this.curV = f64[0]!;
    this.read = read;
    return past;
  }
}

/** Whether the float64 with words (hi, lo) is the staleness marker (quiet bit ignored, as isStaleNaN). */
function isStaleWords(hi: number, lo: number): boolean {
  return lo === STALE_LO && (hi & 0xfff7ffff) === STALE_HI;
}
