/**
 * Columnar chunk layout for JSON log lines. A line that is a flat-or-nested JSON object is split,
 * as text, into its *shape* (the literal text between top-level values: braces, keys, colons,
 * commas, whitespace) and its top-level values' raw text (string contents without their quotes,
 * numbers, literals, nested objects and arrays as written). Lines of one shape share columns, one
 * per value slot; every other line goes to the "plain" shape (no literals, the whole line as its
 * one value). Reconstruction concatenates literals and raw values, so it is byte-exact whatever the
 * JSON looks like (escapes, unicode, duplicate keys, 1.50 vs 1.5, whitespace).
 *
 *   u8 0x40|codec | uvarint headerRawLen | uvarint headerCompLen | header | column sections
 *   header: uvarint n | u8 2, i64 first t, u8 width w, w byte planes of the n-1 t deltas (or
 *           u8 1, n i64 when the chunk spans 2^53 ns or more) | metadata (as the row layout)
 *           | uvarint shapes, per shape: uvarint slots k, k+1 literals (uvarint len, bytes),
 *             k uvarint column ids | (if shapes > 1) n uvarint shape ids
 *           | uvarint columns, per column: u8 kind, uvarint count, uvarint rawLen, uvarint
 *             compLen, 32 bytes: bitmap of the bytes occurring in its values | n uvarint line
 *           lengths
 *   column (raw kind):  count uvarint lengths | the values joined by '\n'
 *   column (dict kind): uvarint d | d × (uvarint len, bytes) | count u8 value ids
 *   column (hex kind):  uvarint prefix len, prefix | uvarint b | count × b bytes (the hex digits)
 *   column (decimal kind): uvarint prefix len, prefix | u8 scale | u8 width | width byte planes of
 *                       count bytes (value × 10^scale, little-endian)
 *
 * Each section is compressed on its own (or stored as is when that is no bigger: compLen =
 * rawLen), so a reader decompresses only the columns it needs. A
 * substring needle without the bytes that border a shape's values (`"` `:` `,` `}` for compact
 * JSON) cannot cross a value boundary, so it is searched in each column's values (once per
 * distinct value of a dictionary column; not at all in a column whose byte bitmap lacks one of the
 * needle's bytes) and in the shape's literals; lines are rebuilt only for the matches. Other
 * needles rebuild the shape's lines and search them.
 */
import type { Labels } from '../../core/model/labels.js';
import { ByteReader, ByteWriter } from '../../core/util/bytes.js';
import { Bloom, forEachTokenHash } from './bloom.js';
import { compressBody, decompressBody, CODEC_ID, type Codec } from './codec.js';
import { readMetas, writeMetas } from './metas.js';
import type { LogEntry } from '../storage/types.js';

/** First-byte flag of a columnar chunk (the low bits hold the codec id). */
export const COLUMNAR_FLAG = 0x40;
/** Most top-level values per line for the columnar layout. */
const MAX_SLOTS = 64;
/** Most shapes per chunk; lines of further shapes use the plain shape. */
const MAX_SHAPES = 64;
/** Most distinct values of a dictionary column. */
const MAX_DICT = 256;
const DICT_SLOTS = 1024;
const KIND_RAW = 0;
const KIND_DICT = 1;
/** Canonical decimals with a shared prefix and scale (`u-123`, `4.50`): binary integers. */
const KIND_DEC = 2;
/** Fixed-length lowercase hex with a shared prefix (`req-9f86d081884c`): binary bytes. */
const KIND_HEX = 3;
const HEX_VAL = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_VAL[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_VAL[97 + c] = 10 + c;
const HEX_DIGITS = Buffer.from('0123456789abcdef');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The end of a bare value (a number, true, false or null) starting at `i`; -1 when it is malformed or empty. */
function bareEnd(b: Uint8Array, i: number, end: number): number {
  const s = i;
  while (i < end) {
    const d = b[i]!;
    if (d === 0x2c || d === 0x7d || isWs(d)) break;
    if (d === 0x22 || d === 0x7b || d === 0x5b || d === 0x5d || d === 0x3a || d < 0x20) return -1;
    i++;
  }
  return i === s ? -1 : i;
}

/** Index after the closing quote of a JSON string whose contents start at `i`, or -1. */
function skipString(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    if (STRING_SPECIAL[b[i]!] === 0) {
      i++;
      continue;
    }
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c === 0x5c) i += 2;
    else return -1;
  }
  return -1;
}

