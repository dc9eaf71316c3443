/**
 * The service map, free of Preact so Node unit-tests it: the PromQL over the trace metrics
 * generator's `traces_service_graph_*` series (Tempo's names), the graph those answers make (nodes
 * with request and error rates, edges with rates and latency quantiles), and a layered layout by
 * call depth that the page draws as SVG.
 */
import { labelMatcher, quoteLabelValue } from './escape.js';

const G = 'traces_service_graph';

/** The window a map covers, as a PromQL range: the selected time range, at least a minute. */
export function mapWindow(startMs: number, endMs: number): string {
  return `${Math.max(60, Math.round((endMs - startMs) / 1000))}s`;
}

/** Which of an edge's sides recorded a duration: the server's, else (peer virtual nodes) the client's. */
function quantile(q: number, w: string): string {
  const by = 'sum by (client, server, connection_type, le)';
  return `histogram_quantile(${q}, ${by} (rate(${G}_request_server_seconds_bucket[${w}]))) or histogram_quantile(${q}, ${by} (rate(${G}_request_client_seconds_bucket[${w}])))`;
}

/** The four instant queries a map needs, over the window `w` (a PromQL range such as `3600s`). */
export function serviceMapQueries(w: string): { requests: string; failed: string; p50: string; p99: string } {
  const by = 'sum by (client, server, connection_type)';
  return {
    requests: `${by} (rate(${G}_request_total[${w}]))`,
    failed: `${by} (rate(${G}_request_failed_total[${w}]))`,
    p50: quantile(0.5, w),
    p99: quantile(0.99, w),
  };
}

/** One sample of an instant vector, as the query API gives it. */
export interface MapSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

/** What a node stands for: a service that sends spans, or a side the spans only name. */
export type NodeKind = 'service' | 'database' | 'user' | 'peer';

export interface MapNode {
  id: string;
  kind: NodeKind;
  /** Requests per second it served (incoming edges); for the virtual user, the requests it made. */
  rate: number;
  /** Failed requests per second among those. */
  errorRate: number;
  /** Failed share of `rate`, 0..1 (0 with no requests). */
  errorRatio: number;
}

export interface MapEdge {
  client: string;
  server: string;
  /** `''` for a client/server pair, else `database`, `messaging_system` or `virtual_node`. */
  connection: string;
  rate: number;
  errorRate: number;
  /** Seconds; undefined when no duration was recorded. */
  p50: number | undefined;
  p99: number | undefined;
}

export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
}

const key = (m: Record<string, string>): string => `${m['client'] ?? ''}\u0000${m['server'] ?? ''}\u0000${m['connection_type'] ?? ''}`;

function num(s: MapSample): number | undefined {
  const v = Number(s.value[1]);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * The map from the queries' answers. An edge exists when requests were seen on it; quantiles that
 * are NaN (no observations in the window) are left out rather than drawn as 0.
 */
export function buildServiceMap(a: {
  requests: readonly MapSample[];
  failed: readonly MapSample[];
  p50: readonly MapSample[];
  p99: readonly MapSample[];
}): ServiceMap {
  const byKey = (xs: readonly MapSample[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const s of xs) {
      const v = num(s);
      // `or` in the quantile query can yield both sides of one edge; the server's comes first.
      if (v !== undefined && !m.has(key(s.metric))) m.set(key(s.metric), v);
    }
    return m;
  };
  const failed = byKey(a.failed);
  const p50 = byKey(a.p50);
  const p99 = byKey(a.p99);
  const edges: MapEdge[] = [];
  for (const s of a.requests) {
    const rate = num(s);
    const client = s.metric['client'] ?? '';
    const server = s.metric['server'] ?? '';
    if (rate === undefined || rate <= 0 || !client || !server) continue;
    const k = key(s.metric);
    edges.push({ client, server, connection: s.metric['connection_type'] ?? '', rate, errorRate: failed.get(k) ?? 0, p50: p50.get(k), p99: p99.get(k) });
  }
  edges.sort((x, y) => x.client.localeCompare(y.client) || x.server.localeCompare(y.server) || x.connection.localeCompare(y.connection));

  const kinds = new Map<string, NodeKind>();
  const sends = new Set<string>();
  for (const e of edges) {
    // A side that appears as a real client or as the server of a plain or messaging edge sends spans.
    if (!(e.connection === 'virtual_node' && e.client === 'user')) sends.add(e.client);
    if (e.connection === '' || e.connection === 'messaging_system') sends.add(e.server);
  }
  for (const e of edges) {
    if (e.connection === 'database' && !sends.has(e.server)) kinds.set(e.server, 'database');
    else if (e.connection === 'virtual_node' && e.client === 'user' && !sends.has('user')) kinds.set('user', 'user');
    else if (e.connection === 'virtual_node' && !sends.has(e.server)) kinds.set(e.server, 'peer');
  }
  const nodes = new Map<string, MapNode>();
  const node = (id: string): MapNode => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { id, kind: kinds.get(id) ?? 'service', rate: 0, errorRate: 0, errorRatio: 0 }));
    return n;
  };
  for (const e of edges) {
    node(e.client);
    const s = node(e.server);
    s.rate += e.rate;
    s.errorRate += e.errorRate;
  }
  for (const n of nodes.values()) {
    if (n.kind === 'user') {
      // The virtual user serves nothing: show what it asked for.
      for (const e of edges) {
        if (e.client !== n.id) continue;
        n.rate += e.rate;
        n.errorRate += e.errorRate;
      }
    }
    n.errorRatio = n.rate > 0 ? Math.min(1, n.errorRate / n.rate) : 0;
  }
  return { nodes: [...nodes.values()].sort((x, y) => x.id.localeCompare(y.id)), edges };
}

