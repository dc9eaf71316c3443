/**
 * The service map (`/ui/services`): who calls whom, from the service-graph metrics the trace
 * metrics generator writes (`traces_service_graph_*`), over the selected range. Nodes show requests
 * per second and the failed share (red when any failed); edges show p50 and p99 latency. A click on
 * a node selects it (`node` in the URL) and opens a panel linking to its traces and golden signals.
 */
import { query, type VectorSample } from '../api.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { TimePicker } from '../components/TimePicker.js';
import { useAsync } from '../hooks.js';
import { formatValue } from '../lib/format.js';
import { SIGNALS } from '../lib/overview.js';
import {
  NODE_H,
  NODE_W,
  buildServiceMap,
  edgePath,
  layoutServiceMap,
  mapWindow,
  nodeTracesHref,
  serviceMapQueries,
  serviceSelector,
  type MapEdge,
  type MapLayout,
  type PlacedNode,
  type ServiceMap,
} from '../lib/servicemap.js';
import { rangeFromParams, rangeToParams, resolveRange } from '../lib/time.js';
import { formatSpanDuration } from '../lib/traces.js';
import { exploreHref, onLinkClick, setParams, useLocation } from '../router.js';

const vector = async (expr: string, time: number, signal: AbortSignal): Promise<VectorSample[]> => {
  const r = await query(expr, time, signal);
  return r.resultType === 'vector' ? r.result : [];
};

const seconds = (s: number | undefined): string => (s === undefined ? '–' : formatSpanDuration(s * 1000));
const KIND_LABEL = { service: '', database: 'database', user: 'clients', peer: 'not traced' } as const;

/** The ratio as people read it: 0 %, 0.4 %, 12 %. */
function percent(r: number): string {
  return formatValue(r * 100, 'percent');
}

function Node({ n, selected, onSelect }: { n: PlacedNode; selected: boolean; onSelect: (id: string) => void }): preact.JSX.Element {
  const failing = n.errorRate > 0;
  return (
    <g
      class={`sm-node kind-${n.kind}${failing ? ' failing' : ''}${selected ? ' selected' : ''}`}
      data-node={n.id}
      data-kind={n.kind}
      transform={`translate(${n.x},${n.y})`}
      role="button"
      tabIndex={0}
      aria-label={`${n.id}: ${formatValue(n.rate, 'reqps')}, ${percent(n.errorRatio)} failed`}
      onClick={() => onSelect(n.id)}
      onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onSelect(n.id))}
    >
      <rect width={NODE_W} height={NODE_H} rx={n.kind === 'database' ? 14 : 6} />
      <text x={12} y={24} class="sm-name">
        {n.id.length > 19 ? `${n.id.slice(0, 18)}…` : n.id}
        <title>{n.id}</title>
      </text>
      {KIND_LABEL[n.kind] ? (
        <text x={NODE_W - 10} y={24} text-anchor="end" class="sm-kind">
          {KIND_LABEL[n.kind]}
        </text>
      ) : null}
      <text x={12} y={50} class="sm-stat" data-stat="rate">
        {formatValue(n.rate, 'reqps')}
      </text>
      <text x={NODE_W - 10} y={50} text-anchor="end" class={`sm-stat${failing ? ' err' : ''}`} data-stat="errors">
        {percent(n.errorRatio)} err
      </text>
    </g>
  );
}

function Edge({ e, from, to }: { e: MapEdge; from: PlacedNode; to: PlacedNode }): preact.JSX.Element {
  const { d, labelX, labelY } = edgePath(from, to);
  const label = `p50 ${seconds(e.p50)} · p99 ${seconds(e.p99)}`;
  return (
    <g class={`sm-edge${e.errorRate > 0 ? ' failing' : ''}${e.connection ? ` conn-${e.connection}` : ''}`} data-edge={`${e.client}->${e.server}`}>
      <path d={d} marker-end={e.errorRate > 0 ? 'url(#sm-arrow-err)' : 'url(#sm-arrow)'} />
      <text x={labelX} y={labelY - 6} text-anchor="middle" class="sm-edge-label" data-stat="latency">
        {label}
      </text>
      <title>{`${e.client} → ${e.server}${e.connection ? ` (${e.connection})` : ''}: ${formatValue(e.rate, 'reqps')}, ${label}`}</title>
    </g>
  );
}

function MapSvg({
  map,
  layout,
  selected,
  onSelect,
}: {
  map: ServiceMap;
  layout: MapLayout;
  selected: string;
  onSelect: (id: string) => void;
}): preact.JSX.Element {
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  // Room below the boxes for calls that go back up a cycle.
  const h = layout.height + (map.edges.some((e) => (at.get(e.server)?.depth ?? 0) <= (at.get(e.client)?.depth ?? 0)) ? 50 : 0);
  return (
    // Full size when it fits; scaled down to the page's width when it does not, rather than cut off.
    <svg
      class="service-map"
      viewBox={`0 0 ${layout.width} ${h}`}
      width="100%"
      style={{ maxWidth: `${layout.width}px` }}
      role="group"
      aria-label="Service map"
      data-testid="service-map"
    >
      <defs>
        <marker id="sm-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="sm-arrow" />
        </marker>
        <marker id="sm-arrow-err" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="sm-arrow err" />
        </marker>
      </defs>
      {map.edges.map((e) => {
        const from = at.get(e.client);
        const to = at.get(e.server);
        return from && to && from !== to ? <Edge e={e} from={from} to={to} /> : null;
      })}
      {layout.nodes.map((n) => (
        <Node n={n} selected={n.id === selected} onSelect={onSelect} />
      ))}
    </svg>
  );
}

