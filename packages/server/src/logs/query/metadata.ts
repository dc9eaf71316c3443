/** Label and series metadata over several selectors. */
import type { Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { LogQueryable } from '../storage/interface.js';

/** The label sets of the streams matching any of `selectors` in [start, end) (ns), each once. */
export function seriesOf(store: LogQueryable, selectors: readonly (readonly Matcher[])[], start: bigint, end: bigint): Labels[] {
  const seen = new Map<number, Labels>();
  for (const ms of selectors) for (const s of store.selectStreams(ms, start, end)) seen.set(s.id, s.labels);
  return [...seen.values()];
}
