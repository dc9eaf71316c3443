/**
 * Opened blocks: one directory per time range holding `meta.json`, a `chunks` file of concatenated
 * block chunks and an `index` (see block_writer.ts). The index is held in memory; chunks are read
 * from disk on demand and checked against their CRC-32C on every read, so a damaged chunk is
 * reported by name and skipped instead of being decoded into garbage or failing the whole query.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatLabels, type Label, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { StorageError } from '../../core/errors.js';
import { sortLimitPaced, type Querier, type SampleIterator, type SelectHints, type SeriesSet } from '../storage/interface.js';
import { ByteReader } from '../../core/util/bytes.js';
import { crc32 } from '../../core/util/crc32.js';
import { crc32c } from '../../core/util/crc32c.js';
import { ArraySeriesSet, ChunkSeries, EMPTY_ITERATOR, type ChunkMeta } from './chunk_series.js';
import { BlockChunkEncoding, blockChunkIterator, blockChunkSampleCount } from './chunkenc/blockchunk.js';
import type { DecodedChunk, DecodedChunkCache } from './decoded_chunks.js';
import { CHUNKS_HEADER, INDEX_MAGIC_V3, INDEX_MAGIC_V4, INDEX_MAGIC_V5, parseMeta, type BlockMeta, type BlockSeries } from './block_format.js';
import { sortLimit } from './head.js';
import { selectPostings, type PostingsList } from './postings.js';
import { BlockPostingsDirectory, BlockSymbols } from './block_postings.js';
import { runSliced, runSync, type Pacer, type TimeSlicer, type Work } from '../../core/util/pace.js';

export { newUlid, type BlockMeta, type BlockSeries, type ChunkData } from './block_format.js';
export { writeBlock } from './block_writer.js';

/** The index bytes read ahead by {@link Block.open}, and the decoding steps it then runs in slices. */
interface DeferredLoad {
  index: Buffer;
  steps?: Generator<void, void>;
}

/** Checks the index's CRC in 1 MiB pieces, pausing between them, then runs `load`. */
function* checkThenLoad(buf: Buffer, load: Generator<void, void>): Generator<void, void> {
  const end = buf.length - 4;
  let crc = 0;
  for (let at = 0; at < end; at += 1 << 20) {
    crc = crc32(buf.subarray(at, Math.min(end, at + (1 << 20))), crc);
    yield;
  }
  if (crc !== buf.readUInt32LE(end)) throw new Error('index checksum mismatch');
  yield* load;
}

function corruptBlock(dir: string, err: unknown): StorageError {
  return new StorageError('corruption', `block ${path.basename(dir)}: ${(err as Error).message}`);
}

/** Where a chunk lives in the `chunks` file, with its checksum (undefined in layout-3 blocks). */
export interface StoredChunk {
  mint: number;
  maxt: number;
  offset: number;
  length: number;
  crc: number | undefined;
}

/** Options for {@link Block}. */
export interface BlockOptions {
  /** Where queries keep the decoded samples of float chunks (default: nowhere). */
  decodedChunks?: DecodedChunkCache;
  /** Told once about each chunk found damaged (for the corrupt-chunk counter). */
  onCorruptChunk?: (message: string) => void;
}

/**
 * An opened block: the index in memory, chunks read from disk on demand.
 *
 * The index stays in memory as the file's bytes, with a few flat arrays into it, rather than as
 * objects: per series the offset of its entry and its time bounds, per label pair the offset of its
 * postings list. Labels, chunk references and postings are decoded when a query asks for them. A
 * block of a million series as label arrays, chunk objects and postings arrays was millions of
 * small objects that lived for the block's whole life, and every major garbage collection had to
 * mark them all while the thread that acknowledges writes waited.
 */
