/**
 * The notification log: what each receiver integration was last told about each alert group, so
 * that a group is re-sent only when it changed or repeat_interval passed. Persisted after every
 * entry, so a restart neither repeats nor forgets a notification.
 */
import type { Clock } from '../../core/time/clock.js';
import { readJson, writeJson } from './persist.js';

/** One log entry. */
export interface NflogEntry {
  firing: string[];
  resolved: string[];
  /** When the notification was sent (epoch ms). */
  timestamp: number;
  expiresAt: number;
}

/** The log, keyed by integration and group key. */
export class NotificationLog {
  private readonly entries = new Map<string, NflogEntry>();

  constructor(
    private readonly clock: Clock,
    private readonly file: string | undefined,
    onError: (err: Error) => void = () => {},
  ) {
    if (!file) return;
    const data = readJson(file, onError);
    if (data && typeof data === 'object') for (const [k, v] of Object.entries(data as Record<string, NflogEntry>)) this.entries.set(k, v);
    this.gc();
  }

  private static key(receiverKey: string, groupKey: string): string {
    return `${receiverKey}\u0000${groupKey}`;
  }

  /** The last entry for an integration and group. */
  get(receiverKey: string, groupKey: string): NflogEntry | undefined {
    const e = this.entries.get(NotificationLog.key(receiverKey, groupKey));
    return e && e.expiresAt > this.clock.now() ? e : undefined;
  }

  /** Records a notification; kept for `retentionMs`. */
  log(receiverKey: string, groupKey: string, firing: string[], resolved: string[], retentionMs: number): void {
    const now = this.clock.now();
    this.entries.set(NotificationLog.key(receiverKey, groupKey), { firing, resolved, timestamp: now, expiresAt: now + retentionMs });
    this.save();
  }

  /** Drops expired entries. */
  gc(): void {
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  private save(): void {
    if (this.file) writeJson(this.file, Object.fromEntries(this.entries));
  }
}
