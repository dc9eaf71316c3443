/**
 * The SLO page's data: rows joined by `sloth_id` from the series Vigil's SLO rules record (the
 * `sloth_slo_info` series, the remaining budget, the period's error ratio, the SLI error ratio per
 * window divided by the budget), sorted by the budget left; and the page's formatting.
 */

/** An instant sample as the query API returns it. */
export interface SloSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

/** One SLO on the page. */
export interface SloRow {
  readonly id: string;
  readonly service: string;
  readonly slo: string;
  /** Percent, as written in the spec. */
  readonly objective: number;
  /** Share of the period's budget left (negative once overspent). */
  readonly remaining: number | undefined;
  /** Share of good events over the period. */
  readonly availability: number | undefined;
  /** Burn rate by window (`5m`, `1h`, …), shortest first. */
  readonly burn: Array<[string, number]>;
  /** The SLO period in ms: its longest recorded window (Sloth records the period's ratio too); 0 when none is recorded yet. */
  readonly periodMs: number;
  /** Budget remaining over the period (the part of it the range query covered): [ms, ratio]. */
  readonly burndown: Array<[number, number]>;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 864e5, w: 7 * 864e5, y: 365 * 864e5 };

/** A Prometheus duration (`5m`, `1d12h`, `4w`) in ms, for ordering windows; 0 when not one. */
export function windowMs(w: string): number {
  let ms = 0;
  for (const [, n, u] of w.matchAll(/(\d+)(ms|[smhdwy])/g)) ms += Number(n) * (UNIT_MS[u!] ?? 0);
  return ms;
}

function byId(samples: readonly SloSample[]): Map<string, SloSample[]> {
  const m = new Map<string, SloSample[]>();
  for (const s of samples) {
    const id = s.metric['sloth_id'] ?? '';
    m.set(id, [...(m.get(id) ?? []), s]);
  }
  return m;
}

/** The recorded series of every SLO, as {@link sloRows} takes them. */
export interface SloSeries {
  readonly info: readonly SloSample[];
  readonly remaining: readonly SloSample[];
  /** The period's error ratio. */
  readonly periodError: readonly SloSample[];
  /** Burn rate per window (labelled `sloth_window`). */
  readonly burn: readonly SloSample[];
  /** The remaining budget over time. */
  readonly history: ReadonlyArray<{ readonly metric: Record<string, string>; readonly values: ReadonlyArray<readonly [number, string]> }>;
  /** Epoch ms the history ends at: each SLO's burn-down keeps only its own period before it. */
  readonly now?: number;
}

/** Points a burn-down range query asks for at most per SLO: enough for a 120 px line, small for the server. */
export const BURNDOWN_POINTS = 240;

/**
 * The range query for the burn-downs: the longest period of any SLO (a day when none is known) up
 * to `now`, with a whole-minute step of at least 5 minutes that keeps it to {@link BURNDOWN_POINTS}
 * points per series (30 days: a 3-hour step).
 */
export function burndownRange(periodsMs: readonly number[], now: number): { start: number; end: number; step: number } {
  const range = Math.max(0, ...periodsMs) || 86_400_000;
  const step = Math.max(300_000, Math.ceil(range / BURNDOWN_POINTS / 60_000) * 60_000);
  return { start: now - range, end: now, step };
}

/**
 * A second, finer range when the whole-period query found little history (a new SLO): the span the
 * `points` found can cover, at a step giving up to {@link BURNDOWN_POINTS} points (at least 15 s).
 * Undefined when the first query already has enough points or no finer step exists.
 */
export function refinedBurndownRange(
  r: { start: number; end: number; step: number },
  points: readonly number[],
): { start: number; end: number; step: number } | undefined {
  const most = Math.max(0, ...points);
  if (most >= 20) return undefined;
  const span = Math.min(r.end - r.start, (most + 1) * r.step);
  const step = Math.max(15_000, Math.ceil(span / BURNDOWN_POINTS / 1000) * 1000);
  return step < r.step ? { start: r.end - span, end: r.end, step } : undefined;
}

/** The burn windows of the burn samples by SLO, as [window, ms]; the longest is the SLO's period. */
export function sloPeriods(burn: readonly SloSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of burn) {
    const id = b.metric['sloth_id'] ?? '';
    out.set(id, Math.max(out.get(id) ?? 0, windowMs(b.metric['sloth_window'] ?? '')));
  }
  return out;
}

/** One row per SLO, least budget left first; SLOs with no budget recorded yet go last. */
export function sloRows(s: SloSeries): SloRow[] {
  const rem = byId(s.remaining);
  const err = byId(s.periodError);
  const burns = byId(s.burn);
  const periods = sloPeriods(s.burn);
  const num = (xs: SloSample[] | undefined): number | undefined => (xs?.[0] ? Number(xs[0].value[1]) : undefined);
  const rows = s.info.map((i): SloRow => {
    const id = i.metric['sloth_id'] ?? '';
    const e = num(err.get(id));
    const periodMs = periods.get(id) ?? 0;
    const since = s.now !== undefined && periodMs > 0 ? s.now - periodMs : -Infinity;
    return {
      id,
      service: i.metric['sloth_service'] ?? '',
      slo: i.metric['sloth_slo'] ?? '',
      objective: Number(i.metric['sloth_objective']),
      remaining: num(rem.get(id)),
      availability: e === undefined ? undefined : 1 - e,
      burn: (burns.get(id) ?? [])
        .map((b): [string, number] => [b.metric['sloth_window'] ?? '', Number(b.value[1])])
        .filter(([w]) => w !== '')
        .sort((a, b) => windowMs(a[0]) - windowMs(b[0])),
      periodMs,
      burndown: (s.history.find((h) => h.metric['sloth_id'] === id)?.values ?? [])
        .map(([t, v]): [number, number] => [t * 1000, Number(v)])
        .filter(([t]) => t >= since),
    };
  });
  return rows.sort((a, b) => (a.remaining ?? Infinity) - (b.remaining ?? Infinity) || a.id.localeCompare(b.id));
}

/** A ratio as a percentage (`0.95` → `95.00%`); `–` when unknown. */
export function sloPercent(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

/** A burn rate (`50x`, `0.20x`). */
export function burnRate(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 0)}x` : '–';
}

/** The badge level of a remaining budget: spent, under a quarter left, fine, or unknown. */
export function budgetLevel(remaining: number | undefined): string {
  if (remaining === undefined) return 'level-none';
  if (remaining <= 0) return 'level-critical';
  return remaining < 0.25 ? 'level-warning' : 'level-ok';
}

/** The level of a burn rate: at the page threshold (14.4x), over the sustainable pace (1x), or fine. */
export function burnLevel(v: number): string {
  return v >= 14.4 ? 'level-critical' : v >= 1 ? 'level-warning' : '';
}

/** SVG polyline points of the burn-down (0 to 100% of the budget, clamped) in a `width` × `height` box. */
export function burndownPoints(points: ReadonlyArray<readonly [number, number]>, width: number, height: number): string {
  if (points.length < 2) return '';
  const t0 = points[0]![0];
  const t1 = points[points.length - 1]![0];
  const lo = Math.min(0, ...points.map((p) => p[1]));
  const y = (v: number): number => height - ((Math.min(1, v) - lo) / (1 - lo || 1)) * height;
  return points.map(([t, v]) => `${(((t - t0) / (t1 - t0 || 1)) * width).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
}
