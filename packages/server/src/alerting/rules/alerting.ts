/**
 * Alerting rules, after Prometheus' `rules/alerting.go`: the inactive → pending → firing state
 * machine with `for` and `keep_firing_for`, resolved alerts kept for 15 minutes and re-sent, the
 * `ALERTS` / `ALERTS_FOR_STATE` series, the resend schedule and the `for` state restore.
 */
import { type Label, type Labels, labelsKey, labelsToRecord, METRIC_NAME, sortLabels } from '../../core/model/labels.js';
import { expandAlertTemplate, prometheusFuncs, toQuerySamples, type QuerySample } from '../template/index.js';
import {
  resultToVector,
  type AlertState,
  type NotifiedAlert,
  type QueryFn,
  type RuleHealth,
  type RuleLanguage,
  type RuleQueryResult,
  type RuleSample,
} from './types.js';
import { SEVERITY_LABEL, tierOf, type SeverityTiers } from './tiers.js';

/** How long a resolved alert is kept (and re-sent) after it resolves. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** One alert of a rule. Times are ms since the epoch; 0 means never. */
export interface Alert {
  state: AlertState;
  /** Its labels; a tiered rule's alert changes only its `severity` label. */
  labels: Labels;
  annotations: Record<string, string>;
  value: number;
  activeAt: number;
  firedAt: number;
  resolvedAt: number;
  lastSentAt: number;
  validUntil: number;
  keepFiringSince: number;
  /** Tiered rules: the current tier (index into the rule's tiers, lowest first). */
  tier?: number;
  /** Tiered rules: since when the value has been in a lower tier (0: it is not), and the highest such tier. */
  lowerSince?: number;
  lowerPeak?: number;
  /** Tiered rules: escalated since the last send, so it is sent at once. */
  escalated?: boolean;
  /** Tiered rules: every severity the alert had, from when (one entry per change). */
  tierChanges?: Array<{ t: number; severity: string }>;
}

/** What an alerting rule is built from. */
export interface AlertingRuleOptions {
  readonly name: string;
  readonly expr: string;
  /** The expression's language: where alerts link to, and annotations it adds. */
  readonly language: RuleLanguage;
  readonly holdMs: number;
  readonly keepFiringForMs: number;
  /** Rule labels (group labels already merged in), values may be templates. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  /** False until the `for` state has been restored; ALERTS series are written only after. */
  readonly restored: boolean;
  /** Hears template errors (the alert still fires with the error text). */
  readonly onTemplateError?: (message: string) => void;
  /** Dynamic severity: the `severity` label follows the value's tier (tiers.ts). */
  readonly tiers?: SeverityTiers;
}

/** The labels with `severity` set to `value`. */
function withSeverity(labels: Labels, value: string): Labels {
  return sortLabels([...labels.filter((l) => l.name !== SEVERITY_LABEL), { name: SEVERITY_LABEL, value }]);
}

/** A label set for ALERTS-style series: the alert's labels plus `__name__` (and `alertstate`). */
function withName(labels: Labels, name: string, state?: AlertState): Labels {
  const out: Label[] = labels.filter((l) => l.name !== METRIC_NAME && l.name !== 'alertstate');
  out.push({ name: METRIC_NAME, value: name });
  if (state !== undefined) out.push({ name: 'alertstate', value: state });
  return sortLabels(out);
}

/** An alerting rule and its active alerts. */
export class AlertingRule {
  readonly kind = 'alerting' as const;
  readonly name: string;
  readonly expr: string;
  readonly holdMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Dynamic severity (`threshold` and `severity_tiers`), if the rule has it. */
  readonly tiers: SeverityTiers | undefined;
  /** Active alerts by label-set key. */
  active = new Map<string, Alert>();
  restored: boolean;
  health: RuleHealth = 'unknown';
  lastError = '';
  lastEvaluation = 0;
  evaluationMs = 0;
  private readonly opts: AlertingRuleOptions;

  constructor(opts: AlertingRuleOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.expr = opts.expr;
    this.holdMs = opts.holdMs;
    this.keepFiringForMs = opts.keepFiringForMs;
    this.labels = opts.labels;
    this.annotations = opts.annotations;
    this.tiers = opts.tiers;
    this.restored = opts.restored;
  }

  /** A key that is equal for rules Prometheus would treat as the same on reload. */
  identity(): string {
    const ident: unknown[] = ['alert', this.name, this.expr, this.holdMs, this.keepFiringForMs, this.labels, this.annotations];
    if (this.opts.tiers) ident.push(this.opts.tiers);
    return JSON.stringify(ident);
  }

  /** Takes over the alerts of the same rule from before a reload. */
  copyState(from: AlertingRule): void {
    this.active = from.active;
    this.restored = from.restored || this.restored;
    this.health = from.health;
    this.lastError = from.lastError;
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationMs = from.evaluationMs;
  }

