/**
 * The notification pipeline a group flush runs through, stage by stage as in Alertmanager:
 * time intervals → inhibition → silences → per integration: dedup against the notification log →
 * send with retries and exponential backoff → log. Plus Vigil's acknowledgements, which stop
 * repeats, per-receiver rate limits (held-back notifications summarised when the window closes),
 * and the history and statistics of every attempt.
 */
import type { AckStore } from './ack.js';
import type { Clock } from '../../core/time/clock.js';
import type { AlertmanagerConfig, Route } from './config.js';
import type { AggrGroup } from './dispatch.js';
import type { History } from './history.js';
import type { Inbox } from './inbox.js';
import type { Inhibitor } from './inhibit.js';
import type { NflogEntry, NotificationLog } from './nflog.js';
import { createIntegration, NotifyError, type Integration, type RenderFailure } from './receivers/index.js';
import type { Silences } from './silence.js';
import type { Stats } from './stats.js';
import { templateData, type TemplateData } from './template.js';
import { anyContains } from './timeinterval.js';
import { fingerprint, isResolved, notifyKey, type Alert, type LabelSet } from './types.js';
import type { Logger } from '../../core/util/log.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import { heldBackText, RateLimiter, type HeldBack } from './ratelimit.js';
import type { RateLimit } from './config.js';

/** What the pipeline works with. */
export interface PipelineDeps {
  clock: Clock;
  silences: Silences;
  inhibitor: () => Inhibitor;
  nflog: NotificationLog;
  acks: AckStore;
  history: History;
  stats: Stats;
  log: Logger;
  externalURL: string;
  /** Where `inbox_configs` integrations keep notifications. */
  inbox?: Inbox;
  /** Backoff before the first retry; grows by 1.5 per attempt up to 60 s. */
  initialBackoffMs?: number;
}

/** Alertmanager's dedup decision (`DedupStage.needsUpdate`). */
export function needsUpdate(
  entry: NflogEntry | undefined,
  firing: Set<string>,
  resolved: Set<string>,
  sendResolved: boolean,
  repeatMs: number,
  now: number,
): 'new' | 'changed' | 'repeat' | false {
  if (!entry) return firing.size > 0 ? 'new' : false;
  const logged = new Set(entry.firing);
  for (const fp of firing) if (!logged.has(fp) && !loggedHigher(entry.firing, fp)) return 'changed';
  // Every alert resolved: notify (whatever send_resolved says) so the log forgets the firing ones.
  if (firing.size === 0) return entry.firing.length > 0 ? 'changed' : false;
  if (sendResolved) {
    const loggedResolved = new Set(entry.resolved);
    for (const fp of resolved) if (!loggedResolved.has(fp)) return 'changed';
  }
  return entry.timestamp < now - repeatMs ? 'repeat' : false;
}

/**
 * True when `key` is a tiered alert's `fp/tier` (see notifyKey) and the log holds the same alert at
 * that tier or a higher one: a de-escalation is not news, an escalation is.
 */
function loggedHigher(logged: readonly string[], key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const fp = key.slice(0, slash + 1);
  const tier = Number(key.slice(slash + 1));
  return logged.some((k) => k.startsWith(fp) && Number(k.slice(fp.length)) >= tier);
}

interface BuiltReceiver {
  name: string;
  integrations: Integration[];
}

/** What one integration is due to send in a flush. */
interface Due {
  integ: Integration;
  logKey: string;
  toSend: Alert[];
  firing: Set<string>;
  resolved: Set<string>;
}

/** Where a send belongs, for the retry deadline and the history: a group, or a rate-limit summary. */
interface SendTarget {
  key: string;
  labels: LabelSet;
  /** Retries stop when this much time passed (the next flush is due). */
  intervalMs: number;
}

/** The alert name a rate-limit summary goes out as. */
export const RATE_LIMIT_SUMMARY_ALERTNAME = 'VigilNotificationsRateLimited';

