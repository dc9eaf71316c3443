/**
 * The service graph as Tempo's metrics-generator builds it. A client span and the server span
 * whose parent it is (same trace, different services) make one request on the edge client→server;
 * a producer and its consumer likewise, with connection_type `messaging_system`. A client span
 * naming a database (`db.namespace`, `db.name` or `db.system`) is an edge to it at once, with
 * connection_type `database`, since databases send no server spans; as in Tempo the database node
 * is named by the span's `peer.service`, else `server.address`, else `network.peer.address` (with
 * `:port`), else that database name, and the client's duration stands for the server's too (so
 * Grafana's service map shows the database's response time). Halves wait `wait` for each
 * other; when it passes, a client span with `peer.service` becomes an edge to that peer
 * (connection_type `virtual_node`), and any other lone half counts in unpaired_spans_total. A root
 * server span is an edge from the virtual client `user` (`virtual_node`) at once. Plain
 * client/server edges carry an empty connection_type, which Prometheus reads as no label, as in Tempo.
 */
import type { Span } from '../storage/types.js';
import { attrText, durationSeconds, serviceOf } from './attrs.js';
import { labelNameOf, type ServiceGraphOptions } from './config.js';
import { observe, type GeneratorRegistry } from './registry.js';

export const REQUESTS = 'traces_service_graph_request_total';
export const FAILED = 'traces_service_graph_request_failed_total';
export const SERVER_SECONDS = 'traces_service_graph_request_server_seconds';
export const CLIENT_SECONDS = 'traces_service_graph_request_client_seconds';
export const UNPAIRED = 'traces_service_graph_unpaired_spans_total';
export const DROPPED = 'traces_service_graph_dropped_spans_total';

type ConnectionType = '' | 'messaging_system' | 'database' | 'virtual_node';

interface Half {
  service: string;
  seconds: number;
  failed: boolean;
  dims: string[];
  /** The span, for the exemplar; undefined for a virtual side. */
  span: Span | undefined;
  /** For a client half: its peer.service. */
  peer: string | undefined;
}

interface Edge {
  connection: ConnectionType;
  client?: Half;
  server?: Half;
  expiresAt: number;
}

/** The other side of a real half when no span stands for it: no duration, no failure, no dimensions. */
function virtual(h: Half): Half {
  return { ...h, seconds: NaN, failed: false, dims: h.dims.map(() => ''), span: undefined, peer: undefined };
}

/** The database a client span calls, named as Tempo names its node; undefined when the span names no database. */
function databaseNode(s: Span): string | undefined {
  const db = attrText(s, 'db.namespace') ?? attrText(s, 'db.name') ?? attrText(s, 'db.system');
  if (db === undefined) return undefined;
  const host = attrText(s, 'network.peer.address');
  const port = attrText(s, 'network.peer.port');
  return attrText(s, 'peer.service') ?? attrText(s, 'server.address') ?? (host !== undefined ? (port !== undefined ? `${host}:${port}` : host) : db);
}

export class ServiceGraph {
  /** Waiting edges by trace id and the client (or producer) span's id; Map order is expiry order. */
  private readonly waiting = new Map<string, Edge>();
  private readonly dims: { attr: string; label: string }[];
  /** The clock at the current push: one reading per batch. */
  private pushedAt = 0;

  constructor(
    private readonly reg: GeneratorRegistry,
    private readonly opts: ServiceGraphOptions,
    private readonly now: () => number,
  ) {
    this.dims = opts.dimensions.map((attr) => ({ attr, label: labelNameOf(attr) }));
  }

  /** Edges waiting for their other half. */
  pending(): number {
    return this.waiting.size;
  }

  private half(s: Span): Half {
    return {
      service: serviceOf(s),
      seconds: durationSeconds(s),
      failed: s.status.code === 'error',
      dims: this.dims.map((d) => attrText(s, d.attr) ?? ''),
      span: s,
      peer: attrText(s, 'peer.service'),
    };
  }

