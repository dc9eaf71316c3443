/**
 * The dispatcher: finds the routes an alert matches and puts it into the aggregation group of each
 * route and group label set. A group waits group_wait before its first notification (none if its
 * alert is already older than that), then flushes every group_interval; it disappears once a
 * successful flush leaves it with no alerts.
 */
import type { Clock, Timer } from '../../core/time/clock.js';
import type { AlertmanagerConfig, Route } from './config.js';
import { formatLabelSet, isResolved, matchesAll, pickLabels, type Alert, type LabelSet } from './types.js';

/** The routes an alert goes to, depth first, honouring `continue` (Alertmanager's `Route.Match`). */
export function matchRoutes(route: Route, labels: LabelSet): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const m = matchRoutes(child, labels);
    all.push(...m);
    if (m.length > 0 && !child.continue) break;
  }
  if (all.length === 0) all.push(route);
  return all;
}

/** Sends a group's alerts through the pipeline; true when every integration succeeded. */
export type FlushFn = (group: AggrGroup, alerts: Alert[]) => Promise<boolean>;

/** The alerts of one route with equal values of the group_by labels. */
export class AggrGroup {
  /** Alerts by fingerprint. */
  readonly alerts = new Map<string, Alert>();
  private timer: Timer | undefined;
  private hasFlushed = false;
  private flushing = false;
  private stopped = false;

  constructor(
    readonly route: Route,
    readonly labels: LabelSet,
    /** Alertmanager's group key: `route key:group labels`. */
    readonly key: string,
    private readonly clock: Clock,
    private readonly flushFn: FlushFn,
    private readonly onEmpty: (g: AggrGroup) => void,
  ) {
    this.schedule(route.groupWaitMs);
  }

  /** Adds or replaces an alert. */
  insert(a: Alert): void {
    this.alerts.set(a.fingerprint, a);
    // An alert that has been waiting longer than group_wait (e.g. after a restart) is not held back.
    if (!this.hasFlushed && a.startsAt + this.route.groupWaitMs <= this.clock.now()) this.schedule(0);
  }

  /**
   * Takes out an alert that moved to another group (a tiered alert whose new severity routes or
   * groups elsewhere). It leaves without a "resolved": it did not resolve. An emptied group ends.
   */
  remove(fp: string): void {
    if (!this.alerts.delete(fp) || this.alerts.size > 0) return;
    this.stop();
    this.onEmpty(this);
  }

  /** Cancels the timer; the group does nothing after this. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimer(() => this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.schedule(this.route.groupIntervalMs);
    // A flush still retrying holds the next one back, as Alertmanager's group loop does.
    if (this.flushing) return;
    this.flushing = true;
    this.hasFlushed = true;
    try {
      await this.flush();
    } finally {
      this.flushing = false;
    }
  }

  private async flush(): Promise<void> {
    const snapshot = [...this.alerts.values()];
    if (snapshot.length === 0) return;
    const ok = await this.flushFn(this, snapshot);
    if (!ok || this.stopped) return;
    const now = this.clock.now();
    // Resolved alerts that were delivered leave the group, unless they changed meanwhile.
    for (const a of snapshot) {
      const cur = this.alerts.get(a.fingerprint);
      if (cur && isResolved(a, now) && cur.updatedAt === a.updatedAt && cur.endsAt === a.endsAt) this.alerts.delete(a.fingerprint);
    }
    if (this.alerts.size === 0) {
      this.stop();
      this.onEmpty(this);
    }
  }
}

/** Routes alerts into aggregation groups. */
export class Dispatcher {
  private readonly groups = new Map<string, AggrGroup>();

  constructor(
    private readonly cfg: AlertmanagerConfig,
    private readonly clock: Clock,
    private readonly flushFn: FlushFn,
  ) {}

  /** Puts an alert into its groups. */
  process(a: Alert): void {
    const ids = new Set<string>();
    for (const route of matchRoutes(this.cfg.route, a.labels)) {
      const labels = pickLabels(a.labels, route.groupBy, route.groupByAll);
      const key = `${route.key}:${formatLabelSet(labels)}`;
      const id = `${route.id}\u0000${key}`;
      ids.add(id);
      let g = this.groups.get(id);
      if (!g) {
        g = new AggrGroup(route, labels, key, this.clock, this.flushFn, (done) => {
          if (this.groups.get(id) === done) this.groups.delete(id);
        });
        this.groups.set(id, g);
      }
      g.insert(a);
    }
    // Only a tiered alert changes labels under one fingerprint, so only it can leave a group.
    if (a.tier !== undefined) for (const [id, g] of [...this.groups]) if (!ids.has(id) && g.alerts.has(a.fingerprint)) g.remove(a.fingerprint);
  }

  /** Every live group. */
  list(): AggrGroup[] {
    return [...this.groups.values()];
  }

  /** Stops every group. */
  stop(): void {
    for (const g of this.groups.values()) g.stop();
    this.groups.clear();
  }
}
