/**
 * Building one column of a columnar chunk (see columnar.ts): values as lengths and '\n'-joined
 * bytes, a dictionary while the distinct values are few, and the packed kinds (fixed-length hex,
 * canonical decimals) chosen at the end when every value fits them.
 */
import { ByteWriter } from '../../core/util/bytes.js';
import { forEachTokenHash } from '../../core/util/bloom.js';
import { HEX_VAL, KIND_DEC, KIND_DICT, KIND_HEX, KIND_RAW } from './columnformat.js';
import { ALNUM, HashSet, tokenHashesAscii } from './linetokens.js';

/** Most distinct values of a dictionary column. */
const MAX_DICT = 256;
const DICT_SLOTS = 1024;

/** A column being built: values (lengths + '\n'-joined bytes) and, while few, a dictionary. */
export class ColumnBuilder {
  blob = new ByteWriter(1 << 15);
  private alt = new ByteWriter(1 << 15);
  private prevStart = 0;
  private prevLen = -1;
  private prevId = 0;
  /** seen[b] = 1 when byte b occurs in a value. */
  readonly seen = new Uint8Array(256);
  count = 0;
  dictOk = true;
  private readonly slots = new Int16Array(DICT_SLOTS).fill(-1);
  readonly dHash = new Int32Array(MAX_DICT);
  readonly dStart = new Int32Array(MAX_DICT);
  readonly dLen = new Int32Array(MAX_DICT);
  dN = 0;
  ids = new Uint8Array(1024);
  /** Value lengths (the blob holds the values joined by '\n'). */
  lenArr = new Int32Array(1024);
  /** The section kind {@link section} chose. */
  kind = KIND_RAW;
  /** Blob bytes before this offset are tokenized by {@link finish}; later ones were on append. */
  private tokFrom = -1;

  constructor(private set: HashSet) {}

  /** Empties the builder for the next chunk, keeping its memory. */
  reset(set: HashSet): void {
    this.set = set;
    this.blob.reset();
    this.prevLen = -1;
    this.seen.fill(0);
    this.count = 0;
    this.dictOk = true;
    this.slots.fill(-1);
    this.dN = 0;
    this.tokFrom = -1;
  }

