/** The output labels of `absent` / `absent_over_time`, the same rule in both languages. */
import { type Label, type Labels, METRIC_NAME, sortLabels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';

/**
 * The labels a selector pins down: its equality matchers, except a name matched more than once
 * (the value is not certain) and `__name__`, as Prometheus (and Loki, which copies it) derive them.
 */
export function absentLabels(matchers: readonly Matcher[]): Labels {
  const set = new Map<string, string>();
  const has = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      set.set(m.name, m.value);
      has.add(m.name);
    } else {
      set.delete(m.name);
    }
  }
  const pairs: Label[] = [];
  for (const [name, value] of set) if (value !== '') pairs.push({ name, value });
  return sortLabels(pairs);
}
