/**
 * The remote {@link LogQueryService} (`logs.storage.type: remote`): LogQL queries, labels, label
 * values, series, index stats, volume, patterns and detected labels go to a Loki-compatible HTTP
 * API (Loki, or another Vigil), so that cluster's query scaling does the work. Queries are parsed
 * here first with Vigil's parser, so a query Vigil cannot parse is the same 400 in either mode.
 * Vigil's own additions that Loki has no endpoint for are built from the remote's query answers with
 * the same code the local service uses: facets and detected fields from a log query, context from
 * two queries of the stream, correlation from a line filter over each label's streams. Live tail
 * polls the remote for lines newer than the last it sent (remote_tail.ts).
 *
 * The remote's errors become Vigil's as for PromQL (core/httpclient/remote_api.ts).
 */
import { RemoteApi, RemoteQueryError, type RemoteQueryConfig } from '../../core/httpclient/remote_api.js';
import { evalValueFromApi } from '../../core/eval/api_value.js';
import { formatStreamSelector, labelsFrom, labelsKey, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import type { LogqlValue, ResultStream } from '../logql/engine.js';
import { LogqlExecError } from '../logql/errors.js';
import { parseLogql } from '../logql/parser.js';
import type { Direction, LogEntry } from '../storage/types.js';
import type { LineContext } from './context.js';
import { byTime, carriesId, type CorrelatedLine, DEFAULT_ID_FIELDS } from './correlate.js';
import { type DetectedField, detectedFields, type DetectedLabel } from './detected.js';
import { type Facet, facetsOf, type FacetOptions } from './facets.js';
import { formatQuery } from './format.js';
import type { LogPattern } from './patterns.js';
import type { IndexStats, LogQueryService, LogWindow, QueryOutcome } from './service.js';
import type { LiveTail } from './tail.js';
import { RemoteLogTail } from './remote_tail.js';
import type { VolumeOptions, VolumeSeries } from './volume.js';

const API = '/loki/api/v1';
/** No time bound: context reaches as far as the stream goes (as the local context does). */
const FAR = 1n << 62n;
/** Lines asked for per label name when correlating. */
const CORRELATE_PAGE = 5000;

/** A stream selector as LogQL writes it. */
function selector(ms: readonly Matcher[]): string {
  return `{${ms.map((m) => m.toString()).join(', ')}}`;
}

/** A stream of a streams answer: `values` are [ns, line] or [ns, line, structured metadata]. */
interface ApiStream {
  stream: Record<string, string>;
  values: Array<[string, string, Record<string, string>?]>;
}

function streamsOf(result: ApiStream[]): ResultStream[] {
  return result.map((s) => ({
    labels: labelsFrom(s.stream),
    entries: s.values.map(([t, line, meta]): LogEntry => {
      const m = meta && Object.keys(meta).length ? labelsFrom(meta) : undefined;
      return m ? { t: BigInt(t), line, meta: m } : { t: BigInt(t), line };
    }),
  }));
}

/** A query answer's `data` as a LogQL value, with the remote's statistics when it gave them. */
function outcomeOf(data: unknown, execSec: number): QueryOutcome {
  const d = data as { resultType?: string; result?: unknown; stats?: { summary?: { totalLinesProcessed?: number; totalBytesProcessed?: number } } };
  const value: LogqlValue = d?.resultType === 'streams' ? { type: 'streams', streams: streamsOf(d.result as ApiStream[]) } : evalValueFromApi(data);
  const summary = d?.stats?.summary;
  return { value, stats: { linesScanned: summary?.totalLinesProcessed ?? 0, bytesScanned: summary?.totalBytesProcessed ?? 0 }, execSec };
}

/** Delegates the Loki API's calls to a remote Loki-compatible API. */
export class RemoteLogQueryService implements LogQueryService {
  readonly name: string;
  private readonly api: RemoteApi;

  constructor(
    cfg: RemoteQueryConfig,
    private readonly tailPollMs = 1000,
  ) {
    this.api = new RemoteApi(cfg);
    this.name = this.api.name;
  }

  register(reg: SelfRegistry): void {
    this.api.register(
      reg,
      'vigil_remote_log_storage_query_duration_seconds',
      'Calls to the remote log query API (logs.storage.type: remote), by endpoint and outcome: the HTTP status, or unreachable, timeout, canceled.',
    );
  }

  close(): void {
    this.api.close();
  }

  private async data(path: string, p: URLSearchParams, signal?: AbortSignal, endpoint = path): Promise<unknown> {
    return (await this.api.call('GET', `${API}${path}`, p, signal, `${API}${endpoint}`)).data;
  }

  /** An endpoint Loki answers without the envelope. */
  private async raw(path: string, p: URLSearchParams): Promise<unknown> {
    const body = await this.api.fetch('GET', `${API}${path}`, p, undefined);
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new RemoteQueryError('internal', `remote storage ${this.name} answered ${API}${path} with something other than JSON`);
    }
  }

  async rangeQueryAsync(query: string, w: LogWindow, stepMs: number, signal?: AbortSignal): Promise<QueryOutcome> {
    parseLogql(query);
    const p = new URLSearchParams({
      query,
      start: String(w.start),
      end: String(w.end),
      limit: String(w.limit),
      direction: w.direction,
      step: String(stepMs / 1000),
    });
    const t0 = performance.now();
    const data = await this.data('/query_range', p, signal);
    return outcomeOf(data, (performance.now() - t0) / 1000);
  }

  async instantQueryAsync(query: string, t: bigint, limit: number, direction: Direction, signal?: AbortSignal): Promise<QueryOutcome> {
    parseLogql(query);
    const p = new URLSearchParams({ query, time: String(t), limit: String(limit), direction });
    const t0 = performance.now();
    const data = await this.data('/query', p, signal);
    return outcomeOf(data, (performance.now() - t0) / 1000);
  }

  private range(start: bigint, end: bigint, more: Record<string, string> = {}): URLSearchParams {
    return new URLSearchParams({ start: String(start), end: String(end), ...more });
  }

  async labelNames(start: bigint, end: bigint): Promise<string[]> {
    return [...(((await this.data('/labels', this.range(start, end))) as string[] | null) ?? [])].sort();
  }

  async labelValues(name: string, matchers: readonly Matcher[], start: bigint, end: bigint): Promise<string[]> {
    const p = this.range(start, end, matchers.length ? { query: selector(matchers) } : {});
    const values = (await this.data(`/label/${encodeURIComponent(name)}/values`, p, undefined, '/label/:name/values')) as string[] | null;
    return [...(values ?? [])].sort();
  }

  async series(selectors: readonly (readonly Matcher[])[], start: bigint, end: bigint): Promise<Labels[]> {
    const p = this.range(start, end);
    for (const ms of selectors) p.append('match[]', selector(ms));
    return (((await this.data('/series', p)) as Array<Record<string, string>> | null) ?? []).map(labelsFrom);
  }

  async indexStats(matchers: readonly Matcher[] | undefined, start: bigint, end: bigint): Promise<IndexStats> {
    const st = (await this.raw('/index/stats', this.range(start, end, matchers ? { query: selector(matchers) } : {}))) as Partial<IndexStats>;
    return { streams: st.streams ?? 0, chunks: st.chunks ?? 0, entries: st.entries ?? 0, bytes: st.bytes ?? 0 };
  }

  async volume(matchers: readonly Matcher[], start: bigint, end: bigint, opts: VolumeOptions = {}): Promise<VolumeSeries[]> {
    const p = this.range(start, end, { query: selector(matchers), aggregateBy: opts.aggregateBy ?? 'series' });
    if (opts.targetLabels?.length) p.set('targetLabels', opts.targetLabels.join(','));
    if (opts.limit) p.set('limit', String(opts.limit));
    if (opts.stepMs === undefined) {
      const d = (await this.data('/index/volume', p)) as { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      return d.result.map((r) => ({ labels: r.metric, bytes: Number(r.value[1]), points: [] }));
    }
    p.set('step', String(opts.stepMs / 1000));
    const d = (await this.data('/index/volume_range', p)) as { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    return d.result.map((r) => {
      const points = r.values.map(([t, b]): [number, number] => [Math.round(t * 1000), Number(b)]);
      return { labels: r.metric, bytes: points.reduce((a, [, b]) => a + b, 0), points };
    });
  }

  async patterns(matchers: readonly Matcher[], start: bigint, end: bigint, stepMs: number): Promise<LogPattern[]> {
    return ((await this.data('/patterns', this.range(start, end, { query: selector(matchers), step: String(stepMs / 1000) }))) as LogPattern[] | null) ?? [];
  }

  async detectedLabels(matchers: readonly Matcher[], start: bigint, end: bigint): Promise<DetectedLabel[]> {
    const d = (await this.raw('/detected_labels', this.range(start, end, matchers.length ? { query: selector(matchers) } : {}))) as {
      detectedLabels?: DetectedLabel[];
    };
    return d.detectedLabels ?? [];
  }

  /** The lines of a log query (a metric query is an execution error, as locally). */
  private async lines(query: string, w: LogWindow, what: string): Promise<Extract<LogqlValue, { type: 'streams' }>> {
    const v = (await this.rangeQueryAsync(query, w, 1000)).value;
    if (v.type !== 'streams') throw new LogqlExecError(`${what} need a log query`);
    return v;
  }

  async detectedFields(query: string, start: bigint, end: bigint, lineLimit: number, limit: number): Promise<DetectedField[]> {
    return detectedFields(await this.lines(query, { start, end, limit: lineLimit, direction: 'backward' }, 'detected fields'), limit);
  }

  formatQuery(query: string): string {
    return formatQuery(query);
  }

  async facets(query: string, w: LogWindow, opts: FacetOptions = {}): Promise<{ lines: number; facets: Facet[] }> {
    return facetsOf(await this.lines(query, w, 'facets'), opts);
  }

  async context(matchers: readonly Matcher[], t: bigint, before: number, after: number): Promise<LineContext | undefined> {
    const stream = (await this.series([matchers], 0n, FAR))[0];
    if (!stream) return undefined;
    const exact = formatStreamSelector(stream);
    const own = new Set(stream.map((l) => l.name));
    // A line's structured metadata comes back as stream labels; a stream with other extra labels is another stream.
    const entriesOf = async (w: LogWindow): Promise<LogEntry[]> => {
      if (w.limit === 0) return [];
      const out: LogEntry[] = [];
      for (const s of (await this.lines(exact, w, 'context')).streams)
        for (const e of s.entries) if (s.labels.every((l) => own.has(l.name) || e.meta?.some((m) => m.name === l.name))) out.push(e);
      return out.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    };
    const pre = await entriesOf({ start: 0n, end: t, limit: before, direction: 'backward' });
    const post = await entriesOf({ start: t, end: FAR, limit: after + 1, direction: 'forward' });
    return { stream, before: pre.slice(-before), at: post.slice(0, 1), after: post.slice(1, after + 1) };
  }

  async correlate(id: string, start: bigint, end: bigint, fields: readonly string[] = DEFAULT_ID_FIELDS, limit = 1000): Promise<CorrelatedLine[]> {
    // Every stream has a label, so the streams with some value of each label name cover them all; a line filter narrows first.
    const seen = new Set<string>();
    const out: CorrelatedLine[] = [];
    for (const name of await this.labelNames(start, end)) {
      const v = await this.lines(`{${name}=~".+"} |= ${JSON.stringify(id)}`, { start, end, limit: CORRELATE_PAGE, direction: 'forward' }, 'correlation');
      for (const s of v.streams)
        for (const e of s.entries) {
          const key = `${labelsKey(s.labels)}\u0000${e.t}\u0000${e.line}`;
          if (seen.has(key) || !carriesId(e, id, fields)) continue;
          seen.add(key);
          out.push({ stream: s.labels, entry: e });
        }
    }
    return out.sort(byTime).slice(0, limit);
  }

  /** Live tail by polling the remote (remote_tail.ts). */
  tail(query: string): LiveTail {
    return new RemoteLogTail(query, (q, w, step) => this.rangeQueryAsync(q, w, step), {
      pollMs: this.tailPollMs,
      maxLines: 5000,
      now: Date.now,
      warn: () => {},
    });
  }
}
