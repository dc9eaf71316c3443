/**
 * "Slowest traces during this alert": the alert's service's traces from the moment the alert became
 * active until now, the slowest few, each a link to its waterfall. Searched once the alert scrolls
 * into view (a page of many alerts does not run a search for each), again every 30 s; a server
 * without traces (404) shows nothing rather than an error on every alert.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, traceSearch } from '../api.js';
import { useAsync } from '../hooks.js';
import { alertTraceSearchParams, formatSpanDuration, searchRows, ALERT_TRACE_LIMIT } from '../lib/traces.js';
import { onLinkClick } from '../router.js';

/** Traces listed under an alert. */
const SHOWN = 5;

/** True once the element has been on screen. */
function useSeen(ref: { current: Element | null }): boolean {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (seen || !el) return;
    const obs = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true));
    obs.observe(el);
    return () => obs.disconnect();
  }, [seen]);
  return seen;
}

export function SlowTraces({ service, activeAt }: { service: string; activeAt: number }): preact.JSX.Element | null {
  const box = useRef<HTMLDivElement>(null);
  const seen = useSeen(box);
  const st = useAsync(
    async (signal) => {
      if (!seen) return undefined;
      const hits = await traceSearch(alertTraceSearchParams(service, activeAt, Date.now()), signal);
      return { rows: searchRows(hits, true).slice(0, SHOWN), full: hits.length >= ALERT_TRACE_LIMIT };
    },
    [service, activeAt, seen],
    30_000,
  );
  if (st.error instanceof ApiFailure && st.error.status === 404) return null;
  return (
    <div class="slow-traces" data-testid="slow-traces" ref={box}>
      <div class="muted small">
        Slowest traces of <strong>{service}</strong> since the alert became active
        {st.data?.full ? ` (of the newest ${ALERT_TRACE_LIMIT})` : ''}:
      </div>
      {st.error ? (
        <div class="err-text small">{st.error instanceof Error ? st.error.message : String(st.error)}</div>
      ) : !st.data ? (
        <div class="muted small">searching…</div>
      ) : st.data.rows.length === 0 ? (
        <div class="muted small">none received in that time.</div>
      ) : (
        <ol class="slow-list">
          {st.data.rows.map((r) => (
            <li data-trace-id={r.traceId}>
              <a href={r.href} onClick={onLinkClick}>
                <span class="mono">{formatSpanDuration(r.durationMs)}</span> {r.service}: {r.root}
              </a>{' '}
              <span class="muted small">{new Date(r.startMs).toLocaleTimeString(undefined, { hour12: false })}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
