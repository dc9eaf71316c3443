/**
 * Notification rows for the history (a Vigil extra): the pipeline records every send attempt, and a
 * person wants one row per notification with its retries inside. A notification is one alert
 * group's message (firing, resolved or acknowledged) to one receiver integration: its attempts run
 * from the first try until one succeeds, across retries and the flushes that try again after a
 * flush gave up. A later message of the same kind (a repeat) starts a new row.
 */
import type { HistoryEvent } from './history.js';

/** One attempt inside a notification row. */
export interface NotificationAttempt {
  /** Epoch ms. */
  time: number;
  ok: boolean;
  error?: string;
}

/** A notification and its attempts. */
export interface NotificationRow {
  type: 'notification';
  /** The last attempt (epoch ms). */
  time: number;
  /** The first attempt (epoch ms). */
  firstTime: number;
  groupKey: string;
  /** The group's labels (absent in history written before they were recorded). */
  labels?: Record<string, string>;
  receiver: string;
  integration: string;
  status: string;
  alerts: number;
  /**
   * `delivered`: the last attempt succeeded; `failed`: it did not (retries may still follow);
   * `suppressed`: held back by the receiver's `rate_limit`, never attempted.
   */
  state: 'delivered' | 'failed' | 'suppressed';
  ok: boolean;
  attemptCount: number;
  failedCount: number;
  /** The error of the last failed attempt. */
  error?: string;
  /** The attempts, oldest first; only the last {@link MAX_ATTEMPTS_LISTED} when there were more. */
  attempts: NotificationAttempt[];
  /** Fields whose template failed and went out with their default text (not attempts: the send follows). */
  warnings?: string[];
}

/** Attempts listed in one row (the counts cover all of them). */
export const MAX_ATTEMPTS_LISTED = 50;

function key(e: HistoryEvent): string {
  return JSON.stringify([e.groupKey ?? '', e.receiver ?? '', e.integration ?? '', e.status ?? '']);
}

/** A row opened by notification event `e`, before any attempt is counted. */
function newRow(e: HistoryEvent, state: NotificationRow['state'], ok: boolean): NotificationRow {
  const row: NotificationRow = {
    type: 'notification',
    time: e.time,
    firstTime: e.time,
    groupKey: e.groupKey ?? '',
    receiver: e.receiver ?? '',
    integration: e.integration ?? '',
    status: e.status ?? '',
    alerts: e.alerts ?? 0,
    state,
    ok,
    attemptCount: 0,
    failedCount: 0,
    attempts: [],
  };
  if (e.labels) row.labels = e.labels;
  return row;
}

/**
 * Folds the notification attempts among `newestFirst` history events into rows; other events pass
 * through. The result is newest first, a row placed at its last attempt.
 */
export function groupNotifications(newestFirst: readonly HistoryEvent[]): Array<HistoryEvent | NotificationRow> {
  const open = new Map<string, NotificationRow>();
  const out: Array<HistoryEvent | NotificationRow | null> = [];
  const placed = new Map<NotificationRow, number>();
  // Oldest first, so "until one succeeds" follows the order the attempts happened in.
  for (let i = newestFirst.length - 1; i >= 0; i--) {
    const e = newestFirst[i]!;
    if (e.type !== 'notification') {
      out.push(e);
      continue;
    }
    if (e.rateLimited) {
      // Never attempted: a row of its own that no retry continues.
      const row = newRow(e, 'suppressed', false);
      if (e.error) row.error = e.error;
      out.push(row);
      continue;
    }
    const k = key(e);
    let row = open.get(k);
    const ok = e.ok === true;
    // A template that failed to render is recorded as attempt 0 just before the send: a warning of the row.
    const warning = e.attempt === 0 && !ok;
    if (!row) {
      row = newRow(e, warning ? 'failed' : 'delivered', !warning);
      open.set(k, row);
    }
    if (warning) {
      (row.warnings ??= []).push(e.error ?? '');
      if (row.attemptCount === 0) row.error = e.error ?? '';
      continue;
    }
    row.time = e.time;
    row.alerts = e.alerts ?? row.alerts;
    row.ok = ok;
    row.state = ok ? 'delivered' : 'failed';
    row.attemptCount++;
    const attempt: NotificationAttempt = { time: e.time, ok };
    if (!ok) {
      row.failedCount++;
      row.error = e.error ?? '';
      attempt.error = e.error ?? '';
    }
    row.attempts.push(attempt);
    if (row.attempts.length > MAX_ATTEMPTS_LISTED) row.attempts.shift();
    // The row sits at its latest attempt: drop its earlier place.
    const prev = placed.get(row);
    if (prev !== undefined) out[prev] = null;
    placed.set(row, out.length);
    out.push(row);
    if (ok) open.delete(k);
  }
  return out.filter((x): x is HistoryEvent | NotificationRow => x !== null).reverse();
}
