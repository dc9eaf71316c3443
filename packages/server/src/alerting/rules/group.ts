/**
 * A rule group, after Prometheus' `rules/group.go`: its rules run in order at one evaluation time,
 * every interval, at an offset within the interval derived from the group's hash. Results are
 * written through the Appendable with staleness markers for series that disappear; alerts due are
 * handed to the notify function.
 */
import { labelsKey, type Labels } from '../../core/model/labels.js';
import { STALE_NAN } from '../../core/model/value.js';
import type { Appendable } from '../../metrics/storage/interface.js';
import type { Logger } from '../../core/util/log.js';
import { AlertingRule, toNotified } from './alerting.js';
import { groupHash } from './hash.js';
import type { RecordingRule } from './recording.js';
import type { Clock, Timer } from '../../core/time/clock.js';
import type { NotifyFn, QueryFn } from './types.js';

/** Either kind of rule. */
export type Rule = AlertingRule | RecordingRule;

/** Everything a group needs from the manager. */
export interface GroupContext {
  readonly queryFn: QueryFn;
  /** Reads `ALERTS_FOR_STATE` where `appendable` wrote it (the restore of `for` state); default `queryFn`. */
  readonly restoreQueryFn?: QueryFn;
  readonly notifyFn: NotifyFn;
  readonly appendable: Appendable;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly resendDelayMs: number;
  readonly outageToleranceMs: number;
  readonly gracePeriodMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Static definition of a group. */
export interface GroupSpec {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
  readonly queryOffsetMs: number;
  readonly limit: number;
  readonly rules: Rule[];
  /** Restore `for` state after the second evaluation (true for groups loaded at startup). */
  readonly shouldRestore: boolean;
}

function ruleKey(r: Rule): string {
  return `${r.kind}\x00${r.name}\x00${JSON.stringify(Object.entries(r.labels).sort())}`;
}

/** A group of rules evaluated together. */
export class Group {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
  readonly queryOffsetMs: number;
  readonly limit: number;
  readonly rules: Rule[];
  /** Start of the last evaluation (ms), 0 before the first. */
  lastEvaluation = 0;
  /** Wall time the last evaluation took, ms. */
  evaluationMs = 0;
  iterationsTotal = 0;
  iterationsMissed = 0;
  evalFailures = 0;
  private seriesInPreviousEval: Map<string, Labels>[];
  private staleSeries: Labels[] = [];
  private shouldRestore: boolean;
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private evalTs = 0;

  constructor(
    spec: GroupSpec,
    private readonly ctx: GroupContext,
  ) {
    this.name = spec.name;
    this.file = spec.file;
    this.intervalMs = spec.intervalMs;
    this.queryOffsetMs = spec.queryOffsetMs;
    this.limit = spec.limit;
    this.rules = spec.rules;
    this.shouldRestore = spec.shouldRestore;
    this.seriesInPreviousEval = spec.rules.map(() => new Map());
  }

  /** The key Prometheus uses for metrics and reload matching: `file;name`. */
  get key(): string {
    return `${this.file};${this.name}`;
  }

  /** The aligned evaluation time at or before `startMs` (Prometheus' `EvalTimestamp`). */
  evalTimestamp(startMs: number): number {
    // Prometheus works in nanoseconds; the offset is the group hash modulo the interval.
    const intervalNs = BigInt(Math.round(this.intervalMs * 1e6));
    const offsetNs = groupHash(this.file, this.name) % intervalNs;
    const adj = BigInt(Math.round(startMs)) * 1_000_000n - offsetNs;
    const base = adj - (((adj % intervalNs) + intervalNs) % intervalNs);
    // Round up to whole ms so the evaluation never precedes its slot.
    return Number((base + offsetNs + 999_999n) / 1_000_000n);
  }

  /** True when `other` has the same definition (Prometheus' `Group.Equals`). */
  equals(other: Group): boolean {
    if (this.name !== other.name || this.file !== other.file || this.intervalMs !== other.intervalMs) return false;
    if (this.queryOffsetMs !== other.queryOffsetMs || this.limit !== other.limit || this.rules.length !== other.rules.length) return false;
    return this.rules.every((r, i) => r.identity() === other.rules[i]!.identity());
  }

  /** Takes over alert state and recorded-series tracking from the previous version of the group. */
  copyState(from: Group): void {
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationMs = from.evaluationMs;
    const byKey = new Map<string, number[]>();
    from.rules.forEach((r, i) => byKey.set(ruleKey(r), [...(byKey.get(ruleKey(r)) ?? []), i]));
    this.rules.forEach((r, i) => {
      const idx = byKey.get(ruleKey(r));
      if (idx === undefined || idx.length === 0) return;
      const fi = idx.shift()!;
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[fi]!;
      const old = from.rules[fi]!;
      if (r instanceof AlertingRule && old instanceof AlertingRule) r.copyState(old);
      else if (r.kind === 'recording' && old.kind === 'recording') r.copyState(old);
    });
    this.staleSeries = [...from.staleSeries];
    // Series of rules that are gone get staleness markers at the next evaluation.
    for (const idx of byKey.values()) for (const fi of idx) this.staleSeries.push(...from.seriesInPreviousEval[fi]!.values());
  }

