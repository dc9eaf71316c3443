/**
 * The one SLO model that Sloth's `prometheus/v1` specs, Pyrra's `ServiceLevelObjective` and OpenSLO's
 * `SLO` documents are read into, and the alert windows of the multi-window multi-burn-rate alerts
 * (Google SRE Workbook, chapter 5), with Sloth's defaults.
 */
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;

/** How the error ratio of an SLO is measured; queries hold `{{.window}}` where the range goes. */
export type SLI =
  /** Bad events over all events, both rates over the window (Sloth's `sli.events`). */
  | { readonly kind: 'events'; readonly errorQuery: string; readonly totalQuery: string }
  /** An expression that is the error ratio itself (Sloth's `sli.raw.error_ratio_query`). */
  | { readonly kind: 'raw'; readonly errorRatioQuery: string };

/** One of the two alerts (page or ticket) of an SLO. */
export interface SLOAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** An SLO, whatever document it came from. */
export interface SLO {
  /** `<service>-<name>`: the `sloth_id` label. */
  readonly id: string;
  readonly service: string;
  readonly name: string;
  readonly description: string;
  /** Percent of good events, in (0, 100]. */
  readonly objective: number;
  /** The SLO period (the error budget's window), ms. */
  readonly periodMs: number;
  /** Labels of every recorded series (the spec's, then the SLO's). */
  readonly labels: Readonly<Record<string, string>>;
  readonly sli: SLI;
  /** The alert name (both alerts share it, told apart by `sloth_severity`). */
  readonly alertName: string;
  readonly page: SLOAlert | undefined;
  readonly ticket: SLOAlert | undefined;
  /** The `sloth_spec` label: the document's format (`prometheus/v1`, `openslo/v1alpha`, …). */
  readonly spec: string;
  /** The `sloth_mode` label, as Sloth's CLI sets it for that format. */
  readonly mode: string;
  /** Where the SLO is written, for errors and the rules API. */
  readonly file: string;
  readonly line: number;
}

/** One window pair of a multi-window alert: fires when both windows burn `errorBudgetPercent` of the budget. */
export interface AlertWindow {
  /** Share of the period's error budget that, spent within `longMs`, should alert. */
  readonly errorBudgetPercent: number;
  readonly shortMs: number;
  readonly longMs: number;
}

/** The four windows of an SLO period (Sloth's `AlertWindows`). */
export interface AlertWindows {
  readonly periodMs: number;
  readonly pageQuick: AlertWindow;
  readonly pageSlow: AlertWindow;
  readonly ticketQuick: AlertWindow;
  readonly ticketSlow: AlertWindow;
}

/** The default SLO period, as Sloth's. */
export const DEFAULT_PERIOD_MS = 30 * MS_PER_DAY;

/**
 * The SRE Workbook's windows, which Sloth ships for 30 (and 28) days: 2% of the budget in 1 h
 * (short window 5 m) and 5% in 6 h (30 m) page; 10% in 1 d (2 h) and 10% in 3 d (6 h) open a ticket.
 * For 30 days these are burn rates 14.4, 6, 3 and 1. Other periods keep the same windows and budget
 * shares, so the burn rates scale with the period (28 days: 13.44, 5.6, 2.8, 0.93), as Sloth's do.
 */
export function defaultWindows(periodMs: number): AlertWindows {
  return {
    periodMs,
    pageQuick: { errorBudgetPercent: 2, shortMs: 5 * MS_PER_MINUTE, longMs: MS_PER_HOUR },
    pageSlow: { errorBudgetPercent: 5, shortMs: 30 * MS_PER_MINUTE, longMs: 6 * MS_PER_HOUR },
    ticketQuick: { errorBudgetPercent: 10, shortMs: 2 * MS_PER_HOUR, longMs: MS_PER_DAY },
    ticketSlow: { errorBudgetPercent: 10, shortMs: 6 * MS_PER_HOUR, longMs: 3 * MS_PER_DAY },
  };
}

/** The burn rate at which a window spends its share of the budget: 14.4 for 2% of 30 days in 1 h. */
export function burnRateFactor(w: AlertWindow, periodMs: number): number {
  // Hours on both sides keep the float arithmetic the same as Sloth's (14.4, not 14.399999999999999).
  return (w.errorBudgetPercent / 100) * (periodMs / MS_PER_HOUR / (w.longMs / MS_PER_HOUR));
}

/** Every window the SLI must be recorded over, shortest first, then the period itself. */
export function recordingWindows(w: AlertWindows): number[] {
  const all = [w.pageQuick, w.pageSlow, w.ticketQuick, w.ticketSlow].flatMap((x) => [x.shortMs, x.longMs]);
  const windows = [...new Set(all)].sort((a, b) => a - b).filter((ms) => ms !== w.periodMs);
  return [...windows, w.periodMs];
}