/** Runs group flushes. */
export class Pipeline {
  private receivers = new Map<string, BuiltReceiver>();
  private cfg: AlertmanagerConfig | undefined;
  private abort = new AbortController();
  private readonly limiter: RateLimiter;

  constructor(private readonly d: PipelineDeps) {
    this.limiter = new RateLimiter(d.clock, (h) => this.summarise(h));
  }

  /** Builds the integrations of a configuration. */
  configure(cfg: AlertmanagerConfig): void {
    this.cfg = cfg;
    const extra = {
      templates: cfg.notificationTemplates,
      onRenderFailure: (f: RenderFailure) => this.renderFailed(f),
      ...(this.d.inbox ? { inbox: this.d.inbox } : {}),
    };
    const now = (): number => this.d.clock.now();
    this.receivers = new Map(
      cfg.receivers.map((r) => [
        r.name,
        { name: r.name, integrations: r.integrations.map((c) => createIntegration(c, now, { ...extra, siblings: r.integrations.filter((x) => x !== c) })) },
      ]),
    );
    this.limiter.configure(new Map(cfg.receivers.filter((r) => r.rateLimit).map((r): [string, RateLimit] => [r.name, r.rateLimit!])));
  }

  /** Registers the pipeline's own metrics. */
  register(reg: SelfRegistry): void {
    reg.register('vigil_notifications_rate_limited_total', 'counter', "Notifications held back by a receiver's rate_limit.", () =>
      this.limiter.counts().map(({ receiver, value }) => ({ labels: { receiver }, value })),
    );
  }

  /** A field that failed to render went out with its default text: say so in the log and the history. */
  private renderFailed(f: RenderFailure): void {
    const d = f.data;
    const error = `template for ${f.integration} ${f.field} failed, sent the default instead: ${f.message}`;
    this.d.log.warn('notification template failed', { receiver: d.receiver, integration: f.integration, field: f.field, err: f.message });
    this.d.history.add({
      time: this.d.clock.now(),
      type: 'notification',
      groupKey: d.groupKey,
      labels: d.groupLabels,
      receiver: d.receiver,
      integration: f.integration,
      ok: false,
      attempt: 0,
      status: d.status,
      alerts: d.alerts.length,
      error,
    });
  }

  /** Allows sending again after {@link Pipeline.stop}. */
  resume(): void {
    if (this.abort.signal.aborted) this.abort = new AbortController();
  }

  /** Aborts in-flight sends and retries. */
  stop(): void {
    this.abort.abort(new Error('alert router stopped'));
    this.limiter.stop();
  }

  /** Why an alert is muted right now (empty lists: it is not). */
  muteStatus(a: Alert): { silencedBy: string[]; inhibitedBy: string[] } {
    return { silencedBy: this.d.silences.mutedBy(a.labels), inhibitedBy: this.d.inhibitor().inhibitedBy(a.labels, a.fingerprint) };
  }

  /** True when the route's time intervals mute it at `now`. */
  timeMuted(route: Route, now: number): boolean {
    const ti = this.cfg?.timeIntervals;
    if (!ti) return false;
    if (route.activeTimeIntervals.length > 0 && !route.activeTimeIntervals.some((n) => anyContains(ti.get(n) ?? [], now))) return true;
    return route.muteTimeIntervals.some((n) => anyContains(ti.get(n) ?? [], now));
  }

  private data(group: AggrGroup, alerts: readonly Alert[]): TemplateData {
    return templateData({
      receiver: group.route.receiver,
      groupKey: group.key,
      groupLabels: group.labels,
      externalURL: this.d.externalURL,
      alerts,
      now: this.d.clock.now(),
      ackedBy: (a) => this.d.acks.active(a)?.by,
    });
  }