  append(src: Uint8Array, s: number, e: number): void {
    const len = e - s;
    const n = this.count;
    if (n >= this.lenArr.length) {
      const grown = new Int32Array(this.lenArr.length * 2);
      grown.set(this.lenArr);
      this.lenArr = grown;
      const ids = new Uint8Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
    }
    this.lenArr[n] = len;
    if (this.dictOk) {
      // Dictionary mode: the blob holds each distinct value once; ids say which.
      const buf = this.blob.buf;
      if (len === this.prevLen) {
        const ps = this.prevStart;
        let eq = true;
        for (let i = 0; i < len; i++)
          if (buf[ps + i] !== src[s + i]) {
            eq = false;
            break;
          }
        if (eq) {
          this.ids[n] = this.prevId;
          this.count++;
          return;
        }
      }
      let h = 0x811c9dc5;
      for (let i = s; i < e; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
      let slot = h & (DICT_SLOTS - 1);
      for (;;) {
        const d = this.slots[slot]!;
        if (d < 0) break;
        if (this.dHash[d] === h && this.dLen[d] === len) {
          const ds = this.dStart[d]!;
          let eq = true;
          for (let i = 0; i < len; i++)
            if (buf[ds + i] !== src[s + i]) {
              eq = false;
              break;
            }
          if (eq) {
            this.ids[n] = this.prevId = d;
            this.prevStart = ds;
            this.prevLen = len;
            this.count++;
            return;
          }
        }
        slot = (slot + 1) & (DICT_SLOTS - 1);
      }
      if (this.dN < MAX_DICT) {
        const id = this.dN++;
        const blob = this.blob;
        blob.reserve(len);
        const start = blob.length;
        blob.buf.set(src.subarray(s, e), start);
        blob.length = start + len;
        this.slots[slot] = id;
        this.dHash[id] = h;
        this.dStart[id] = start;
        this.dLen[id] = len;
        this.ids[n] = this.prevId = id;
        this.prevStart = start;
        this.prevLen = len;
        this.count++;
        return;
      }
      // Too many distinct values: from now on a raw column.
      this.materialize();
    }
    const blob = this.blob;
    blob.reserve(len + 1);
    const out = blob.buf;
    if (n > 0) out[blob.length++] = 10;
    // Copy, note the bytes and hash the tokens in one pass.
    const seen = this.seen;
    const set = this.set;
    let o = blob.length;
    let h = 0x811c9dc5;
    let tl = 0;
    for (let i = s; i < e; i++) {
      const c = src[i]!;
      out[o++] = c;
      seen[c] = 1;
      if (ALNUM[c] === 1) {
        h = Math.imul(h ^ c, 0x01000193);
        tl++;
      } else {
        if (tl >= 2) set.add(h);
        h = 0x811c9dc5;
        tl = 0;
      }
    }
    if (tl >= 2) set.add(h);
    blob.length = o;
    this.count++;
  }

  /**
   * Leaves dictionary mode: rewrites the blob as every value joined by '\n' (those values are
   * tokenized by {@link finish}; later ones as they are appended).
   */
  private materialize(): void {
    if (!this.dictOk) return;
    const alt = this.alt;
    alt.reset();
    const src = this.blob.buf;
    for (let r = 0; r < this.count; r++) {
      const d = this.ids[r]!;
      const len = this.dLen[d]!;
      alt.reserve(len + 1);
      if (r > 0) alt.buf[alt.length++] = 10;
      alt.buf.set(src.subarray(this.dStart[d]!, this.dStart[d]! + len), alt.length);
      alt.length += len;
    }
    this.alt = this.blob;
    this.blob = alt;
    this.dictOk = false;
    this.tokFrom = alt.length;
  }

  /** Dictionary when there are few distinct values, each repeated. */
  get isDict(): boolean {
    return this.dictOk && this.dN * 4 <= this.count;
  }

  /** The uncompressed section. */
  section(w: ByteWriter): Buffer {
    w.reset();
    if (this.isDict) {
      this.kind = KIND_DICT;
      w.uvarint(this.dN);
      for (let d = 0; d < this.dN; d++) {
        w.uvarint(this.dLen[d]!);
        w.bytes(this.blob.buf.subarray(this.dStart[d]!, this.dStart[d]! + this.dLen[d]!));
      }
      w.bytes(this.ids.subarray(0, this.count));
      return w.view();
    }
    this.materialize();
    if (this.count >= 16) {
      if (this.hexSection(w)) {
        this.kind = KIND_HEX;
        return w.view();
      }
      w.reset();
      if (this.decSection(w)) {
        this.kind = KIND_DEC;
        return w.view();
      }
      w.reset();
    }
    this.kind = KIND_RAW;
    for (let i = 0; i < this.count; i++) w.uvarint(this.lenArr[i]!);
    w.bytes(this.blob.view());
    return w.view();
  }

  /** Writes the hex layout: prefix, byte length, then each value's bytes. False if it does not fit. */
  private hexSection(w: ByteWriter): boolean {
    const b = this.blob.buf;
    const lens = this.lenArr;
    const n = this.count;
    const len0 = lens[0]!;
    // The prefix: what all values share, cut back to a non-hex byte.
    let p = sharedPrefix(b, lens, n, len0);
    if (p < 0) return false;
    while (p > 0 && HEX_VAL[b[p - 1]!]! >= 0) p--;
    const hexLen = len0 - p;
    if (hexLen < 2 || hexLen > 64 || hexLen % 2 !== 0) return false;
    const bytes = hexLen / 2;
    w.uvarint(p);
    w.bytes(b.subarray(0, p));
    w.uvarint(bytes);
    w.reserve(n * bytes);
    const o = hexPack(b, n, p, len0, bytes, w.buf, w.length);
    if (o < 0) return false;
    w.length = o;
    return true;
  }

  /**
   * Writes the decimal layout: prefix, scale, width, then the integers (value × 10^scale) as
   * little-endian byte planes. Only canonical text fits (no leading zeros, the same number of
   * decimals everywhere), so formatting the integer gives back the bytes. False if it does not fit.
   */
  private decSection(w: ByteWriter): boolean {
    const b = this.blob.buf;
    const lens = this.lenArr;
    const n = this.count;
    let p = 0;
    const len0 = lens[0]!;
    while (p < len0 && (b[p]! < 48 || b[p]! > 57)) p++;
    if (p === len0) return false;
    // The scale: digits after a '.' in the first value.
    let scale = 0;
    for (let j = p; j < len0; j++)
      if (b[j] === 0x2e) {
        scale = len0 - j - 1;
        break;
      }
    const vals = this.vals.length >= n ? this.vals : (this.vals = new Float64Array(n * 2));
    let max = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const e = at + lens[i]!;
      let q = at;
      for (let j = 0; j < p; j++) if (b[q++] !== b[j]) return false;
      if (q >= e) return false;
      const first = b[q]!;
      if (first < 48 || first > 57) return false;
      let v = 0;
      let digits = 0;
      while (q < e && b[q]! >= 48 && b[q]! <= 57) {
        v = v * 10 + (b[q++]! - 48);
        digits++;
      }
      if (first === 48 && digits > 1) return false;
      if (scale > 0) {
        if (q >= e || b[q] !== 0x2e) return false;
        q++;
        for (let k = 0; k < scale; k++) {
          const c = b[q++];
          if (c === undefined || q > e || c < 48 || c > 57) return false;
          v = v * 10 + (c - 48);
        }
        digits += scale;
      }
      if (q !== e || digits > 15) return false;
      vals[i] = v;
      if (v > max) max = v;
      at = e + 1;
    }
    let width = 1;
    while (max >= 2 ** (8 * width)) width++;
    w.uvarint(p);
    w.bytes(b.subarray(0, p));
    w.u8(scale);
    w.u8(width);
    writeBytePlanes(w, vals, n, width);
    return true;
  }

