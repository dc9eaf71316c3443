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
import { CHUNKS_HEADER, fsyncDir, INDEX_MAGIC_V5, metaJson, newUlid, type BlockMeta, type BlockSeries } from './block_format.js';
import { PostingsIndex } from './postings.js';

function writeFileDurably(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a block under `parent`; returns its meta. On any failure (a full disk, a bad series order)
 * the temporary directory is removed and the error rethrown: the caller still holds the data.
 */
export function writeBlock(
  parent: string,
  series: Iterable<BlockSeries>,
  range: { minTime: number; maxTime: number },
  compaction: { level: number; sources?: string[] },
  now = Date.now(),
): BlockMeta {
  const ulid = newUlid(now);
  const tmp = path.join(parent, `${ulid}.tmp`);
  try {
    fs.mkdirSync(tmp, { recursive: true });
    const meta = writeBlockFiles(tmp, ulid, series, range, compaction);
    crashPoint('writeBlock.beforeRename');
    fs.renameSync(tmp, path.join(parent, ulid));
    fsyncDir(parent);
    crashPoint('writeBlock.afterRename');
    return meta;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function writeBlockFiles(
  tmp: string,
  ulid: string,
  series: Iterable<BlockSeries>,
  range: { minTime: number; maxTime: number },
  compaction: { level: number; sources?: string[] },
): BlockMeta {
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
  let offset = CHUNKS_HEADER.length;
  let numSeries = 0;
  let numChunks = 0;
  let numSamples = 0;
  let prev: Labels | undefined;
  const pending: Buffer[] = [CHUNKS_HEADER];
  let pendingBytes = CHUNKS_HEADER.length;
  const flushChunks = (): void => {
    if (pendingBytes === 0) return;
    const buf = Buffer.concat(pending, pendingBytes);
    let off = 0;
    while (off < buf.length) off += fs.writeSync(chunksFd, buf, off, buf.length - off);
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
        // The checksum sits in the index, which has its own CRC: a flip in the chunks file is then
        // caught on read, and a flip in the index is caught when the block opens.
        body.u32(crc32c(c.bytes));
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
  crashPoint('writeBlock.chunksWritten');

  const idx = new ByteWriter(body.length + 1024);
  idx.bytes(INDEX_MAGIC_V5);
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
  writeFileDurably(path.join(tmp, 'index'), idx.view());
  crashPoint('writeBlock.indexWritten');
  const meta: BlockMeta = {
    ulid,
    minTime: range.minTime,
    maxTime: range.maxTime,
    stats: { numSamples, numSeries, numChunks },
    compaction: { level: compaction.level, sources: compaction.sources ?? [ulid] },
    version: 1,
  };
  writeFileDurably(path.join(tmp, 'meta.json'), metaJson(meta));
  return meta;
}
