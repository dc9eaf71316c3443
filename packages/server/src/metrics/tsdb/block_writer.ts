/**
 * Writes a block: `chunks` (the block chunks back to back), `index` (symbols, series with their
 * chunk references and each chunk's CRC-32C, postings, and a CRC-32 over the index) and
 * `meta.json`. Everything goes to `<ulid>.tmp`, is fsynced, and is renamed into place in one step,
 * so a crash leaves either the whole block or a `.tmp` directory that the next start removes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareLabels, type Labels } from '../../core/model/labels.js';
import { ByteWriter } from '../../core/util/bytes.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { crc32 } from '../../core/util/crc32.js';
import { crc32c } from '../../core/util/crc32c.js';
import { NEVER_PAUSE, runSliced, type TimeSlicer } from '../../core/util/pace.js';
import { CHUNKS_HEADER, fsyncDirAsync, INDEX_MAGIC_V5, metaJson, newUlid, type BlockMeta, type BlockSeries } from './block_format.js';
import { PostingsBuilder } from './postings_builder.js';

/**
 * Writes and fsyncs a file through the thread pool: an index can be tens of MiB, and its write and
 * fsync would otherwise hold the event loop for as long as the disk takes.
 */
async function writeFileDurably(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await fs.promises.open(file, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Size of the buffer chunks are gathered in before a write. */
const STAGE_BYTES = 1 << 20;

/** Steps a test can hold a block write at (see {@link WriteBlockOptions.hold}). */
export type BlockWriteStep = 'writeBlock.chunksWritten' | 'writeBlock.beforeRename';

/** How a block write shares the event loop. */
export interface WriteBlockOptions {
  /** Gives the event loop a turn between series (default: never, for tools and tests). */
  slicer?: TimeSlicer;
  /** Awaited at each step, so a test can hold the write there deterministically. */
  hold?: (step: BlockWriteStep) => Promise<void> | void;
}

/**
 * Writes a block under `parent`; returns its meta. On any failure (a full disk, a bad series order)
 * the temporary directory is removed and the error rethrown: the caller still holds the data.
 */
export async function writeBlock(
  parent: string,
  series: Iterable<BlockSeries>,
  range: { minTime: number; maxTime: number },
  compaction: { level: number; sources?: string[] },
  now = Date.now(),
  opts: WriteBlockOptions = {},
): Promise<BlockMeta> {
  const ulid = newUlid(now);
  const tmp = path.join(parent, `${ulid}.tmp`);
  try {
    fs.mkdirSync(tmp, { recursive: true });
    const meta = await writeBlockFiles(tmp, ulid, series, range, compaction, opts.slicer ?? NEVER_PAUSE, opts.hold);
    crashPoint('writeBlock.beforeRename');
    await opts.hold?.('writeBlock.beforeRename');
    fs.renameSync(tmp, path.join(parent, ulid));
    await fsyncDirAsync(parent);
    crashPoint('writeBlock.afterRename');
    return meta;
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Writes the files into `tmp`. The encoding runs on the main thread in slices (the slicer is asked
 * after every series and every postings list); the writes and fsyncs go through the thread pool.
 */
async function writeBlockFiles(
  tmp: string,
  ulid: string,
  series: Iterable<BlockSeries>,
  range: { minTime: number; maxTime: number },
  compaction: { level: number; sources?: string[] },
  slicer: TimeSlicer,
  hold: WriteBlockOptions['hold'],
): Promise<BlockMeta> {
  const chunksFh = await fs.promises.open(path.join(tmp, 'chunks'), 'w');
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
  const postings = new PostingsBuilder();
  let offset = CHUNKS_HEADER.length;
  let numSeries = 0;
  let numChunks = 0;
  let numSamples = 0;
  let prev: Labels | undefined;
  // Chunks are copied into one staging buffer and written when it fills: no object per chunk
  // stays alive until the write (at a million series those would all outlive a scavenge).
  const stage = Buffer.allocUnsafe(STAGE_BYTES);
  stage.set(CHUNKS_HEADER);
  let staged = CHUNKS_HEADER.length;
  const writeAll = async (buf: Uint8Array): Promise<void> => {
    let off = 0;
    while (off < buf.length) off += (await chunksFh.write(buf, off, buf.length - off)).bytesWritten;
  };
  const flushChunks = async (): Promise<void> => {
    if (staged === 0) return;
    await writeAll(stage.subarray(0, staged));
    staged = 0;
  };
  try {
    for (const s of series) {
      if (s.chunks.length === 0) continue;
      if (prev && compareLabels(prev, s.labels) >= 0) throw new Error('block series must be written in label order');
      prev = s.labels;
      const id = numSeries++;
      body.uvarint(s.labels.length);
      for (const l of s.labels) {
        const n = sym(l.name);
        const v = sym(l.value);
        postings.add(n, v, id);
        body.uvarint(n);
        body.uvarint(v);
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
        // The checksum sits in the index, which has its own CRC: a flip in the chunks file is then
        // caught on read, and a flip in the index is caught when the block opens.
        body.u32(crc32c(c.bytes));
        if (staged + c.bytes.length > STAGE_BYTES) await flushChunks();
        if (c.bytes.length > STAGE_BYTES) await writeAll(c.bytes);
        else {
          stage.set(c.bytes, staged);
          staged += c.bytes.length;
        }
        offset += c.bytes.length;
        numChunks++;
        numSamples += c.count;
      }
      crashPoint('writeBlock.seriesWritten');
      if (slicer.due()) await slicer.tick();
    }
    await flushChunks();
    await chunksFh.sync();
  } finally {
    await chunksFh.close();
  }
  crashPoint('writeBlock.chunksWritten');
  await hold?.('writeBlock.chunksWritten');

  const idx = new ByteWriter(body.length + 1024);
  idx.bytes(INDEX_MAGIC_V5);
  idx.uvarint(symbolList.length);
  for (let i = 0; i < symbolList.length; i++) {
    idx.str(symbolList[i]!);
    if ((i & 1023) === 1023 && slicer.due()) await slicer.tick();
  }
  idx.uvarint(numSeries);
  idx.bytes(body.view());
  const p = await runSliced(postings.build(slicer), slicer);
  idx.uvarint(postings.pairs);
  for (let k = 0; k < postings.pairs; k++) {
    idx.uvarint(p.name[k]!);
    idx.uvarint(p.value[k]!);
    const end = p.start[k + 1]!;
    idx.uvarint(end - p.start[k]!);
    let last = 0;
    for (let i = p.start[k]!; i < end; i++) {
      idx.uvarint(p.ids[i]! - last);
      last = p.ids[i]!;
      // One value can be shared by every series (a job label): tick inside long lists too.
      if ((i & 0xffff) === 0xffff && slicer.due()) await slicer.tick();
    }
    if ((k & 255) === 255 && slicer.due()) await slicer.tick();
  }
  idx.u32(crc32(idx.view()));
  await writeFileDurably(path.join(tmp, 'index'), idx.view());
  crashPoint('writeBlock.indexWritten');
  const meta: BlockMeta = {
    ulid,
    minTime: range.minTime,
    maxTime: range.maxTime,
    stats: { numSamples, numSeries, numChunks },
    compaction: { level: compaction.level, sources: compaction.sources ?? [ulid] },
    version: 1,
  };
  await writeFileDurably(path.join(tmp, 'meta.json'), metaJson(meta));
  return meta;
}
