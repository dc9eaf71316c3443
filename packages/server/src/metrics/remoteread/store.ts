/**
 * A Prometheus remote_read endpoint as a query source (`remote_read:` in vigil.yml). Before a query
 * runs, {@link RemoteReadStore.fetch} sends one ReadRequest with a query per selector (matchers
 * and time range), asking for streamed XOR chunks first and taking a SAMPLES answer from servers
 * that only know that; Vigil's own engine then evaluates over what came back, merged with the
 * local TSDB.
 *
 * As Prometheus' remote read client: without `read_recent` the remote is asked only for time
 * before the oldest local sample; a selector lacking one of `required_matchers` (as `=`) is not
 * sent; external labels become `=` matchers (`filter_external_labels`, unless the selector names
 * that label) and are removed from the answer. A remote that fails does not fail the query: its
 * error is the query's warning and the local data answers (Prometheus' secondary queriers).
 */
import { compareLabels, labelsKey, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { decodeSnappyInto, snappyEncode } from '../../core/util/snappy.js';
import { HttpClient, HttpRequestError, BodySizeLimitError } from '../../core/httpclient/client.js';
import type { HttpClientConfig } from '../../core/httpclient/config.js';
import type { SelfHistogram } from '../../core/selfmon/registry.js';
import { remoteError, RemoteQueryError } from '../query/remote.js';
import type { FetchingQueryable, Queryable, Selection } from '../storage/interface.js';
import { PrometheusXorIterator } from '../tsdb/chunkenc/prometheus_xor.js';
import { ChunkEncoding, decodeChunkedStream, decodeReadResponse, encodeReadRequest, ResponseType, type ReadQuery, type SeriesSink } from './proto.js';
import { FetchedQueryable, matchersKey, type FetchedSelection, type FetchedSeries } from './fetched.js';

/** One `remote_read:` entry, as prometheus.yml has it. */
export interface RemoteReadConfig {
  readonly url: string;
  readonly name: string;
  readonly remoteTimeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Ask the remote for recent data too (default false: only for time the local TSDB does not hold). */
  readonly readRecent: boolean;
  /** label → value: only selectors with all of these as `=` matchers are sent. */
  readonly requiredMatchers: Readonly<Record<string, string>>;
  /** Add the external labels as matchers (default true). */
  readonly filterExternalLabels: boolean;
  readonly httpClient: HttpClientConfig;
}

/** Largest remote_read answer read into memory, and largest frame of a streamed one. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const MAX_FRAME_BYTES = 50 * 1024 * 1024;

/** The answer's encodings Vigil accepts, in order of preference. */
export type ResponseTypes = readonly ('streamed' | 'samples')[];

/** What the store needs besides its configuration. */
export interface RemoteReadOptions {
  /** `global.external_labels`. */
  readonly externalLabels?: Labels;
  /** The local TSDB's oldest sample (Infinity when empty), for `read_recent: false`. */
  readonly localStartTime?: () => number;
  /** Tests ask for SAMPLES alone to exercise the fallback; default streamed chunks, then samples. */
  readonly responseTypes?: ResponseTypes;
}

/** One query to send, and how its answer maps back to the selection. */
export interface PlannedQuery {
  readonly key: string;
  readonly query: ReadQuery;
  /** External label names added as matchers: removed from the answer's series. */
  readonly strip: ReadonlySet<string>;
}

/** The series of one query as they arrive (a streamed series may come in several frames). */
class Collector implements SeriesSink {
  readonly byQuery: Array<Map<string, { labels: Labels; ts: number[]; vs: number[] }>>;
  readonly warnings: string[][];

  constructor(private readonly sent: readonly PlannedQuery[]) {
    this.byQuery = sent.map(() => new Map());
    this.warnings = sent.map(() => []);
  }

  private series(query: number, labels: Labels): { labels: Labels; ts: number[]; vs: number[] } {
    const map = this.byQuery[query];
    if (!map) throw new RemoteQueryError('internal', `remote_read answered query ${query}, but only ${this.sent.length} were asked`);
    const strip = this.sent[query]!.strip;
    const kept = strip.size > 0 ? labels.filter((l) => !strip.has(l.name)) : labels;
    const key = labelsKey(kept);
    let s = map.get(key);
    if (!s) map.set(key, (s = { labels: kept, ts: [], vs: [] }));
    return s;
  }

  samples(query: number, labels: Labels, ts: number[], vs: number[]): void {
    const s = this.series(query, labels);
    const { start, end } = this.sent[query]!.query;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (t < start || t > end) continue;
      s.ts.push(t);
      s.vs.push(vs[i]!);
    }
  }

  chunk(query: number, labels: Labels, encoding: number, data: Buffer): void {
    if (encoding !== ChunkEncoding.xor) {
      this.histograms(query, labels, 1);
      return;
    }
    const s = this.series(query, labels);
    // Chunks come whole: only the samples within the query's range are kept.
    const { start, end } = this.sent[query]!.query;
    const it = new PrometheusXorIterator(data);
    if (!it.seek(start)) return;
    do {
      const t = it.t();
      if (t > end) break;
      s.ts.push(t);
      s.vs.push(it.v());
    } while (it.next());
  }

  histograms(query: number, _labels: Labels, _count: number): void {
    const w = this.warnings[query]!;
    const text = 'remote_read: native histogram samples from the remote are not read yet; they were left out';
    if (!w.includes(text)) w.push(text);
  }

  /** The answer per query key: series sorted by labels, samples in time order within the query's range, once each. */
  result(): Map<string, FetchedSelection> {
    const out = new Map<string, FetchedSelection>();
    this.sent.forEach((sent, i) => {
      const list: FetchedSeries[] = [];
      for (const s of this.byQuery[i]!.values()) {
        const series = timeOrdered(s.ts, s.vs);
        if (series.ts.length > 0) list.push({ labels: s.labels, ...series });
      }
      list.sort((a, b) => compareLabels(a.labels, b.labels));
      out.set(sent.key, { series: list, warnings: this.warnings[i]! });
    });
    return out;
  }
}