export class Block {
  readonly dir: string;
  readonly meta: BlockMeta;
  /** Index layout: 3 (no chunk checksums) or 4. */
  readonly version: 3 | 4 | 5;
  /** The index file's bytes (outside the V8 heap); the offsets below point into it. */
  private index: Buffer = Buffer.alloc(0);
  /** Where the index's checksummed content ends. */
  private indexEnd = 0;
  private symbols = new BlockSymbols(Buffer.alloc(0), new Float64Array(0), new Uint32Array(0));
  /** Per series id: the offset of its entry (label count, labels, chunk count, chunks). */
  private seriesAt = new Float64Array(0);
  /** Per series id: the earliest chunk start and the latest chunk end, to skip series without decoding them. */
  private seriesMint = new Float64Array(0);
  private seriesMaxt = new Float64Array(0);
  /** Label name → value → offset of the pair's postings list (its length, then id deltas). */
  private postings = new BlockPostingsDirectory(this.symbols, 0);
  private fd: number;
  /** Open queriers; a paced query may still read chunks after compaction or retention drops the block. */
  private readers = 0;
  /** close() was called while queriers were open: the last of them closes the file. */
  private closing = false;
  private readonly onCorruptChunk: ((message: string) => void) | undefined;
  /** Damaged chunks found so far, by series id and chunk offset, with what was wrong. */
  private readonly corrupt = new Map<number, Map<number, string>>();
  /** Bytes the block takes on disk. */
  readonly sizeBytes: number;
  private readonly decodedChunks: DecodedChunkCache | undefined;
  /** The decoded-chunk cache's entries for this block's chunks, by chunk offset. */
  private readonly decoded = new Map<unknown, DecodedChunk>();

