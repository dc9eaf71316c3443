/**
 * SLOs: every SLO Vigil runs (from the `sloth_slo_info` series its generated rules record), sorted by
 * the error budget left, least first, with the objective, the availability over the period, the
 * budget remaining with its burn-down over the last day, and the burn rate over each alert window
 * (1x spends the budget exactly over the period; the page alert fires from 14.4x over 1 h). Pyrra's
 * list of SLOs is the model. Everything comes from PromQL over the recorded `slo:*` series.
 */
import { query, queryRange, type VectorSample } from '../api.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import { href, onLinkClick } from '../router.js';

interface SloRow {
  readonly id: string;
  readonly service: string;
  readonly slo: string;
  readonly objective: number;
  readonly remaining: number | undefined;
  readonly availability: number | undefined;
  /** Burn rate by window (`5m`, `1h`, …), shortest first. */
  readonly burn: Array<[string, number]>;
  /** Budget remaining over the last day: [ms, ratio]. */
  readonly burndown: Array<[number, number]>;
}

const DAY = 86_400_000;

function byId(samples: readonly VectorSample[]): Map<string, VectorSample[]> {
  const m = new Map<string, VectorSample[]>();
  for (const s of samples) {
    const id = s.metric['sloth_id'] ?? '';
    m.set(id, [...(m.get(id) ?? []), s]);
  }
  return m;
}

async function vector(expr: string, signal: AbortSignal): Promise<VectorSample[]> {
  const r = await query(expr, undefined, signal);
  return r.resultType === 'vector' ? r.result : [];
}

/** Window names in duration order (`5m` < `1h` < `1d` < `4w`). */
function windowMs(w: string): number {
  const unit: Record<string, number> = { s: 1e3, m: 6e4, h: 3.6e6, d: DAY, w: 7 * DAY, y: 365 * DAY };
  let ms = 0;
  for (const [, n, u] of w.matchAll(/(\d+)([smhdwy])/g)) ms += Number(n) * (unit[u!] ?? 0);
  return ms;
}

async function loadSlos(signal: AbortSignal): Promise<SloRow[]> {
  const now = Date.now();
  const [info, remaining, periodError, burn, history] = await Promise.all([
    vector('sloth_slo_info', signal),
    vector('slo:period_error_budget_remaining:ratio', signal),
    vector('slo:period_burn_rate:ratio * on(sloth_id) group_left slo:error_budget:ratio', signal),
    vector('{__name__=~"slo:sli_error:ratio_rate.+"} / on(sloth_id) group_left slo:error_budget:ratio', signal),
    queryRange('slo:period_error_budget_remaining:ratio', now - DAY, now, 5 * 60_000, signal),
  ]);
  const rem = byId(remaining);
  const err = byId(periodError);
  const burns = byId(burn);
  const rows = info.map((s): SloRow => {
    const id = s.metric['sloth_id'] ?? '';
    const num = (xs: VectorSample[] | undefined): number | undefined => (xs?.[0] ? Number(xs[0].value[1]) : undefined);
    const e = num(err.get(id));
    return {
      id,
      service: s.metric['sloth_service'] ?? '',
      slo: s.metric['sloth_slo'] ?? '',
      objective: Number(s.metric['sloth_objective']),
      remaining: num(rem.get(id)),
      availability: e === undefined ? undefined : 1 - e,
      burn: (burns.get(id) ?? [])
        .map((b): [string, number] => [b.metric['sloth_window'] ?? '', Number(b.value[1])])
        .filter(([w]) => w !== '')
        .sort((a, b) => windowMs(a[0]) - windowMs(b[0])),
      burndown: (history.find((h) => h.metric['sloth_id'] === id)?.values ?? []).map(([t, v]): [number, number] => [t * 1000, Number(v)]),
    };
  });
  // Least budget first: what needs attention is on top; SLOs without data yet go last.
  return rows.sort((a, b) => (a.remaining ?? Infinity) - (b.remaining ?? Infinity) || a.id.localeCompare(b.id));
}

const pct = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`);

/** A small line of the budget remaining over the last day (0 at the bottom, 100% at the top). */
function Burndown({ points }: { points: Array<[number, number]> }): preact.JSX.Element {
  if (points.length < 2) return <span class="muted small">not enough data</span>;
  const [t0, t1] = [points[0]![0], points[points.length - 1]![0]];
  const lo = Math.min(0, ...points.map((p) => p[1]));
  const y = (v: number): number => 30 - ((Math.min(1, v) - lo) / (1 - lo || 1)) * 30;
  const d = points.map(([t, v]) => `${(((t - t0) / (t1 - t0 || 1)) * 120).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg class="burndown" width="120" height="30" viewBox="0 0 120 30" role="img" aria-label="Error budget remaining over the last day">
      <polyline points={d} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}

function level(r: SloRow): string {
  if (r.remaining === undefined) return 'level-none';
  if (r.remaining <= 0) return 'level-critical';
  return r.remaining < 0.25 ? 'level-warning' : 'level-ok';
}

/** The SLO page. */
export function Slos(): preact.JSX.Element {
  const { data, error, loading } = useAsync(loadSlos, [], 15_000);
  if (error && !data) return <ErrorBox error={error} />;
  if (loading && !data) return <Loading what="Loading SLOs" />;
  if (!data || data.length === 0)
    return (
      <Empty title="No SLOs">
        Add Sloth, Pyrra or OpenSLO documents with <code>slo_files:</code> or <code>slos:</code> in the configuration.
      </Empty>
    );
  return (
    <section class="panel slos">
      <h2>SLOs</h2>
      <table class="slo-table">
        <thead>
          <tr>
            <th>SLO</th>
            <th>Objective</th>
            <th>Availability</th>
            <th>Budget remaining</th>
            <th>Last day</th>
            <th>Burn rate by window</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data.map((r) => (
            <tr key={r.id} data-slo={r.id} class="slo-row">
              <td>
                <strong>{r.slo}</strong>
                <div class="muted small">{r.service}</div>
              </td>
              <td data-col="objective">{r.objective}%</td>
              <td data-col="availability">{pct(r.availability, 3)}</td>
              <td data-col="remaining">
                <span class={`badge ${level(r)}`}>{pct(r.remaining, 1)}</span>
              </td>
              <td>
                <Burndown points={r.burndown} />
              </td>
              <td data-col="burn">
                {r.burn.map(([w, v]) => (
                  <span key={w} class={`burn ${v >= 14.4 ? 'level-critical' : v >= 1 ? 'level-warning' : ''}`} data-window={w} title={`burn rate over ${w}`}>
                    {w} <b>{Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 0)}x` : '–'}</b>{' '}
                  </span>
                ))}
              </td>
              <td class="small">
                <a href={href(`/alerts?filter=${encodeURIComponent(`sloth_id=${r.id}`)}`)} onClick={onLinkClick}>
                  alerts
                </a>{' '}
                ·{' '}
                <a href={href(`/explore?expr=${encodeURIComponent(`slo:sli_error:ratio_rate5m{sloth_id="${r.id}"}`)}`)} onClick={onLinkClick}>
                  error ratio
                </a>{' '}
                · <a href={href('/')}>overview</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
