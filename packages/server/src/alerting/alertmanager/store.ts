/**
 * The alert store: one entry per fingerprint, re-sent alerts merged the way Alertmanager merges
 * them (earliest start, the newer alert's annotations, an explicit end beats a timeout), resolved
 * alerts dropped by garbage collection. Listeners hear about every change.
 */
import type { Clock } from '../../core/time/clock.js';
import { readJson, writeJson } from './persist.js';
import { isResolved, type Alert } from './types.js';

/** Merges `o` into `a` as Alertmanager's `Alert.Merge` does; the more recently updated one wins. */
export function mergeAlerts(a: Alert, o: Alert, now: number): Alert {
  if (o.updatedAt < a.updatedAt) return mergeAlerts(o, a, now);
  let startsAt = o.startsAt;
  let endsAt = o.endsAt;
  if (a.startsAt < o.startsAt) startsAt = a.startsAt;
  if (isResolved(o, now)) {
    // The latest explicit end wins when both are resolved.
    if (isResolved(a, now) && a.endsAt > o.endsAt) endsAt = a.endsAt;
  } else if (a.endsAt > o.endsAt && !a.timeout) {
    // A client-sent end time rules over a computed timeout when it is later.
    endsAt = a.endsAt;
  }
  return { ...o, startsAt, endsAt };
}

/** The in-memory alert store, optionally snapshotted to `alerts.json` (a Vigil extra: Alertmanager forgets alerts on restart). */
export class AlertStore {
  private readonly alerts = new Map<string, Alert>();
  private readonly listeners: Array<(a: Alert, prev: Alert | undefined) => void> = [];
  private dirty = false;
  /** Counts changes to the alert set, so readers can cache what they derive from it. */
  version = 0;

  constructor(
    private readonly clock: Clock,
    private readonly file: string | undefined,
    onError: (err: Error) => void = () => {},
  ) {
    if (!file) return;
    const data = readJson(file, onError);
    if (Array.isArray(data)) for (const a of data as Alert[]) this.alerts.set(a.fingerprint, a);
  }

  /** Calls `fn` after every insert or change. */
  subscribe(fn: (a: Alert, prev: Alert | undefined) => void): void {
    this.listeners.push(fn);
  }

  /** Inserts or merges alerts; returns the stored versions. */
  put(alerts: readonly Alert[]): Alert[] {
    const now = this.clock.now();
    const out: Alert[] = [];
    for (let a of alerts) {
      const prev = this.alerts.get(a.fingerprint);
      // A new occurrence after the old one ended replaces it rather than merging into it.
      if (prev && prev.endsAt >= a.startsAt) a = mergeAlerts(prev, a, now);
      this.alerts.set(a.fingerprint, a);
      this.dirty = true;
      this.version++;
      out.push(a);
      for (const l of this.listeners) l(a, prev);
    }
    return out;
  }

  /** Alerts held, resolved ones not yet collected included. */
  get size(): number {
    return this.alerts.size;
  }

  /** One alert by fingerprint. */
  get(fp: string): Alert | undefined {
    return this.alerts.get(fp);
  }

  /** Every alert. */
  list(): Alert[] {
    return [...this.alerts.values()];
  }

  /** Drops resolved alerts; returns the fingerprints removed. */
  gc(): string[] {
    const now = this.clock.now();
    const removed: string[] = [];
    for (const [fp, a] of this.alerts) {
      if (isResolved(a, now)) {
        this.alerts.delete(fp);
        removed.push(fp);
      }
    }
    if (removed.length) {
      this.dirty = true;
      this.version++;
    }
    return removed;
  }

  /** Writes the snapshot if anything changed. */
  flush(): void {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    writeJson(this.file, this.list());
  }
}
