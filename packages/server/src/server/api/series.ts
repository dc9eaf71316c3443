/** The metadata endpoints: `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`, paced like queries. */
import { compareLabels, labelsKey, labelsToRecord, type Labels } from '../../core/model/labels.js';
import { labelNamesOf, labelValuesOf, selectOf, sortLimitPaced, type Queryable } from '../../metrics/storage/interface.js';
import { pacedSort, runSliced, TimeSlicer, yieldToLoop, type Pacer, type Work } from '../../core/util/pace.js';
import { QueryGate, QueryRefusedError } from './query_gate.js';
import { ApiError } from './errors.js';
import { json, type ApiRequest, type ApiResult, type Router } from './http.js';
import { limitParam, matchParams, MAX_TIME, MIN_TIME, timeParam } from './params.js';

function range(req: ApiRequest): { start: number; end: number } {
  const start = timeParam(req.query, 'start', MIN_TIME);
  const end = timeParam(req.query, 'end', MAX_TIME);
  if (end < start) throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
  return { start, end };
}

function truncated(values: unknown[], limit: number): string[] | undefined {
  if (limit > 0 && values.length > limit) {
    values.length = limit;
    return ['results truncated due to limit'];
  }
  return undefined;
}

/** How the metadata endpoints share the thread with ingest. */
export interface SeriesApiOptions {
  /** The query gate: metadata calls take a query slot, as they scan like a query. */
  readonly gate?: QueryGate;
  /** Longest run of one call, ms (the query timeout). */
  readonly timeoutMs?: number;
  /** Why work must stop for memory now (core/util/heap), checked at every pause. */
  readonly memoryPressure?: () => string | undefined;
}

/** Results with more entries than this are written in pieces, pausing between them. */
const STREAM_ABOVE = 1000;