/** What the panel offers for the selected node: its traces, and its golden signals from span metrics. */
function NodePanel({ map, id, rangeParams }: { map: ServiceMap; id: string; rangeParams: URLSearchParams }): preact.JSX.Element | null {
  const n = map.nodes.find((x) => x.id === id);
  if (!n) return null;
  const sel = serviceSelector(n.id);
  // Explore takes a relative range; an absolute map range opens the last hour.
  const range = rangeParams.get('range') ?? '1h';
  const signals = SIGNALS.filter((s) => s.id === 'span_rps' || s.id === 'span_errors' || s.id === 'span_latency');
  const calls = map.edges.filter((e) => e.client === id);
  const callers = map.edges.filter((e) => e.server === id);
  return (
    <aside class="sm-panel" data-testid="node-panel" data-node={id}>
      <div>
        <h2>{n.id}</h2>
        <div class="muted small">{n.kind === 'service' ? 'service' : KIND_LABEL[n.kind]}</div>
        <p>
          <strong data-stat="rate">{formatValue(n.rate, 'reqps')}</strong> ·{' '}
          <strong class={n.errorRate > 0 ? 'err-text' : ''}>{percent(n.errorRatio)} failed</strong>
        </p>
      </div>
      <div class="actions">
        <a href={nodeTracesHref(n, rangeParams)} onClick={onLinkClick} data-link="node-traces">
          Traces
        </a>
        {n.kind === 'service'
          ? signals.map((s) => (
              <a href={exploreHref(s.detail(sel), range)} onClick={onLinkClick} data-link={s.id}>
                {s.title}
              </a>
            ))
          : null}
      </div>
      {[
        ['Calls', calls, (e: MapEdge) => e.server],
        ['Called by', callers, (e: MapEdge) => e.client],
      ].map(([title, es, other]) =>
        (es as MapEdge[]).length ? (
          <table class="data small">
            <caption>{title as string}</caption>
            <tbody>
              {(es as MapEdge[]).map((e) => (
                <tr>
                  <td>{(other as (e: MapEdge) => string)(e)}</td>
                  <td class="num">{formatValue(e.rate, 'reqps')}</td>
                  <td class={`num${e.errorRate > 0 ? ' err-text' : ''}`}>{percent(e.rate > 0 ? e.errorRate / e.rate : 0)}</td>
                  <td class="num mono">p99 {seconds(e.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null,
      )}
    </aside>
  );
}

/** The service map page. */
export function Services(): preact.JSX.Element {
  const { params } = useLocation();
  const range = rangeFromParams(params);
  const rangeKey = range.kind === 'relative' ? range.range : `${range.from}-${range.to}`;
  const selected = params.get('node') ?? '';
  const rangeParams = new URLSearchParams();
  rangeToParams(range, rangeParams);
  const st = useAsync(
    async (signal) => {
      const { start, end } = resolveRange(range, Date.now());
      const q = serviceMapQueries(mapWindow(start, end));
      const [requests, failed, p50, p99] = await Promise.all([q.requests, q.failed, q.p50, q.p99].map((e) => vector(e, end, signal)));
      const map = buildServiceMap({ requests: requests!, failed: failed!, p50: p50!, p99: p99! });
      return { map, layout: layoutServiceMap(map) };
    },
    [rangeKey],
    30_000,
  );
  const select = (id: string): void => setParams((p) => (id === selected ? p.delete('node') : p.set('node', id)));
  return (
    <div class="services">
      <div class="page-head">
        <h1>Service map</h1>
        <TimePicker range={range} onRange={(r) => setParams((p) => rangeToParams(r, p))} />
      </div>
      <div class="muted small">
        From the spans services send: requests per second and the share that failed on each node (calls into it), p50 and p99 latency on each call. Click a
        service for its traces and golden signals.
      </div>
      {st.error ? (
        <ErrorBox error={st.error} />
      ) : !st.data ? (
        <Loading what="Drawing the service map" />
      ) : st.data.map.nodes.length === 0 ? (
        <Empty title="No calls between services in this range">
          The map is drawn from the trace metrics generator's <code>traces_service_graph_*</code> series: send traces (OTLP to <code>/v1/traces</code>) or widen
          the time range.
        </Empty>
      ) : (
        <div class="sm-body">
          <div class="sm-scroll">
            <MapSvg map={st.data.map} layout={st.data.layout} selected={selected} onSelect={select} />
          </div>
          {selected ? <NodePanel map={st.data.map} id={selected} rangeParams={rangeParams} /> : null}
        </div>
      )}
    </div>
  );
}
