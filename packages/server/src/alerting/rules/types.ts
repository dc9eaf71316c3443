/**
 * The seams of the rule engine. Rules depend only on a {@link QueryFn} (PromQL today, LogQL rules
 * later) and a {@link NotifyFn} (the alert router), never on the TSDB or the router themselves.
 */
import type { Labels } from '../../core/model/labels.js';

/** A query result, structurally a subset of the PromQL engine's `Value`. */
export type RuleQueryResult =
  | { readonly type: 'vector'; readonly samples: readonly { readonly metric: Labels; readonly v: number; readonly h?: unknown }[] }
  | { readonly type: 'scalar'; readonly v: number }
  | { readonly type: 'string'; readonly v: string }
  | {
      readonly type: 'matrix';
      readonly series: readonly { readonly metric: Labels; readonly points: readonly { readonly t: number; readonly v: number }[] }[];
    };

/**
 * Evaluates an expression at `tMs`. Throw to report an evaluation error. `signal` aborts when the
 * group's evaluation ran past its interval (the rule's timeout). The template `query` function
 * needs an answer at once: it calls `sync` when given, else the function itself, and reports an
 * error when that answers with a promise.
 */
export type QueryFn = ((expr: string, tMs: number, signal?: AbortSignal) => RuleQueryResult | Promise<RuleQueryResult>) & {
  readonly sync?: (expr: string, tMs: number) => RuleQueryResult;
};

/**
 * The expression language of a rule file: PromQL for Prometheus rule files, LogQL for log rules
 * (as Loki's ruler runs them). The rule engine itself never looks inside an expression.
 */
export interface RuleLanguage {
  /** Names the language in errors and the API. */
  readonly name: string;
  /** The canonical text of a valid rule expression (what runs and is shown); throws an Error saying what is wrong otherwise. */
  canonical(expr: string): string;
  /** Where an alert's generatorURL points: the expression in the UI. */
  generatorURL(externalURL: string, expr: string): string;
  /**
   * Annotations the language adds to each alert (the rule's own annotations win), such as a link
   * to the log lines behind a log alert. `activeAt` and `t` are ms; `labels` are the query result's.
   */
  alertAnnotations?(externalURL: string, expr: string, labels: Labels, activeAt: number, t: number): Record<string, string>;
}

/** An alert as Prometheus sends it to Alertmanager (`POST /api/v2/alerts`). */
export interface NotifiedAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** RFC 3339. */
  readonly startsAt: string;
  /** RFC 3339: the resolve time, or the valid-until time of a firing alert. */
  readonly endsAt: string;
  readonly generatorURL: string;
  /**
   * A tiered rule's alert: the index of its current tier, lowest first. The in-process Alertmanager
   * takes it as the mark of an alert whose identity ignores `severity`; Alertmanager ignores the field.
   */
  readonly tier?: number;
}

/** Receives alerts that need sending (new, still firing after the resend delay, or resolved). */
export type NotifyFn = (alerts: NotifiedAlert[]) => void | Promise<void>;

/** An alert's state, as the API names it. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/** A rule's health after its last evaluation. */
export type RuleHealth = 'unknown' | 'ok' | 'err';

/** A sample a rule produced: a recorded series, or an ALERTS / ALERTS_FOR_STATE sample. */
export interface RuleSample {
  readonly metric: Labels;
  readonly t: number;
  readonly v: number;
}

/** Turns a query result into a vector the way Prometheus' `EngineQueryFunc` does. */
export function resultToVector(res: RuleQueryResult): { metric: Labels; v: number; histogram: boolean }[] {
  switch (res.type) {
    case 'vector':
      return res.samples.map((s) => ({ metric: s.metric, v: s.v, histogram: s.h !== undefined }));
    case 'scalar':
      return [{ metric: [], v: res.v, histogram: false }];
    default:
      throw new Error('rule result is not a vector or scalar');
  }
}