/** The success envelope of `items` (JSON values) as chunks of text, pausing every few ms. */
async function* listJsonChunks<T>(items: readonly T[], warnings: readonly string[] | undefined, toJson: (item: T) => unknown): AsyncGenerator<string> {
  let buf = '{"status":"success","data":[';
  let sliceStart = performance.now();
  for (let i = 0; i < items.length; i++) {
    buf += (i === 0 ? '' : ',') + JSON.stringify(toJson(items[i]!));
    if (buf.length >= 1 << 16) {
      yield buf;
      buf = '';
    }
    if ((i & 255) === 255 && performance.now() - sliceStart >= SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  yield `${buf}]${warnings && warnings.length ? `,"warnings":${JSON.stringify(warnings)}` : ''}}`;
}

/** The answer for `items`, each written as `toJson` makes it (made as it is written, for a streamed answer). */
function answer<T>(items: T[], warnings: string[] | undefined, toJson: (item: T) => unknown = (x) => x): ApiResult {
  if (items.length <= STREAM_ABOVE) return json(items.map(toJson), warnings);
  return { kind: 'stream', status: 200, contentType: 'application/json', chunks: listJsonChunks(items, warnings, toJson) };
}

/** Longest run between pauses, ms (as a query's). */
const SLICE_MS = 5;

/**
 * Registers the endpoints on `router`, reading from `store`. Each call runs as a query does: through
 * the gate, in slices of a few ms (selection, de-duplication and sorting over a million series take
 * seconds), stopping when the client goes away, the timeout passes or memory runs short.
 */
export function registerSeriesApi(router: Router, store: Queryable, opts: SeriesApiOptions = {}): void {
  const gate = opts.gate ?? new QueryGate({ maxConcurrency: 20, queueTimeoutMs: 30_000 });
  const timeoutMs = opts.timeoutMs ?? 120_000;

  /** Runs `work` in slices through the gate, with the request's cancellation, the timeout and the heap check. */
  async function paced<T>(req: ApiRequest, what: string, work: (pace: Pacer) => Work<T>): Promise<T> {
    try {
      return await gate.run(req.signal, () => {
        const slicer = new TimeSlicer({
          sliceMs: SLICE_MS,
          signal: req.signal,
          deadline: Date.now() + timeoutMs,
          canceled: () => new ApiError('canceled', `${what} was canceled`),
          timedOut: () => new ApiError('timeout', `${what} timed out after ${timeoutMs}ms (query.timeout)`),
          atPause: () => {
            const pressure = opts.memoryPressure?.();
            if (pressure !== undefined) throw new ApiError('unavailable', `${what} stopped: ${pressure}`, 5);
          },
        });
        return runSliced(work(slicer), slicer);
      });
    } catch (err) {
      if (err instanceof QueryRefusedError) throw new ApiError('unavailable', err.message, err.retryAfterSec);
      if (err instanceof ApiError && (err.code === 'canceled' || err.code === 'timeout')) gate.count(err.code);
      throw err;
    }
  }

  router.on(['GET', 'POST'], '/api/v1/series', async (req): Promise<ApiResult> => {
    const sets = matchParams(req.query);
    if (sets.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const { start, end } = range(req);
    const limit = limitParam(req.query);
    const { out, warnings } = await paced(req, 'series request', function* (pace) {
      const q = store.querier(start, end);
      try {
        // Storage problems met on the way (a damaged chunk in a block) answer as warnings, not errors.
        const warnings = new Set<string>();
        // One match[] (the usual call): the set comes sorted by labels and without duplicates, so
        // its labels are kept as they come; no key strings or map entries for a million series.
        const one = sets.length === 1;
        const out: Labels[] = [];
        const seen = new Map<string, Labels>();
        let n = 0;
        for (const matchers of sets) {
          // One more than the limit tells whether the result was cut.
          const ss = yield* selectOf(q, { start, end, seriesOnly: true, ...(limit ? { limit: limit + 1 } : {}) }, matchers, pace);
          while (ss.next()) {
            const labels = ss.at().labels;
            if (one) out.push(labels);
            else seen.set(labelsKey(labels), labels);
            if ((++n & 1023) === 0 && pace.due()) {
              pace.check();
              yield;
            }
          }
          for (const w of ss.warnings()) warnings.add(w);
        }
        if (!one) for (const labels of seen.values()) out.push(labels);
        // Sorted as Prometheus' merged series sets are (label by label), which one set already is.
        if (!one) yield* pacedSort(out, compareLabels, pace);
        return { out, warnings };
      } finally {
        q.close();
      }
    });
    const all = [...warnings, ...(truncated(out, limit) ?? [])];
    return answer(out, all.length ? all : undefined, labelsToRecord);
  });

  router.on(['GET', 'POST'], '/api/v1/labels', async (req): Promise<ApiResult> => {
    const { start, end } = range(req);
    const limit = limitParam(req.query);
    const sets = matchParams(req.query);
    const out = await paced(req, 'labels request', function* (pace) {
      const q = store.querier(start, end);
      try {
        const names = new Set<string>();
        for (const matchers of sets.length ? sets : [[]]) for (const n of yield* labelNamesOf(q, matchers, pace)) names.add(n);
        return yield* sortLimitPaced([...names], pace);
      } finally {
        q.close();
      }
    });
    return answer(out, truncated(out, limit));
  });

  router.on('GET', '/api/v1/label/:name/values', async (req): Promise<ApiResult> => {
    let name = req.params['name']!;
    // UTF-8 label names arrive escaped as U__<hex-escaped name>.
    if (name.startsWith('U__')) name = unescapeLabelName(name.slice(3));
    if (name === '') throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(req.params['name'])}`);
    const { start, end } = range(req);
    const limit = limitParam(req.query);
    const sets = matchParams(req.query);
    const out = await paced(req, 'label values request', function* (pace) {
      const q = store.querier(start, end);
      try {
        if (sets.length <= 1) return yield* labelValuesOf(q, name, sets[0] ?? [], pace);
        const values = new Set<string>();
        for (const matchers of sets) for (const v of yield* labelValuesOf(q, name, matchers, pace)) values.add(v);
        return yield* sortLimitPaced([...values], pace);
      } finally {
        q.close();
      }
    });
    return answer(out, truncated(out, limit));
  });
}

/** Undoes Prometheus' `U__` value-encoding escape: `_` stays, `_XX_` is the code point XX. */
function unescapeLabelName(s: string): string {
  return s.replace(/_([0-9a-fA-F]+)_|__/g, (_m, hex: string | undefined) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : '_'));
}