/** Sizes of the drawing, in SVG units. */
export const NODE_W = 180;
export const NODE_H = 66;
const COL_GAP = 190;
const ROW_GAP = 56;
const PAD = 20;

export interface PlacedNode extends MapNode {
  /** Call depth: 0 for callers nobody calls. */
  depth: number;
  x: number;
  y: number;
}

export interface MapLayout {
  nodes: PlacedNode[];
  width: number;
  height: number;
}

/**
 * Columns by call depth, left to right: a node sits one column right of its deepest caller (the
 * longest path from a node nobody calls). A cycle is cut where a walk from those roots first comes
 * back to a node it is inside of, so a call back up does not push its target further. Within a
 * column, nodes are ordered by where their callers sit (then by name), which keeps edges from
 * crossing in the usual tree-shaped map. Columns are centred vertically; boxes never overlap.
 */
export function layoutServiceMap(map: ServiceMap): MapLayout {
  const ids = map.nodes.map((n) => n.id);
  const callers = new Map<string, string[]>(ids.map((id) => [id, []]));
  const callees = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of map.edges) {
    if (e.client === e.server) continue;
    callers.get(e.server)?.push(e.client);
    callees.get(e.client)?.push(e.server);
  }
  // Back edges, found by walking from the roots first (then from whatever a cycle left unreached).
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const walk = (id: string): void => {
    state.set(id, 'open');
    for (const c of callees.get(id) ?? []) {
      const s = state.get(c);
      if (s === 'open') back.add(`${id}\u0000${c}`);
      else if (s === undefined) walk(c);
    }
    state.set(id, 'done');
  };
  for (const id of ids) if (callers.get(id)!.length === 0) walk(id);
  for (const id of ids) if (!state.has(id)) walk(id);
  const depth = new Map<string, number>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    let d = 0;
    for (const c of callers.get(id) ?? []) if (!back.has(`${c}\u0000${id}`)) d = Math.max(d, depthOf(c) + 1);
    depth.set(id, d);
    return d;
  };
  for (const id of ids) depthOf(id);
  const columns: string[][] = [];
  for (const id of ids) (columns[depth.get(id)!] ??= []).push(id);
  const row = new Map<string, number>();
  for (const col of columns) {
    if (!col) continue;
    const bary = (id: string): number => {
      const ps = (callers.get(id) ?? []).map((c) => row.get(c)).filter((r): r is number => r !== undefined);
      return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : Number.POSITIVE_INFINITY;
    };
    col.sort((a, b) => bary(a) - bary(b) || a.localeCompare(b));
    col.forEach((id, i) => row.set(id, i));
  }
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const width = PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP;
  const byId = new Map(map.nodes.map((n) => [n.id, n]));
  const placed: PlacedNode[] = [];
  columns.forEach((col, d) => {
    if (!col) return;
    const colH = col.length * NODE_H + (col.length - 1) * ROW_GAP;
    const top = (height - colH) / 2;
    col.forEach((id, i) => placed.push({ ...byId.get(id)!, depth: d, x: PAD + d * (NODE_W + COL_GAP), y: top + i * (NODE_H + ROW_GAP) }));
  });
  return { nodes: placed, width: Math.max(width, NODE_W + PAD * 2), height };
}

/** An edge's path: right side of the caller to the left side of the callee; calls back go round below. */
export function edgePath(from: PlacedNode, to: PlacedNode): { d: string; labelX: number; labelY: number } {
  if (to.depth > from.depth) {
    const x1 = from.x + NODE_W;
    const y1 = from.y + NODE_H / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_H / 2;
    const mx = (x1 + x2) / 2;
    // Label in the gap just after the caller, where edges fanning out still sit apart.
    const t = Math.min(0.5, (COL_GAP * 0.5) / Math.max(1, x2 - x1));
    return { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, labelX: x1 + (x2 - x1) * t, labelY: y1 + (y2 - y1) * bezierShare(t) };
  }
  const x1 = from.x + NODE_W / 2;
  const y1 = from.y + NODE_H;
  const x2 = to.x + NODE_W / 2;
  const y2 = to.y + NODE_H;
  const low = Math.max(y1, y2) + 40;
  return { d: `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`, labelX: (x1 + x2) / 2, labelY: low - 8 };
}

/** How far along y a horizontal-tangent cubic has moved at parameter `t`, 0..1. */
function bezierShare(t: number): number {
  return 3 * t * t - 2 * t * t * t;
}

/**
 * The Traces page over what a node did: a service's own spans, or the calls into a database or peer
 * (which send no spans of their own); the virtual user stands for every trace. `range` holds the
 * map's time range parameters, carried over as they are.
 */
export function nodeTracesHref(node: Pick<MapNode, 'id' | 'kind'>, range: URLSearchParams): string {
  const q = new URLSearchParams(range);
  // TraceQL strings escape as PromQL's do.
  const quoted = quoteLabelValue(node.id);
  if (node.kind === 'service') q.set('service', node.id);
  else if (node.kind === 'database') q.set('q', `{ kind = client && (span.db.name = ${quoted} || span.db.system = ${quoted}) }`);
  else if (node.kind === 'peer') q.set('q', `{ kind = client && span.peer.service = ${quoted} }`);
  return `/ui/traces?${q.toString()}`;
}

/** A selector for one service's span metrics. */
export function serviceSelector(service: string): string {
  return labelMatcher('service', service);
}
