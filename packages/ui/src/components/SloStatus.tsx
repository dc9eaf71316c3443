/**
 * SLO data shared by the SLO page and the overview: the instant series of every SLO (info, budget
 * left, period error ratio, burn rate per window), and the overview's one-line status of a service.
 */
import { query, type VectorSample } from '../api.js';
import { budgetLevel, burnLevel, burnRate, sloPercent, type SloSeries } from '../lib/slo.js';
import type { ServiceSloStatus } from '../lib/overview.js';
import { href, onLinkClick } from '../router.js';

async function vector(expr: string, signal: AbortSignal): Promise<VectorSample[]> {
  const r = await query(expr, undefined, signal);
  return r.resultType === 'vector' ? r.result : [];
}

/** The current values of every SLO's recorded series (no history). */
export async function loadSloInstant(signal: AbortSignal): Promise<Omit<SloSeries, 'history' | 'now'>> {
  const [info, remaining, periodError, burn] = await Promise.all([
    vector('sloth_slo_info', signal),
    vector('slo:period_error_budget_remaining:ratio', signal),
    vector('slo:period_burn_rate:ratio * on(sloth_id) group_left slo:error_budget:ratio', signal),
    vector('{__name__=~"slo:sli_error:ratio_rate.+"} / on(sloth_id) group_left slo:error_budget:ratio', signal),
  ]);
  return { info, remaining, periodError, burn };
}

/** A service's SLO status on the overview: the least budget left and the worst burn, linking to the SLO page. */
export function SloBadge({ service, st }: { service: string; st: ServiceSloStatus }): preact.JSX.Element {
  const burn = st.worstBurn;
  // The badge takes the worse of the two colours: a spent budget, or a burn at paging speed.
  const lvl = burn && burnLevel(burn.value) === 'level-critical' ? 'level-critical' : budgetLevel(st.remaining);
  return (
    <a
      class={`badge slo-status ${lvl}`}
      href={href('/slos')}
      onClick={onLinkClick}
      data-testid="slo-status"
      data-service={service}
      title={burn ? `worst burn: ${burn.slo} over ${burn.window}` : 'no burn rate recorded yet'}
    >
      {st.count} SLO{st.count > 1 ? 's' : ''}: budget {sloPercent(st.remaining, 1)} left
      {burn ? ` · worst burn ${burnRate(burn.value)} (${burn.window})` : ''}
    </a>
  );
}