  /** Flushes a group: true when every integration delivered (or had nothing to deliver). */
  readonly flush = async (group: AggrGroup, alerts: Alert[]): Promise<boolean> => {
    const now = this.d.clock.now();
    if (this.timeMuted(group.route, now)) return true;
    const visible = alerts.filter((a) => {
      const m = this.muteStatus(a);
      return m.silencedBy.length === 0 && m.inhibitedBy.length === 0;
    });
    const recv = this.receivers.get(group.route.receiver);
    if (!recv) return true;
    const due = recv.integrations.map((integ, i) => this.due(group, recv.name, integ, i, visible)).filter((x): x is Due => x !== undefined);
    if (due.length === 0) return true;
    const alertnames = [...new Set(due.flatMap((x) => x.toSend.map((a) => a.labels['alertname'] ?? '')))].sort();
    // One notification per flush of the receiver, whatever number of integrations it has.
    if (!this.limiter.take(recv.name, alertnames)) {
      this.holdBack(group, recv.name, due, alertnames);
      return true;
    }
    const target = { key: group.key, labels: group.labels, intervalMs: group.route.groupIntervalMs };
    const retention = 2 * group.route.repeatIntervalMs;
    const results = await Promise.all(
      due.map(async (x) => {
        const data = this.data(group, x.toSend);
        const ok = await this.sendWithRetry(target, recv.name, x.integ, (signal) => x.integ.notify(data, signal), data.status, x.toSend.length, alertnames);
        if (ok) this.d.nflog.log(x.logKey, group.key, [...x.firing], [...x.resolved], retention);
        return ok;
      }),
    );
    return results.every(Boolean);
  };

  /** What `integ` has to send for the group now (undefined: nothing, the notification log already updated if needed). */
  private due(group: AggrGroup, receiver: string, integ: Integration, index: number, alerts: Alert[]): Due | undefined {
    const now = this.d.clock.now();
    const firing = new Set<string>();
    const resolved = new Set<string>();
    for (const a of alerts) (isResolved(a, now) ? resolved : firing).add(notifyKey(a));
    const logKey = `${receiver}/${integ.type}/${index}`;
    const entry = this.d.nflog.get(logKey, group.key);
    const why = needsUpdate(entry, firing, resolved, integ.sendResolved, group.route.repeatIntervalMs, now);
    if (!why) return undefined;
    // Acknowledged alerts are not repeated; anything new or changed still goes out.
    if (why === 'repeat' && alerts.filter((a) => firing.has(notifyKey(a))).every((a) => this.d.acks.active(a))) return undefined;
    const toSend = integ.sendResolved ? alerts : alerts.filter((a) => firing.has(notifyKey(a)));
    if (toSend.length === 0) {
      this.d.nflog.log(logKey, group.key, [...firing], [...resolved], 2 * group.route.repeatIntervalMs);
      return undefined;
    }
    return { integ, logKey, toSend, firing, resolved };
  }

  /**
   * A notification over the receiver's rate limit: not sent, but logged as if it were (the summary
   * at the window's end stands for it, and the next flush must not count it again), and recorded.
   */
  private holdBack(group: AggrGroup, receiver: string, due: Due[], alertnames: string[]): void {
    const now = this.d.clock.now();
    for (const x of due) {
      this.d.nflog.log(x.logKey, group.key, [...x.firing], [...x.resolved], 2 * group.route.repeatIntervalMs);
      this.d.history.add({
        time: now,
        type: 'notification',
        groupKey: group.key,
        labels: group.labels,
        receiver,
        integration: x.integ.type,
        ok: false,
        attempt: 0,
        status: x.firing.size > 0 ? 'firing' : 'resolved',
        alerts: x.toSend.length,
        alertnames,
        rateLimited: true,
        error: 'held back by the receiver rate_limit; summarised when its window closes',
      });
    }
  }

