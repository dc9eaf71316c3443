/**
 * The alert router: Vigil's Alertmanager. It owns the alert store, silences, notification log,
 * acknowledgements, history and statistics, and runs the dispatcher and pipeline for the current
 * configuration. The rules engine calls {@link AlertRouter.receive}; the HTTP API calls the rest.
 */
import * as path from 'node:path';
import { AckStore, type Ack } from './ack.js';
import { systemClock, type Clock, type Timer } from '../../core/time/clock.js';
import { defaultAlertmanagerConfig, type AlertmanagerConfig, type IntegrationConfig } from './config.js';
import { Dispatcher, matchRoutes, type AggrGroup } from './dispatch.js';
import { History, type HistoryEvent } from './history.js';
import { Inbox } from './inbox.js';
import { receiverHealth, type ReceiverHealth } from './health.js';
import { Inhibitor } from './inhibit.js';
import { NotificationLog } from './nflog.js';
import { Pipeline } from './notify.js';
import { Silences } from './silence.js';
import { Stats, type IntegrationStats } from './stats.js';
import { AlertStore } from './store.js';
import { fingerprint, isResolved, parseTime, SEVERITY_LABEL, tieredFingerprint, validateAlertLabels, type Alert, type PostableAlert } from './types.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import type { SelfRegistry, SelfSample } from '../../core/selfmon/registry.js';
import { VigilError } from '../../core/errors.js';

/** Every integration type Vigil can notify through (the `type` of {@link IntegrationConfig}). */
const INTEGRATION_TYPES: readonly IntegrationConfig['type'][] = ['webhook', 'email', 'slack', 'pagerduty', 'discord', 'msteams', 'inbox'];

/** Construction options. */
export interface AlertRouterOptions {
  /** Directory for silences, notification log, alerts, acknowledgements, history and statistics; undefined: memory only. */
  dataDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** The URL users reach Vigil at, put into notifications. */
  externalURL?: string;
  config?: AlertmanagerConfig;
  /** First retry backoff (default 500 ms). */
  initialBackoffMs?: number;
  /** Most alerts held (`max_alerts`) and silences active or pending (`max_silences`); 0: no limit. */
  limits?: { maxAlerts: number; maxSilences: number };
}

/** An alert's status as the API reports it. */
export interface AlertStatus {
  state: 'active' | 'suppressed';
  silencedBy: string[];
  inhibitedBy: string[];
  mutedBy: string[];
}

/** Some alerts were invalid; the valid ones were still taken. */
export class AlertValidationError extends VigilError {
  override readonly code = 'bad_alert' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('bad_alert', message, options);
  }
}

/**
 * New alerts refused because the store holds `max_alerts` alerts; the other alerts of the request
 * were taken. Updates of alerts already held are never refused, so firing alerts can resolve.
 */
export class AlertLimitError extends VigilError {
  override readonly code = 'alert_limit' as const;
  constructor(message: string) {
    super('alert_limit', message);
  }
}

/** A target of an acknowledgement or resolve: an alert, or every firing alert of a group. */
export interface AlertTarget {
  fingerprint?: string;
  groupKey?: string;
}

const MAINTENANCE_MS = 15_000;
const GC_MS = 30 * 60_000;

/** Vigil's Alertmanager. */
export class AlertRouter {
  readonly clock: Clock;
  readonly silences: Silences;
  readonly history: History;
  readonly stats: Stats;
  /** Notifications kept by `inbox_configs` receivers. */
  readonly inbox: Inbox;
  private readonly store: AlertStore;
  private readonly nflog: NotificationLog;
  private readonly acks: AckStore;
  private readonly pipeline: Pipeline;
  private readonly log: Logger;
  private cfg: AlertmanagerConfig;
  private inhibitor: Inhibitor;
  private dispatcher: Dispatcher | undefined;
  private maintenance: Timer | undefined;
  private lastGc = 0;
  private readonly known = new Map<string, { firing: boolean; suppressed: boolean; startsAt: number; tier?: number; severity?: string }>();
  private readonly received = { firing: 0, resolved: 0, invalid: 0 };
  /** Most alerts held (0: no limit). */
  maxAlerts: number;
  /** New alerts refused by {@link maxAlerts}. */
  alertsRefused = 0;
  readonly startedAt: number;

