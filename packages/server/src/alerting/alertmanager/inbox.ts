/**
 * The inbox (a Vigil extra): notifications that `inbox_configs` receivers keep inside Vigil instead
 * of sending, each with the page, Slack message and email it renders to. Persisted with
 * {@link writeJson} (checksummed, atomic) after every change, so a restart keeps them, and bounded
 * per receiver by its `max_items`: the oldest items go first.
 */
import { randomUUID } from 'node:crypto';
import { isMap, isSeq, parseDocument } from 'yaml';
import { readJson, writeJson } from './persist.js';
import type { LabelSet } from './types.js';

/** One alert of an inbox item, as the notification carried it. */
export interface InboxAlert {
  status: 'firing' | 'resolved';
  fingerprint: string;
  labels: LabelSet;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number;
  generatorURL: string;
}

/** What a PagerDuty-style page would have said. */
export interface InboxPage {
  action: 'trigger' | 'resolve';
  summary: string;
  severity: string;
  source: string;
  details: Record<string, string>;
  clientUrl: string;
  /** The receiver has a PagerDuty integration whose fields rendered this; false: Vigil's defaults. */
  configured: boolean;
}

/** What a Slack message would have said. */
export interface InboxSlack {
  channel: string;
  title: string;
  titleLink: string;
  text: string;
  color: string;
  /** The receiver has a Slack integration whose fields rendered this; false: Vigil's defaults. */
  configured: boolean;
}

/** What an email would have said. */
export interface InboxEmail {
  to: string[];
  subject: string;
  text: string;
  /** The receiver has an email integration whose fields rendered this; false: Vigil's defaults. */
  configured: boolean;
}

/** One kept notification. */
export interface InboxItem {
  id: string;
  /** Epoch ms. */
  time: number;
  receiver: string;
  groupKey: string;
  groupLabels: LabelSet;
  status: 'firing' | 'resolved';
  alerts: InboxAlert[];
  page: InboxPage;
  slack: InboxSlack;
  email: InboxEmail;
}

/** A query of the inbox; every field optional. */
export interface InboxQuery {
  receiver?: string;
  limit?: number;
}

/** The inbox of every `inbox_configs` receiver. */
export class Inbox {
  /** Oldest first. */
  private items: InboxItem[] = [];

  constructor(
    private readonly file: string | undefined,
    onError: (err: Error) => void = () => {},
  ) {
    if (!file) return;
    const data = readJson(file, onError) as { items?: unknown } | undefined;
    if (data && Array.isArray(data.items)) this.items = data.items as InboxItem[];
  }

  /** Keeps an item, dropping the receiver's oldest beyond `maxItems`, and writes the file. */
  add(item: Omit<InboxItem, 'id'>, maxItems: number): InboxItem {
    const full: InboxItem = { id: randomUUID(), ...item };
    this.items.push(full);
    let mine = this.items.reduce((n, x) => n + (x.receiver === item.receiver ? 1 : 0), 0);
    if (mine > maxItems) this.items = this.items.filter((x) => x.receiver !== item.receiver || mine-- <= maxItems);
    this.save();
    return full;
  }

  /** Items matching the query, newest first. */
  list(q: InboxQuery = {}): InboxItem[] {
    const out: InboxItem[] = [];
    const limit = q.limit ?? 100;
    for (let i = this.items.length - 1; i >= 0 && out.length < limit; i--) {
      const x = this.items[i]!;
      if (q.receiver === undefined || x.receiver === q.receiver) out.push(x);
    }
    return out;
  }

  /** Number of items held. */
  get size(): number {
    return this.items.length;
  }

  private save(): void {
    if (this.file) writeJson(this.file, { items: this.items });
  }
}

/**
 * An Alertmanager configuration text without Vigil's receiver extensions (`inbox_configs` and
 * `rate_limit`), for clients that parse it with Alertmanager's own code (amtool reads
 * `/api/v2/status`) and refuse fields they do not know.
 */
export function withoutInboxConfigs(text: string): string {
  const doc = parseDocument(text);
  const receivers = doc.errors.length === 0 ? doc.get('receivers', true) : undefined;
  if (!isSeq(receivers)) return text;
  let changed = false;
  for (const r of receivers.items) {
    if (!isMap(r)) continue;
    // Both deletes run: `||` would skip the second once the first removed something.
    const a = r.delete('inbox_configs');
    const b = r.delete('rate_limit');
    if (a || b) changed = true;
  }
  return changed ? doc.toString() : text;
}
