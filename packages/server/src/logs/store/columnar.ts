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
 *
 * This module writes the layout ({@link ColumnarEncoder}); its parts have their own: splitting
 * lines into shape and values (jsonshape.ts), building one column (columnencoders.ts), the time
 * column (timecolumn.ts), token hashes for the bloom filter (linetokens.ts), the constants both
 * sides share (columnformat.ts) and the reader (columnarchunk.ts).
 */
import type { Labels } from '../../core/model/labels.js';
import { ByteWriter } from '../../core/util/bytes.js';
import { Bloom, forEachTokenHash } from '../../core/util/bloom.js';
import { compressBody, CODEC_ID, type Codec } from './codec.js';
import { COLUMNAR_FLAG } from './columnformat.js';
import { ColumnBuilder, writeBytePlanes } from './columnencoders.js';
import { MAX_SLOTS, splitAlong, splitJsonObject, wordsOf } from './jsonshape.js';
import { HashSet } from './linetokens.js';
import { writeMetas } from './metas.js';
import { TWO53N } from './timecolumn.js';

// The layout's parts live in their own modules; these are the names the rest of the store uses.
export { COLUMNAR_FLAG } from './columnformat.js';
export { ColumnarChunk, type ChunkView } from './columnarchunk.js';
export { splitJsonObject } from './jsonshape.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Most shapes per chunk; lines of further shapes use the plain shape. */
const MAX_SHAPES = 64;

interface ShapeBuilder {
  readonly hash: number;
  readonly lits: Buffer[];
  /** Each literal's bytes as little-endian 32-bit words (the tail that does not fill one is left out). */
  readonly words: Int32Array[];
  readonly cols: ColumnBuilder[];
}

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
