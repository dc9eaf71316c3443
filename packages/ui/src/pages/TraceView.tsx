/**
 * One trace as a waterfall (`/ui/traces/<id>`), from Tempo's `/api/v2/traces/<id>`: the span tree,
 * bars on one time axis coloured by service, error spans red, the critical path marked, and a click
 * opening a span's attributes, resource, events and its log lines. `?span=<id>` keeps the open span.
 */
import { useMemo } from 'preact/hooks';
import { ApiFailure, fetchChecked } from '../api.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import {
  formatSpanDuration,
  parseTrace,
  serviceColor,
  spanLogsHref,
  waterfall,
  type AttrValue,
  type OtlpTraceResponse,
  type TraceSpan,
} from '../lib/traces.js';
import { href, onLinkClick, setParams, useLocation } from '../router.js';

async function loadTrace(id: string, signal: AbortSignal): Promise<OtlpTraceResponse> {
  let res: Response;
  try {
    res = await fetchChecked(`/api/v2/traces/${encodeURIComponent(id)}`, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, `cannot reach Vigil (${(err as Error).message}); is the server running?`);
  }
  // Tempo's API answers errors in plain text; the server's words say what is wrong with the id.
  if (!res.ok) throw new ApiFailure(res.status, (await res.text()).trim() || `HTTP ${res.status}`);
  return (await res.json()) as OtlpTraceResponse;
}

