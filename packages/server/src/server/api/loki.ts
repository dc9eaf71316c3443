/**
 * The Loki HTTP API over the log store: queries (`/loki/api/v1/query`, `/query_range`), metadata
 * (`/labels`, `/label/<name>/values`, `/series`, `/index/stats`), live tail over WebSocket, and
 * Vigil's own additions for the UI: facets, context and request/trace correlation.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { labelsToRecord, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { LogQueryable } from '../../logs/storage/interface.js';
import type { Direction, LogEntry } from '../../logs/storage/types.js';
import { safeTokens } from '../../logs/store/bloom.js';
import { LogqlEngine, LogqlExecError, type LogqlStats, type LogqlValue } from '../../logs/logql/engine.js';
import { LogqlParseError, parseLogql, parseStreamSelector } from '../../logs/logql/parser.js';
import { Pipeline, parseLogfmt } from '../../logs/logql/pipeline.js';
import { toApiJson } from '../../metrics/promql/engine/value.js';
import { ApiError } from './errors.js';
import { json, type ApiRequest, type Router } from './http.js';
import { acceptWebSocket } from './loki_ws.js';

const NS = 1_000_000n;

/** Parses a Loki time parameter: ns integer, float seconds or RFC 3339. */
export function parseLokiTime(v: string | null, dflt: bigint): bigint {
  if (v === null || v === '') return dflt;
  if (/^\d{16,19}$/.test(v)) return BigInt(v);
  if (/^-?\d+(\.\d+)?$/.test(v)) return BigInt(Math.round(Number(v) * 1000)) * NS;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new ApiError('bad_data', `cannot parse "${v}" as a timestamp`);
  return BigInt(ms) * NS;
}