  /** Sends a closed rate-limit window's summary to every integration of the receiver. */
  private async summarise(h: HeldBack): Promise<void> {
    const recv = this.receivers.get(h.receiver);
    if (!recv) return;
    const text = heldBackText(h);
    const labels = { alertname: RATE_LIMIT_SUMMARY_ALERTNAME, receiver: h.receiver, severity: 'info' };
    const now = this.d.clock.now();
    // A notice, not a condition: it has already ended, so it goes out as resolved and opens nothing (no PagerDuty incident).
    const alert: Alert = {
      labels,
      annotations: { summary: text, description: `Between ${new Date(h.from).toISOString()} and ${new Date(h.until).toISOString()}: ${text}` },
      startsAt: h.from,
      endsAt: now,
      generatorURL: `${this.d.externalURL}/alerts`,
      updatedAt: now,
      timeout: false,
      fingerprint: fingerprint(labels),
    };
    const target = { key: `{}/rate_limit:{receiver=${JSON.stringify(h.receiver)}}`, labels, intervalMs: 60_000 };
    const data = templateData({ receiver: h.receiver, groupKey: target.key, groupLabels: labels, externalURL: this.d.externalURL, alerts: [alert], now });
    this.d.log.info('rate limit summary', { receiver: h.receiver, suppressed: h.total });
    await Promise.all(
      recv.integrations.map((integ) =>
        this.sendWithRetry(target, h.receiver, integ, (s) => integ.notify(data, s), 'rate_limit_summary', h.total, [RATE_LIMIT_SUMMARY_ALERTNAME]),
      ),
    );
  }

  private async sendWithRetry(
    target: SendTarget,
    receiver: string,
    integ: Integration,
    send: (s: AbortSignal) => Promise<void>,
    status: string,
    count: number,
    alertnames: string[],
  ): Promise<boolean> {
    const clock = this.d.clock;
    // Give up when the next flush is due, as Alertmanager bounds a flush by group_interval.
    const deadline = clock.now() + target.intervalMs;
    let backoff = this.d.initialBackoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted) return false;
      let error: NotifyError | undefined;
      try {
        await send(this.abort.signal);
      } catch (err) {
        error = err instanceof NotifyError ? err : new NotifyError((err as Error).message, true);
      }
      const ok = error === undefined;
      // One instant for the attempt, so the receiver's failing-since equals its history row's first time.
      const at = clock.now();
      this.d.stats.attempt(receiver, integ.type, ok, at, error?.message);
      const ev: Parameters<History['add']>[0] = {
        time: at,
        type: 'notification',
        groupKey: target.key,
        labels: target.labels,
        receiver,
        integration: integ.type,
        ok,
        attempt,
        status,
        alerts: count,
        alertnames,
      };
      if (error) ev.error = error.message;
      this.d.history.add(ev);
      if (ok) return true;
      this.d.log.warn('notify attempt failed', { receiver, integration: integ.type, attempt, err: error!.message, retry: error!.retry });
      if (!error!.retry || clock.now() + backoff >= deadline) return false;
      try {
        await clock.sleep(backoff, this.abort.signal);
      } catch {
        return false;
      }
      backoff = Math.min(backoff * 1.5, 60_000);
    }
  }

  /** Tells integrations that understand acknowledgements (PagerDuty) that the group was acknowledged. */
  async acknowledge(group: AggrGroup): Promise<void> {
    const recv = this.receivers.get(group.route.receiver);
    if (!recv) return;
    const alerts = [...group.alerts.values()];
    const data = this.data(group, alerts);
    await Promise.all(
      recv.integrations.map(async (integ, i) => {
        const ack = integ.acknowledge?.bind(integ);
        // Only an incident that was opened can be acknowledged.
        if (!ack || !this.d.nflog.get(`${recv.name}/${integ.type}/${i}`, group.key)?.firing.length) return;
        const target = { key: group.key, labels: group.labels, intervalMs: group.route.groupIntervalMs };
        const names = [...new Set(alerts.map((a) => a.labels['alertname'] ?? ''))].sort();
        await this.sendWithRetry(target, recv.name, integ, (s) => ack(data, s), 'acknowledged', alerts.length, names);
      }),
    );
  }
}
