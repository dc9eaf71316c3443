/**
 * A label-set builder with the semantics of Prometheus' `labels.Builder`, which relabeling
 * depends on: `set` with an empty value deletes, `get` sees pending changes, and `range` visits a
 * snapshot (unchanged base labels in order, then changed ones in the order they were set), so
 * `labelmap` rules that overwrite each other resolve the same way as in Prometheus.
 */
import type { Label, Labels } from '../../core/model/labels.js';

/** Mutable overlay on an immutable, sorted label set. */
export class LabelsBuilder {
  private base: Labels = [];
  private add: Label[] = [];
  private del: string[] = [];

  /** Starts over from `base`. */
  reset(base: Labels): void {
    this.base = base;
    this.add = [];
    this.del = [];
  }

  /** The current value of `name`, '' when absent. */
  get(name: string): string {
    // Set() does not clear `del`, so pending additions are checked first.
    for (const a of this.add) if (a.name === name) return a.value;
    if (this.del.includes(name)) return '';
    for (const l of this.base) if (l.name === name) return l.value;
    return '';
  }

  /** Sets `name`; an empty value removes it. */
  set(name: string, value: string): void {
    if (value === '') {
      this.delete(name);
      return;
    }
    for (let k = 0; k < this.add.length; k++) {
      if (this.add[k]!.name === name) {
        this.add[k] = { name, value };
        return;
      }
    }
    this.add.push({ name, value });
  }

  /** Removes `name`. */
  delete(name: string): void {
    this.add = this.add.filter((a) => a.name !== name);
    this.del.push(name);
  }

  /** Calls `f` on each current label, over a snapshot that `f`'s own changes do not disturb. */
  range(f: (l: Label) => void): void {
    const add = this.add.slice();
    const del = this.del.slice();
    for (const l of this.base) {
      if (!del.includes(l.name) && !add.some((a) => a.name === l.name)) f(l);
    }
    for (const a of add) f(a);
  }

  /** The resulting label set, sorted, without empty values; the base itself when nothing changed. */
  labels(): Labels {
    const unchanged = this.add.length === 0 && this.del.length === 0;
    if (unchanged && this.base.every((l) => l.value !== '')) return this.base;
    const out: Label[] = [];
    for (const l of this.base) {
      if (l.value === '' || this.del.includes(l.name) || this.add.some((a) => a.name === l.name)) continue;
      out.push(l);
    }
    if (this.add.length > 0) {
      out.push(...this.add);
      out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    return out;
  }
}
