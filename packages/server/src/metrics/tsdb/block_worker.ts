/**
 * The worker-thread side of block writing (see block_worker_client.ts): sorts a head image's series
 * by labels, converts their chunks and writes the block, or merges source blocks into one. All of
 * it is CPU and garbage that would otherwise pause the thread that acknowledges writes; here it
 * pauses only this thread. The block writer is the same one tools use in-process.
 */
import { parentPort } from 'node:worker_threads';
import { compareLabels } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';
import { Block, type BlockMeta, type BlockSeries } from './block.js';
import { writeBlock, type BlockWriteStep } from './block_writer.js';
import { toBlockChunk } from './chunkenc/blockchunk.js';
import { imageChunks, imageSeries, type HeadImage } from './head_image.js';
import { lowerThreadPriority } from '../../core/util/thread_priority.js';

/**
 * The block writer's nice value. A flush is seconds of CPU: on a machine whose cores are busy, this
 * thread at the same priority took turns with the one that acknowledges writes, which then waited
 * for a core while the block was written. Lower, it yields to that thread; it still gets every
 * core nothing else wants.
 */
const BLOCK_WRITER_NICE = 10;

/** Where a merge met a damaged chunk: source block, series id, chunk offset. */
export interface ChunkDamage {
  source: number;
  id: number;
  offset: number;
  message: string;
}

interface JobBase {
  id: number;
  parent: string;
  range: { minTime: number; maxTime: number };
  compaction: { level: number; sources?: string[] };
  now: number;
  /** Report each step and wait for `go` (a test holds the write there). */
  relaySteps: boolean;
}

/** A message to the worker. */
export type BlockJob = (JobBase & { type: 'head'; image: HeadImage }) | (JobBase & { type: 'merge'; dirs: string[] }) | { type: 'go'; id: number };

/** A message from the worker. */
export type BlockJobReply =
  | { type: 'step'; id: number; step: BlockWriteStep }
  | { type: 'done'; id: number; meta: BlockMeta }
  | { type: 'error'; id: number; message: string; code: string | undefined; damage: ChunkDamage[] };

/** Merges the series of time-ordered blocks by labels, concatenating their chunks. */
export function* mergeSeries(blocks: Block[]): IterableIterator<BlockSeries> {
  const its = blocks.map((b) => b.allSeries());
  const heads = its.map((it) => it.next());
  for (;;) {
    let min: BlockSeries | undefined;
    for (const h of heads) if (!h.done && (!min || compareLabels(h.value.labels, min.labels) < 0)) min = h.value;
    if (!min) return;
    const labels = min.labels;
    const chunks: BlockSeries['chunks'] = [];
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && compareLabels(h.value.labels, labels) === 0) {
        chunks.push(...h.value.chunks);
        heads[i] = its[i]!.next();
      }
    }
    chunks.sort((a, b) => a.mint - b.mint);
    yield { labels, chunks };
  }
}

/** The series of a head image in label order, each chunk converted to a block chunk as it is read. */
function headSeries(img: HeadImage): Iterable<BlockSeries> {
  const all = [...imageSeries(img)];
  all.sort((a, b) => compareLabels(a.labels, b.labels));
  return (function* (): IterableIterator<BlockSeries> {
    for (let i = 0; i < all.length; i++) {
      const s = all[i]!;
      // Let the entry go once written: the list is the largest thing this thread holds.
      (all as unknown[])[i] = undefined;
      const chunks = imageChunks(img, s).map((c) => ({ mint: c.mint, maxt: c.maxt, count: c.count, bytes: c.xor ? toBlockChunk(c.bytes) : c.bytes }));
      // Float and histogram chunks of one series were listed kind by kind.
      chunks.sort((a, b) => a.mint - b.mint);
      yield { labels: s.labels, chunks };
    }
  })();
}

const waiting = new Map<number, () => void>();

async function run(job: Exclude<BlockJob, { type: 'go' }>): Promise<BlockJobReply> {
  const hold = job.relaySteps
    ? (step: BlockWriteStep): Promise<void> =>
        new Promise((resolve) => {
          waiting.set(job.id, resolve);
          parentPort!.postMessage({ type: 'step', id: job.id, step } satisfies BlockJobReply);
        })
    : undefined;
  const opts = hold ? { hold } : {};
  let blocks: Block[] = [];
  try {
    let meta: BlockMeta;
    if (job.type === 'head') {
      meta = await writeBlock(job.parent, headSeries(job.image), job.range, job.compaction, job.now, opts);
    } else {
      blocks = job.dirs.map((d) => new Block(d));
      meta = await writeBlock(job.parent, mergeSeries(blocks), job.range, job.compaction, job.now, opts);
    }
    return { type: 'done', id: job.id, meta };
  } catch (err) {
    const damage = blocks.flatMap((b, source) => b.damageList().map((d) => ({ source, ...d })));
    return { type: 'error', id: job.id, message: (err as Error).message, code: err instanceof StorageError ? err.code : undefined, damage };
  } finally {
    for (const b of blocks) b.close();
  }
}

// Only on a worker thread: imported on the main thread (parentPort null), this changes nothing.
if (parentPort) lowerThreadPriority(BLOCK_WRITER_NICE);
parentPort?.on('message', (m: BlockJob) => {
  if (m.type === 'go') {
    const resume = waiting.get(m.id);
    waiting.delete(m.id);
    resume?.();
    return;
  }
  void run(m).then((reply) => parentPort!.postMessage(reply));
});