/** Bytes that end or escape a JSON string, or may not appear in one. */
const STRING_SPECIAL = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_SPECIAL[c] = 1;
STRING_SPECIAL[0x22] = 1;
STRING_SPECIAL[0x5c] = 1;
/** Token bytes: ASCII letters and digits. */
const ALNUM = new Uint8Array(256);
for (let c = 0; c < 256; c++) ALNUM[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0;

/** Index after the object or array starting at `i`, or -1. */
function skipNested(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === 0x22) {
      i = skipString(b, i + 1, end);
      if (i < 0) return -1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/**
 * Splits the JSON object in `b[a, end)` into top-level value ranges (`vs[j]`, `ve[j]`): string
 * contents, scalars, nested objects and arrays. Returns the number of values, or -1 when the line
 * is not a JSON object this splitter handles (the line then uses the plain layout).
 */
export function splitJsonObject(b: Uint8Array, a: number, end: number, vs: Int32Array, ve: Int32Array): number {
  let i = a;
  while (i < end && isWs(b[i]!)) i++;
  if (i >= end || b[i] !== 0x7b) return -1;
  i++;
  while (i < end && isWs(b[i]!)) i++;
  if (i < end && b[i] === 0x7d) {
    i++;
    while (i < end && isWs(b[i]!)) i++;
    return i === end ? 0 : -1;
  }
  let k = 0;
  for (;;) {
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end || b[i] !== 0x22) return -1;
    i = skipString(b, i + 1, end);
    if (i < 0) return -1;
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end || b[i] !== 0x3a) return -1;
    i++;
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end || k === MAX_SLOTS) return -1;
    const c = b[i]!;
    if (c === 0x22) {
      const e = skipString(b, i + 1, end);
      if (e < 0) return -1;
      vs[k] = i + 1;
      ve[k] = e - 1;
      i = e;
    } else if (c === 0x7b || c === 0x5b) {
      const e = skipNested(b, i, end);
      if (e < 0) return -1;
      vs[k] = i;
      ve[k] = e;
      i = e;
    } else {
      const e = bareEnd(b, i, end);
      if (e < 0) return -1;
      vs[k] = i;
      ve[k] = e;
      i = e;
    }
    k++;
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end) return -1;
    if (b[i] === 0x2c) {
      i++;
      continue;
    }
    if (b[i] !== 0x7d) return -1;
    i++;
    while (i < end && isWs(b[i]!)) i++;
    return i === end ? k : -1;
  }
}

/**
 * Splits a line along a known shape's literals (`lits`, k+1 of them); returns k, or -1 when the
 * line does not have that shape. Faster than {@link splitJsonObject}: literal bytes are compared,
 * not parsed. Any split that matches every literal rebuilds the line exactly.
 */
function splitAlong(lits: readonly Buffer[], words: readonly Int32Array[], dv: DataView, b: Uint8Array, a: number, end: number, vs: Int32Array, ve: Int32Array): number {
  const k = lits.length - 1;
  let p = a;
  for (let j = 0; ; j++) {
    const lit = lits[j]!;
    const len = lit.length;
    if (p + len > end) return -1;
    // Four bytes at a time, then the rest.
    const w = words[j]!;
    const nw = w.length;
    for (let x = 0; x < nw; x++) if (dv.getInt32(p + 4 * x, true) !== w[x]) return -1;
    for (let x = nw * 4; x < len; x++) if (b[p + x] !== lit[x]) return -1;
    p += len;
    if (j === k) return p === end ? k : -1;
    if (len > 0 && lit[len - 1] === 0x22) {
      const e = skipString(b, p, end);
      if (e < 0) return -1;
      vs[j] = p;
      ve[j] = e - 1;
      p = e - 1;
      continue;
    }
    if (p >= end) return -1;
    const c = b[p]!;
    if (c === 0x7b || c === 0x5b) {
      const e = skipNested(b, p, end);
      if (e < 0) return -1;
      vs[j] = p;
      ve[j] = e;
      p = e;
      continue;
    }
    const e = bareEnd(b, p, end);
    if (e < 0) return -1;
    vs[j] = p;
    ve[j] = e;
    p = e;
  }
}

/** A column being built: values (lengths + '\n'-joined bytes) and, while few, a dictionary. */
class ColumnBuilder {
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

/** An open-addressing set of 32-bit hashes. */
export class HashSet {
  private table = new Int32Array(1 << 12);
  private mask = (1 << 12) - 1;
  /** 32 - log2(table size): the multiplicative hash's top bits index the table. */
  private shift = 20;
  private hasZero = false;
  size = 0;

