/**
 * Keeping the block set in shape: merging neighbouring small blocks (so a day of quiet traffic is
 * not hundreds of files), and dropping blocks past retention by time (every span ended before the
 * period) or by size (the oldest first, until the rest fit).
 */
import { crashPoint } from '../../core/util/crashpoint.js';
import type { Pacer } from '../../core/util/pace.js';
import type { Span } from '../storage/types.js';
import { Block, writeBlockSteps } from './block.js';
import { BlockSet } from './blockset.js';
import type { BackgroundWork } from '../../core/util/background.js';
import type { ResolvedTraceStoreOptions } from './options.js';

const MS = 1_000_000n;

/** Merges runs of small blocks adjacent in time; returns the next free block sequence. Yields when `pace` is due. */
export function* compactSteps(set: BlockSet, o: ResolvedTraceStoreOptions, nextSeq: number, pace: Pacer): BackgroundWork<number> {
  const small = set.blocks.filter((b) => b.index.spans < o.compactBelowSpans).sort((a, b) => (a.index.minStart < b.index.minStart ? -1 : 1));
  let group: Block[] = [];
  let spans = 0;
  for (const b of small) {
    const first = group[0];
    const window = first ? b.index.maxEnd - first.index.minStart : 0n;
    if (first && (spans + b.index.spans > o.blockMaxSpans || window > BigInt(o.compactWindowMs) * MS)) {
      if (group.length >= 2) nextSeq = yield* merge(set, group, o, nextSeq, pace);
      group = [];
      spans = 0;
    }
    group.push(b);
    spans += b.index.spans;
  }
  if (group.length >= 2) nextSeq = yield* merge(set, group, o, nextSeq, pace);
  return nextSeq;
}

function* merge(set: BlockSet, group: readonly Block[], o: ResolvedTraceStoreOptions, seq: number, pace: Pacer): BackgroundWork<number> {
  const spans: Span[] = [];
  for (const b of group)
    for (let pi = 0; pi < b.index.pages.length; pi++) {
      spans.push(...b.readPage(pi));
      if (pace.due()) yield;
    }
  const walThrough = Math.max(...group.map((b) => b.index.walThrough));
  const replaces = group.map((b) => b.index.seq);
  const idx = yield* writeBlockSteps(set.dir, seq, spans, walThrough, replaces, o.pageMaxSpans, pace);
  set.add(Block.openWritten(BlockSet.fileOf(set.dir, idx.seq), idx));
  crashPoint('traces.compact.before-remove');
  for (const b of group) set.remove(b);
  return seq + 1;
}

/** Drops blocks past retention by time, then the oldest while the blocks exceed the size budget. */
export function dropExpired(set: BlockSet, o: ResolvedTraceStoreOptions): void {
  if (o.retentionMs > 0) {
    const cutoff = BigInt(Math.floor(o.now() - o.retentionMs)) * MS;
    for (const b of [...set.blocks]) if (b.index.maxEnd < cutoff) set.remove(b);
  }
  if (o.retentionBytes > 0) {
    const byAge = [...set.blocks].sort((a, b) => (a.index.maxEnd < b.index.maxEnd ? -1 : a.index.maxEnd > b.index.maxEnd ? 1 : 0));
    let total = byAge.reduce((s, b) => s + b.index.bytes, 0);
    for (const b of byAge) {
      if (total <= o.retentionBytes) break;
      total -= b.index.bytes;
      set.remove(b);
    }
  }
}
