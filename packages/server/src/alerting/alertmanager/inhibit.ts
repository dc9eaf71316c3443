/**
 * Inhibition: a firing alert matching a rule's source matchers mutes alerts matching its target
 * matchers that carry the same values for the `equal` labels. An alert that matches both sides
 * does not inhibit itself, as in Alertmanager.
 */
import type { InhibitRule } from './config.js';
import { isResolved, matchesAll, type Alert, type LabelSet } from './types.js';

/** The values of a rule's `equal` labels, as one key. */
function equalKey(rule: InhibitRule, labels: LabelSet): string {
  return JSON.stringify(rule.equal.map((n) => labels[n] ?? ''));
}

/** Finds the alerts that inhibit a label set. */
export class Inhibitor {
  /**
   * Per rule, its source alerts by `equal` key. Rebuilt only when the alert set changed (`version`),
   * so checking many alerts after a batch costs one pass over the alerts, not one pass each.
   */
  private sources: Map<string, Alert[]>[] = [];
  private builtFor = -1;

  constructor(
    private readonly rules: readonly InhibitRule[],
    private readonly alerts: () => Iterable<Alert>,
    private readonly now: () => number,
    /** Changes whenever the alert set changes; without it every check reads all alerts. */
    private readonly version: () => number = () => NaN,
  ) {}

  private sourcesByRule(): Map<string, Alert[]>[] {
    const v = this.version();
    if (v === this.builtFor) return this.sources;
    this.sources = this.rules.map(() => new Map<string, Alert[]>());
    for (const a of this.alerts()) {
      this.rules.forEach((rule, i) => {
        if (!matchesAll(rule.sourceMatchers, a.labels)) return;
        const k = equalKey(rule, a.labels);
        const m = this.sources[i]!;
        const list = m.get(k);
        if (list) list.push(a);
        else m.set(k, [a]);
      });
    }
    // NaN never equals itself: no version, no cache.
    this.builtFor = v;
    return this.sources;
  }

  /** Fingerprints of the firing source alerts that inhibit `labels` (empty: not inhibited). */
  inhibitedBy(labels: LabelSet, fp: string): string[] {
    const out: string[] = [];
    const now = this.now();
    const sources = this.sourcesByRule();
    this.rules.some((rule, i) => {
      if (!matchesAll(rule.targetMatchers, labels)) return false;
      const targetIsSource = matchesAll(rule.sourceMatchers, labels);
      for (const a of sources[i]!.get(equalKey(rule, labels)) ?? []) {
        // Resolution is a matter of time as well as of changes, so it is checked at each look-up.
        if (isResolved(a, now)) continue;
        if (targetIsSource && a.fingerprint === fp) continue;
        out.push(a.fingerprint);
      }
      return out.length > 0;
    });
    return out;
  }
}