  /** Evaluates every rule once at `ts` (ms). */
  async eval(ts: number): Promise<void> {
    const { queryFn, notifyFn, appendable, logger } = this.ctx;
    const t0 = performance.now();
    // A group's evaluation may take at most its interval: past that, its queries are stopped (the
    // next evaluation is due) instead of piling up behind one another.
    // (Timers take at most 2^31-1 ms, about 24.8 days; a longer interval has no timeout.)
    const signal = this.intervalMs <= 0x7fffffff ? AbortSignal.timeout(this.intervalMs) : undefined;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const r0 = performance.now();
      rule.lastEvaluation = ts;
      try {
        let vector;
        try {
          vector = await rule.eval(ts, this.queryOffsetMs, queryFn, this.limit, signal);
        } catch (err) {
          rule.health = 'err';
          rule.lastError = (err as Error).message;
          this.evalFailures++;
          logger.warn('evaluating rule failed', { group: this.name, rule: rule.name, index: i, err: rule.lastError });
          continue;
        }
        rule.health = 'ok';
        rule.lastError = '';
        if (rule instanceof AlertingRule) {
          const due = rule.alertsToSend(ts, this.ctx.resendDelayMs, this.intervalMs);
          if (due.length > 0) {
            try {
              await notifyFn(toNotified(due, rule.generatorURL(this.ctx.externalURL), this.ctx.externalLabels));
            } catch (err) {
              logger.warn('sending alerts failed', { group: this.name, rule: rule.name, err: (err as Error).message });
            }
          }
        }
        const app = appendable.appender();
        const returned = new Map<string, Labels>();
        for (const s of vector) {
          try {
            app.append(0, s.metric, s.t, s.v);
            returned.set(labelsKey(s.metric), s.metric);
          } catch (err) {
            rule.health = 'err';
            rule.lastError = (err as Error).message;
          }
        }
        const staleT = ts - this.queryOffsetMs;
        for (const [k, lset] of this.seriesInPreviousEval[i]!) {
          if (returned.has(k)) continue;
          try {
            app.append(0, lset, staleT, STALE_NAN);
          } catch {
            // Expected when another rule now writes the series.
          }
        }
        app.commit();
        this.seriesInPreviousEval[i] = returned;
      } finally {
        rule.evaluationMs = performance.now() - r0;
      }
    }
    if (this.staleSeries.length > 0) this.writeStale(this.staleSeries, ts - this.queryOffsetMs);
    this.staleSeries = [];
    this.lastEvaluation = ts;
    this.evaluationMs = performance.now() - t0;
    this.iterationsTotal++;
  }

  private writeStale(series: readonly Labels[], t: number): void {
    const app = this.ctx.appendable.appender();
    for (const lset of series) {
      try {
        app.append(0, lset, t, STALE_NAN);
      } catch {
        // Out of order or duplicate: a newer sample already exists, nothing to mark.
      }
    }
    app.commit();
  }

  /** Restores the `for` state of every alerting rule (after the second evaluation at startup). */
  async restoreForState(ts: number): Promise<void> {
    for (const r of this.rules) {
      if (!(r instanceof AlertingRule)) continue;
      try {
        await r.restoreForState(ts, this.ctx.restoreQueryFn ?? this.ctx.queryFn, this.ctx.outageToleranceMs, this.ctx.gracePeriodMs);
      } catch (err) {
        r.restored = true;
        this.ctx.logger.warn('restoring alert state failed', { group: this.name, rule: r.name, err: (err as Error).message });
      }
    }
  }

  /** Starts periodic evaluation at the group's aligned times. Idempotent. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const { clock } = this.ctx;
    this.evalTs = this.evalTimestamp(clock.now()) + this.intervalMs;
    this.schedule(this.evalTs - clock.now(), true);
  }

  private schedule(delay: number, first: boolean): void {
    if (this.stopped) return;
    this.timer = this.ctx.clock.setTimer(
      () => {
        this.timer = undefined;
        this.running = this.tick(first).finally(() => (this.running = undefined));
        // Returned so that a manual clock waits for the evaluation before moving on.
        return this.running;
      },
      Math.max(0, delay),
    );
  }

  private async tick(first: boolean): Promise<void> {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    if (!first) {
      // Ticks that passed while the previous evaluation ran are counted and skipped.
      const missed = Math.floor((now - this.evalTs) / this.intervalMs) - 1;
      if (missed > 0) this.iterationsMissed += missed;
      this.evalTs += (Math.max(missed, 0) + 1) * this.intervalMs;
    }
    try {
      await this.eval(this.evalTs);
      if (this.shouldRestore && !first) {
        this.shouldRestore = false;
        await this.restoreForState(this.ctx.clock.now());
      }
    } catch (err) {
      this.ctx.logger.error('rule group evaluation failed', { group: this.name, err: (err as Error).message });
    }
    this.schedule(this.evalTs + this.intervalMs - this.ctx.clock.now(), false);
  }

  /** Stops evaluation and waits for a running one. With `markStale`, schedules staleness markers for its series. Idempotent. */
  async stop(markStale = false): Promise<void> {
    if (this.stopped && this.running === undefined) return;
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
    if (markStale) {
      const at = this.ctx.clock.now();
      const series = [...this.staleSeries, ...this.seriesInPreviousEval.flatMap((m) => [...m.values()])];
      // Wait two intervals so a renamed rule can write its series first, as Prometheus does.
      if (series.length > 0) this.ctx.clock.setTimer(() => this.writeStale(series, at), 2 * this.intervalMs);
    }
  }
}