/**
 * The samples in time order, one per timestamp (those of the query's range only were kept). A
 * series split over frames, or chunks that overlap, may repeat or reorder times: only then is it
 * sorted.
 */
function timeOrdered(ts: number[], vs: number[]): { ts: Float64Array; vs: Float64Array } {
  let ordered = true;
  for (let i = 1; i < ts.length && ordered; i++) if (ts[i]! <= ts[i - 1]!) ordered = false;
  if (ordered) return { ts: new Float64Array(ts), vs: new Float64Array(vs) };
  const idx = ts.map((_, i) => i).sort((a, b) => ts[a]! - ts[b]! || a - b);
  const keep = idx.filter((i, k) => k === 0 || ts[i] !== ts[idx[k - 1]!]);
  return { ts: Float64Array.from(keep, (i) => ts[i]!), vs: Float64Array.from(keep, (i) => vs[i]!) };
}

/** A remote_read endpoint, fetched from before each query. */
export class RemoteReadStore implements FetchingQueryable {
  readonly name: string;
  /** Answers read, by encoding (a server without streamed chunks answers SAMPLES). */
  readonly answers = { streamed: 0, samples: 0 };
  private readonly client: HttpClient;
  private readonly accepted: number[];

  constructor(
    private readonly cfg: RemoteReadConfig,
    private readonly opts: RemoteReadOptions = {},
  ) {
    this.name = cfg.name;
    this.client = new HttpClient(cfg.httpClient, { idleTimeoutMs: 90_000 });
    this.accepted = (opts.responseTypes ?? ['streamed', 'samples']).map((t) => (t === 'streamed' ? ResponseType.streamedXorChunks : ResponseType.samples));
  }

