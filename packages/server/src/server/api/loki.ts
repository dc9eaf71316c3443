/**
 * The Loki HTTP API: queries (`/loki/api/v1/query`, `/query_range`), metadata (`/labels`,
 * `/label/<name>/values`, `/series`, `/index/stats`), what Grafana's data source asks besides
 * (`/index/volume[_range]`, `/detected_labels`, `/detected_fields`, `/patterns`, `/format_query`,
 * `/status/buildinfo`, `/ready`), live tail over WebSocket, and Vigil's own
 * additions for the UI: facets, context and request/trace correlation. Each route parses its
 * parameters, asks the {@link LogQueryService} and shapes Loki's JSON.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { labelsToRecord } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { Direction, LogEntry } from '../../logs/storage/types.js';
import { LogqlBudgetError, LogqlCanceledError, LogqlExecError } from '../../logs/logql/engine.js';
import { QueryGate, QueryRefusedError } from './query_gate.js';
import { LogqlParseError, parseStreamSelector } from '../../logs/logql/parser.js';
import type { Awaitable, LogQueryService, QueryOutcome } from '../../logs/query/service.js';
import { RemoteQueryError } from '../../core/httpclient/remote_api.js';
import { type LiveTail, TailQueryError, type TailLine } from '../../logs/query/tail.js';
import type { VolumeOptions } from '../../logs/query/volume.js';
import { toApiJson } from '../../metrics/promql/engine/value.js';
import { ApiError } from './errors.js';
import { VigilError } from '../../core/errors.js';
import { parseSecondsOrDuration } from '../../core/time/duration.js';
import { parseTimestamp } from '../../core/time/timestamp.js';
import { json, text, type ApiRequest, type ApiResult, type Router } from './http.js';
import { buildInfo, type BuildInfo } from '../selfmon/build_info.js';
import { acceptWebSocket, type WsLimits } from './loki_ws.js';

const NS = 1_000_000n;

/**
 * Parses a Loki time parameter: an integer of nanoseconds (Loki's own form), else what every Vigil
 * API takes (Unix seconds with a fraction, or RFC 3339; core/time).
 */
export function parseLokiTime(v: string | null, dflt: bigint): bigint {
  if (v === null || v === '') return dflt;
  if (/^\d{16,19}$/.test(v)) return BigInt(v);
  const ms = badData(() => parseTimestamp(v));
  // Hundreds of digits parse to a number past exact integers, which is no time anyone means.
  if (!Number.isSafeInteger(ms)) throw new ApiError('bad_data', `timestamp "${v}" is out of range`);
  return BigInt(ms) * NS;
}

/** `step`/`interval`: float seconds or a Prometheus duration (`15s`, `1h30m`); a default from the range when absent. */
function parseStep(v: string | null, start: bigint, end: bigint): number {
  if (!v) return Math.max(1000, Math.ceil(Number((end - start) / NS) / 250 / 1000) * 1000);
  const ms = badData(() => parseSecondsOrDuration(v));
  if (!(ms > 0)) throw new ApiError('bad_data', `invalid step "${v}": zero or negative query resolution step widths are not accepted`);
  return ms;
}

/** Runs a core parser, turning its input error into the API's 400. */
function badData<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof VigilError && err.code === 'bad_data') throw new ApiError('bad_data', err.message);
    throw err;
  }
}

function direction(q: URLSearchParams): Direction {
  const d = (q.get('direction') ?? 'backward').toLowerCase();
  if (d !== 'forward' && d !== 'backward') throw new ApiError('bad_data', `invalid direction "${d}"`);
  return d;
}

/** The API's error for a query's own (parse, evaluation) or the remote's errors; others pass. */
function apiErrorOf(err: unknown): unknown {
  if (err instanceof LogqlParseError) return new ApiError('bad_data', err.message);
  if (err instanceof LogqlExecError) return new ApiError('bad_data', err.message);
  if (err instanceof RemoteQueryError) return new ApiError(err.code, err.message, err.retryAfterSec);
  return err;
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw apiErrorOf(err);
  }
}

/** {@link wrap} for a service call that may answer later (remote storage). */
async function answer<T>(fn: () => Awaitable<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiErrorOf(err);
  }
}

function queryJson({ value: v, stats, execSec }: QueryOutcome): unknown {
  const summary = { summary: { totalLinesProcessed: stats.linesScanned, totalBytesProcessed: stats.bytesScanned, execTime: execSec } };
  if (v.type === 'streams')
    return {
      resultType: 'streams',
      result: v.streams.map((s) => ({
        stream: labelsToRecord(s.labels),
        values: s.entries.map((e) => (e.meta?.length ? [String(e.t), e.line, labelsToRecord(e.meta)] : [String(e.t), e.line])),
      })),
      stats: summary,
    };
  return { ...toApiJson(v), stats: summary };
}

