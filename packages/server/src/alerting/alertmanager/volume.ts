/**
 * Notification volume (a Vigil extra, for fighting alert fatigue): how many notifications each
 * receiver got per hour, and which alert names caused the most, computed from the history. A
 * notification is one message to one receiver integration: its first attempt counts, retries do
 * not; one held back by a `rate_limit` counts as suppressed instead.
 */
import type { History } from './history.js';

const HOUR_MS = 3_600_000;

/** One receiver's notifications per hour. */
export interface ReceiverVolume {
  receiver: string;
  /** Notifications sent per hour, oldest hour first (the last is the hour in progress). */
  hourly: number[];
  /** Held back by the receiver's rate limit per hour, aligned with `hourly`. */
  suppressedHourly: number[];
  total: number;
  suppressed: number;
}

/** An alert name and the notifications it was in. */
export interface NoisyRule {
  alertname: string;
  notifications: number;
  suppressed: number;
}

/** The volume over a span of whole hours. */
export interface NotificationVolume {
  /** Epoch ms: the start of the first hour and the end of the last (now). */
  from: number;
  until: number;
  hours: number;
  /** Receivers by total notifications, most first. */
  receivers: ReceiverVolume[];
  /** Alert names by notifications, most first, at most `top`. */
  topRules: NoisyRule[];
  total: number;
  suppressed: number;
}

/** The notification volume of the last `hours` hours (the current one included) up to `now`. */
export function notificationVolume(history: History, now: number, hours: number, top: number): NotificationVolume {
  const from = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
  const receivers = new Map<string, ReceiverVolume>();
  const rules = new Map<string, NoisyRule>();
  let total = 0;
  let suppressed = 0;
  for (const e of history.query({ type: 'notification', since: from, until: now, limit: Number.MAX_SAFE_INTEGER })) {
    const held = e.rateLimited === true;
    // A first attempt is a notification; retries and template warnings (attempt 0) are not.
    if (!held && e.attempt !== 1) continue;
    const name = e.receiver ?? '';
    let r = receivers.get(name);
    if (!r)
      receivers.set(
        name,
        (r = { receiver: name, hourly: new Array<number>(hours).fill(0), suppressedHourly: new Array<number>(hours).fill(0), total: 0, suppressed: 0 }),
      );
    const slot = Math.min(hours - 1, Math.floor((e.time - from) / HOUR_MS));
    if (held) {
      r.suppressedHourly[slot]!++;
      r.suppressed++;
      suppressed++;
    } else {
      r.hourly[slot]!++;
      r.total++;
      total++;
    }
    // History written before alert names were recorded falls back to the group's alertname label.
    const names = e.alertnames ?? (e.labels?.['alertname'] !== undefined ? [e.labels['alertname']] : []);
    for (const n of names) {
      let rule = rules.get(n);
      if (!rule) rules.set(n, (rule = { alertname: n, notifications: 0, suppressed: 0 }));
      if (held) rule.suppressed++;
      else rule.notifications++;
    }
  }
  const byCount =
    <T extends { suppressed: number }>(count: (x: T) => number, key: (x: T) => string) =>
    (a: T, b: T) =>
      count(b) + b.suppressed - (count(a) + a.suppressed) || key(a).localeCompare(key(b));
  return {
    from,
    until: now,
    hours,
    receivers: [...receivers.values()].sort(
      byCount(
        (x) => x.total,
        (x) => x.receiver,
      ),
    ),
    topRules: [...rules.values()]
      .sort(
        byCount(
          (x) => x.notifications,
          (x) => x.alertname,
        ),
      )
      .slice(0, top),
    total,
    suppressed,
  };
}