  private vals = new Float64Array(0);

  /**
   * Adds the token hashes of the values to `set` and returns the bitmap of the bytes occurring in
   * them, in one pass.
   */
  finish(set: HashSet): Uint32Array {
    const seen = this.seen;
    const add = (h: number): void => set.add(h);
    const buf = this.blob.buf;
    if (this.isDict) {
      for (let d = 0; d < this.dN; d++) {
        const s = this.dStart[d]!;
        const e = s + this.dLen[d]!;
        for (let i = s; i < e; i++) seen[buf[i]!] = 1;
      }
      let ascii = true;
      for (let c = 128; c < 256; c++) if (seen[c]) ascii = false;
      for (let d = 0; d < this.dN; d++) {
        const s = this.dStart[d]!;
        if (ascii) tokenHashesAscii(buf, s, s + this.dLen[d]!, set, seen);
        else forEachTokenHash(buf.toString('utf8', s, s + this.dLen[d]!), add);
      }
    } else {
      const upTo = this.tokFrom < 0 ? this.blob.length : this.tokFrom;
      let ascii = tokenHashesAscii(buf, 0, upTo, set, seen);
      for (let c = 128; c < 256; c++) if (seen[c]) ascii = false;
      if (!ascii) forEachTokenHash(buf.toString('utf8', 0, this.blob.length), add);
    }
    const bm = new Uint32Array(8);
    for (let c = 0; c < 256; c++) if (seen[c]) bm[c >>> 5]! |= 1 << (c & 31);
    return bm;
  }
}

/** Bytes every value shares at its start, or -1 when the values are not all `len` bytes long. */
function sharedPrefix(b: Uint8Array, lens: Int32Array, n: number, len: number): number {
  let p = len;
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (lens[i] !== len) return -1;
    let j = 0;
    while (j < p && b[at + j] === b[j]) j++;
    p = j;
    at += len + 1;
  }
  return p;
}

/**
 * Packs `n` values of `len` bytes (`p` prefix bytes, then hex digits) from the '\n'-joined `b`
 * into `out` at `o`; returns the end, or -1 at a byte that is not a lowercase hex digit. (Its own
 * function, so the optimiser's feedback for this loop is not shared with the prefix scan.)
 */
function hexPack(b: Uint8Array, n: number, p: number, len: number, bytes: number, out: Uint8Array, o: number): number {
  let at = 0;
  for (let i = 0; i < n; i++) {
    let q = at + p;
    for (let k = 0; k < bytes; k++) {
      const hi = HEX_VAL[b[q]!]!;
      const lo = HEX_VAL[b[q + 1]!]!;
      if ((hi | lo) < 0) return -1;
      out[o++] = (hi << 4) | lo;
      q += 2;
    }
    at += len + 1;
  }
  return o;
}

/**
 * Writes `n` non-negative integers of `width` bytes as byte planes: all lowest bytes first, then
 * the next ones, so similar values leave long runs for the compressor.
 */
export function writeBytePlanes(w: ByteWriter, values: ArrayLike<number>, n: number, width: number): void {
  w.reserve(n * width);
  const out = w.buf;
  const o = w.length;
  for (let i = 0; i < n; i++) {
    let v = values[i]!;
    for (let k = 0; k < width; k++) {
      const byte = v % 256;
      out[o + k * n + i] = byte;
      v = (v - byte) / 256;
    }
  }
  w.length = o + n * width;
}