  /** Opens the block in `dir`; throws a StorageError('corruption') if its files do not check out. */
  constructor(dir: string, opts: BlockOptions = {}, deferred?: DeferredLoad) {
    this.dir = dir;
    this.onCorruptChunk = opts.onCorruptChunk;
    this.decodedChunks = opts.decodedChunks?.enabled ? opts.decodedChunks : undefined;
    this.fd = -1;
    try {
      this.meta = parseMeta(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'), path.basename(dir));
      const buf = deferred?.index ?? fs.readFileSync(path.join(dir, 'index'));
      const magic = buf.subarray(0, INDEX_MAGIC_V4.length);
      if (buf.length < INDEX_MAGIC_V4.length + 4) throw new Error('index too short');
      if (magic.equals(INDEX_MAGIC_V5)) this.version = 5;
      else if (magic.equals(INDEX_MAGIC_V4)) this.version = 4;
      else if (magic.equals(INDEX_MAGIC_V3)) this.version = 3;
      else throw new Error('bad index magic');
      // Checked in pieces by the deferred steps: over a large index it is tens of ms of CPU.
      if (!deferred && crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) throw new Error('index checksum mismatch');
      const chunksSize = fs.statSync(path.join(dir, 'chunks')).size;
      this.fd = fs.openSync(path.join(dir, 'chunks'), 'r');
      if (this.version >= 5) this.checkChunksHeader();
      this.sizeBytes = ['meta.json', 'index', 'chunks'].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
      this.index = buf;
      this.indexEnd = buf.length - 4;
      const steps = this.load(new ByteReader(buf, INDEX_MAGIC_V4.length, this.indexEnd), chunksSize);
      if (deferred) deferred.steps = checkThenLoad(buf, steps);
      else runSync(steps);
    } catch (err) {
      this.close();
      throw corruptBlock(dir, err);
    }
  }

  /**
   * Opens a block without holding the event loop for long: the index is read through the thread
   * pool and decoded in slices. For blocks a running server has just written or merged.
   */
  static async open(dir: string, opts: BlockOptions, slicer: TimeSlicer): Promise<Block> {
    let index: Buffer;
    try {
      index = await fs.promises.readFile(path.join(dir, 'index'));
    } catch (err) {
      throw corruptBlock(dir, err);
    }
    const deferred: DeferredLoad = { index };
    const block = new Block(dir, opts, deferred);
    try {
      await runSliced(deferred.steps!, slicer);
    } catch (err) {
      block.close();
      throw corruptBlock(dir, err);
    }
    return block;
  }

  /** A layout-5 chunks file must start with the magic and a chunk format version this code reads. */
  private checkChunksHeader(): void {
    const head = Buffer.alloc(CHUNKS_HEADER.length);
    fs.readSync(this.fd, head, 0, head.length, 0);
    if (!head.subarray(0, 4).equals(CHUNKS_HEADER.subarray(0, 4))) throw new Error('chunks file: bad magic');
    if (head[4] !== CHUNKS_HEADER[4]) throw new Error(`chunks file: unknown chunk format version ${head[4]}`);
  }

  /**
   * Reads through the index once, checking it and noting where each series and postings list
   * starts; a generator that pauses every 1024 series or postings lists.
   */
  private *load(r: ByteReader, chunksSize: number): Generator<void, void> {
    const nsym = r.uvarint();
    // A symbol takes at least one byte: a count larger than the index is damage, not a size to allocate.
    if (nsym > r.end - r.pos) throw new Error(`index claims ${nsym} symbols`);
    const symbols = new BlockSymbols(this.index, new Float64Array(nsym), new Uint32Array(nsym));
    for (let i = 0; i < nsym; i++) {
      const len = r.uvarint();
      const at = r.pos;
      if (at + len > r.end) throw new Error('symbol runs past the end of the index');
      r.pos = at + len;
      symbols.set(i, at, len);
      if ((i & 4095) === 4095) yield;
    }
    this.symbols = symbols;
    const symbol = (): number => {
      const v = r.uvarint();
      if (v >= nsym) throw new Error('symbol out of range');
      return v;
    };
    const nseries = r.uvarint();
    // An entry takes at least two bytes: a count larger than the index is damage, not a size to allocate.
    if (nseries > r.end - r.pos) throw new Error(`index claims ${nseries} series`);
    this.seriesAt = new Float64Array(nseries);
    this.seriesMint = new Float64Array(nseries);
    this.seriesMaxt = new Float64Array(nseries);
    const withCrc = this.version >= 4;
    for (let i = 0; i < nseries; i++) {
      this.seriesAt[i] = r.pos;
      const nl = r.uvarint();
      for (let j = 0; j < 2 * nl; j++) if (r.uvarint() >= nsym) throw new Error('symbol out of range');
      const nc = r.uvarint();
      let prevMaxt = this.meta.minTime;
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < nc; j++) {
        const mint = prevMaxt + r.svarint();
        const maxt = mint + r.uvarint();
        const offset = r.uvarint();
        const length = r.uvarint();
        if (withCrc) r.u32();
        // The index checksum vouches for these numbers; a short chunks file does not match them.
        if (offset + length > chunksSize) throw new Error(`chunk at ${offset} (+${length}) lies past the end of the chunks file (${chunksSize} bytes)`);
        if (mint < lo) lo = mint;
        if (maxt > hi) hi = maxt;
        prevMaxt = maxt;
      }
      this.seriesMint[i] = lo;
      this.seriesMaxt[i] = hi;
      if ((i & 1023) === 1023) yield;
    }
    const npairs = r.uvarint();
    // A pair takes at least three bytes (name, value, list length).
    if (npairs > r.end - r.pos) throw new Error(`index claims ${npairs} label pairs`);
    const postings = new BlockPostingsDirectory(symbols, npairs);
    for (let i = 0; i < npairs; i++) {
      const name = symbol();
      const value = symbol();
      postings.add(name, value, r.pos);
      const n = r.uvarint();
      let id = 0;
      for (let j = 0; j < n; j++) {
        id += r.uvarint();
        if (id >= nseries) throw new Error(`postings of ${symbols.at(name)}=${JSON.stringify(symbols.at(value))} name series ${id} of ${nseries}`);
        if ((j & 0xffff) === 0xffff) yield;
      }
      if ((i & 1023) === 1023) yield;
    }
    yield* postings.finish();
    this.postings = postings;
  }

  /** The postings list at `at` in the index. */
  private postingsAt(at: number): PostingsList {
    const r = new ByteReader(this.index, at, this.indexEnd);
    const n = r.uvarint();
    const ids = new Array<number>(n);
    let id = 0;
    for (let j = 0; j < n; j++) ids[j] = id += r.uvarint();
    return ids;
  }

  /** Every series id, in order (what a selection without a narrowing matcher starts from). */
  private allIds(): PostingsList {
    return Array.from({ length: this.seriesAt.length }, (_, i) => i);
  }

  /** A reader positioned after the labels of series `id`, at its chunk count. */
  private chunksReader(id: number): ByteReader {
    const r = new ByteReader(this.index, this.seriesAt[id]!, this.indexEnd);
    const nl = r.uvarint();
    for (let j = 0; j < 2 * nl; j++) r.uvarint();
    return r;
  }