  constructor(opts: AlertRouterOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? nopLogger).child({ component: 'alertmanager' });
    const dir = opts.dataDir;
    const file = (n: string): string | undefined => (dir === undefined ? undefined : path.join(dir, n));
    const onError = (err: Error): void => this.log.warn('alertmanager state unreadable; starting without it', { err });
    this.store = new AlertStore(this.clock, file('alerts.json'), onError);
    this.silences = new Silences(this.clock, dir, undefined, onError);
    this.silences.maxSilences = opts.limits?.maxSilences ?? 0;
    this.maxAlerts = opts.limits?.maxAlerts ?? 0;
    this.nflog = new NotificationLog(this.clock, file('nflog.json'), onError);
    this.acks = new AckStore(this.clock, file('acks.json'), onError);
    this.history = new History(dir, undefined, undefined, onError);
    this.stats = new Stats(file('stats.json'), onError);
    this.inbox = new Inbox(file('inbox.json'), onError);
    this.cfg = opts.config ?? defaultAlertmanagerConfig();
    this.inhibitor = this.makeInhibitor();
    const deps = {
      clock: this.clock,
      silences: this.silences,
      inhibitor: () => this.inhibitor,
      nflog: this.nflog,
      acks: this.acks,
      history: this.history,
      stats: this.stats,
      log: this.log,
      externalURL: opts.externalURL ?? '',
      inbox: this.inbox,
    };
    this.pipeline = new Pipeline(opts.initialBackoffMs === undefined ? deps : { ...deps, initialBackoffMs: opts.initialBackoffMs });
    this.pipeline.configure(this.cfg);
    this.store.subscribe((a) => this.dispatcher?.process(a));
    this.startedAt = this.clock.now();
    for (const a of this.store.list())
      this.known.set(a.fingerprint, { firing: !isResolved(a, this.startedAt), suppressed: false, ...this.tierState(a), startsAt: a.startsAt });
  }

  private makeInhibitor(): Inhibitor {
    return new Inhibitor(
      this.cfg.inhibitRules,
      () => this.store.list(),
      () => this.clock.now(),
      () => this.store.version,
    );
  }

  /** The configuration in force. */
  get config(): AlertmanagerConfig {
    return this.cfg;
  }

  /** Starts routing (idempotent): alerts kept from the last run go back into their groups. */
  start(): void {
    if (this.dispatcher) return;
    this.pipeline.resume();
    this.dispatcher = new Dispatcher(this.cfg, this.clock, this.pipeline.flush);
    for (const a of this.store.list()) this.dispatcher.process(a);
    this.scheduleMaintenance();
  }

  /** Stops timers and in-flight sends and writes state (idempotent). */
  stop(): void {
    this.maintenance?.cancel();
    this.maintenance = undefined;
    this.dispatcher?.stop();
    this.dispatcher = undefined;
    this.pipeline.stop();
    this.store.flush();
    this.stats.flush();
  }

  /**
   * Switches to a new configuration without losing state: silences, the notification log, alerts
   * and acknowledgements stay; groups are rebuilt, and the log keeps them from re-sending.
   */
  applyConfig(cfg: AlertmanagerConfig): void {
    this.cfg = cfg;
    this.inhibitor = this.makeInhibitor();
    this.pipeline.configure(cfg);
    for (const w of cfg.warnings) this.log.warn(w);
    if (!this.dispatcher) return;
    this.dispatcher.stop();
    this.dispatcher = new Dispatcher(cfg, this.clock, this.pipeline.flush);
    for (const a of this.store.list()) this.dispatcher.process(a);
  }

  private scheduleMaintenance(): void {
    this.maintenance = this.clock.setTimer(() => {
      this.sweep();
      const now = this.clock.now();
      if (now - this.lastGc >= GC_MS) {
        this.lastGc = now;
        for (const fp of this.store.gc()) this.known.delete(fp);
        this.nflog.gc();
        this.acks.gc((fp) => this.store.get(fp) !== undefined);
      }
      this.store.flush();
      this.stats.flush();
      if (this.dispatcher) this.scheduleMaintenance();
    }, MAINTENANCE_MS);
  }

  /**
   * Takes alerts from the rules engine or the API. Missing startsAt means now; missing endsAt means
   * "firing until resolve_timeout passes without a re-send". Invalid alerts are skipped and
   * reported by the thrown {@link AlertValidationError} after the valid ones were stored.
   *
   * `fromRules` marks the in-process call of Vigil's own rule manager: only then is an alert's `tier`
   * honoured, making it a tiered alert whose identity ignores `severity` (an escalation updates the
   * alert rather than starting another). A flag of the call, not a label or annotation, because
   * nothing a client posts to /api/v2/alerts can set it: posted alerts keep Alertmanager's semantics,
   * every label part of the identity.
   */
  receive(alerts: readonly PostableAlert[], opts: { fromRules?: boolean } = {}): void {
    const now = this.clock.now();
    const ok: Alert[] = [];
    const errors: string[] = [];
    let held = this.store.size;
    let refused = 0;
    const added = new Set<string>();
    for (const p of alerts) {
      const err =
        validateAlertLabels(p?.labels) ??
        (p.annotations !== undefined && (typeof p.annotations !== 'object' || p.annotations === null) ? 'annotations must be an object' : undefined);
      if (err) {
        errors.push(err);
        continue;
      }
      let startsAt: number;
      let endsAt: number;
      try {
        startsAt = parseTime(p.startsAt);
        endsAt = parseTime(p.endsAt);
      } catch (e) {
        errors.push((e as Error).message);
        continue;
      }
      if (startsAt === 0) startsAt = endsAt === 0 ? now : endsAt;
      const timeout = endsAt === 0;
      if (timeout) endsAt = now + this.cfg.global.resolveTimeoutMs;
      if (endsAt < startsAt) {
        errors.push('start time must be before end time');
        continue;
      }
      const labels = { ...p.labels };
      const tier = opts.fromRules === true && Number.isInteger(p.tier) && p.tier! >= 0 && labels[SEVERITY_LABEL] !== undefined ? p.tier : undefined;
      const fp = tier === undefined ? fingerprint(labels) : tieredFingerprint(labels);
      // A re-send of an occurrence resolved by hand stays resolved.
      if (this.acks.resolvedByHand(fp, startsAt) && endsAt > now) continue;
      if (this.store.get(fp) === undefined && !added.has(fp)) {
        if (this.maxAlerts > 0 && held >= this.maxAlerts) {
          refused++;
          continue;
        }
        added.add(fp);
        held++;
      }
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.annotations ?? {})) annotations[k] = String(v);
      const alert: Alert = { labels, annotations, startsAt, endsAt, generatorURL: p.generatorURL ?? '', updatedAt: now, timeout, fingerprint: fp };
      ok.push(tier === undefined ? alert : { ...alert, tier });
      if (endsAt > now) this.received.firing++;
      else this.received.resolved++;
    }
    this.received.invalid += errors.length;
    this.store.put(ok);
    this.sweep();
    if (refused > 0) {
      this.alertsRefused += refused;
      const also = errors.length ? `; also invalid: ${errors.join('; ')}` : '';
      throw new AlertLimitError(
        `alert limit max_alerts (${this.maxAlerts}) reached: ${refused} new alerts refused, the other ${ok.length} taken; updates of held alerts are still accepted${also}`,
      );
    }
    if (errors.length) throw new AlertValidationError(errors.join('; '));
  }

  /** Alerts held now (the usage of max_alerts). */
  get alertCount(): number {
    return this.store.size;
  }

  /** Records state changes (firing, resolved, suppressed) in the history. */
  sweep(): void {
    const now = this.clock.now();
    for (const a of this.store.list()) {
      const firing = !isResolved(a, now);
      const prev = this.known.get(a.fingerprint);
      const status = firing ? this.status(a) : undefined;
      const suppressed = status?.state === 'suppressed';
      const base = { time: now, fingerprint: a.fingerprint, labels: a.labels };
      const fired = firing && (!prev || !prev.firing || prev.startsAt !== a.startsAt);
      if (fired) this.history.add({ ...base, time: a.startsAt, type: 'firing' });
      // A tiered alert that changed tier is the same alert updated: one entry per change.
      if (firing && !fired && a.tier !== undefined && prev?.tier !== undefined && a.tier !== prev.tier) {
        const ev: HistoryEvent = { ...base, type: a.tier > prev.tier ? 'escalated' : 'de-escalated', severity: a.labels[SEVERITY_LABEL] ?? '' };
        if (prev.severity !== undefined) ev.previousSeverity = prev.severity;
        this.history.add(ev);
      }
      if (!firing && prev?.firing) {
        if (!this.acks.resolvedByHand(a.fingerprint, a.startsAt)) this.history.add({ ...base, time: a.endsAt, type: 'resolved' });
        this.stats.resolved(a.endsAt - a.startsAt);
      }
      // An alert that resolves while suppressed was never released: no "unsuppressed" event for it.
      if (firing && suppressed !== (prev?.suppressed ?? false)) {
        const ev: HistoryEvent = { ...base, type: suppressed ? 'suppressed' : 'unsuppressed' };
        if (status?.silencedBy.length) ev.silencedBy = status.silencedBy;
        if (status?.inhibitedBy.length) ev.inhibitedBy = status.inhibitedBy;
        this.history.add(ev);
      }
      this.known.set(a.fingerprint, { firing, suppressed, startsAt: a.startsAt, ...this.tierState(a) });
    }
  }

  /** What {@link sweep} remembers of a tiered alert's tier. */
  private tierState(a: Alert): { tier?: number; severity?: string } {
    return a.tier === undefined ? {} : { tier: a.tier, severity: a.labels[SEVERITY_LABEL] ?? '' };
  }

  /** Every stored alert that is still firing. */
  alerts(): Alert[] {
    const now = this.clock.now();
    return this.store.list().filter((a) => !isResolved(a, now));
  }

  /** One stored alert (firing or resolved). */
  alert(fp: string): Alert | undefined {
    return this.store.get(fp);
  }

  /** Silenced, inhibited and muted state of an alert now. */
  status(a: Alert): AlertStatus {
    const m = this.pipeline.muteStatus(a);
    const mutedBy: string[] = [];
    for (const r of matchRoutes(this.cfg.route, a.labels)) {
      if (this.pipeline.timeMuted(r, this.clock.now())) mutedBy.push(...r.muteTimeIntervals, ...r.activeTimeIntervals);
    }
    const suppressed = m.silencedBy.length > 0 || m.inhibitedBy.length > 0 || mutedBy.length > 0;
    return { state: suppressed ? 'suppressed' : 'active', ...m, mutedBy };
  }

  /** Names of the receivers an alert routes to. */
  receiversOf(a: Alert): string[] {
    return [...new Set(matchRoutes(this.cfg.route, a.labels).map((r) => r.receiver))];
  }

  /** The live aggregation groups. */
  groups(): AggrGroup[] {
    return this.dispatcher?.list() ?? [];
  }

  /** The acknowledgement in force for an alert. */
  ackOf(a: Alert): Ack | undefined {
    return this.acks.active(a);
  }

  private targets(t: AlertTarget): Alert[] {
    const now = this.clock.now();
    if (t.fingerprint) {
      const a = this.store.get(t.fingerprint);
      return a && !isResolved(a, now) ? [a] : [];
    }
    const out = new Map<string, Alert>();
    for (const g of this.groups()) if (g.key === t.groupKey) for (const a of g.alerts.values()) if (!isResolved(a, now)) out.set(a.fingerprint, a);
    return [...out.values()];
  }

  /**
   * Acknowledges an alert or a group's firing alerts: repeats stop until the group changes, and
   * PagerDuty hears of it. Returns the acknowledged fingerprints (empty: nothing firing matched).
   */
  async acknowledge(t: AlertTarget, by: string, comment: string, expiresAt = 0): Promise<string[]> {
    const alerts = this.targets(t);
    const now = this.clock.now();
    for (const a of alerts) {
      const already = this.acks.active(a);
      this.acks.ack(a, by, comment, expiresAt);
      if (!already) this.stats.acked(now - a.startsAt);
      this.history.add({ time: now, type: 'acknowledged', fingerprint: a.fingerprint, labels: a.labels, by, comment });
    }
    const fps = new Set(alerts.map((a) => a.fingerprint));
    const groups = this.groups().filter((g) => [...g.alerts.keys()].some((fp) => fps.has(fp)));
    await Promise.all(groups.map((g) => this.pipeline.acknowledge(g)));
    return [...fps];
  }

  /** Withdraws an acknowledgement. */
  unacknowledge(fp: string, by: string): boolean {
    const a = this.store.get(fp);
    const had = this.acks.unack(fp);
    if (had && a) this.history.add({ time: this.clock.now(), type: 'unacknowledged', fingerprint: fp, labels: a.labels, by });
    return had;
  }

  /** Resolves alerts by hand; re-sends of the same occurrence do not re-open them. Returns the fingerprints. */
  resolve(t: AlertTarget, by: string, comment: string): string[] {
    const alerts = this.targets(t);
    const now = this.clock.now();
    for (const a of alerts) {
      this.acks.resolve(a, by, comment);
      this.history.add({ time: now, type: 'manually_resolved', fingerprint: a.fingerprint, labels: a.labels, by, comment });
      this.store.put([{ ...a, endsAt: now, updatedAt: now, timeout: false }]);
    }
    this.sweep();
    return alerts.map((a) => a.fingerprint);
  }

  /** Counts for statistics and metrics. */
  counts(): { bySeverityState: Map<string, number>; received: { firing: number; resolved: number; invalid: number } } {
    const m = new Map<string, number>();
    for (const a of this.alerts()) {
      const k = `${a.labels['severity'] ?? ''}\u0000${this.status(a).state}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return { bySeverityState: m, received: { ...this.received } };
  }

  /** The delivery health of every configured receiver integration (flagged when its last attempt failed). */
  receiverHealth(): ReceiverHealth[] {
    return receiverHealth(this.cfg, this.stats);
  }

  /** A notification count summed over receivers, for each integration type Vigil has. */
  private byIntegration(count: (s: IntegrationStats) => number): SelfSample[] {
    const sums = new Map<string, number>(INTEGRATION_TYPES.map((t) => [t, 0]));
    for (const s of this.stats.integrations()) sums.set(s.integration, (sums.get(s.integration) ?? 0) + count(s));
    return [...sums].map(([integration, value]) => ({ labels: { integration }, value }));
  }

  /** Registers the router's metrics (Alertmanager's names where they exist, `vigil_alertmanager_*` for extras). */
  register(reg: SelfRegistry): void {
    this.pipeline.register(reg);
    reg.register('alertmanager_alerts', 'gauge', 'How many alerts by state.', () => {
      const c = { active: 0, suppressed: 0 };
      for (const a of this.alerts()) c[this.status(a).state]++;
      return Object.entries(c).map(([state, value]) => ({ labels: { state }, value }));
    });
    reg.register('alertmanager_alerts_received_total', 'counter', 'The total number of received alerts.', () => [
      { labels: { status: 'firing' }, value: this.received.firing },
      { labels: { status: 'resolved' }, value: this.received.resolved },
    ]);
    reg.register('alertmanager_alerts_invalid_total', 'counter', 'The total number of received alerts that were invalid.', () => this.received.invalid);
    // Vigil's own, per receiver; and Alertmanager's names, per integration only and every one present
    // from the start (as Alertmanager does), so its dashboards and `rate()` alerts work unchanged.
    reg.register('vigil_notifications_total', 'counter', 'Attempted notifications by receiver and integration.', () =>
      this.stats.integrations().map((s) => ({ labels: { receiver: s.receiver, integration: s.integration }, value: s.attempts })),
    );
    reg.register('vigil_notifications_failed_total', 'counter', 'Failed notifications by receiver and integration.', () =>
      this.stats.integrations().map((s) => ({ labels: { receiver: s.receiver, integration: s.integration }, value: s.failed })),
    );
    reg.register('alertmanager_notifications_total', 'counter', 'The total number of attempted notifications.', () => this.byIntegration((s) => s.attempts));
    reg.register('alertmanager_notifications_failed_total', 'counter', 'The total number of failed notifications.', () => this.byIntegration((s) => s.failed));
    reg.register('vigil_receiver_failing', 'gauge', 'Whether the last notification attempt of a configured receiver integration failed (1) or not (0).', () =>
      this.receiverHealth().map((h) => ({ labels: { receiver: h.receiver, integration: h.integration }, value: h.failing ? 1 : 0 })),
    );
    reg.register('vigil_inbox_items', 'gauge', 'Notifications kept in the inbox of inbox_configs receivers.', () => this.inbox.size);
    reg.register('alertmanager_silences', 'gauge', 'How many silences by state.', () =>
      Object.entries(this.silences.counts()).map(([state, value]) => ({ labels: { state }, value })),
    );
    reg.register('alertmanager_nflog_entries', 'gauge', 'Entries in the notification log.', () => this.nflog.size);
    reg.register('alertmanager_aggregation_groups', 'gauge', 'Number of active aggregation groups.', () => this.groups().length);
    reg.register('vigil_alertmanager_alerts_by_severity', 'gauge', 'Firing alerts by severity label and state.', () =>
      [...this.counts().bySeverityState].map(([k, value]) => {
        const [severity, state] = k.split('\u0000');
        return { labels: { severity: severity!, state: state! }, value };
      }),
    );
    reg.register(
      'vigil_alertmanager_mean_time_to_acknowledge_seconds',
      'gauge',
      'Mean time from an alert starting to its acknowledgement.',
      () => this.stats.means().meanTimeToAcknowledgeSeconds ?? 0,
    );
    reg.register(
      'vigil_alertmanager_mean_time_to_resolve_seconds',
      'gauge',
      'Mean time from an alert starting to its resolution.',
      () => this.stats.means().meanTimeToResolveSeconds ?? 0,
    );
  }
}
