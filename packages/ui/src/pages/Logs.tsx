/**
 * Logs over the Loki API: a LogQL search with a histogram of matching lines, field facets, lines
 * that expand to their fields and to their context, live tail (polling, so it works through any
 * proxy), and one click from a `request_id` or `trace_id` to every line of that request.
 */
import { useMemo, useState } from 'preact/hooks';
import { ApiFailure, fetchChecked, promGet } from '../api.js';
import { Chart } from '../components/Chart.js';
import { QueryEditor } from '../components/QueryEditor.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { traceHref } from '../lib/exemplars.js';
import { TimePicker } from '../components/TimePicker.js';
import { useAsync } from '../hooks.js';
import { align, type MatrixSeries } from '../lib/series.js';
import { labelMatcher } from '../lib/escape.js';
import { parseLogLine, withFilter } from '../lib/logline.js';
import { autoStep, formatDuration, rangeFromParams, rangeToParams, resolveRange } from '../lib/time.js';
import { href, onLinkClick, setParams, useLocation } from '../router.js';

interface StreamResult {
  readonly stream: Record<string, string>;
  readonly values: Array<[string, string, Record<string, string>?]>;
}

interface Line {
  readonly ns: string;
  readonly stream: Record<string, string>;
  readonly line: string;
}

interface Facets {
  readonly lines: number;
  readonly facets: Array<{ field: string; distinct: number; values: Array<{ value: string; count: number }> }>;
}

/** Fields that name a request or trace: clicking their value shows the whole request. */
const ID_FIELDS = ['request_id', 'requestId', 'trace_id', 'traceId', 'reqId'];

function nsToDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}