  /** The chunk references of series `id`. */
  storedChunks(id: number): StoredChunk[] {
    const r = this.chunksReader(id);
    const withCrc = this.version >= 4;
    const nc = r.uvarint();
    const cs = new Array<StoredChunk>(nc);
    let prevMaxt = this.meta.minTime;
    for (let j = 0; j < nc; j++) {
      const mint = prevMaxt + r.svarint();
      const maxt = mint + r.uvarint();
      const offset = r.uvarint();
      const length = r.uvarint();
      const crc = withCrc ? r.u32() : undefined;
      cs[j] = { mint, maxt, offset, length, crc };
      prevMaxt = maxt;
    }
    return cs;
  }

  /** True if series `id` has a chunk overlapping [mint, maxt]. */
  private hasChunkIn(id: number, mint: number, maxt: number): boolean {
    const lo = this.seriesMint[id]!;
    const hi = this.seriesMaxt[id]!;
    if (hi < mint || lo > maxt) return false;
    // Inside the series' bounds: only a gap between chunks can still miss, so decode to be sure.
    if (lo >= mint && hi <= maxt) return true;
    return this.storedChunks(id).some((c) => c.maxt >= mint && c.mint <= maxt);
  }

  get minTime(): number {
    return this.meta.minTime;
  }

  get maxTime(): number {
    return this.meta.maxTime;
  }

  /** The block's name. */
  get ulid(): string {
    return this.meta.ulid;
  }

  /** Number of series in the block. */
  get numSeries(): number {
    return this.seriesAt.length;
  }

  /** True once a damaged chunk has been found; such a block is no longer merged (its data would be lost). */
  get damaged(): boolean {
    return this.corrupt.size > 0;
  }

  /** Names a chunk for a report: block, series and offset. */
  describeChunk(id: number, c: StoredChunk): string {
    return `block ${this.meta.ulid}, series ${formatLabels(this.seriesLabels(id))}, chunk at offset ${c.offset}`;
  }

  /**
   * Reads one chunk's bytes of series `id` and checks its CRC-32C; throws a StorageError
   * ('corruption') naming the block, series and offset.
   */
  readChunk(id: number, c: StoredChunk): Uint8Array {
    const buf = Buffer.allocUnsafe(c.length);
    const n = c.length === 0 ? 0 : fs.readSync(this.fd, buf, 0, c.length, c.offset);
    if (n !== c.length) throw new StorageError('corruption', `corrupt chunk: ${this.describeChunk(id, c)}: short read`);
    if (c.crc !== undefined && crc32c(buf) !== c.crc) throw new StorageError('corruption', `corrupt chunk: ${this.describeChunk(id, c)}: checksum mismatch`);
    return buf;
  }

  /** The damaged chunks found so far: series id, chunk offset, what was wrong. */
  damageList(): Array<{ id: number; offset: number; message: string }> {
    const out: Array<{ id: number; offset: number; message: string }> = [];
    for (const [id, bySeries] of this.corrupt) for (const [offset, message] of bySeries) out.push({ id, offset, message });
    return out;
  }

  /** Records damage that another reader of this block's files found (a merge on the block worker). */
  noteDamage(id: number, offset: number, message: string): void {
    this.noteCorrupt(id, { mint: 0, maxt: 0, offset, length: 0, crc: undefined }, new StorageError('corruption', message));
  }

  /** Records a damaged chunk once (logged by the caller's hook and counted); returns the message. */
  private noteCorrupt(id: number, c: StoredChunk, err: unknown): string {
    const e = err as Error;
    const msg = e instanceof StorageError ? e.message : `corrupt chunk: ${this.describeChunk(id, c)}: ${e.message}`;
    let bySeries = this.corrupt.get(id);
    if (!bySeries) this.corrupt.set(id, (bySeries = new Map()));
    if (!bySeries.has(c.offset)) {
      bySeries.set(c.offset, msg);
      this.onCorruptChunk?.(msg);
    }
    return msg;
  }

  /**
   * Every series with its chunks, in label order (for compaction). A damaged chunk throws: merging
   * must not turn a readable-in-part block into a smaller one that silently lacks data.
   */
  *allSeries(): IterableIterator<BlockSeries> {
    for (let i = 0; i < this.seriesAt.length; i++) {
      yield {
        labels: this.seriesLabels(i),
        chunks: this.storedChunks(i).map((c) => {
          let bytes: Uint8Array;
          try {
            bytes = this.readChunk(i, c);
          } catch (err) {
            this.noteCorrupt(i, c, err);
            throw err;
          }
          return { mint: c.mint, maxt: c.maxt, count: blockChunkSampleCount(bytes), bytes };
        }),
      };
    }
  }

