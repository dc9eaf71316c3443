/**
 * The rule manager, after Prometheus' `rules/manager.go`: loads rule files, runs one evaluation
 * loop per group, and on reload replaces changed groups while carrying over the alert state of
 * rules that stay (matched by name and labels), leaving unchanged groups running untouched.
 */
import type { Appendable } from '../../metrics/storage/interface.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { AlertingRule } from './alerting.js';
import { loadRuleFile, type RuleGroupDef, type RuleFileError } from './file.js';
import { globFiles } from '../../core/util/glob.js';
import { Group, type GroupContext, type Rule } from './group.js';
import { promqlLanguage } from './language.js';
import { RecordingRule } from './recording.js';
import { systemClock, type Clock } from '../../core/time/clock.js';
import type { NotifyFn, QueryFn, RuleLanguage } from './types.js';
import { VigilError } from '../../core/errors.js';

/** Options of the rule manager. */
export interface RuleManagerOptions {
  /** Evaluates expressions in `language`. */
  readonly queryFn: QueryFn;
  /**
   * Reads the `ALERTS_FOR_STATE` series back at start to restore `for` state; default `queryFn`.
   * They are written to `appendable`: when queries go elsewhere (remote storage), this reads where
   * they were written.
   */
  readonly restoreQueryFn?: QueryFn;
  /** The language of the rule files' expressions; default PromQL. */
  readonly language?: RuleLanguage;
  readonly notifyFn: NotifyFn;
  /** Where recording rules and ALERTS series are written. */
  readonly appendable: Appendable;
  /** `global.evaluation_interval`; default 1m. */
  readonly evaluationIntervalMs?: number;
  /** `global.rule_query_offset`; default 0. */
  readonly queryOffsetMs?: number;
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Used in templates (`$externalURL`) and generatorURL. */
  readonly externalURL?: string;
  /** Minimum time between re-sends of a firing alert; default 1m. */
  readonly resendDelayMs?: number;
  /** Maximum downtime for which `for` state is restored; default 1h. */
  readonly outageToleranceMs?: number;
  /** Minimum time left before an alert may fire after a restore; default 10m. */
  readonly forGracePeriodMs?: number;
  /** Time and timers for evaluation ticks; tests pass a manual clock. Default: the system clock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Directory rule_files patterns are relative to (the config file's directory). */
  readonly baseDir?: string;
}

/** Rule files that could not be loaded; the running rules are kept. */
export class RuleLoadError extends VigilError {
  override readonly code = 'bad_rules' as const;
  constructor(readonly errors: readonly RuleFileError[]) {
    super('bad_rules', errors.map((e) => e.message).join('\n'));
  }
}

/** Builds rules from a validated group; group labels are overridden by rule labels. */
export function buildRules(
  g: RuleGroupDef,
  opts: { externalLabels: Readonly<Record<string, string>>; externalURL: string; restored: boolean; logger: Logger; language?: RuleLanguage },
): Rule[] {
  return g.rules.map((r) => {
    const labels = { ...g.labels, ...r.labels };
    if (r.kind === 'recording') return new RecordingRule(r.name, r.query, labels);
    return new AlertingRule({
      name: r.name,
      expr: r.query,
      language: opts.language ?? promqlLanguage,
      holdMs: r.forMs,
      keepFiringForMs: r.keepFiringForMs,
      labels,
      annotations: r.annotations,
      externalLabels: opts.externalLabels,
      externalURL: opts.externalURL,
      restored: opts.restored,
      ...(r.tiers ? { tiers: r.tiers } : {}),
      onTemplateError: (msg) => opts.logger.warn('expanding alert template failed', { rule: r.name, err: msg }),
    });
  });
}

/** Runs rule groups. */
export class RuleManager {
  private groupsByKey = new Map<string, Group>();
  private readonly ctx: GroupContext;
  private readonly evalIntervalMs: number;
  private readonly queryOffsetMs: number;
  private restored = false;
  private started = false;
  private readonly baseDir: string;
  readonly language: RuleLanguage;