  /** Empties the set, keeping its memory. */
  clear(): void {
    this.table.fill(0);
    this.hasZero = false;
    this.size = 0;
  }

  add(h: number): void {
    h |= 0;
    if (h === 0) {
      if (!this.hasZero) {
        this.hasZero = true;
        this.size++;
      }
      return;
    }
    let i = Math.imul(h, 0x9e3779b1) >>> this.shift;
    const t = this.table;
    for (;;) {
      const x = t[i]!;
      if (x === h) return;
      if (x === 0) break;
      i = (i + 1) & this.mask;
    }
    t[i] = h;
    if (++this.size * 2 > t.length) this.grow();
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = this.table.length - 1;
    this.shift--;
    this.size = this.hasZero ? 1 : 0;
    for (const h of old) if (h !== 0) this.add(h);
  }

  /** Adds every hash to `bloom`. */
  addTo(bloom: Bloom): void {
    if (this.hasZero) bloom.add(0);
    const t = this.table;
    for (let i = 0; i < t.length; i++) if (t[i] !== 0) bloom.add(t[i]! >>> 0);
  }
}

/**
 * Token hashes of ASCII bytes, equal to {@link forEachTokenHash} over the same text; marks the
 * bytes seen. Returns false (tokens incomplete) when a non-ASCII byte occurs.
 */
function tokenHashesAscii(b: Uint8Array, s: number, e: number, set: HashSet, seen: Uint8Array): boolean {
  let h = 0x811c9dc5;
  let len = 0;
  let ascii = true;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    seen[c] = 1;
    if (ALNUM[c] === 1) {
      h = Math.imul(h ^ c, 0x01000193);
      len++;
    } else {
      if (c >= 128) ascii = false;
      if (len >= 2) set.add(h);
      h = 0x811c9dc5;
      len = 0;
    }
  }
  if (len >= 2) set.add(h);
  return ascii;
}

interface ShapeBuilder {
  readonly hash: number;
  readonly lits: Buffer[];
  /** Each literal's bytes as little-endian 32-bit words (the tail that does not fill one is left out). */
  readonly words: Int32Array[];
  readonly cols: ColumnBuilder[];
}

function wordsOf(lit: Buffer): Int32Array {
  const w = new Int32Array(lit.length >>> 2);
  for (let i = 0; i < w.length; i++) w[i] = lit.readInt32LE(4 * i);
  return w;
}

/** Lines to encode: line i is `buf[offs[i], offs[i + 1])` with timestamp `ts[i]`. */
export interface LineBatch {
  readonly n: number;
  readonly ts: ArrayLike<bigint>;
  readonly buf: Buffer;
  readonly offs: Int32Array;
  /** The order to store them in (time order), when not 0..n-1. */
  readonly order?: Int32Array | undefined;
  readonly metas?: ArrayLike<Labels | undefined> | undefined;
}

/** A sealed chunk: its bytes, the line bytes it holds and its token bloom filter. */
export interface EncodedChunk {
  readonly data: Buffer;
  readonly rawBytes: number;
  readonly bloom: Bloom;
}

/** Encodes heads into columnar chunks; keeps its scratch buffers between chunks. */
export class ColumnarEncoder {
  private lineBuf = Buffer.allocUnsafe(1 << 21);
  private readonly vs = new Int32Array(MAX_SLOTS);
  private readonly ve = new Int32Array(MAX_SLOTS);
  private readonly hw = new ByteWriter(1 << 16);
  private readonly sw = new ByteWriter(1 << 16);
  private readonly tokens = new HashSet();
  /** Column builders reused from chunk to chunk. */
  private readonly pool: ColumnBuilder[] = [];

