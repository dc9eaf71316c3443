/** Label-set operations of grouping and vector matching. */
import { type Label, type Labels, METRIC_NAME, sortLabels } from '../model/labels.js';

/** A copy of `labels` with `name` set to `value` (removed when `value` is empty), kept sorted. */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = labels.filter((l) => l.name !== name);
  if (value !== '') out.push({ name, value });
  return sortLabels(out);
}

/** Keeps only the named labels. */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => names.has(l.name));
}

/** Removes the named labels. */
export function removeLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => !names.has(l.name));
}

/**
 * A key for a subset of labels (the "signature" of vector matching): the listed labels for `on`,
 * the others for `ignoring`. `ignoring` never matches on `__name__`, which log streams lack anyway.
 */
export function subsetKey(labels: Labels, names: ReadonlySet<string>, on: boolean): string {
  let key = '';
  for (const l of labels) {
    const listed = names.has(l.name);
    if (on ? listed : !listed && l.name !== METRIC_NAME) key += l.name + '\xff' + l.value + '\xfe';
  }
  return key;
}
