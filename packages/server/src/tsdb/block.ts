/**
 * Immutable on-disk blocks: one directory per time range holding `meta.json`, a `chunks` file of
 * concatenated XOR chunks and an `index` file (symbol table, series with their chunk references,
 * postings per label pair, and a CRC-32). Blocks are written to a temporary directory and renamed
 * into place, so a crash never leaves half a block.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { compareLabels, type Label, type Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import { StorageError } from '../storage/errors.js';
import type { Querier, SelectHints, SeriesSet } from '../storage/interface.js';
import { ByteReader, ByteWriter } from '../util/bytes.js';
import { crc32 } from '../util/crc32.js';
import { ArraySeriesSet, ChunkSeries, type ChunkMeta } from './chunk_series.js';
import { blockChunkIterator, blockChunkSampleCount } from './chunkenc/blockchunk.js';
import { sortLimit } from './head.js';
import { PostingsIndex } from './postings.js';

const INDEX_MAGIC = Buffer.from('VIGILIX3');

/** The contents of `meta.json`. */
export interface BlockMeta {
  ulid: string;
  /** Inclusive lower and exclusive upper time bound, in ms. */
  minTime: number;
  maxTime: number;
  stats: { numSamples: number; numSeries: number; numChunks: number };
  compaction: { level: number; sources: string[] };
  version: 1;
}

/** A chunk to write: its bounds, sample count and bytes in block encoding (see chunkenc/blockchunk). */
export interface ChunkData {
  mint: number;
  maxt: number;
  count: number;
  bytes: Uint8Array;
}

/** One series to write; series must be given sorted by labels. */
export interface BlockSeries {
  labels: Labels;
  chunks: ChunkData[];
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48 bits of milliseconds and 80 random bits, so block names sort by creation time. */
export function newUlid(now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (const b of randomBytes(16)) rand += CROCKFORD[b % 32];
  return time + rand;
}

/** Writes a block under `parent`; returns its meta. */
export function writeBlock(
  parent: string,
  series: Iterable<BlockSeries>,
  range: { minTime: number; maxTime: number },
  compaction: { level: number; sources?: string[] },
  now = Date.now(),
): BlockMeta {
  const ulid = newUlid(now);
  const tmp = path.join(parent, `${ulid}.tmp`);
  fs.mkdirSync(tmp, { recursive: true });
  const chunksFd = fs.openSync(path.join(tmp, 'chunks'), 'w');
  const symbols = new Map<string, number>();
  const symbolList: string[] = [];
  const sym = (s: string): number => {
    let id = symbols.get(s);
    if (id === undefined) {
      id = symbolList.length;
      symbols.set(s, id);
      symbolList.push(s);
    }
    return id;
  };
  const body = new ByteWriter(1 << 16);
  const postings = new PostingsIndex();
  let offset = 0;
  let numSeries = 0;
  let numChunks = 0;
  let numSamples = 0;
  let prev: Labels | undefined;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const flushChunks = (): void => {
    if (pendingBytes === 0) return;
    fs.writeSync(chunksFd, Buffer.concat(pending, pendingBytes));
    pending.length = 0;
    pendingBytes = 0;
  };
  try {
    for (const s of series) {
      if (s.chunks.length === 0) continue;
      if (prev && compareLabels(prev, s.labels) >= 0) throw new Error('block series must be written in label order');
      prev = s.labels;
      const id = numSeries++;
      postings.add(id, s.labels);
      body.uvarint(s.labels.length);
      for (const l of s.labels) {
        body.uvarint(sym(l.name));
        body.uvarint(sym(l.value));
      }
      body.uvarint(s.chunks.length);
      // Chunk bounds as deltas: from the previous chunk's end, and from the chunk's own start.
      let prevMaxt = range.minTime;
      for (const c of s.chunks) {
        body.svarint(c.mint - prevMaxt);
        body.uvarint(c.maxt - c.mint);
        prevMaxt = c.maxt;
        body.uvarint(offset);
        body.uvarint(c.bytes.length);
        pending.push(Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.length));
        pendingBytes += c.bytes.length;
        offset += c.bytes.length;
        numChunks++;
        numSamples += c.count;
      }
      if (pendingBytes > 1 << 20) flushChunks();
    }
    flushChunks();
    fs.fsyncSync(chunksFd);
  } finally {
    fs.closeSync(chunksFd);
  }

  const idx = new ByteWriter(body.length + 1024);
  idx.bytes(INDEX_MAGIC);
  idx.uvarint(symbolList.length);
  for (const s of symbolList) idx.str(s);
  idx.uvarint(numSeries);
  idx.bytes(body.view());
  const pairs: Array<[number, number, number[]]> = [];
  for (const [name, values] of postings.entries()) for (const [value, ids] of values) pairs.push([sym(name), sym(value), ids]);
  idx.uvarint(pairs.length);
  for (const [n, v, ids] of pairs) {
    idx.uvarint(n);
    idx.uvarint(v);
    idx.uvarint(ids.length);
    let last = 0;
    for (const id of ids) {
      idx.uvarint(id - last);
      last = id;
    }
  }
  idx.u32(crc32(idx.view()));
  fs.writeFileSync(path.join(tmp, 'index'), idx.view());
  const meta: BlockMeta = {
    ulid,
    minTime: range.minTime,
    maxTime: range.maxTime,
    stats: { numSamples, numSeries, numChunks },
    compaction: { level: compaction.level, sources: compaction.sources ?? [ulid] },
    version: 1,
  };
  fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
  fs.renameSync(tmp, path.join(parent, ulid));
  return meta;
}