  constructor(opts: RuleManagerOptions) {
    this.language = opts.language ?? promqlLanguage;
    this.evalIntervalMs = opts.evaluationIntervalMs ?? 60_000;
    this.queryOffsetMs = opts.queryOffsetMs ?? 0;
    this.baseDir = opts.baseDir ?? '.';
    this.ctx = {
      queryFn: opts.queryFn,
      restoreQueryFn: opts.restoreQueryFn ?? opts.queryFn,
      notifyFn: opts.notifyFn,
      appendable: opts.appendable,
      externalLabels: opts.externalLabels ?? {},
      externalURL: opts.externalURL ?? '',
      resendDelayMs: opts.resendDelayMs ?? 60_000,
      outageToleranceMs: opts.outageToleranceMs ?? 3600_000,
      gracePeriodMs: opts.forGracePeriodMs ?? 600_000,
      clock: opts.clock ?? systemClock,
      logger: opts.logger ?? nopLogger,
    };
  }

  /** The running groups, ordered by file then name (as the API lists them). */
  groups(): Group[] {
    return [...this.groupsByKey.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every alerting rule of every group. */
  alertingRules(): AlertingRule[] {
    return this.groups().flatMap((g) => g.rules.filter((r): r is AlertingRule => r instanceof AlertingRule));
  }

  /** Builds groups from parsed rule groups (no I/O); throws nothing. */
  private buildGroups(defs: readonly RuleGroupDef[]): Group[] {
    const shouldRestore = !this.restored;
    return defs.map(
      (g) =>
        new Group(
          {
            name: g.name,
            file: g.file,
            intervalMs: g.intervalMs ?? this.evalIntervalMs,
            queryOffsetMs: g.queryOffsetMs ?? this.queryOffsetMs,
            limit: g.limit,
            rules: buildRules(g, {
              externalLabels: this.ctx.externalLabels,
              externalURL: this.ctx.externalURL,
              restored: this.restored,
              logger: this.ctx.logger,
              language: this.language,
            }),
            shouldRestore,
          },
          this.ctx,
        ),
    );
  }

  /**
   * Loads the files matching `globs` and replaces the running groups: unchanged groups keep
   * running, changed ones take over the state of their predecessor, removed ones stop and their
   * series are marked stale. Throws {@link RuleLoadError} (keeping the running rules) when a file
   * is invalid.
   */
  async applyFiles(globs: readonly string[]): Promise<void> {
    await this.applyGroups(this.loadFiles(globs));
  }

  /**
   * Reads and validates the files matching `globs` without applying them, so a caller running
   * several managers can refuse a reload before any of them changed. Throws {@link RuleLoadError}.
   */
  loadFiles(globs: readonly string[]): RuleGroupDef[] {
    const files = [...new Set(globs.flatMap((g) => globFiles(g, this.baseDir)))];
    const defs: RuleGroupDef[] = [];
    const errors: RuleFileError[] = [];
    for (const f of files) {
      const parsed = loadRuleFile(f, this.language);
      errors.push(...parsed.errors);
      defs.push(...parsed.groups);
    }
    if (errors.length > 0) throw new RuleLoadError(errors);
    return defs;
  }

  /** Like {@link applyFiles} for already-parsed groups (tests, generated rules). */
  async applyGroups(defs: readonly RuleGroupDef[]): Promise<void> {
    const next = this.buildGroups(defs);
    this.restored = true;
    const nextByKey = new Map<string, Group>();
    const stops: Promise<void>[] = [];
    for (const g of next) {
      const old = this.groupsByKey.get(g.key);
      if (old !== undefined && old.equals(g)) {
        nextByKey.set(g.key, old);
        continue;
      }
      if (old !== undefined) {
        stops.push(old.stop(false));
        g.copyState(old);
      }
      nextByKey.set(g.key, g);
    }
    for (const [k, old] of this.groupsByKey) if (!nextByKey.has(k)) stops.push(old.stop(true));
    await Promise.all(stops);
    this.groupsByKey = nextByKey;
    if (this.started) for (const g of nextByKey.values()) g.start();
  }

  /** Starts evaluating. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const g of this.groupsByKey.values()) g.start();
  }

  /** Stops every group, waiting for running evaluations. Idempotent. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.groupsByKey.values()].map((g) => g.stop(false)));
  }
}
