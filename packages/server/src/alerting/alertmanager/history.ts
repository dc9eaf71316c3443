/**
 * The alert history (a Vigil extra): every state change and every notification attempt, appended
 * to `history.jsonl` and kept in memory up to a bound for queries. The file is compacted to the
 * in-memory tail when it grows past a limit, so it never grows without end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LabelSet } from './types.js';

/** Kinds of history events. */
export const HISTORY_TYPES = [
  'firing',
  'resolved',
  'suppressed',
  'unsuppressed',
  'acknowledged',
  'unacknowledged',
  'manually_resolved',
  'notification',
  'escalated',
  'de-escalated',
] as const;
/** One of {@link HISTORY_TYPES}. */
export type HistoryType = (typeof HISTORY_TYPES)[number];

/** One history event. */
export interface HistoryEvent {
  /** Epoch ms. */
  time: number;
  type: HistoryType;
  fingerprint?: string;
  labels?: LabelSet;
  groupKey?: string;
  receiver?: string;
  integration?: string;
  /** Notifications: whether the attempt succeeded, which attempt, the error, the group status, the alert count. */
  ok?: boolean;
  attempt?: number;
  error?: string;
  status?: string;
  alerts?: number;
  /** Notifications: the alert names they carried (for the noisiest-rules statistics). */
  alertnames?: string[];
  /** Notifications: held back by the receiver's `rate_limit` (not sent; summarised when its window closes). */
  rateLimited?: boolean;
  /** Acknowledgements and manual resolves: who and why. */
  by?: string;
  comment?: string;
  /** Suppression: silence ids or inhibiting fingerprints. */
  silencedBy?: string[];
  inhibitedBy?: string[];
  /** Escalations and de-escalations of a tiered alert: the new and the previous severity. */
  severity?: string;
  previousSeverity?: string;
}

/** A history query; every field optional. */
export interface HistoryQuery {
  fingerprint?: string;
  type?: HistoryType;
  receiver?: string;
  since?: number;
  until?: number;
  limit?: number;
}

/** The history log. */
export class History {
  private events: HistoryEvent[] = [];
  private readonly file: string | undefined;
  private bytes = 0;

  constructor(
    dir: string | undefined,
    private readonly maxEvents = 50_000,
    private readonly maxFileBytes = 32 * 1024 * 1024,
    onError: (err: Error) => void = () => {},
  ) {
    this.file = dir === undefined ? undefined : path.join(dir, 'history.jsonl');
    if (!this.file) return;
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err as Error);
    }
    this.bytes = Buffer.byteLength(text);
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        this.events.push(JSON.parse(line) as HistoryEvent);
      } catch {
        // A torn last line after a crash: skip it.
      }
    }
    if (this.events.length > maxEvents) this.events = this.events.slice(-maxEvents);
  }

  /** Appends an event. */
  add(e: HistoryEvent): void {
    this.events.push(e);
    if (this.events.length > this.maxEvents * 1.1) this.events = this.events.slice(-this.maxEvents);
    if (!this.file) return;
    const line = JSON.stringify(e) + '\n';
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    if (this.bytes + line.length > this.maxFileBytes) {
      fs.writeFileSync(this.file + '.tmp', this.events.map((x) => JSON.stringify(x) + '\n').join(''));
      fs.renameSync(this.file + '.tmp', this.file);
      this.bytes = fs.statSync(this.file).size;
      return;
    }
    fs.appendFileSync(this.file, line);
    this.bytes += Buffer.byteLength(line);
  }

  /** Events matching the query, newest first. */
  query(q: HistoryQuery = {}): HistoryEvent[] {
    const out: HistoryEvent[] = [];
    const limit = q.limit ?? 1000;
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i]!;
      if (q.fingerprint !== undefined && e.fingerprint !== q.fingerprint) continue;
      if (q.type !== undefined && e.type !== q.type) continue;
      if (q.receiver !== undefined && e.receiver !== q.receiver) continue;
      if (q.since !== undefined && e.time < q.since) continue;
      if (q.until !== undefined && e.time > q.until) continue;
      out.push(e);
    }
    return out;
  }
}