/** JSON without the Prometheus envelope, for the endpoints Loki answers that way. */
function raw(body: unknown): ApiResult {
  return { kind: 'raw', status: 200, contentType: 'application/json', body: JSON.stringify(body) };
}

function matchersOf(q: URLSearchParams): Matcher[][] {
  return [...q.getAll('match[]'), ...q.getAll('query')].filter(Boolean).map((s) => wrap(() => parseStreamSelector(s)));
}

/** Options of {@link registerLokiApi}. */
export interface LokiApiOptions {
  readonly now?: () => number;
  /** Largest `limit` accepted (default 5000); live tail caps its backfill at it. */
  readonly maxLimit?: number;
  /** Live-tail WebSockets open at once (default 32); more are refused with 429. */
  readonly maxTailClients?: number;
  /** Per-connection bounds of live tail (frame size, bytes queued for a slow client). */
  readonly tailLimits?: WsLimits;
  /** Why Vigil is not ready (`/ready` answers 503 with it), or undefined when it is; default: the log store's write problem. */
  readonly notReady?: () => string | undefined;
  /** The running build, for `/loki/api/v1/status/buildinfo`. */
  readonly build?: BuildInfo;
  /** Admission of queries, shared with the PromQL API (default: a gate of its own, 20 at once). */
  readonly gate?: QueryGate;
}

/**
 * The Loki version whose HTTP API Vigil follows, answered as `version` by buildinfo: clients pick
 * features by it, and every endpoint Grafana's data source calls of 3.x is served.
 */
export const LOKI_COMPAT_VERSION = '3.4.0';

/** What the Loki API gives the server: the tail's upgrade handler and how many tails are open. */
export interface LokiApi {
  readonly upgrade: UpgradeHandler;
  tailClients(): number;
}

