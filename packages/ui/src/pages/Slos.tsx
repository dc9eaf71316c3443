/**
 * SLOs: every SLO Vigil runs (from the `sloth_slo_info` series its generated rules record), sorted by
 * the error budget left, least first, with the objective, the availability over the period, the
 * budget remaining with its burn-down over the whole SLO period, and the burn rate over each alert window
 * (1x spends the budget exactly over the period; the page alert fires from 14.4x over 1 h). Pyrra's
 * list of SLOs is the model. Everything comes from PromQL over the recorded `slo:*` series.
 */
import { queryRange } from '../api.js';
import { loadSloInstant } from '../components/SloStatus.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import {
  budgetLevel,
  burndownPoints,
  burndownRange,
  burnLevel,
  refinedBurndownRange,
  burnRate,
  sloPercent as pct,
  sloPeriods,
  sloRows,
  type SloRow,
} from '../lib/slo.js';
import { href, onLinkClick } from '../router.js';

async function loadSlos(signal: AbortSignal): Promise<SloRow[]> {
  const now = Date.now();
  const instant = await loadSloInstant(signal);
  // One range query over the longest period; its step keeps it to a few hundred points per SLO.
  const r = burndownRange([...sloPeriods(instant.burn).values()], now);
  if (instant.info.length === 0) return [];
  let history = await queryRange('slo:period_error_budget_remaining:ratio', r.start, r.end, r.step, signal);
  // A new SLO has only minutes of history: ask again over what exists, at a step that draws it.
  const fine = refinedBurndownRange(
    r,
    history.map((h) => h.values.length),
  );
  if (fine) history = await queryRange('slo:period_error_budget_remaining:ratio', fine.start, fine.end, fine.step, signal);
  return sloRows({ ...instant, history, now });
}

/** A small line of the budget remaining over the SLO period (0 at the bottom, 100% at the top). */
function Burndown({ points }: { points: Array<[number, number]> }): preact.JSX.Element {
  const d = burndownPoints(points, 120, 30);
  if (d === '') return <span class="muted small">not enough data</span>;
  return (
    <svg class="burndown" width="120" height="30" viewBox="0 0 120 30" role="img" aria-label="Error budget remaining over the SLO period">
      <polyline points={d} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
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
            <th>Over the period</th>
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
                <span class={`badge ${budgetLevel(r.remaining)}`}>{pct(r.remaining, 1)}</span>
              </td>
              <td>
                <Burndown points={r.burndown} />
              </td>
              <td data-col="burn">
                {r.burn.map(([w, v]) => (
                  <span key={w} class={`burn ${burnLevel(v)}`} data-window={w} title={`burn rate over ${w}`}>
                    {w} <b>{burnRate(v)}</b>{' '}
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