  /**
   * Encodes lines given as strings, in time order (compaction, tests). See {@link encode}.
   */
  encodeLines(ts: ArrayLike<bigint>, lines: readonly string[], metas: readonly (Labels | undefined)[], codec: Codec, level: number): EncodedChunk {
    const n = lines.length;
    let cap = 0;
    for (let i = 0; i < n; i++) cap += lines[i]!.length * 3;
    if (this.lineBuf.length < cap) this.lineBuf = Buffer.allocUnsafe(Math.max(cap, this.lineBuf.length * 2));
    const offs = new Int32Array(n + 1);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      pos += this.lineBuf.write(lines[i]!, pos);
      offs[i + 1] = pos;
    }
    return this.encode({ n, ts, buf: this.lineBuf, offs, metas }, codec, level);
  }

  /**
   * Encodes a batch of lines into a chunk, visiting them in `order` (time order). The bloom
   * filter holds the tokens of every line (as {@link forEachTokenHash} finds them).
   */
  encode(batch: LineBatch, codec: Codec, level: number): EncodedChunk {
    const { n, buf, offs, order } = batch;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const { vs, ve } = this;
    const tokens = this.tokens;
    tokens.clear();
    let pooled = 0;
    const builder = (): ColumnBuilder => {
      let b = this.pool[pooled];
      if (b) b.reset(tokens);
      else this.pool.push((b = new ColumnBuilder(tokens)));
      pooled++;
      return b;
    };
    const shapes: ShapeBuilder[] = [];
    const byHash = new Map<number, ShapeBuilder[]>();
    let plain: ShapeBuilder | undefined;
    let plainId = -1;
    const shapeOf = new Uint8Array(n);
    const lineLens = new Int32Array(n);
    let last: ShapeBuilder | undefined;
    let lastId = -1;
    let pos = 0;
    for (let li = 0; li < n; li++) {
      const src = order ? order[li]! : li;
      const a = offs[src]!;
      const b = offs[src + 1]!;
      pos += b - a;
      lineLens[li] = b - a;
      let sh: ShapeBuilder | undefined;
      let sid = -1;
      if (last && splitAlong(last.lits, last.words, dv, buf, a, b, vs, ve) >= 0) {
        sh = last;
        sid = lastId;
        const cols = sh.cols;
        for (let j = 0; j < cols.length; j++) cols[j]!.append(buf, vs[j]!, ve[j]!);
        shapeOf[li] = sid;
        continue;
      }
      const k = splitJsonObject(buf, a, b, vs, ve);
      if (k >= 0) {
        // Hash the literals (and their lengths) without making strings.
        let h = 0x811c9dc5;
        for (let j = 0; j <= k; j++) {
          const s = j === 0 ? a : ve[j - 1]!;
          const e = j === k ? b : vs[j]!;
          for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
          h = Math.imul(h ^ (e - s) ^ 0x100, 0x01000193);
        }
        const cands = byHash.get(h);
        if (cands)
          for (const c of cands) {
            if (c.cols.length !== k) continue;
            let eq = true;
            for (let j = 0; j <= k && eq; j++) {
              const s = j === 0 ? a : ve[j - 1]!;
              const e = j === k ? b : vs[j]!;
              const lit = c.lits[j]!;
              if (lit.length !== e - s) eq = false;
              else
                for (let i = 0; i < lit.length; i++)
                  if (lit[i] !== buf[s + i]) {
                    eq = false;
                    break;
                  }
            }
            if (eq) {
              sh = c;
              break;
            }
          }
        if (!sh && shapes.length < MAX_SHAPES - 1) {
          const lits: Buffer[] = [];
          for (let j = 0; j <= k; j++) lits.push(Buffer.from(buf.subarray(j === 0 ? a : ve[j - 1]!, j === k ? b : vs[j]!)));
          const cols: ColumnBuilder[] = [];
          for (let j = 0; j < k; j++) cols.push(builder());
          sh = { hash: h, lits, words: lits.map(wordsOf), cols };
          shapes.push(sh);
          if (cands) cands.push(sh);
          else byHash.set(h, [sh]);
        }
        if (sh) {
          sid = shapes.indexOf(sh);
          for (let j = 0; j < k; j++) sh.cols[j]!.append(buf, vs[j]!, ve[j]!);
          last = sh;
          lastId = sid;
        }
      }
      if (!sh) {
        if (!plain) {
          plain = { hash: 0, lits: [Buffer.alloc(0), Buffer.alloc(0)], words: [], cols: [builder()] };
          plainId = shapes.length;
          shapes.push(plain);
        }
        sid = plainId;
        plain.cols[0]!.append(buf, a, b);
      }
      shapeOf[li] = sid;
    }
    const rawBytes = pos + Math.max(0, n - 1);

    // Header.
    const w = this.hw;
    w.reset();
    w.uvarint(n);
    const ts = order ? Array.from(order, (i) => batch.ts[i]!) : batch.ts;
    const metas = batch.metas ? (order ? Array.from(order, (i) => batch.metas![i]) : batch.metas) : [];
    // Deltas from the first timestamp when the chunk spans less than 2^53 ns, else every one whole.
    const exact = n === 0 || ts[n - 1]! - ts[0]! < TWO53N;
    w.u8(exact ? 2 : 1);
    if (exact) {
      // Deltas as little-endian byte planes: fixed width decodes without branches and the
      // planes of regular deltas compress to almost nothing.
      w.reserve(9);
      w.buf.writeBigInt64LE(n ? ts[0]! : 0n, w.length);
      w.length += 8;
      const deltas = new Float64Array(Math.max(0, n - 1));
      let max = 0;
      if (batch.ts instanceof BigInt64Array && LITTLE_ENDIAN) {
        // From the 32-bit halves: no BigInt made per line (exact, as the span is below 2^53).
        // t = hi * 2^32 + lo with a signed high word and an unsigned low word.
        const lo32 = new Uint32Array(batch.ts.buffer, batch.ts.byteOffset, batch.ts.length * 2);
        const hi32 = new Int32Array(batch.ts.buffer, batch.ts.byteOffset, batch.ts.length * 2);
        let prev = order ? order[0]! : 0;
        for (let i = 1; i < n; i++) {
          const cur = order ? order[i]! : i;
          const d = (hi32[2 * cur + 1]! - hi32[2 * prev + 1]!) * 4294967296 + (lo32[2 * cur]! - lo32[2 * prev]!);
          deltas[i - 1] = d;
          if (d > max) max = d;
          prev = cur;
        }
      } else
        for (let i = 1; i < n; i++) {
          const d = Number(ts[i]! - ts[i - 1]!);
          deltas[i - 1] = d;
          if (d > max) max = d;
        }
      let width = 1;
      while (max >= 2 ** (8 * width)) width++;
      w.u8(width);
      writeBytePlanes(w, deltas, deltas.length, width);
    } else
      for (let i = 0; i < n; i++) {
        w.reserve(8);
        w.buf.writeBigInt64LE(ts[i]!, w.length);
        w.length += 8;
      }
    writeMetas(w, metas);
    w.uvarint(shapes.length);
    const allCols: ColumnBuilder[] = [];
    for (const sh of shapes) {
      w.uvarint(sh.cols.length);
      for (const lit of sh.lits) {
        w.uvarint(lit.length);
        w.bytes(lit);
      }
      for (const c of sh.cols) {
        w.uvarint(allCols.length);
        allCols.push(c);
      }
    }
    if (shapes.length > 1) for (let i = 0; i < n; i++) w.uvarint(shapeOf[i]!);
    w.uvarint(allCols.length);
    const sections: Buffer[] = [];
    for (const c of allCols) {
      const raw = c.section(this.sw);
      let comp = compressBody(raw, codec, level);
      // Incompressible (binary ids, numbers): stored as is, and read without decompressing.
      if (comp.length >= raw.length) comp = Buffer.from(raw);
      sections.push(comp);
      w.u8(c.kind);
      w.uvarint(c.count);
      w.uvarint(raw.length);
      w.uvarint(comp.length);
      for (const x of c.finish(tokens)) w.u32(x);
    }
    for (let i = 0; i < n; i++) w.uvarint(lineLens[i]!);
    for (const sh of shapes) for (const lit of sh.lits) if (lit.length) forEachTokenHash(lit.toString('utf8'), (h) => tokens.add(h));
    const header = compressBody(w.view(), codec, level);
    const pre = new ByteWriter(32);
    pre.u8(COLUMNAR_FLAG | CODEC_ID[codec]);
    pre.uvarint(w.length);
    pre.uvarint(header.length);
    const data = Buffer.concat([pre.view(), header, ...sections]);
    const bloom = Bloom.forCount(tokens.size);
    tokens.addTo(bloom);
    return { data, rawBytes, bloom };
  }
}

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