interface StoredChunk {
  mint: number;
  maxt: number;
  offset: number;
  length: number;
}

/** An opened block: the index in memory, chunks read from disk on demand. */
export class Block {
  readonly dir: string;
  readonly meta: BlockMeta;
  private readonly labels: Labels[] = [];
  private readonly chunks: StoredChunk[][] = [];
  private readonly postings = new PostingsIndex();
  private fd: number;
  /** Bytes the block takes on disk. */
  readonly sizeBytes: number;

  /** Opens the block in `dir`; throws a StorageError('corruption') if its files do not check out. */
  constructor(dir: string) {
    this.dir = dir;
    try {
      this.meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as BlockMeta;
      const buf = fs.readFileSync(path.join(dir, 'index'));
      if (buf.length < INDEX_MAGIC.length + 4 || !buf.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) throw new Error('bad index magic');
      if (crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) throw new Error('index checksum mismatch');
      this.load(new ByteReader(buf, INDEX_MAGIC.length, buf.length - 4));
      this.fd = fs.openSync(path.join(dir, 'chunks'), 'r');
      this.sizeBytes = ['meta.json', 'index', 'chunks'].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    } catch (err) {
      throw new StorageError('corruption', `block ${dir}: ${(err as Error).message}`);
    }
  }

  private load(r: ByteReader): void {
    const symbols: string[] = [];
    const nsym = r.uvarint();
    for (let i = 0; i < nsym; i++) symbols.push(r.str());
    const s = (): string => {
      const v = symbols[r.uvarint()];
      if (v === undefined) throw new Error('symbol out of range');
      return v;
    };
    const nseries = r.uvarint();
    for (let i = 0; i < nseries; i++) {
      const nl = r.uvarint();
      const ls: Label[] = [];
      for (let j = 0; j < nl; j++) ls.push({ name: s(), value: s() });
      const nc = r.uvarint();
      const cs: StoredChunk[] = [];
      let prevMaxt = this.meta.minTime;
      for (let j = 0; j < nc; j++) {
        const mint = prevMaxt + r.svarint();
        const maxt = mint + r.uvarint();
        cs.push({ mint, maxt, offset: r.uvarint(), length: r.uvarint() });
        prevMaxt = maxt;
      }
      this.labels.push(ls);
      this.chunks.push(cs);
    }
    const npairs = r.uvarint();
    for (let i = 0; i < npairs; i++) {
      const name = s();
      const value = s();
      const n = r.uvarint();
      let id = 0;
      for (let j = 0; j < n; j++) {
        id += r.uvarint();
        this.postings.addPair(name, value, id);
      }
    }
    this.postings.all = Array.from({ length: nseries }, (_, i) => i);
  }

  get minTime(): number {
    return this.meta.minTime;
  }

  get maxTime(): number {
    return this.meta.maxTime;
  }

  /** Reads one chunk's bytes. */
  readChunk(c: StoredChunk): Uint8Array {
    const buf = Buffer.allocUnsafe(c.length);
    const n = fs.readSync(this.fd, buf, 0, c.length, c.offset);
    if (n !== c.length) throw new StorageError('corruption', `block ${this.dir}: short read of chunk at ${c.offset}`);
    return buf;
  }

  /** Every series with its chunks, in label order (for compaction). */
  *allSeries(): IterableIterator<BlockSeries> {
    for (let i = 0; i < this.labels.length; i++) {
      yield {
        labels: this.labels[i]!,
        chunks: this.chunks[i]!.map((c) => {
          const bytes = this.readChunk(c);
          return { mint: c.mint, maxt: c.maxt, count: blockChunkSampleCount(bytes), bytes };
        }),
      };
    }
  }

  querier(mint: number, maxt: number): Querier {
    return new BlockQuerier(this, mint, maxt);
  }

  /** Series ids matching `matchers` that have chunks overlapping [mint, maxt]. */
  matching(matchers: readonly Matcher[], mint: number, maxt: number): number[] {
    if (this.maxTime <= mint || this.minTime > maxt) return [];
    return this.postings.select(matchers).filter((id) => this.chunks[id]!.some((c) => c.maxt >= mint && c.mint <= maxt));
  }

  seriesLabels(id: number): Labels {
    return this.labels[id]!;
  }

  chunkMetas(id: number, mint: number, maxt: number): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    for (const c of this.chunks[id]!) {
      if (c.maxt < mint || c.mint > maxt) continue;
      out.push({ mint: c.mint, maxt: c.maxt, iterator: () => blockChunkIterator(this.readChunk(c)) });
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

class BlockQuerier implements Querier {
  constructor(
    private readonly block: Block,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  select(hints: SelectHints, matchers: readonly Matcher[]): SeriesSet {
    const mint = Math.max(this.mint, hints.start);
    const maxt = Math.min(this.maxt, hints.end);
    const b = this.block;
    // Ids follow label order, so the result is sorted already.
    let ids = b.matching(matchers, mint, maxt);
    if (hints.limit && ids.length > hints.limit) ids = ids.slice(0, hints.limit);
    return new ArraySeriesSet(ids.map((id) => new ChunkSeries(b.seriesLabels(id), b.chunkMetas(id, mint, maxt), mint, maxt)));
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

  close(): void {}
}
