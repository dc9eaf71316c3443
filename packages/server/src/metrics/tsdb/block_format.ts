/**
 * What block files share between the writer, the reader and `vigil tsdb verify`: the index magics,
 * `meta.json` with its checksum and checks, and crash-safe directory removal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Labels } from '../../core/model/labels.js';
import { crashPoint } from '../../core/util/crashpoint.js';
import { crc32c } from '../../core/util/crc32c.js';

/** Index layout 3: chunk entries without a checksum (still read, never written). */
export const INDEX_MAGIC_V3 = Buffer.from('VIGILIX3');
/** Index layout 4: every chunk entry carries the CRC-32C of the chunk's bytes (still read, never written). */
export const INDEX_MAGIC_V4 = Buffer.from('VIGILIX4');
/** Index layout 5: as 4, and the chunks file starts with {@link CHUNKS_HEADER}. */
export const INDEX_MAGIC_V5 = Buffer.from('VIGILIX5');
/**
 * The first bytes of a layout-5 chunks file: a magic number, the chunk format version and padding to
 * 8 bytes (as Prometheus' chunk segment files start). Chunk offsets in the index count from the
 * file's start, so the first chunk is at offset 8.
 */
export const CHUNKS_HEADER = Buffer.from([0x56, 0x43, 0x48, 0x4b, 0x01, 0x00, 0x00, 0x00]); // "VCHK", version 1

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
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A ULID: 48 bits of milliseconds and 80 random bits, so block names sort by creation time. */
export function newUlid(now = Date.now()): string {
  let t = Math.max(0, Math.floor(now));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (const b of randomBytes(16)) rand += CROCKFORD[b % 32];
  return time + rand;
}

/** True for a directory name that is a block (not a temporary, quarantined or dying one). */
export function isBlockName(name: string): boolean {
  return ULID.test(name);
}

function metaSum(meta: BlockMeta): string {
  return crc32c(Buffer.from(JSON.stringify(meta)))
    .toString(16)
    .padStart(8, '0');
}

/**
 * `meta.json` text with a CRC-32C over the rest of its content: a flipped digit in a time bound
 * still parses as JSON and would silently move the block, so the content is checksummed too.
 */
export function metaJson(meta: BlockMeta): string {
  return JSON.stringify({ ...meta, checksum: metaSum(meta) }, null, 2);
}

/**
 * Parses and checks `meta.json` of the block in directory `dirName`; throws with the reason. Metas
 * written before checksums existed are accepted on their structural checks alone.
 */
export function parseMeta(text: string, dirName: string): BlockMeta {
  const raw = JSON.parse(text) as BlockMeta & { checksum?: unknown };
  if (typeof raw !== 'object' || raw === null) throw new Error('meta.json is not an object');
  const { checksum, ...meta } = raw;
  if (checksum !== undefined && checksum !== metaSum(meta)) throw new Error('meta.json checksum mismatch');
  if (meta.ulid !== dirName) throw new Error(`meta.json names block ${JSON.stringify(meta.ulid)}, not its directory ${dirName}`);
  if (meta.version !== 1) throw new Error(`unknown meta.json version ${String(meta.version)}`);
  if (!Number.isSafeInteger(meta.minTime) || !Number.isSafeInteger(meta.maxTime) || meta.maxTime < meta.minTime)
    throw new Error('meta.json has invalid time bounds');
  const c = meta.compaction as Partial<BlockMeta['compaction']> | undefined;
  if (!c || !Number.isSafeInteger(c.level) || !Array.isArray(c.sources)) throw new Error('meta.json has an invalid compaction section');
  if (!meta.stats || typeof meta.stats !== 'object') throw new Error('meta.json has no stats');
  return meta;
}

/** Makes a rename or removal in `dir` durable (a directory's entries live in the directory). */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** As {@link fsyncDir}, through the thread pool (a directory fsync can wait on the disk). */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Suffix of a block being deleted: renamed first, so a kill mid-removal never leaves half a block. */
export const DELETING_SUFFIX = '.deleting';

/**
 * Deletes a block directory: renamed aside in one atomic step (the block is gone from the next
 * start's point of view), then removed. A leftover `.deleting` directory is removed at start.
 */
export function removeBlockDir(dir: string): void {
  const aside = dir + DELETING_SUFFIX;
  fs.renameSync(dir, aside);
  crashPoint('removeBlock.renamed');
  fs.rmSync(aside, { recursive: true, force: true });
}

/** As {@link removeBlockDir}, with the removal of the files (which can take long) in the thread pool. */
export async function removeBlockDirAsync(dir: string): Promise<void> {
  const aside = dir + DELETING_SUFFIX;
  fs.renameSync(dir, aside);
  crashPoint('removeBlock.renamed');
  await fs.promises.rm(aside, { recursive: true, force: true });
}

/** Moves a damaged block aside as `<ulid>.corrupt` (numbered if that exists); returns the new path. */
export function quarantineBlockDir(dir: string): string {
  let target = `${dir}.corrupt`;
  for (let i = 1; fs.existsSync(target); i++) target = `${dir}.corrupt.${i}`;
  fs.renameSync(dir, target);
  return target;
}

/** The ULID of a block directory. */
export function blockName(dir: string): string {
  return path.basename(dir);
}
