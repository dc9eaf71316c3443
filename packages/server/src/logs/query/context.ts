/** Context: the lines around one line of a stream. */
import type { Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { LogQueryable } from '../storage/interface.js';
import type { LogEntry } from '../storage/types.js';

/** A line with its neighbours, all in time order. */
export interface LineContext {
  readonly stream: Labels;
  /** Up to `before` lines before the line. */
  readonly before: LogEntry[];
  /** The line at `t` (or the first after it), when there is one. */
  readonly at: LogEntry[];
  /** Up to `after` lines after it. */
  readonly after: LogEntry[];
}

/** No time bound: context reaches as far as the stream goes. */
const FAR = 1n << 62n;

/**
 * The lines of the first stream matching `matchers` around time `t` (ns), or undefined when no
 * stream matches.
 */
export function lineContext(store: LogQueryable, matchers: readonly Matcher[], t: bigint, before: number, after: number): LineContext | undefined {
  const s = store.selectStreams(matchers)[0];
  if (!s) return undefined;
  const pre: LogEntry[] = [];
  for (const e of store.entries(s, -FAR, t, 'backward')) {
    if (pre.length >= before) break;
    pre.push(e);
  }
  const post: LogEntry[] = [];
  for (const e of store.entries(s, t, FAR, 'forward')) {
    if (post.length >= after + 1) break;
    post.push(e);
  }
  return { stream: s.labels, before: pre.reverse(), at: post.slice(0, 1), after: post.slice(1) };
}