  /**
   * Evaluates the rule at `ts` (querying at `ts - queryOffset`) and advances the state machine.
   * Returns the ALERTS and ALERTS_FOR_STATE samples to write. Throws on a query error or limit.
   */
  async eval(ts: number, queryOffsetMs: number, query: QueryFn, limit: number, signal?: AbortSignal): Promise<RuleSample[]> {
    const evalT = ts - queryOffsetMs;
    const res = await query(this.expr, evalT, signal);
    const vector = resultToVector(res);
    const templateQuery = (q: string): QuerySample[] => {
      const r = (query.sync ?? query)(q, ts);
      if (r instanceof Promise) throw new Error('query is not available: the query function is asynchronous');
      return toQuerySamples(resultToVector(r as RuleQueryResult).map((s) => ({ labels: labelsToRecord(s.metric), value: s.v })));
    };
    const fresh = new Map<string, Alert>();
    /** The query result's labels of each alert, for the language's annotations. */
    const resultLabels = new Map<string, Labels>();
    const funcs = prometheusFuncs({ externalURL: this.opts.externalURL, query: templateQuery });
    const name = `__alert_${this.name}`;
    const ruleLabels = Object.entries(this.labels);
    const ruleAnnotations = Object.entries(this.annotations);
    const tiers = this.opts.tiers;
    for (const smpl of vector) {
      // A tiered rule alerts only from its lowest tier up.
      const tier = tiers ? tierOf(tiers, smpl.v) : -1;
      if (tiers && tier < 0) continue;
      const data = { labels: labelsToRecord(smpl.metric), externalLabels: this.opts.externalLabels, externalURL: this.opts.externalURL, value: smpl.v };
      const expand = (text: string): string => expandAlertTemplate(text, { name, data, funcs }, this.opts.onTemplateError);
      const lb = new Map<string, string>();
      for (const l of smpl.metric) if (l.name !== METRIC_NAME) lb.set(l.name, l.value);
      for (const [k, v] of ruleLabels) lb.set(k, expand(v));
      lb.set('alertname', this.name);
      // The tier's severity is not part of the alert's identity: the same alert changes tier.
      if (tiers) lb.delete(SEVERITY_LABEL);
      const annotations: Record<string, string> = {};
      for (const [k, v] of ruleAnnotations) annotations[k] = expand(v);
      const identity = sortLabels([...lb].filter(([, v]) => v !== '').map(([name, value]) => ({ name, value })));
      const labels = tiers ? withSeverity(identity, tiers.tiers[tier]!.name) : identity;
      const h = labelsKey(identity);
      if (fresh.has(h)) throw new Error('vector contains metrics with the same labelset after applying alert labels');
      resultLabels.set(h, smpl.metric);
      fresh.set(h, {
        state: 'pending',
        labels,
        annotations,
        value: smpl.v,
        activeAt: ts,
        firedAt: 0,
        resolvedAt: 0,
        lastSentAt: 0,
        validUntil: 0,
        keepFiringSince: 0,
        ...(tiers ? { tier, lowerSince: 0, lowerPeak: -1, tierChanges: [{ t: ts, severity: tiers.tiers[tier]!.name }] } : {}),
      });
    }
    for (const [h, a] of fresh) {
      const cur = this.active.get(h);
      if (cur !== undefined && cur.state !== 'inactive') {
        cur.value = a.value;
        cur.annotations = a.annotations;
        if (tiers) this.followTier(cur, a.tier!, ts, tiers);
      } else this.active.set(h, a);
    }
    const extra = this.opts.language.alertAnnotations;
    if (extra !== undefined) {
      for (const [h, metric] of resultLabels) {
        const a = this.active.get(h)!;
        a.annotations = { ...extra(this.opts.externalURL, this.expr, metric, a.activeAt, evalT), ...a.annotations };
      }
    }
    const out: RuleSample[] = [];
    let numActive = 0;
    for (const [h, a] of this.active) {
      if (!fresh.has(h)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.keepFiringForMs > 0) {
          if (a.keepFiringSince === 0) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.keepFiringForMs) keepFiring = true;
        }
        // Pending alerts vanish; resolved ones are kept for the retention period and re-sent.
        if (a.state === 'pending' || (a.resolvedAt !== 0 && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) this.active.delete(h);
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = 0;
      }
      numActive++;
      if (a.state === 'pending' && ts - a.activeAt >= this.holdMs) {
        a.state = 'firing';
        a.firedAt = ts;
      }
      if (this.restored) {
        out.push({ metric: withName(a.labels, 'ALERTS', a.state), t: evalT, v: 1 });
        out.push({ metric: withName(a.labels, 'ALERTS_FOR_STATE'), t: evalT, v: Math.floor(a.activeAt / 1000) });
      }
    }
    if (limit > 0 && numActive > limit) {
      this.active = new Map();
      throw new Error(`exceeded limit of ${limit} with ${numActive} alerts`);
    }
    return out;
  }

  /** Alerts due for sending at `ts`, marked as sent; Prometheus' `sendAlerts` + `needsSending`. */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'pending') continue;
      // An escalated tier is news: sent at once, not at the next resend.
      const due = a.resolvedAt > a.lastSentAt || a.lastSentAt + resendDelayMs < ts || a.escalated === true;
      if (!due) continue;
      a.lastSentAt = ts;
      a.escalated = false;
      // Valid for two missed evaluations or sends.
      a.validUntil = ts + 4 * Math.max(resendDelayMs, intervalMs);
      out.push({ ...a, annotations: { ...a.annotations } });
    }
    return out;
  }

  /**
   * Moves a tiered alert to the value's tier `tier`: up at once (and marked for sending when firing),
   * down only once the value has stayed in lower tiers for the rule's `for`, then to the highest of them.
   */
  private followTier(a: Alert, tier: number, ts: number, tiers: SeverityTiers): void {
    const cur = a.tier ?? tier;
    const move = (to: number): void => {
      a.tier = to;
      a.labels = withSeverity(a.labels, tiers.tiers[to]!.name);
      (a.tierChanges ??= []).push({ t: ts, severity: tiers.tiers[to]!.name });
      a.lowerSince = 0;
      a.lowerPeak = -1;
    };
    if (tier > cur) {
      move(tier);
      if (a.state === 'firing') a.escalated = true;
    } else if (tier < cur) {
      if (!a.lowerSince) a.lowerSince = ts;
      a.lowerPeak = Math.max(a.lowerPeak ?? -1, tier);
      if (ts - a.lowerSince >= this.holdMs) move(a.lowerPeak);
    } else {
      a.lowerSince = 0;
      a.lowerPeak = -1;
    }
  }

  /** Alerts currently pending or firing (not the resolved ones kept for re-sending). */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.state !== 'inactive');
  }

  /** The rule's overall state: firing if any alert fires, else pending if any is pending. */
  state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') s = 'pending';
    }
    return s;
  }

  /**
   * Restores `activeAt` of active alerts from the ALERTS_FOR_STATE samples of the last
   * `outageToleranceMs`, as Prometheus' `RestoreForState` does, using a range query.
   */
  async restoreForState(ts: number, query: QueryFn, outageToleranceMs: number, gracePeriodMs: number): Promise<void> {
    if (this.holdMs < gracePeriodMs || this.active.size === 0) {
      this.restored = true;
      return;
    }
    const matchers = [`alertname=${JSON.stringify(this.name)}`];
    for (const [k, v] of Object.entries(this.labels)) if (!v.includes('{{')) matchers.push(`${k}=${JSON.stringify(v)}`);
    const expr = `ALERTS_FOR_STATE{${matchers.join(',')}}[${Math.max(1, Math.floor(outageToleranceMs / 1000))}s]`;
    const res = await query(expr, ts);
    const bySeries = new Map<string, { t: number; v: number }>();
    if (res.type === 'matrix') {
      for (const s of res.series) {
        const last = s.points[s.points.length - 1];
        if (last !== undefined) bySeries.set(labelsKey(s.metric.filter((l) => l.name !== METRIC_NAME)), last);
      }
    }
    for (const a of this.active.values()) {
      const last = bySeries.get(labelsKey(a.labels));
      if (last === undefined || Number.isNaN(last.v)) continue;
      const downAt = Math.floor(last.t / 1000) * 1000;
      let restoredActiveAt = Math.trunc(last.v) * 1000;
      const remaining = this.holdMs - (downAt - restoredActiveAt);
      if (remaining <= 0) {
        // It was firing when we went down; the next evaluation keeps it firing.
      } else if (remaining < gracePeriodMs) {
        restoredActiveAt = ts + gracePeriodMs - this.holdMs;
      } else {
        restoredActiveAt += ts - downAt;
      }
      a.activeAt = restoredActiveAt;
    }
    this.restored = true;
  }

  /** Where this rule's alerts link to (Alertmanager's generatorURL). */
  generatorURL(externalURL: string): string {
    return this.opts.language.generatorURL(externalURL, this.expr);
  }

  /** For logs and errors. */
  toString(): string {
    return `alert: ${this.name} expr: ${this.expr}`;
  }
}

/** Converts alerts to what Alertmanager receives, as Prometheus' `sendAlerts` does. */
export function toNotified(alerts: readonly Alert[], generatorURL: string, externalLabels: Readonly<Record<string, string>>): NotifiedAlert[] {
  return alerts.map((a) => {
    const labels = labelsToRecord(a.labels);
    // The notifier adds external labels the alert does not already carry.
    for (const [k, v] of Object.entries(externalLabels)) if (!labels[k]) labels[k] = v;
    return {
      labels,
      annotations: { ...a.annotations },
      startsAt: new Date(a.firedAt).toISOString(),
      endsAt: new Date(a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil).toISOString(),
      generatorURL,
      ...(a.tier !== undefined ? { tier: a.tier } : {}),
    };
  });
}