const TWO53 = 2 ** 53;
const TWO53N = 1n << 53n;

/**
 * Offsets from a non-negative first timestamp are kept as they are; before the epoch, where the
 * fast paths assume non-negative times, the absolute timestamps are kept instead.
 */
function offsetsOrAbsolute(t0: bigint, off: Float64Array): { off: Float64Array | undefined; big: BigInt64Array | undefined } {
  if (t0 >= 0n) return { off, big: undefined };
  const big = new BigInt64Array(off.length);
  for (let i = 0; i < off.length; i++) big[i] = t0 + BigInt(off[i]!);
  return { off: undefined, big };
}

/** Timestamps of a chunk as offsets from the first (exact when the chunk spans < 2^53 ns). */
export class TimeColumn {
  private readonly t0: bigint;
  private readonly off: Float64Array | undefined;
  private readonly big: BigInt64Array | undefined;
  private readonly q0: number;
  private readonly r0: number;

  constructor(r: ByteReader, n: number) {
    const mode = r.u8();
    if (mode === 2) {
      const t0 = r.buf.readBigInt64LE(r.pos);
      r.pos += 8;
      const width = r.u8();
      const m = Math.max(0, n - 1);
      const b = r.bytes(width * m);
      const off = new Float64Array(n);
      let x = 0;
      if (width <= 4) {
        for (let i = 0; i < m; i++) {
          let d = b[i]!;
          if (width > 1) d |= b[m + i]! << 8;
          if (width > 2) d |= b[2 * m + i]! << 16;
          if (width > 3) d += b[3 * m + i]! * 16777216;
          x += d;
          off[i + 1] = x;
        }
      } else
        for (let i = 0; i < m; i++) {
          let d = 0;
          for (let k = width - 1; k >= 0; k--) d = d * 256 + b[k * m + i]!;
          x += d;
          off[i + 1] = x;
        }
      this.t0 = t0;
      ({ off: this.off, big: this.big } = offsetsOrAbsolute(t0, off));
    } else if (mode === 1) {
      const big = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        big[i] = r.buf.readBigInt64LE(r.pos);
        r.pos += 8;
      }
      this.t0 = big[0] ?? 0n;
      this.off = undefined;
      this.big = big;
    } else {
      const t0 = r.buf.readBigInt64LE(r.pos);
      r.pos += 8;
      this.t0 = t0;
      const off = new Float64Array(n);
      // Varints decoded inline (this runs for every chunk a query opens).
      const b = r.buf;
      let p = r.pos;
      const end = r.end;
      let x = 0;
      for (let i = 1; i < n; i++) {
        let v = 0;
        let mul = 1;
        for (;;) {
          if (p >= end) throw new RangeError('unexpected end of record');
          const c = b[p++]!;
          v += (c & 0x7f) * mul;
          if (c < 0x80) break;
          mul *= 128;
        }
        x += v;
        off[i] = x;
      }
      r.pos = p;
      ({ off: this.off, big: this.big } = offsetsOrAbsolute(t0, off));
    }
    this.q0 = Number(this.t0 / 1000n);
    this.r0 = Number(this.t0 % 1000n);
  }

  t(i: number): bigint {
    return this.off ? this.t0 + BigInt(this.off[i]!) : this.big![i]!;
  }

  timeMs(i: number): number {
    if (!this.off) return Number(this.big![i]! / 1000n) / 1000;
    return (this.q0 + Math.floor((this.r0 + this.off[i]!) / 1000)) / 1000;
  }

  /** Appends {@link timeMs} of lines `idx` (or lo..hi-1) to `out`. */
  pushTimesMs(idx: Int32Array | undefined, lo: number, hi: number, out: number[]): void {
    const off = this.off;
    if (!off) {
      if (idx) for (let j = 0; j < idx.length; j++) out.push(this.timeMs(idx[j]!));
      else for (let i = lo; i < hi; i++) out.push(this.timeMs(i));
      return;
    }
    const q0 = this.q0;
    const r0 = this.r0;
    if (idx) for (let j = 0; j < idx.length; j++) out.push((q0 + Math.floor((r0 + off[idx[j]!]!) / 1000)) / 1000);
    else for (let i = lo; i < hi; i++) out.push((q0 + Math.floor((r0 + off[i]!) / 1000)) / 1000);
  }

  lowerBound(t: bigint): number {
    const off = this.off;
    const n = off ? off.length : this.big!.length;
    let lo = 0;
    let hi = n;
    if (off) {
      const d = t - this.t0;
      if (d <= 0n) return 0;
      if (d >= BigInt(TWO53)) return n;
      const x = Number(d);
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (off[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    const big = this.big!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (big[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}


/**
 * Writes `n` non-negative integers of `width` bytes as byte planes: all lowest bytes first, then
 * the next ones, so similar values leave long runs for the compressor.
 */
function writeBytePlanes(w: ByteWriter, values: ArrayLike<number>, n: number, width: number): void {
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