  /**
   * Checks every chunk (checksum, and that it decodes to its stated sample count within its time
   * bounds) without touching the damage record; calls `problem` for each bad one. Returns the
   * number of chunks checked.
   */
  verifyChunks(problem: (message: string) => void): number {
    let n = 0;
    for (let i = 0; i < this.seriesAt.length; i++) {
      for (const c of this.storedChunks(i)) {
        n++;
        try {
          const bytes = this.readChunk(i, c);
          const want = blockChunkSampleCount(bytes);
          const it = blockChunkIterator(bytes);
          let got = 0;
          while (it.next()) {
            if (it.t() < c.mint || it.t() > c.maxt) throw new Error(`sample at ${it.t()} outside the chunk's bounds`);
            got++;
          }
          if (got !== want) throw new Error(`decoded ${got} samples, header says ${want}`);
        } catch (err) {
          const e = err as Error;
          problem(e instanceof StorageError ? e.message : `corrupt chunk: ${this.describeChunk(i, c)}: ${e.message}`);
        }
      }
    }
    return n;
  }

  querier(mint: number, maxt: number): Querier {
    this.readers++;
    return new BlockQuerier(this, mint, maxt, () => this.release());
  }

  /** Series ids matching `matchers` that have chunks overlapping [mint, maxt]. */
  matching(matchers: readonly Matcher[], mint: number, maxt: number): number[] {
    if (this.maxTime <= mint || this.minTime > maxt) return [];
    const ids = selectPostings(
      matchers,
      this.postings,
      (at) => this.postingsAt(at),
      () => this.allIds(),
    );
    return ids.filter((id) => this.hasChunkIn(id, mint, maxt));
  }

