/** `by (…)` / `without (…)` over a label set. */
import type { Labels } from '../../core/model/labels.js';
import { keepLabels, removeLabels } from '../../core/eval/labels.js';
import type { Grouping } from './ast.js';

/** The labels a grouping keeps. */
export function groupLabels(l: Labels, g: Grouping): Labels {
  const names = new Set(g.labels);
  return g.without ? removeLabels(l, names) : keepLabels(l, names);
}
