/**
 * Trace search (`/ui/traces`) over Tempo's `/api/search`: service, operation, status, minimum
 * duration or free TraceQL, over a time range, as a list and a duration-over-time scatter, all in
 * the URL (`service`, `operation`, `status`, `minDuration`, `q`, `range` or `from`/`to`, `sort`).
 * `/ui/traces/<id>` is the trace itself ({@link TraceView}).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, fetchChecked } from '../api.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { TimePicker } from '../components/TimePicker.js';
import { useAsync } from '../hooks.js';
import { rangeFromParams, rangeToParams, resolveRange } from '../lib/time.js';
import { errorTraceQL, formatSpanDuration, searchRows, searchTraceQL, serviceColor, type SearchHit, type SearchRow } from '../lib/traces.js';
import { href, onLinkClick, setParams, useLocation } from '../router.js';
import { TraceView } from './TraceView.js';

/** Rows in the table; the scatter draws them all. */
const ROWS_SHOWN = 200;

async function search(params: Record<string, string>, signal: AbortSignal): Promise<SearchHit[]> {
  const q = new URLSearchParams(params);
  let res: Response;
  try {
    res = await fetchChecked(`/api/search?${q.toString()}`, { signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, `cannot reach Vigil (${(err as Error).message}); is the server running?`);
  }
  const text = await res.text();
  if (res.status === 404 && !text.trim().startsWith('{')) throw new ApiFailure(404, 'trace search (/api/search) is not available on this server');
  if (!res.ok) throw new ApiFailure(res.status, text.trim() || `HTTP ${res.status}`);
  return (JSON.parse(text) as { traces?: SearchHit[] }).traces ?? [];
}

/** Duration over time: each trace a dot, red when it holds an error span; a click opens the trace. */
function Scatter({ rows, start, end }: { rows: SearchRow[]; start: number; end: number }): preact.JSX.Element {
  const W = 1000;
  const H = 180;
  const maxD = Math.max(1, ...rows.map((r) => r.durationMs));
  const x = (t: number): number => 40 + ((t - start) / Math.max(1, end - start)) * (W - 50);
  const y = (d: number): number => H - 20 - (d / maxD) * (H - 35);
  return (
    <svg class="scatter" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Trace duration over time" data-testid="trace-scatter">
      <line x1={40} y1={H - 20} x2={W - 10} y2={H - 20} class="axis" />
      <line x1={40} y1={10} x2={40} y2={H - 20} class="axis" />
      <text x={36} y={18} text-anchor="end" class="tick">
        {formatSpanDuration(maxD)}
      </text>
      <text x={36} y={H - 22} text-anchor="end" class="tick">
        0
      </text>
      <text x={40} y={H - 4} class="tick">
        {new Date(start).toLocaleTimeString(undefined, { hour12: false })}
      </text>
      <text x={W - 10} y={H - 4} text-anchor="end" class="tick">
        {new Date(end).toLocaleTimeString(undefined, { hour12: false })}
      </text>
      {rows.map((r) => (
        <a href={r.href} onClick={onLinkClick} data-trace-id={r.traceId}>
          <circle cx={x(r.startMs)} cy={y(r.durationMs)} r={5} fill={r.error ? 'var(--critical)' : serviceColor(r.service)} class={r.error ? 'error' : ''}>
            <title>{`${r.service}: ${r.root} · ${formatSpanDuration(r.durationMs)}${r.error ? ' · error' : ''}`}</title>
          </circle>
        </a>
      ))}
    </svg>
  );
}

function Field({ name, label, value, placeholder }: { name: string; label: string; value: string; placeholder: string }): preact.JSX.Element {
  return (
    <label>
      {label} <input name={name} aria-label={label} value={value} placeholder={placeholder} class={name === 'minDuration' ? 'short' : ''} />
    </label>
  );
}

function Search(): preact.JSX.Element {
  const { params } = useLocation();
  const range = rangeFromParams(params);
  const rangeKey = range.kind === 'relative' ? range.range : `${range.from}-${range.to}`;
  const form = {
    service: params.get('service') ?? '',
    operation: params.get('operation') ?? '',
    status: params.get('status') ?? '',
    traceql: params.get('q') ?? '',
  };
  const minDuration = params.get('minDuration') ?? '';
  const byDuration = params.get('sort') === 'duration';
  const query = searchTraceQL(form);
  const [draftQ, setDraftQ] = useState(form.traceql);
  useEffect(() => setDraftQ(form.traceql), [form.traceql]);
  const st = useAsync(
    async (signal) => {
      const { start, end } = resolveRange(range, Date.now());
      // Sorting by duration happens here, over what the search returned: ask for Tempo's most (1000) so
      // "slowest" is not the slowest of a hundred newest; when even that is full, the page says so.
      const limit = byDuration ? 1000 : 100;
      const p: Record<string, string> = { q: query, limit: String(limit), start: String(Math.floor(start / 1000)), end: String(Math.ceil(end / 1000)) };
      if (minDuration) p['minDuration'] = minDuration;
      // Which of them failed: a second search; if it cannot run (a pipeline that does not combine), rows stay unmarked.
      const [hits, failed] = await Promise.all([
        search(p, signal),
        search({ ...p, q: errorTraceQL(query) }, signal).then(
          (h) => new Set(h.map((x) => x.traceID)),
          () => undefined,
        ),
      ]);
      const rows = searchRows(hits, byDuration, failed);
      return { start, end, rows, full: rows.length >= limit };
    },
    [query, minDuration, rangeKey, byDuration],
  );
  const submit = (e: Event): void => {
    e.preventDefault();
    const fd = new FormData(e.currentTarget as HTMLFormElement);
    setParams((p) => {
      for (const k of ['service', 'operation', 'status', 'minDuration', 'q']) {
        const v = String(fd.get(k) ?? '').trim();
        if (v) p.set(k, v);
        else p.delete(k);
      }
    }, false);
  };
  return (
    <div class="traces">
      <div class="page-head">
        <h1>Traces</h1>
      </div>
      <form class="toolbar trace-form" onSubmit={submit}>
        <Field name="service" label="Service" value={form.service} placeholder="shop" />
        <Field name="operation" label="Operation" value={form.operation} placeholder="POST /checkout" />
        <label>
          Status{' '}
          <select name="status" aria-label="Status" value={form.status}>
            <option value="">any</option>
            <option value="error">error</option>
            <option value="ok">ok</option>
            <option value="unset">unset</option>
          </select>
        </label>
        <Field name="minDuration" label="Min duration" value={minDuration} placeholder="500ms" />
        <label class="grow">
          TraceQL{' '}
          <input
            name="q"
            aria-label="TraceQL"
            class="mono"
            value={draftQ}
            onInput={(e) => setDraftQ(e.currentTarget.value)}
            placeholder="{ span.http.response.status_code >= 500 } (replaces the fields)"
          />
        </label>
        <button class="primary" type="submit">
          Search
        </button>
        <TimePicker range={range} onRange={(r) => setParams((p) => rangeToParams(r, p))} refresh="" onRefresh={() => undefined} />
      </form>
      <div class="muted small" data-testid="trace-query">
        <code>{query}</code>
        {minDuration ? ` · traces of at least ${minDuration}` : ''} · {byDuration ? 'slowest first' : 'newest first'} ·{' '}
        <button class="link" onClick={() => setParams((p) => (byDuration ? p.delete('sort') : p.set('sort', 'duration')))}>
          {byDuration ? 'sort newest first' : 'sort slowest first'}
        </button>
      </div>
      {st.error ? (
        <ErrorBox error={st.error} />
      ) : !st.data ? (
        <Loading what="Searching traces" />
      ) : st.data.rows.length === 0 ? (
        <Empty title="No traces match in this range">Widen the time range, lower the minimum duration, or loosen the conditions.</Empty>
      ) : (
        <>
          {st.data.full ? (
            <div class="muted small" data-testid="trace-limit">
              The search stopped at {st.data.rows.length} traces{byDuration ? ', so these are the slowest of those, not of the whole range' : ''}: narrow the
              range or set a minimum duration to see the rest.
            </div>
          ) : null}
          <Scatter rows={st.data.rows} start={st.data.start} end={st.data.end} />
          <table class="data" data-testid="trace-results">
            <thead>
              <tr>
                <th>Root service</th>
                <th>Root span</th>
                <th>Start</th>
                <th class="num">Duration</th>
                <th class="num">Spans matched</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {st.data.rows.slice(0, ROWS_SHOWN).map((r) => (
                <tr data-trace-id={r.traceId} data-error={r.error === undefined ? undefined : String(r.error)}>
                  <td>
                    <i class="svc-dot" style={{ background: serviceColor(r.service) }} /> {r.service}
                  </td>
                  <td>
                    <a href={r.href} onClick={onLinkClick}>
                      {r.root}
                    </a>
                  </td>
                  <td class="mono">{new Date(r.startMs).toLocaleString(undefined, { hour12: false })}</td>
                  <td class="num mono">{formatSpanDuration(r.durationMs)}</td>
                  <td class="num">{r.matched}</td>
                  <td data-col="status">
                    {r.error ? <span class="err-text">⚠ error</span> : r.error === false ? <span class="muted">ok</span> : <span class="muted">?</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <div class="muted small">
        A trace is marked error when any of its spans failed; its waterfall shows which, in red.{' '}
        <a href={href('/logs')} onClick={onLinkClick}>
          Logs
        </a>{' '}
        carry <code>trace_id</code> links back here.
      </div>
    </div>
  );
}

/** The traces pages: search, or one trace by its id. */
export function Traces({ id }: { id: string | undefined }): preact.JSX.Element {
  return id ? <TraceView id={id} /> : <Search />;
}