function show(v: AttrValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function AttrTable({ title, attrs }: { title: string; attrs: Record<string, AttrValue> }): preact.JSX.Element | null {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return null;
  return (
    <table class="data fields" data-section={title.toLowerCase()}>
      <thead>
        <tr>
          <th colSpan={2}>{title}</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr data-attr={k}>
            <td class="mono">{k}</td>
            <td class="mono">{show(attrs[k]!)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SpanDetail({ traceId, span }: { traceId: string; span: TraceSpan }): preact.JSX.Element {
  return (
    <div class="span-detail" data-testid="span-detail">
      <div class="span-head">
        <strong>{span.name}</strong> <span class="muted">{span.service}</span> <span class="muted">· {span.kind}</span> ·{' '}
        {formatSpanDuration(span.end - span.start)} <span class="muted">starting at +{formatSpanDuration(span.start)}</span>
        {span.error ? <span class="badge err">error{span.statusMessage ? `: ${span.statusMessage}` : ''}</span> : null}{' '}
        <a href={spanLogsHref(traceId, span)} onClick={onLinkClick} data-link="span-logs">
          Logs of this span
        </a>
      </div>
      <AttrTable title="Attributes" attrs={span.attributes} />
      <AttrTable title="Resource" attrs={span.resource} />
      {span.events.length ? (
        <table class="data fields" data-section="events">
          <thead>
            <tr>
              <th>Event</th>
              <th>At</th>
              <th>Attributes</th>
            </tr>
          </thead>
          <tbody>
            {span.events.map((e) => (
              <tr>
                <td>{e.name}</td>
                <td class="num mono">+{formatSpanDuration(e.at)}</td>
                <td class="mono">
                  {Object.entries(e.attributes)
                    .map(([k, v]) => `${k}=${show(v)}`)
                    .join('  ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** The trace page. */
export function TraceView({ id }: { id: string }): preact.JSX.Element {
  const { params } = useLocation();
  const open = params.get('span') ?? '';
  const st = useAsync((signal) => loadTrace(id, signal), [id]);
  const trace = useMemo(() => (st.data ? parseTrace(id, st.data) : undefined), [st.data, id]);
  const rows = useMemo(() => (trace ? waterfall(trace) : []), [trace]);
  const services = useMemo(() => [...new Set(rows.map((r) => r.span.service))], [rows]);
  if (st.error) {
    const notFound = st.error instanceof ApiFailure && st.error.status === 404;
    return (
      <div>
        <div class="page-head">
          <h1>Trace {id}</h1>
        </div>
        {notFound ? (
          <Empty title="No such trace">
            Vigil holds no span of trace <code>{id}</code>: it may be older than the trace retention, not sampled, or still on its way from the SDK.{' '}
            <a href={href('/traces')} onClick={onLinkClick}>
              Search traces
            </a>
            .
          </Empty>
        ) : (
          <ErrorBox error={st.error} />
        )}
      </div>
    );
  }
  if (!trace) return <Loading what="Loading the trace" />;
  const root = rows[0]?.span;
  const errors = rows.filter((r) => r.span.error).length;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="trace-view">
      <div class="page-head">
        <h1>
          {root ? `${root.service}: ${root.name}` : 'Trace'} <span class="muted small mono">{trace.traceId}</span>
        </h1>
        <a href={href('/traces')} onClick={onLinkClick}>
          search traces
        </a>
      </div>
      <div class="toolbar" data-testid="trace-summary">
        <span>{new Date(trace.startMs).toLocaleString(undefined, { hour12: false })}</span>
        <span>
          <strong>{formatSpanDuration(trace.duration)}</strong>
        </span>
        <span>{rows.length} spans</span>
        <span class={errors ? 'err-text' : 'muted'}>{errors} with errors</span>
        {services.map((s) => (
          <span class="svc">
            <i style={{ background: serviceColor(s) }} /> {s}
          </span>
        ))}
        <a href={href(`/logs?${new URLSearchParams({ id: trace.traceId }).toString()}`)} onClick={onLinkClick} data-link="trace-logs">
          All log lines of this trace
        </a>
        <span class="muted small">▌ critical path: what the trace's end waited for</span>
      </div>
      <div class="waterfall" role="table" aria-label="Spans">
        <div class="wf-row wf-axis" role="row">
          <div class="wf-name" role="columnheader">
            Span
          </div>
          <div class="wf-track" role="columnheader">
            {ticks.map((t) => (
              <span class="wf-tick" style={{ left: `${t * 100}%` }}>
                {formatSpanDuration(t * trace.duration)}
              </span>
            ))}
          </div>
        </div>
        {rows.map((r) => {
          const on = r.span.spanId === open;
          return (
            <>
              <div
                class={`wf-row${on ? ' on' : ''}${r.span.error ? ' error' : ''}${r.critical ? ' critical' : ''}`}
                role="row"
                data-span-id={r.span.spanId}
                data-span-name={r.span.name}
                tabIndex={0}
                aria-expanded={on}
                onClick={() => setParams((p) => (on ? p.delete('span') : p.set('span', r.span.spanId)))}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    setParams((p) => (on ? p.delete('span') : p.set('span', r.span.spanId)));
                  }
                }}
              >
                <div class="wf-name" role="cell" style={{ paddingLeft: `${0.4 + r.depth * 1.1}rem` }} title={`${r.span.service}: ${r.span.name}`}>
                  <i class="svc-dot" style={{ background: serviceColor(r.span.service) }} />
                  {r.span.error ? (
                    <span class="err-text" aria-label="error">
                      ⚠{' '}
                    </span>
                  ) : null}
                  <span class="muted">{r.span.service}</span> {r.span.name}
                  {r.orphan ? <span class="muted small"> (parent not received)</span> : null}
                </div>
                <div class="wf-track" role="cell">
                  <div
                    class="wf-bar"
                    data-testid="span-bar"
                    style={{ left: `${r.left}%`, width: `max(${r.width}%, 2px)`, background: r.span.error ? 'var(--critical)' : serviceColor(r.span.service) }}
                  />
                  <span class="wf-dur" style={r.left + r.width > 80 ? { right: `${100 - r.left}%` } : { left: `calc(${r.left + r.width}% + 4px)` }}>
                    {formatSpanDuration(r.span.end - r.span.start)}
                  </span>
                </div>
              </div>
              {on ? <SpanDetail traceId={trace.traceId} span={r.span} /> : null}
            </>
          );
        })}
      </div>
    </div>
  );
}