  /** {@link matching} in slices: the check of each series' chunks yields when the pacer is due. */
  *matchingPaced(matchers: readonly Matcher[], mint: number, maxt: number, pace: Pacer): Work<number[]> {
    if (this.maxTime <= mint || this.minTime > maxt) return [];
    const ids = selectPostings(
      matchers,
      this.postings,
      (at) => this.postingsAt(at),
      () => this.allIds(),
    );
    const out: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (this.hasChunkIn(ids[i]!, mint, maxt)) out.push(ids[i]!);
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
    }
    return out;
  }

  /** The labels of series `id`, decoded from the index. */
  seriesLabels(id: number): Labels {
    const r = new ByteReader(this.index, this.seriesAt[id]!, this.indexEnd);
    const nl = r.uvarint();
    const ls = new Array<Label>(nl);
    for (let j = 0; j < nl; j++) ls[j] = { name: this.symbols.at(r.uvarint()), value: this.symbols.at(r.uvarint()) };
    return ls;
  }

  /** Known damage in series `id` over [mint, maxt], so even a labels-only select can warn about it. */
  knownDamage(id: number, mint: number, maxt: number, out: string[]): void {
    const bySeries = this.corrupt.get(id);
    if (!bySeries) return;
    for (const c of this.storedChunks(id)) {
      const msg = c.maxt >= mint && c.mint <= maxt ? bySeries.get(c.offset) : undefined;
      if (msg !== undefined && !out.includes(msg)) out.push(msg);
    }
  }

  /**
   * The chunks of series `id` over [mint, maxt]. A chunk that fails its checksum or its decoding
   * yields no (further) samples and adds its message to `warnings`, so the query answers the rest.
   */
  chunkMetas(id: number, mint: number, maxt: number, warnings: string[]): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    for (const c of this.storedChunks(id)) {
      if (c.maxt < mint || c.mint > maxt) continue;
      const onError = (err: unknown): void => {
        const msg = this.noteCorrupt(id, c, err);
        if (!warnings.includes(msg)) warnings.push(msg);
      };
      out.push({
        mint: c.mint,
        maxt: c.maxt,
        iterator: (): SampleIterator => {
          const cache = this.decodedChunks;
          const hit = cache?.cached(this.decoded, c.offset);
          if (hit !== undefined) return hit;
          try {
            const bytes = this.readChunk(id, c);
            // A closing block's entries are being dropped: a reader that outlives close() adds none.
            const cached =
              cache !== undefined && !this.closing && bytes[0] !== BlockChunkEncoding.histogram
                ? cache.admit(this.decoded, c.offset, blockChunkIterator(bytes))
                : undefined;
            return cached ?? blockChunkIterator(bytes);
          } catch (err) {
            onError(err);
            return EMPTY_ITERATOR;
          }
        },
        onError,
      });
    }
    return out;
  }

  /**
   * Closes the chunk file, or, while queriers are open, leaves that to the last of them: queries
   * yield to the event loop between slices, and a merge or retention running meanwhile must not pull
   * the file (or its descriptor number, which the kernel reuses) from under them.
   */
  close(): void {
    this.closing = true;
    this.decodedChunks?.dropAll(this.decoded);
    if (this.readers === 0) this.closeFile();
  }

  private release(): void {
    this.readers--;
    if (this.closing && this.readers === 0) this.closeFile();
  }

  private closeFile(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

class BlockQuerier implements Querier {
  private closed = false;

  constructor(
    private readonly block: Block,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly release: () => void,
  ) {}

  select(hints: SelectHints, matchers: readonly Matcher[]): SeriesSet {
    const mint = Math.max(this.mint, hints.start);
    const maxt = Math.min(this.maxt, hints.end);
    const b = this.block;
    // Ids follow label order, so the result is sorted already.
    let ids = b.matching(matchers, mint, maxt);
    if (hints.limit && ids.length > hints.limit) ids = ids.slice(0, hints.limit);
    // Filled as damage is met while the series are read; the set hands out this same array.
    const warnings: string[] = [];
    if (b.damaged) for (const id of ids) b.knownDamage(id, mint, maxt, warnings);
    return new ArraySeriesSet(
      ids.map((id) => new ChunkSeries(b.seriesLabels(id), b.chunkMetas(id, mint, maxt, warnings), mint, maxt)),
      warnings,
    );
  }

  *selectPaced(hints: SelectHints, matchers: readonly Matcher[], pace: Pacer): Work<SeriesSet> {
    const mint = Math.max(this.mint, hints.start);
    const maxt = Math.min(this.maxt, hints.end);
    const b = this.block;
    let ids = yield* b.matchingPaced(matchers, mint, maxt, pace);
    if (hints.limit && ids.length > hints.limit) ids = ids.slice(0, hints.limit);
    const warnings: string[] = [];
    if (b.damaged) for (const id of ids) b.knownDamage(id, mint, maxt, warnings);
    const list = new Array<ChunkSeries>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      list[i] = new ChunkSeries(b.seriesLabels(id), b.chunkMetas(id, mint, maxt, warnings), mint, maxt);
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
    }
    return new ArraySeriesSet(list, warnings);
  }

  /** The distinct values of the labels `pick` chooses, over the matching series, in slices. */
  private *collectPaced(matchers: readonly Matcher[], pick: (l: Label) => string | undefined, pace: Pacer): Work<string[]> {
    const set = new Set<string>();
    const ids = yield* this.block.matchingPaced(matchers, this.mint, this.maxt, pace);
    for (let i = 0; i < ids.length; i++) {
      for (const l of this.block.seriesLabels(ids[i]!)) {
        const v = pick(l);
        if (v !== undefined) set.add(v);
      }
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
    }
    return [...set];
  }

  *labelValuesPaced(name: string, matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
    const values = yield* this.collectPaced(matchers, (l) => (l.name === name ? l.value : undefined), pace);
    return yield* sortLimitPaced(values, pace, limit);
  }

  *labelNamesPaced(matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
    const names = yield* this.collectPaced(matchers, (l) => l.name, pace);
    return sortLimit(names, limit);
  }

  labelValues(name: string, matchers: readonly Matcher[], limit?: number): string[] {
    const set = new Set<string>();
    for (const id of this.block.matching(matchers, this.mint, this.maxt)) {
      for (const l of this.block.seriesLabels(id)) if (l.name === name) set.add(l.value);
    }
    return sortLimit([...set], limit);
  }

  labelNames(matchers: readonly Matcher[], limit?: number): string[] {
    const set = new Set<string>();
    for (const id of this.block.matching(matchers, this.mint, this.maxt)) for (const l of this.block.seriesLabels(id)) set.add(l.name);
    return sortLimit([...set], limit);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }
}