function refuseHandshake(socket: Duplex, status: string, message: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`);
}

/** The upgrade handler for live tail: returns true when it took the request. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** Registers the Loki API routes over `logs`; returns the WebSocket upgrade handler for `/loki/api/v1/tail`. */
export function registerLokiApi(router: Router, logs: LogQueryService, opts: LokiApiOptions = {}): LokiApi {
  const now = opts.now ?? Date.now;
  const maxLimit = opts.maxLimit ?? 5000;
  const maxTailClients = opts.maxTailClients ?? 32;
  let tailClients = 0;
  const nowNs = (): bigint => BigInt(now()) * NS;
  const gate = opts.gate ?? new QueryGate({ maxConcurrency: 20, queueTimeoutMs: 30_000 });
  /** Runs a query through the gate, its errors as the Loki API reports them. */
  const gated = async (signal: AbortSignal, run: () => Promise<QueryOutcome>): Promise<QueryOutcome> => {
    try {
      // Parse errors and bad parameters surface before the query takes a slot.
      return await gate.run(signal, run);
    } catch (err) {
      if (err instanceof QueryRefusedError) throw new ApiError('unavailable', err.message, err.retryAfterSec);
      if (err instanceof LogqlCanceledError) {
        gate.count(err.code);
        throw new ApiError(err.code, err.message);
      }
      if (err instanceof LogqlBudgetError) {
        gate.count('max_bytes');
        throw new ApiError('execution', err.message);
      }
      if (err instanceof RemoteQueryError && (err.code === 'canceled' || err.code === 'timeout')) gate.count(err.code);
      if (err instanceof VigilError && err.code === 'canceled' && !(err instanceof RemoteQueryError)) throw new ApiError('canceled', err.message);
      throw apiErrorOf(err);
    }
  };
  const limitOf = (q: URLSearchParams, d = 100, max = maxLimit): number => {
    const l = Number(q.get('limit') ?? d);
    if (!Number.isInteger(l) || l <= 0) throw new ApiError('bad_data', 'limit must be a positive integer');
    if (l > max) throw new ApiError('bad_data', `max entries limit per query exceeded, limit > max_entries_limit (${l} > ${maxLimit})`);
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
  router.on(GET, '/loki/api/v1/query_range', async (req) => {
    const q = req.query;
    const { start, end } = range(q);
    const step = parseStep(q.get('step') ?? q.get('interval'), start, end);
    const w = { start, end, limit: limitOf(q), direction: direction(q) };
    const query = queryOf(q);
    return json(queryJson(await gated(req.signal, () => logs.rangeQueryAsync(query, w, step, req.signal))));
  });
  router.on(GET, '/loki/api/v1/query', async (req) => {
    const q = req.query;
    const query = queryOf(q);
    const t = parseLokiTime(q.get('time'), nowNs());
    const limit = limitOf(q);
    const dir = direction(q);
    return json(queryJson(await gated(req.signal, () => logs.instantQueryAsync(query, t, limit, dir, req.signal))));
  });
  router.on(GET, '/loki/api/v1/labels', async (req) => {
    const { start, end } = range(req.query);
    return json(await answer(() => logs.labelNames(start, end)));
  });
  router.on(GET, '/loki/api/v1/label/:name/values', async (req) => {
    const { start, end } = range(req.query);
    const ms = matchersOf(req.query)[0] ?? [];
    return json(await answer(() => logs.labelValues(req.params['name']!, ms, start, end)));
  });
  router.on(GET, '/loki/api/v1/series', async (req) => {
    const { start, end } = range(req.query);
    const sets = matchersOf(req.query);
    if (!sets.length) throw new ApiError('bad_data', 'at least one match[] selector is required');
    return json((await answer(() => logs.series(sets, start, end))).map(labelsToRecord));
  });
  router.on(GET, '/loki/api/v1/index/stats', async (req) => {
    const { start, end } = range(req.query);
    const ms = matchersOf(req.query)[0];
    const st = await answer(() => logs.indexStats(ms, start, end));
    return raw({ streams: st.streams, chunks: st.chunks, entries: st.entries, bytes: st.bytes });
  });

  // Volume: the selector is required (Loki refuses an empty one), grouping follows targetLabels/aggregateBy.
  const volumeArgs = (q: URLSearchParams): { ms: Matcher[]; opts: VolumeOptions } => {
    const ms = wrap(() => parseStreamSelector(queryOf(q)));
    const by = q.get('aggregateBy') || 'series';
    if (by !== 'series' && by !== 'labels') throw new ApiError('bad_data', `invalid aggregateBy "${by}": want series or labels`);
    const targetLabels = (q.get('targetLabels') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return { ms, opts: { targetLabels, aggregateBy: by, limit: limitOf(q, 100) } };
  };
  const seconds = (ns: bigint): number => Number(ns / NS) / 1000;
  router.on(GET, '/loki/api/v1/index/volume', async (req) => {
    const { start, end } = range(req.query);
    const { ms, opts } = volumeArgs(req.query);
    // One point per group, stamped at the end of the range, as Loki's instant vector is.
    const result = (await answer(() => logs.volume(ms, start, end, opts))).map((v) => ({ metric: v.labels, value: [seconds(end), String(v.bytes)] }));
    return json({ resultType: 'vector', result });
  });
  router.on(GET, '/loki/api/v1/index/volume_range', async (req) => {
    const { start, end } = range(req.query);
    const { ms, opts } = volumeArgs(req.query);
    const stepMs = parseStep(req.query.get('step'), start, end);
    const result = (await answer(() => logs.volume(ms, start, end, { ...opts, stepMs }))).map((v) => ({
      metric: v.labels,
      values: v.points.map(([t, b]) => [t / 1000, String(b)]),
    }));
    return json({ resultType: 'matrix', result });
  });
  // Detected labels: the query is optional (all streams without it); Loki answers outside the Prometheus envelope.
  router.on(GET, '/loki/api/v1/detected_labels', async (req) => {
    const { start, end } = range(req.query);
    const ms = matchersOf(req.query)[0] ?? [];
    return raw({ detectedLabels: await answer(() => logs.detectedLabels(ms, start, end)) });
  });
  // Detected fields: `line_limit` bounds the lines read, `limit` the fields answered (both 1000 by default, as in Loki).
  router.on(GET, '/loki/api/v1/detected_fields', async (req) => {
    const q = req.query;
    const { start, end } = range(q);
    const lineLimit = limitOf(new URLSearchParams({ limit: q.get('line_limit') ?? '1000' }));
    const limit = limitOf(q, 1000, Infinity);
    return raw({ fields: await answer(() => logs.detectedFields(queryOf(q), start, end, lineLimit, limit)), fieldLimit: limit });
  });
  // Patterns: `query` is a stream selector, as in Loki; the lines in range are clustered on request.
  router.on(GET, '/loki/api/v1/patterns', async (req) => {
    const q = req.query;
    const { start, end } = range(q);
    const ms = wrap(() => parseStreamSelector(queryOf(q)));
    const stepMs = parseStep(q.get('step'), start, end);
    return json(await answer(() => logs.patterns(ms, start, end, stepMs)));
  });
  router.on(GET, '/loki/api/v1/format_query', (req) => json(wrap(() => logs.formatQuery(queryOf(req.query)))));
  router.on('GET', '/loki/api/v1/status/buildinfo', () => {
    const b = opts.build ?? buildInfo('0.0.0');
    return raw({ version: LOKI_COMPAT_VERSION, revision: b.revision, branch: b.branch, buildUser: 'vigil', buildDate: '', goVersion: `node ${b.nodeVersion}` });
  });
  // Loki's readiness probe: plain "ready" when logs can be written, else 503 with the reason.
  const notReady = opts.notReady ?? (() => undefined);
  router.on('GET', '/ready', () => {
    const problem = notReady();
    return problem ? text(503, `Vigil is not ready: ${problem}\n`) : text(200, 'ready\n');
  });
  // Facets: top values of each (or one) parsed field over the lines a log query returns.
  router.on(GET, '/loki/api/v1/facets', async (req) => {
    const q = req.query;
    const { start, end } = range(q);
    const field = q.get('field') ?? undefined;
    const top = Number(q.get('top') ?? 10);
    const w = { start, end, limit: limitOf(q, 1000), direction: direction(q) };
    return json(await answer(() => logs.facets(queryOf(q), w, { field, top })));
  });

  // Context: lines before and after one line of a stream.
  router.on(GET, '/loki/api/v1/context', async (req) => {
    const q = req.query;
    const sel = q.get('stream');
    if (!sel) throw new ApiError('bad_data', 'stream parameter (a label selector) is required');
    const t = parseLokiTime(q.get('ts'), -1n);
    if (t < 0n) throw new ApiError('bad_data', 'ts parameter is required');
    const before = Number(q.get('before') ?? 10);
    const after = Number(q.get('after') ?? 10);
    const ms = wrap(() => parseStreamSelector(sel));
    const c = await answer(() => logs.context(ms, t, before, after));
    if (!c) throw new ApiError('not_found', `no stream ${sel}`);
    const fmt = (e: LogEntry): [string, string] => [String(e.t), e.line];
    return json({ stream: labelsToRecord(c.stream), before: c.before.map(fmt), at: c.at.map(fmt), after: c.after.map(fmt) });
  });

  // Correlation: every line carrying one request or trace id, across all streams, in time order.
  router.on(GET, '/loki/api/v1/correlate', async (req) => {
    const q = req.query;
    const id = q.get('id');
    if (!id) throw new ApiError('bad_data', 'id parameter is required');
    const { start, end } = range(q);
    const fields = q.get('field')?.split(',');
    const limit = limitOf(q, 1000);
    const t0 = performance.now();
    const lines = (await answer(() => logs.correlate(id, start, end, fields, limit))).map((c) => ({
      stream: labelsToRecord(c.stream),
      ts: String(c.entry.t),
      line: c.entry.line,
    }));
    return json({ id, lines, tookMs: performance.now() - t0 });
  });

  const upgrade: UpgradeHandler = (req, socket) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/loki/api/v1/tail') return false;
    if (tailClients >= maxTailClients) {
      refuseHandshake(socket, '429 Too Many Requests', `too many live tails open (${maxTailClients}); close one and retry`);
      return true;
    }
    let tail: LiveTail;
    let limit: number;
    let start: bigint;
    try {
      // Clamped rather than refused, so a client asking for more still gets a bounded backfill.
      limit = Math.min(maxLimit, limitOf(new URLSearchParams({ limit: url.searchParams.get('limit') ?? '100' }), 100, Infinity));
      start = parseLokiTime(url.searchParams.get('start'), nowNs() - 3_600_000n * NS);
      tail = logs.tail(url.searchParams.get('query') ?? '');
    } catch (err) {
      if (!(err instanceof LogqlParseError || err instanceof TailQueryError || err instanceof ApiError)) throw err;
      refuseHandshake(socket, '400 Bad Request', err.message);
      return true;
    }
    const ws = acceptWebSocket(req, socket, opts.tailLimits);
    if (!ws) return true;
    tailClients++;
    ws.onClose(() => tailClients--);
    const send = (lines: TailLine[]): void => {
      if (!lines.length) return;
      const groups = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
      for (const { labels, entry } of lines) {
        const k = JSON.stringify(labels);
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { stream: labelsToRecord(labels), values: [] }));
        g.values.push([String(entry.t), entry.line]);
      }
      ws.sendText(JSON.stringify({ streams: [...groups.values()], dropped_entries: null }));
    };
    // Backfill from `start` (default: the last hour), then follow. A remote's backfill answers later.
    const follow = (): void => {
      if (!ws.closed) ws.onClose(tail.follow(send));
    };
    const back = tail.backfill(start, nowNs() + 1n, limit);
    if (Array.isArray(back)) {
      send(back);
      follow();
    } else
      back.then(
        (lines) => {
          if (!ws.closed) send(lines);
          follow();
        },
        () => follow(),
      );
    return true;
  };
  return { upgrade, tailClients: () => tailClients };
}

/** Request type re-export for tests. */
export type { ApiRequest };
