/**
 * Sends rule alerts to external Alertmanagers as Prometheus' notifier does: alerts are relabeled
 * (`alert_relabel_configs`), queued (capacity 10,000; when full the oldest are dropped, as the newest
 * state of an alert supersedes the old), and sent in batches of at most 64 to every discovered
 * Alertmanager of every set with `POST /api/v2/alerts`. There is no retry: rules re-send firing alerts
 * every resend delay, and an Alertmanager cluster deduplicates what several replicas send, so a lost
 * batch costs one resend interval, never an alert. A batch counts as delivered when at least one
 * Alertmanager of each set took it; each Alertmanager's sends, errors and latency are on /metrics
 * under Prometheus' names.
 */
import { HttpClient } from '../../core/httpclient/client.js';
import { labelsFrom, labelsToRecord } from '../../core/model/labels.js';
import { SelfHistogram, type SelfRegistry, type SelfSample } from '../../core/selfmon/registry.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { compileRelabel, relabel, type CompiledRelabel } from '../../metrics/relabel/relabel.js';
import type { TargetGroup } from '../../metrics/scrape/config.js';
import { discovererFor, type Discoverer, type DiscovererOptions } from '../../metrics/scrape/discovery.js';
import type { NotifiedAlert } from '../rules/types.js';
import type { AlertingConfig, AlertmanagerSetConfig } from './config.js';

/** Prometheus' `--alertmanager.notification-queue-capacity` default. */
export const DEFAULT_QUEUE_CAPACITY = 10_000;
/** Prometheus' `maxBatchSize`. */
export const MAX_BATCH = 64;

/** The alert body of Alertmanager's v2 API. */
type PostableAlert = Omit<NotifiedAlert, 'tier'>;

export interface NotifierOptions {
  readonly logger?: Logger;
  readonly queueCapacity?: number;
  readonly discovery?: DiscovererOptions;
}

interface AlertmanagerSet {
  readonly cfg: AlertmanagerSetConfig;
  readonly client: HttpClient;
  readonly discoverer: Discoverer;
  readonly targetRules: readonly CompiledRelabel[];
  /** The alerts URL of each Alertmanager discovered now. */
  urls: string[];
}

/** The alerts URL of every target in `groups` that the set's relabeling keeps, without repeats. */
export function alertmanagerUrls(groups: readonly TargetGroup[], cfg: AlertmanagerSetConfig, rules: readonly CompiledRelabel[]): string[] {
  const alertsPath = `${cfg.pathPrefix.replace(/\/+$/, '')}/api/v2/alerts`;
  const out = new Set<string>();
  for (const g of groups) {
    for (const t of g.targets) {
      const labels = relabel(labelsFrom({ ...g.labels, ...t, __scheme__: cfg.scheme, __alerts_path__: alertsPath }), rules);
      if (labels === undefined) continue;
      const rec = labelsToRecord(labels);
      const address = rec['__address__'];
      if (!address) continue;
      out.add(`${rec['__scheme__'] ?? cfg.scheme}://${address}${rec['__alerts_path__'] ?? alertsPath}`);
    }
  }
  return [...out];
}

export class AlertmanagerNotifier {
  private readonly log: Logger;
  private readonly capacity: number;
  private readonly discovery: DiscovererOptions;
  private alertRules: readonly CompiledRelabel[] = [];
  private sets: AlertmanagerSet[] = [];
  private started = false;
  private queue: PostableAlert[] = [];
  private draining: Promise<void> | undefined;
  private stopped = false;
  private dropped = 0;
  private readonly sent = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private latency: SelfHistogram | undefined;

  constructor(cfg: AlertingConfig, opts: NotifierOptions = {}) {
    this.log = opts.logger ?? nopLogger;
    this.capacity = opts.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.discovery = opts.discovery ?? {};
    this.applyConfig(cfg);
  }

  /** Takes a new configuration (a reload): the queue and the counters stay, discovery restarts. */
  applyConfig(cfg: AlertingConfig): void {
    for (const set of this.sets) {
      set.discoverer.stop();
      set.client.close();
    }
    this.alertRules = compileRelabel(cfg.alertRelabelConfigs);
    this.sets = cfg.alertmanagers.map((set) => ({
      cfg: set,
      client: new HttpClient(set.httpClient),
      discoverer: discovererFor(set, this.discovery),
      targetRules: compileRelabel(set.relabelConfigs),
      urls: [],
    }));
    if (this.started) this.startDiscovery();
  }