  /** The queries to send for `selections`, after `read_recent`, `required_matchers` and the external labels. */
  plan(selections: readonly Selection[]): PlannedQuery[] {
    // Selectors with the same matchers (`x` and `x offset 1h`) are asked once, over both ranges.
    const merged = new Map<string, { start: number; end: number; matchers: readonly Matcher[] }>();
    for (const s of selections) {
      const key = matchersKey(s.matchers);
      const m = merged.get(key);
      if (m) {
        m.start = Math.min(m.start, s.start);
        m.end = Math.max(m.end, s.end);
      } else merged.set(key, { start: s.start, end: s.end, matchers: s.matchers });
    }
    const localStart = this.cfg.readRecent ? Infinity : (this.opts.localStartTime?.() ?? Infinity);
    const required = Object.entries(this.cfg.requiredMatchers);
    const out: PlannedQuery[] = [];
    for (const [key, m] of merged) {
      if (m.start > localStart) continue;
      const end = Math.min(m.end, localStart);
      if (!required.every(([name, value]) => m.matchers.some((x) => x.type === '=' && x.name === name && x.value === value))) continue;
      const matchers = [...m.matchers];
      const strip = new Set<string>();
      if (this.cfg.filterExternalLabels)
        for (const l of this.opts.externalLabels ?? []) {
          if (m.matchers.some((x) => x.name === l.name)) continue;
          matchers.push(new Matcher('=', l.name, l.value));
          strip.add(l.name);
        }
      out.push({ key, query: { start: m.start, end, matchers }, strip });
    }
    return out;
  }

  async fetch(selections: readonly Selection[], signal: AbortSignal): Promise<Queryable> {
    const sent = this.plan(selections);
    if (sent.length === 0) return new FetchedQueryable(new Map());
    try {
      return new FetchedQueryable(await this.read(sent, signal));
    } catch (err) {
      // The caller gone or past its deadline ends the query; anything else the remote did is a warning.
      if (signal.aborted) throw err;
      return new FetchedQueryable(new Map(), [`remote_read ${this.name}: ${(err as Error).message}`]);
    }
  }

  private latency: SelfHistogram | undefined;

  observeWith(latency: SelfHistogram): void {
    this.latency = latency;
  }

  /** One exchange, timed in {@link latency} by answer encoding and outcome. */
  private async read(sent: readonly PlannedQuery[], signal: AbortSignal): Promise<Map<string, FetchedSelection>> {
    const t0 = performance.now();
    const outcome = { type: 'none', code: 'unreachable' };
    try {
      return await this.exchange(sent, signal, outcome);
    } catch (err) {
      if (signal.aborted) outcome.code = 'canceled';
      else if (err instanceof RemoteQueryError && err.code === 'timeout' && outcome.code === 'unreachable') outcome.code = 'timeout';
      throw err;
    } finally {
      this.latency?.observe([this.name, outcome.type, outcome.code], (performance.now() - t0) / 1000);
    }
  }

  private async exchange(sent: readonly PlannedQuery[], signal: AbortSignal, outcome: { type: string; code: string }): Promise<Map<string, FetchedSelection>> {
    const body = snappyEncode(
      encodeReadRequest(
        sent.map((s) => s.query),
        this.accepted,
      ),
    );
    const timeout = AbortSignal.timeout(this.cfg.remoteTimeoutMs);
    let res;
    try {
      res = await this.client.request('POST', this.cfg.url, {
        headers: {
          ...this.cfg.headers,
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-read-version': '0.1.0',
        },
        body,
        signal: AbortSignal.any([signal, timeout]),
        bodySizeLimit: MAX_RESPONSE_BYTES,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      if (timeout.aborted) throw new RemoteQueryError('timeout', `no answer within remote_timeout (${this.cfg.remoteTimeoutMs / 1000}s)`);
      if (err instanceof BodySizeLimitError) throw new RemoteQueryError('execution', `answer too large: ${err.message}`);
      if (err instanceof HttpRequestError) throw new RemoteQueryError('unavailable', `unreachable: ${err.detail}`);
      throw err;
    }
    outcome.code = String(res.status);
    if (res.status < 200 || res.status > 299) throw remoteError(this.cfg.url, res);
    const collector = new Collector(sent);
    const type = String(res.headers['content-type'] ?? '');
    if (type.startsWith('application/x-streamed-protobuf')) {
      outcome.type = 'streamed';
      decodeChunkedStream(res.body, collector, MAX_FRAME_BYTES);
      this.answers.streamed++;
    } else {
      outcome.type = 'samples';
      decodeReadResponse(decodeSnappyInto(res.body, undefined, MAX_RESPONSE_BYTES), collector);
      this.answers.samples++;
    }
    return collector.result();
  }

  /** Releases pooled connections. */
  close(): void {
    this.client.close();
  }
}