function fmtTime(ns: string): string {
  const d = nsToDate(ns);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function selectorOf(stream: Record<string, string>): string {
  return `{${Object.entries(stream)
    .map(([k, v]) => `${k}="${v.replace(/["\\]/g, (c) => `\\${c}`)}"`)
    .join(', ')}}`;
}

/** A field's value: ids link to every line of their request. */
function FieldValue({ k, v }: { k: string; v: string }): preact.JSX.Element {
  if (!ID_FIELDS.includes(k)) return <>{v}</>;
  const isTrace = (k === 'trace_id' || k === 'traceId') && /^[0-9a-fA-F]{1,32}$/.test(v);
  return (
    <>
      <a
        href={href(`/logs?${new URLSearchParams({ id: v }).toString()}`)}
        onClick={onLinkClick}
        data-request-id={v}
        title="All lines of this request, across services"
      >
        {v}
      </a>
      {isTrace ? (
        <>
          {' '}
          <a href={traceHref(v)} onClick={onLinkClick} data-trace-id={v} title="This request's trace: its spans as a waterfall">
            trace ›
          </a>
        </>
      ) : null}
    </>
  );
}

/** Stream labels every line of a search shares say nothing per row; the row shows the rest. */
const ROW_FIELDS_MAX = 6;

/** A line around the opened one, read like the rows: time, level and message, the raw line on hover. */
function ContextLine({ ns, line, stream, at = false }: { ns: string; line: string; stream: Record<string, string>; at?: boolean }): preact.JSX.Element {
  const p = parseLogLine(line, stream);
  return (
    <li class={at ? 'at' : 'muted'} title={line}>
      <time>{fmtTime(ns)}</time> <span class={`lvl lvl-${p.level || 'none'}`}>{p.level}</span>{' '}
      {p.format === 'text' ? <span class="mono">{p.message}</span> : p.message}
      {p.format !== 'text' && !p.message ? <span class="mono">{line}</span> : null}
    </li>
  );
}

function LineRow({ l, open, onToggle }: { l: Line; open: boolean; onToggle: () => void }): preact.JSX.Element {
  const p = useMemo(() => parseLogLine(l.line, l.stream), [l.line, l.stream]);
  const ctx = useAsync(
    async () =>
      open
        ? promGet<{ before: Array<[string, string]>; at: Array<[string, string]>; after: Array<[string, string]> }>('/loki/api/v1/context', {
            stream: selectorOf(l.stream),
            ts: l.ns,
            before: '5',
            after: '5',
          })
        : undefined,
    [open, l.ns],
  );
  const inline = p.fields.filter(([k]) => l.stream[k] === undefined).slice(0, ROW_FIELDS_MAX);
  // The row's own way to the request's trace, without opening the line first.
  const traceId = p.fields.find(([k, v]) => (k === 'trace_id' || k === 'traceId') && /^[0-9a-fA-F]{1,32}$/.test(v))?.[1];
  return (
    <li class={`logline lvl-${p.level || 'none'}${open ? ' open' : ''}`} data-format={p.format}>
      <button class="logline-head" aria-expanded={open} onClick={onToggle}>
        <time dateTime={nsToDate(l.ns).toISOString()}>{fmtTime(l.ns)}</time>
        <span class={`lvl lvl-${p.level || 'none'}`} data-col="level">
          {p.level}
        </span>
        <span class="msg" data-col="message">
          {p.format === 'text' ? <span class="mono">{p.message}</span> : p.message}
          {p.stacks.length > 0 ? <span class="chip stack-chip">stack trace</span> : null}
          {inline.map(([k, v]) => (
            <span class="kv">
              <span class="muted">{k}=</span>
              {v}
            </span>
          ))}
        </span>
      </button>
      {traceId ? (
        <a class="trace-link" href={traceHref(traceId)} onClick={onLinkClick} data-trace-id={traceId} title="This request's trace: its spans as a waterfall">
          trace ›
        </a>
      ) : null}
      {open ? (
        <div class="logline-body">
          {p.stacks.map(([k, v]) => (
            <div class="stack" data-field={k}>
              <div class="muted small">{k}</div>
              <pre class="stack-trace">{v}</pre>
            </div>
          ))}
          <table class="data fields">
            <tbody>
              {[...p.fields.map(([k, v]) => [k, v, 'field'] as const), ...Object.entries(l.stream).map(([k, v]) => [k, v, 'label'] as const)].map(
                ([k, v, kind]) => (
                  <tr data-field={k}>
                    <td class="muted">
                      {k}
                      {kind === 'label' ? ' (label)' : ''}
                    </td>
                    <td class="mono">
                      <FieldValue k={k} v={v} />
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          {p.format !== 'text' ? <pre class="raw mono small">{l.line}</pre> : null}
          {ctx.data ? (
            <div class="context">
              <div class="muted small">Context in {selectorOf(l.stream)}</div>
              <ol class="small">
                {ctx.data.before.map(([ns, line]) => (
                  <ContextLine ns={ns} line={line} stream={l.stream} />
                ))}
                {ctx.data.at.map(([ns, line]) => (
                  <ContextLine ns={ns} line={line} stream={l.stream} at />
                ))}
                {ctx.data.after.map(([ns, line]) => (
                  <ContextLine ns={ns} line={line} stream={l.stream} />
                ))}
              </ol>
            </div>
          ) : ctx.error ? (
            <ErrorBox error={ctx.error} />
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

/** Fields whose values are ids or times: one line each, so never worth a facet. */
const NO_FACET = ['time', 'ts', 'timestamp', 'request_id', 'trace_id', 'span_id', 'user_id', 'pid', 'hostname'];

/** A facet is worth showing when it splits the lines into a few groups of one-line values. */
function facetShown(f: Facets['facets'][number]): boolean {
  return f.distinct > 1 && f.distinct < 50 && !NO_FACET.includes(f.field) && !/(^|_)stack$/.test(f.field) && f.values.every((v) => !v.value.includes('\n'));
}

function RequestView({ id }: { id: string }): preact.JSX.Element {
  const st = useAsync(
    () => promGet<{ lines: Array<{ stream: Record<string, string>; ts: string; line: string }> }>('/loki/api/v1/correlate', { id, since: '24h' }),
    [id],
  );
  const [open, setOpen] = useState<string>();
  return (
    <div>
      <div class="page-head">
        <h1>Request {id}</h1>
        <a href={href('/logs')} onClick={onLinkClick}>
          back to search
        </a>
      </div>
      {st.error ? <ErrorBox error={st.error} /> : !st.data ? <Loading what="Finding the request's lines" /> : null}
      {st.data && st.data.lines.length === 0 ? (
        <Empty title="No lines carry this id in the last 24 hours">Ids are matched as whole values of request_id or trace_id fields.</Empty>
      ) : null}
      <ul class="loglines" data-testid="request-lines">
        {(st.data?.lines ?? []).map((x) => {
          const l = { ns: x.ts, stream: x.stream, line: x.line };
          const key = `${x.ts}${x.line}`;
          return <LineRow l={l} open={open === key} onToggle={() => setOpen(open === key ? undefined : key)} />;
        })}
      </ul>
    </div>
  );
}

/** The logs page. */
export function Logs(): preact.JSX.Element {
  const { params } = useLocation();
  const id = params.get('id');
  const q = params.get('query') ?? '';
  const range = rangeFromParams(params);
  const live = params.get('live') === '1';
  const [draft, setDraft] = useState(q);
  const [open, setOpen] = useState<string>();
  const rangeKey = range.kind === 'relative' ? range.range : `${range.from}-${range.to}`;
  const available = useAsync(async () => (await fetchChecked('/loki/api/v1/labels')).status !== 404, []);
  const streams = useAsync(() => promGet<string[]>('/loki/api/v1/label/service/values'), []);
  const st = useAsync(
    async (signal) => {
      if (!q) return undefined;
      const { start, end } = resolveRange(range, Date.now());
      const step = autoStep(end - start, 80);
      const p = { start: `${start}000000`, end: `${end}000000` };
      const [lines, hist, facets] = await Promise.all([
        promGet<{ resultType: string; result: StreamResult[] }>('/loki/api/v1/query_range', { query: q, ...p, limit: '200', direction: 'backward' }, signal),
        promGet<{ resultType: string; result: MatrixSeries[] }>(
          '/loki/api/v1/query_range',
          { query: `sum(count_over_time(${q} [${formatDuration(step)}]))`, ...p, step: String(step / 1000) },
          signal,
        ).catch(() => undefined),
        promGet<Facets>('/loki/api/v1/facets', { query: q, ...p, top: '5', limit: '1000' }, signal).catch(() => undefined),
      ]);
      if (lines.resultType !== 'streams') throw new ApiFailure(400, 'this is a metric query: the logs page shows log queries; use Explore for metrics');
      const flat: Line[] = lines.result.flatMap((s) => s.values.map(([ns, line]) => ({ ns, stream: s.stream, line })));
      flat.sort((a, b) => (BigInt(b.ns) > BigInt(a.ns) ? 1 : -1));
      const shown = flat.slice(0, 200);
      const labelNames = new Set(lines.result.flatMap((s) => Object.keys(s.stream)));
      // Facet filters on fields need the parser the lines are written in.
      const logfmtLines = shown.filter((l) => !l.line.trimStart().startsWith('{')).length;
      const parser: 'json' | 'logfmt' = logfmtLines > shown.length / 2 ? 'logfmt' : 'json';
      return { range: [start / 1000, end / 1000] as const, lines: shown, hist: hist?.resultType === 'matrix' ? hist.result : [], facets, labelNames, parser };
    },
    [q, rangeKey],
    live ? 2000 : 0,
  );
  const aligned = useMemo(() => align(st.data?.hist ?? []), [st.data]);
  if (id) return <RequestView id={id} />;
  if (available.data === false) {
    return (
      <Empty title="The logs API is not available on this server">
        This page searches logs through <code>/loki/api/v1/query_range</code>, which this Vigil does not serve yet.
      </Empty>
    );
  }
  const run = (): void => setParams((p) => p.set('query', draft.trim()), false);
  const addFilter = (field: string, value: string): void => {
    const next = withFilter(q, field, value, st.data?.labelNames ?? new Set(), st.data?.parser ?? 'json');
    setDraft(next);
    setParams((p) => p.set('query', next), false);
  };
  const error = st.error instanceof Error ? st.error.message : undefined;
  return (
    <div class="logs">
      <div class="page-head">
        <h1>Logs</h1>
      </div>
      <div class="query-row">
        <QueryEditor value={draft} onInput={setDraft} onRun={run} error={error} lang="logql" placeholder='A LogQL query, e.g. {service="shop"} |= "error"' />
        <button class="primary" onClick={run}>
          Search
        </button>
      </div>
      <div class="toolbar">
        <TimePicker range={range} onRange={(r) => setParams((p) => rangeToParams(r, p))} />
        <label>
          <input
            type="checkbox"
            checked={live}
            onChange={(e) =>
              setParams((p) => (e.currentTarget.checked ? (p.set('live', '1'), rangeToParams({ kind: 'relative', range: '5m' }, p)) : p.delete('live')))
            }
          />{' '}
          Live tail
        </label>
        {st.loading ? <span class="muted">loading…</span> : null}
      </div>
      {!q ? (
        <Empty title="Search logs with LogQL">
          Pick a stream:{' '}
          {(streams.data ?? []).map((s) => (
            <button class="link" onClick={() => setParams((p) => p.set('query', `{${labelMatcher('service', s)}}`), false)}>
              {`{${labelMatcher('service', s)}}`}
            </button>
          ))}
          {streams.data?.length === 0 ? 'no streams yet: ship logs with the SDK’s loki option, promtail or any Loki client to /loki/api/v1/push.' : null}
        </Empty>
      ) : error ? null : !st.data ? (
        <Loading what="Searching" />
      ) : (
        <div class="logs-body">
          <aside class="facets" aria-label="Fields">
            {(st.data.facets?.facets ?? [])
              .filter((f) => facetShown(f))
              .map((f) => (
                <details open={f.distinct <= 6}>
                  <summary>
                    {f.field} <span class="muted">({f.distinct})</span>
                  </summary>
                  <ul>
                    {f.values.map((v) => (
                      <li>
                        <button class="link" data-facet={f.field} data-value={v.value} title={v.value} onClick={() => addFilter(f.field, v.value)}>
                          {v.value}
                        </button>{' '}
                        <span class="muted">{v.count}</span>
                      </li>
                    ))}
                  </ul>
                </details>
              ))}
          </aside>
          <div class="logs-main">
            {aligned[0].length > 0 ? <Chart data={aligned} names={['lines']} height={110} range={st.data.range} /> : null}
            <div class="muted small" data-testid="log-count">
              {st.data.lines.length} lines shown{st.data.lines.length === 200 ? ' (the newest 200)' : ''}
            </div>
            {st.data.lines.length === 0 ? <Empty title="No lines match in this range">Widen the range, or loosen the filters.</Empty> : null}
            {st.data.lines.length > 0 ? (
              <div class="logline-cols muted small" aria-hidden="true">
                <span>Time</span>
                <span>Level</span>
                <span>Message and fields</span>
              </div>
            ) : null}
            <ul class="loglines">
              {st.data.lines.map((l) => {
                const key = `${l.ns}${l.line}`;
                return <LineRow l={l} open={open === key} onToggle={() => setOpen(open === key ? undefined : key)} />;
              })}
            </ul>
          </div>
        </div>
      )}
    </div>
  );
}