  /** Starts discovery; Alertmanagers found later take the batches sent after they appear. */
  start(): void {
    this.started = true;
    this.startDiscovery();
  }

  private startDiscovery(): void {
    for (const set of this.sets) {
      set.discoverer.start((groups) => {
        set.urls = alertmanagerUrls(groups, set.cfg, set.targetRules);
        this.log.info('alertmanagers discovered', { count: set.urls.length, urls: set.urls.join(' ') });
      });
    }
  }

  /** Alertmanagers discovered now, over every set. */
  alertmanagers(): string[] {
    return this.sets.flatMap((s) => s.urls);
  }

  /** Queues alerts for sending (never waits for the network). */
  send(alerts: readonly NotifiedAlert[]): void {
    if (this.stopped || this.sets.length === 0) return;
    for (const a of alerts) {
      const labels = relabel(labelsFrom(a.labels), this.alertRules);
      if (labels === undefined || labels.length === 0) continue;
      this.queue.push({ labels: labelsToRecord(labels), annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL });
    }
    const over = this.queue.length - this.capacity;
    if (over > 0) {
      this.queue.splice(0, over);
      this.dropped += over;
      this.log.warn('alert notification queue full, dropped the oldest alerts', { count: over });
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const body = JSON.stringify(batch);
      const results = await Promise.all(this.sets.map((set) => this.sendToSet(set, body, batch.length)));
      if (this.sets.length > 0 && !results.some(Boolean)) this.log.error('no alertmanager took the alerts', { count: batch.length });
    }
  }

  /** True when at least one Alertmanager of the set took the batch. */
  private async sendToSet(set: AlertmanagerSet, body: string, n: number): Promise<boolean> {
    const oks = await Promise.all(
      set.urls.map(async (url) => {
        const t0 = performance.now();
        try {
          const res = await set.client.request('POST', url, { headers: { 'content-type': 'application/json' }, body, timeoutMs: set.cfg.timeoutMs });
          if (res.status < 200 || res.status > 299) throw new Error(`bad response status ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
          this.sent.set(url, (this.sent.get(url) ?? 0) + n);
          return true;
        } catch (err) {
          this.errors.set(url, (this.errors.get(url) ?? 0) + n);
          this.log.warn('sending alerts to an alertmanager failed', { alertmanager: url, count: n, err: (err as Error).message });
          return false;
        } finally {
          this.latency?.observe([url], (performance.now() - t0) / 1000);
        }
      }),
    );
    return oks.some(Boolean);
  }

  /** Stops discovery after sending what is queued (for at most `graceMs`), as Prometheus drains on shutdown. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.draining, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const set of this.sets) {
      set.discoverer.stop();
      set.client.close();
    }
  }

  register(reg: SelfRegistry): void {
    const perAm = (m: Map<string, number>) => (): SelfSample[] =>
      this.alertmanagers()
        .concat([...m.keys()].filter((u) => !this.alertmanagers().includes(u)))
        .map((url) => ({ labels: { alertmanager: url }, value: m.get(url) ?? 0 }));
    reg.register('prometheus_notifications_sent_total', 'counter', 'Alerts sent, per Alertmanager.', perAm(this.sent));
    reg.register('prometheus_notifications_errors_total', 'counter', 'Alerts whose sending failed, per Alertmanager.', perAm(this.errors));
    reg.register('prometheus_notifications_dropped_total', 'counter', 'Alerts dropped because the queue was full.', () => this.dropped);
    reg.register('prometheus_notifications_queue_length', 'gauge', 'Alerts waiting in the queue.', () => this.queue.length);
    reg.register('prometheus_notifications_queue_capacity', 'gauge', 'Capacity of the alert queue.', () => this.capacity);
    reg.register('prometheus_notifications_alertmanagers_discovered', 'gauge', 'Alertmanagers discovered and active.', () => this.alertmanagers().length);
    this.latency = new SelfHistogram(
      reg,
      'prometheus_notifications_latency_seconds',
      'Latency of sending alerts to an Alertmanager.',
      ['alertmanager'],
      [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10],
    );
  }
}