function parseStep(v: string | null, start: bigint, end: bigint): number {
  if (!v) return Math.max(1000, Math.ceil(Number((end - start) / NS) / 250 / 1000) * 1000);
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  if (!m) throw new ApiError('bad_data', `invalid step "${v}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']!;
}

function direction(q: URLSearchParams): Direction {
  const d = (q.get('direction') ?? 'backward').toLowerCase();
  if (d !== 'forward' && d !== 'backward') throw new ApiError('bad_data', `invalid direction "${d}"`);
  return d;
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LogqlParseError) throw new ApiError('bad_data', err.message);
    if (err instanceof LogqlExecError) throw new ApiError('bad_data', err.message);
    throw err;
  }
}

function streamsJson(v: LogqlValue, stats: LogqlStats, started: number): unknown {
  const summary = { summary: { totalLinesProcessed: stats.linesScanned, totalBytesProcessed: stats.bytesScanned, execTime: (performance.now() - started) / 1000 } };
  if (v.type === 'streams')
    return {
      resultType: 'streams',
      result: v.streams.map((s) => ({ stream: labelsToRecord(s.labels), values: s.entries.map((e) => (e.meta?.length ? [String(e.t), e.line, labelsToRecord(e.meta)] : [String(e.t), e.line])) })),
      stats: summary,
    };
  return { ...toApiJson(v), stats: summary };
}

function matchersOf(q: URLSearchParams): Matcher[][] {
  return [...q.getAll('match[]'), ...q.getAll('query')].filter(Boolean).map((s) => wrap(() => parseStreamSelector(s)));
}

/** Options of {@link registerLokiApi}. */
export interface LokiApiOptions {
  readonly now?: () => number;
  /** Largest `limit` accepted (default 5000). */
  readonly maxLimit?: number;
}

/** The upgrade handler for live tail: returns true when it took the request. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** Registers the Loki API routes; returns the engine and the WebSocket upgrade handler for `/loki/api/v1/tail`. */
export function registerLokiApi(router: Router, store: LogQueryable, opts: LokiApiOptions = {}): { engine: LogqlEngine; upgrade: UpgradeHandler } {
  const engine = new LogqlEngine(store);
  const now = opts.now ?? Date.now;
  const maxLimit = opts.maxLimit ?? 5000;
  const nowNs = (): bigint => BigInt(now()) * NS;
  const limitOf = (q: URLSearchParams, d = 100): number => {
    const l = Number(q.get('limit') ?? d);
    if (!Number.isInteger(l) || l <= 0) throw new ApiError('bad_data', 'limit must be a positive integer');
    if (l > maxLimit) throw new ApiError('bad_data', `max entries limit per query exceeded, limit > max_entries_limit (${l} > ${maxLimit})`);
    return l;
  };
  const range = (q: URLSearchParams): { start: bigint; end: bigint } => {
    const end = parseLokiTime(q.get('end'), nowNs());
    const since = q.get('since');
    const start = parseLokiTime(q.get('start'), end - (since ? BigInt(parseStep(since, 0n, 0n)) * NS : 3_600_000n * NS));
    if (end < start) throw new ApiError('bad_data', 'end timestamp must not be before start time');
    return { start, end };
  };
  const queryOf = (q: URLSearchParams): string => {
    const s = q.get('query');
    if (!s) throw new ApiError('bad_data', 'query parameter is required');
    return s;
  };

  const GET = ['GET', 'POST'];
  router.on(GET, '/loki/api/v1/query_range', (req) => {
    const q = req.query;
    const { start, end } = range(q);
    const stats: LogqlStats = { linesScanned: 0, bytesScanned: 0 };
    const t0 = performance.now();
    const v = wrap(() => engine.rangeQuery(queryOf(q), start, end, parseStep(q.get('step') ?? q.get('interval'), start, end), limitOf(q), direction(q), stats));
    return json(streamsJson(v, stats, t0));
  });
  router.on(GET, '/loki/api/v1/query', (req) => {
    const q = req.query;
    const stats: LogqlStats = { linesScanned: 0, bytesScanned: 0 };
    const t0 = performance.now();
    const v = wrap(() => engine.instantQuery(queryOf(q), parseLokiTime(q.get('time'), nowNs()), limitOf(q), direction(q), stats));
    return json(streamsJson(v, stats, t0));
  });
  router.on(GET, '/loki/api/v1/labels', (req) => {
    const { start, end } = range(req.query);
    return json(store.labelNames(start, end));
  });
  router.on(GET, '/loki/api/v1/label/:name/values', (req) => {
    const { start, end } = range(req.query);
    const ms = matchersOf(req.query)[0] ?? [];
    return json(store.labelValues(req.params['name']!, ms, start, end));
  });
  router.on(GET, '/loki/api/v1/series', (req) => {
    const { start, end } = range(req.query);
    const sets = matchersOf(req.query);
    if (!sets.length) throw new ApiError('bad_data', 'at least one match[] selector is required');
    const seen = new Map<number, Labels>();
    for (const ms of sets) for (const s of store.selectStreams(ms, start, end)) seen.set(s.id, s.labels);
    return json([...seen.values()].map(labelsToRecord));
  });
  router.on(GET, '/loki/api/v1/index/stats', (req) => {
    const { start, end } = range(req.query);
    const ms = matchersOf(req.query)[0];
    const st = store.stats(ms, start, end);
    return { kind: 'raw', status: 200, contentType: 'application/json', body: JSON.stringify({ streams: st.streams, chunks: st.chunks, entries: st.entries, bytes: st.bytes }) };
  });

  // Facets: top values of each (or one) parsed field over the lines a log query returns.
  router.on(GET, '/loki/api/v1/facets', (req) => {
    const q = req.query;
    const { start, end } = range(q);
    const field = q.get('field');
    const top = Number(q.get('top') ?? 10);
    const v = wrap(() => engine.rangeQuery(queryOf(q), start, end, 1000, limitOf(q, 1000), direction(q)));
    if (v.type !== 'streams') throw new ApiError('bad_data', 'facets need a log query');
    const counts = new Map<string, Map<string, number>>();
    const add = (k: string, val: string): void => {
      if (field && k !== field) return;
      let m = counts.get(k);
      if (!m) counts.set(k, (m = new Map()));
      m.set(val, (m.get(val) ?? 0) + 1);
    };
    let lines = 0;
    for (const s of v.streams)
      for (const e of s.entries) {
        lines++;
        const fields = new Map<string, string>(s.labels.map((l) => [l.name, l.value]));
        for (const [k, val] of fieldsOf(e.line)) fields.set(k, val);
        for (const [k, val] of fields) add(k, val);
      }
    const out = [...counts].map(([name, m]) => ({ field: name, distinct: m.size, values: [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([value, count]) => ({ value, count })) }));
    return json({ lines, facets: out.sort((a, b) => a.field.localeCompare(b.field)) });
  });

  // Context: lines before and after one line of a stream.
  router.on(GET, '/loki/api/v1/context', (req) => {
    const q = req.query;
    const sel = q.get('stream');
    if (!sel) throw new ApiError('bad_data', 'stream parameter (a label selector) is required');
    const t = parseLokiTime(q.get('ts'), -1n);
    if (t < 0n) throw new ApiError('bad_data', 'ts parameter is required');
    const before = Number(q.get('before') ?? 10);
    const after = Number(q.get('after') ?? 10);
    const streams = store.selectStreams(wrap(() => parseStreamSelector(sel)));
    const s = streams[0];
    if (!s) throw new ApiError('not_found', `no stream ${sel}`);
    const far = 1n << 62n;
    const pre: LogEntry[] = [];
    for (const e of store.entries(s, -far, t, 'backward')) {
      if (pre.length >= before) break;
      pre.push(e);
    }
    const post: LogEntry[] = [];
    for (const e of store.entries(s, t, far, 'forward')) {
      if (post.length >= after + 1) break;
      post.push(e);
    }
    const fmt = (e: LogEntry): [string, string] => [String(e.t), e.line];
    return json({ stream: labelsToRecord(s.labels), before: pre.reverse().map(fmt), at: post.slice(0, 1).map(fmt), after: post.slice(1).map(fmt) });
  });

  // Correlation: every line carrying one request or trace id, across all streams, in time order.
  router.on(GET, '/loki/api/v1/correlate', (req) => {
    const q = req.query;
    const id = q.get('id');
    if (!id) throw new ApiError('bad_data', 'id parameter is required');
    const { start, end } = range(q);
    const fieldNames = (q.get('field') ?? 'request_id,requestId,trace_id,traceId,reqId').split(',');
    const limit = limitOf(q, 1000);
    const t0 = performance.now();
    // The id is a whole value, so all its tokens must be in a chunk's bloom filter.
    const hint = { tokens: safeTokens(id, true), needle: id };
    const out: { stream: Record<string, string>; ts: string; line: string }[] = [];
    for (const s of store.selectStreams([], start, end))
      for (const e of store.entries(s, start, end, 'forward', hint)) {
        const meta = e.meta?.find((m) => fieldNames.includes(m.name) && m.value === id);
        if (meta || fieldsOf(e.line).some(([k, v]) => fieldNames.includes(k) && v === id)) out.push({ stream: labelsToRecord(s.labels), ts: String(e.t), line: e.line });
      }
    out.sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : 1));
    return json({ id, lines: out.slice(0, limit), tookMs: performance.now() - t0 });
  });

  const upgrade: UpgradeHandler = (req, socket) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/loki/api/v1/tail') return false;
    let pipeline: Pipeline;
    let matchers: readonly Matcher[];
    try {
      const e = parseLogql(url.searchParams.get('query') ?? '');
      if (e.kind !== 'log') throw new Error('tail needs a log query');
      matchers = e.matchers;
      pipeline = new Pipeline(e.stages);
    } catch (err) {
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${(err as Error).message}\n`);
      return true;
    }
    const ws = acceptWebSocket(req, socket);
    if (!ws) return true;
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const send = (items: { labels: Labels; e: LogEntry }[]): void => {
      if (!items.length) return;
      const groups = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
      for (const { labels, e } of items) {
        const k = JSON.stringify(labels);
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { stream: labelsToRecord(labels), values: [] }));
        g.values.push([String(e.t), e.line]);
      }
      ws.sendText(JSON.stringify({ streams: [...groups.values()], dropped_entries: null }));
    };
    // Backfill from `start` (default: the last hour), then follow.
    const start = parseLokiTime(url.searchParams.get('start'), nowNs() - 3_600_000n * NS);
    const back = engine.logs({ kind: 'log', matchers, stages: [] }, start, nowNs() + 1n, limit, 'backward');
    const initial: { labels: Labels; e: LogEntry }[] = [];
    for (const s of back.streams)
      for (const e of s.entries) {
        const out = pipeline.run(e.line, e.t, s.labels, e.meta);
        if (out) initial.push({ labels: out.labels, e: { t: e.t, line: out.line } });
      }
    initial.sort((a, b) => (a.e.t < b.e.t ? -1 : 1));
    send(initial);
    const unsubscribe = store.subscribe((stream, entries) => {
      if (!matchers.every((m) => m.matches(stream.labels.find((l) => l.name === m.name)?.value ?? ''))) return;
      const items: { labels: Labels; e: LogEntry }[] = [];
      for (const e of entries) {
        const out = pipeline.run(e.line, e.t, stream.labels, e.meta);
        if (out) items.push({ labels: out.labels, e: { t: e.t, line: out.line } });
      }
      send(items);
    });
    ws.onClose(unsubscribe);
    return true;
  };
  return { engine, upgrade };
}

/** Top-level fields of a JSON or logfmt line, as strings. */
function fieldsOf(line: string): [string, string][] {
  const out: [string, string][] = [];
  if (line.startsWith('{')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) if (v !== null && typeof v !== 'object') out.push([k, String(v)]);
      return out;
    } catch {
      // not JSON after all
    }
  }
  parseLogfmt(line, (k, v) => out.push([k, v]));
  return out;
}

/** Request type re-export for tests. */
export type { ApiRequest };