  push(spans: readonly Span[]): void {
    this.expire();
    this.pushedAt = this.now();
    for (const s of spans) {
      if (s.kind === 'client' || s.kind === 'producer') {
        const h = this.half(s);
        const db = s.kind === 'client' ? databaseNode(s) : undefined;
        if (db !== undefined) {
          this.record({ connection: 'database', client: h, server: { ...h, service: db, failed: false, dims: h.dims.map(() => ''), span: s }, expiresAt: 0 });
          continue;
        }
        this.meet(`${s.traceId}:${s.spanId}`, s.kind === 'client' ? '' : 'messaging_system', 'client', h);
      } else if (s.kind === 'server' || s.kind === 'consumer') {
        const h = this.half(s);
        if (s.parentSpanId === '') {
          // A root server span has no client span that could ever pair with it: it is the virtual user's
          // request at once (Tempo settles it when its wait passes; waiting only takes room from real pairs).
          // The virtual side carries no dimensions: they are the real side's attributes, not its.
          this.record({ connection: 'virtual_node', client: { ...virtual(h), service: 'user' }, server: h, expiresAt: 0 });
          continue;
        }
        this.meet(`${s.traceId}:${s.parentSpanId}`, s.kind === 'server' ? '' : 'messaging_system', 'server', h);
      }
    }
  }

  private meet(key: string, connection: ConnectionType, side: 'client' | 'server', h: Half): void {
    const e = this.waiting.get(key);
    if (e) {
      if (e[side]) return; // a duplicate half (a resent span) adds nothing
      e[side] = h;
      if (e.client && e.server) {
        this.waiting.delete(key);
        this.record(e);
      }
      return;
    }
    if (this.waiting.size >= this.opts.maxItems) {
      this.inc(DROPPED, { client: side === 'client' ? h.service : '', server: side === 'server' ? h.service : '' });
      return;
    }
    this.waiting.set(key, { connection, [side]: h, expiresAt: this.pushedAt + this.opts.waitMs });
  }

  /** Settles the edges whose wait has passed (all of them with `all`). */
  expire(all = false): void {
    const now = this.now();
    for (const [key, e] of this.waiting) {
      if (!all && e.expiresAt > now) break;
      this.waiting.delete(key);
      if (e.client && !e.server && e.client.peer !== undefined) {
        this.record({ ...e, connection: 'virtual_node', server: { ...virtual(e.client), service: e.client.peer } });
      } else {
        this.inc(UNPAIRED, { client: e.client?.service ?? '', server: e.server?.service ?? '', connection_type: e.connection });
      }
    }
  }

  private record(e: Edge): void {
    const c = e.client!;
    const s = e.server!;
    const labels: Record<string, string> = { client: c.service, server: s.service, connection_type: e.connection };
    this.dims.forEach((d, i) => {
      labels[`client_${d.label}`] = c.dims[i]!;
      labels[`server_${d.label}`] = s.dims[i]!;
    });
    const key = Object.values(labels).join('\u0000');
    this.inc(REQUESTS, labels, key);
    if (c.failed || s.failed) this.inc(FAILED, labels, key);
    // A virtual side has no span and so no duration; a database side has the client's.
    const buckets = this.opts.histogramBuckets;
    if (!Number.isNaN(s.seconds)) {
      const h = this.reg.histogram(SERVER_SECONDS, buckets, key, () => labels);
      if (h) observe(h, s.seconds, s.span);
    }
    if (!Number.isNaN(c.seconds)) {
      const h = this.reg.histogram(CLIENT_SECONDS, buckets, key, () => labels);
      if (h) observe(h, c.seconds, c.span);
    }
  }

  private inc(name: string, labels: Record<string, string>, key = Object.values(labels).join('\u0000')): void {
    const c = this.reg.counter(name, key, () => labels);
    if (c) c.value++;
  }
}
