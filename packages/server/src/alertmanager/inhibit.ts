/**
 * Inhibition: a firing alert matching a rule's source matchers mutes alerts matching its target
 * matchers that carry the same values for the `equal` labels. An alert that matches both sides
 * does not inhibit itself, as in Alertmanager.
 */
import type { InhibitRule } from './config.js';
import { isResolved, matchesAll, type Alert, type LabelSet } from './types.js';

/** Finds the alerts that inhibit a label set. */
export class Inhibitor {
  constructor(
    private readonly rules: readonly InhibitRule[],
    private readonly alerts: () => Iterable<Alert>,
    private readonly now: () => number,
  ) {}

  /** Fingerprints of the firing source alerts that inhibit `labels` (empty: not inhibited). */
  inhibitedBy(labels: LabelSet, fp: string): string[] {
    const out: string[] = [];
    const now = this.now();
    for (const rule of this.rules) {
      if (!matchesAll(rule.targetMatchers, labels)) continue;
      const targetIsSource = matchesAll(rule.sourceMatchers, labels);
      for (const a of this.alerts()) {
        if (isResolved(a, now) || !matchesAll(rule.sourceMatchers, a.labels)) continue;
        if (targetIsSource && a.fingerprint === fp) continue;
        if (rule.equal.every((n) => (a.labels[n] ?? '') === (labels[n] ?? ''))) out.push(a.fingerprint);
      }
      if (out.length) break;
    }
    return out;
  }
}
