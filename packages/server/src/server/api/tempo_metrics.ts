/**
 * TraceQL metrics over HTTP as Tempo serves them: `GET /api/metrics/query_range` (`q`, `start`, `end`,
 * `step`, `exemplars`) answering `{series: [{labels, promLabels, samples, exemplars}], metrics}`, and
 * `GET /api/metrics/query` (`q`, `start`, `end`), one value per series over the whole range. Times
 * are unix seconds (with fraction), unix nanoseconds or RFC 3339; `end` defaults to now and `start`
 * to an hour before it. The step defaults to a hundredth of the range (at least a second).
 */
import { parseSecondsOrDuration } from '../../core/time/duration.js';
import type { TraceQueryable } from '../../traces/storage/interface.js';
import { compileMetrics, hintsOf, queryInstant, queryRange } from '../../traces/traceql/index.js';
import type { Router } from './http.js';
import { parseTime } from './params.js';
import { BadRequest, boundedSignal, jsonBody, queryFailure, storeSearchOf } from './trace_query.js';

/** The most exemplars per series a client may ask for. */
export const MAX_EXEMPLARS = 1000;

function timeMs(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  // Tempo takes nanoseconds too; no time in seconds or ms has 16 digits before the year 2286.
  if (/^\d{16,}$/.test(v)) return Number(BigInt(v) / 1_000_000n);
  try {
    return parseTime(v, name);
  } catch (err) {
    throw new BadRequest((err as Error).message);
  }
}

function rangeMs(q: URLSearchParams, now: () => number): { startMs: number; endMs: number } {
  const endMs = timeMs(q, 'end', now());
  const startMs = timeMs(q, 'start', endMs - 3_600_000);
  if (endMs <= startMs) throw new BadRequest('invalid start and end: end must be after start');
  return { startMs, endMs };
}

/** Registers the two metrics endpoints. */
export function registerTempoMetrics(router: Router, store: TraceQueryable, opts: { now?: () => number; timeoutMs?: number } = {}): void {
  const now = opts.now ?? Date.now;
  const candidates = (q: ReturnType<typeof compileMetrics>, startMs: number, endMs: number): Iterable<import('../../traces/storage/types.js').Span[]> => {
    const start = BigInt(Math.floor(startMs)) * 1_000_000n;
    const end = BigInt(Math.ceil(endMs)) * 1_000_000n;
    return store.search(storeSearchOf(hintsOf(q.root, { startNanos: start, endNanos: end }), start, end));
  };

  router.on('GET', '/api/metrics/query_range', async (req) => {
    const signal = boundedSignal(req.signal, opts.timeoutMs);
    try {
      const compiled = compileMetrics(req.query.get('q') ?? '');
      const { startMs, endMs } = rangeMs(req.query, now);
      const stepText = req.query.get('step');
      let stepMs = Math.max(1000, Math.ceil((endMs - startMs) / 100 / 1000) * 1000);
      if (stepText) {
        try {
          stepMs = parseSecondsOrDuration(stepText);
        } catch (err) {
          throw new BadRequest(`invalid step: ${(err as Error).message}`);
        }
        if (!(stepMs > 0)) throw new BadRequest('invalid step: must be positive');
      }
      const exText = req.query.get('exemplars');
      const exemplars = exText ? Number(exText) : 0;
      if (!Number.isInteger(exemplars) || exemplars < 0) throw new BadRequest(`invalid exemplars: ${JSON.stringify(exText)} is not a non-negative integer`);
      const res = await queryRange(compiled, candidates(compiled, startMs, endMs), {
        startMs,
        endMs,
        stepMs,
        signal,
        exemplars: Math.min(exemplars, MAX_EXEMPLARS),
      });
      return jsonBody(res);
    } catch (err) {
      return queryFailure(err, signal);
    }
  });

  router.on('GET', '/api/metrics/query', async (req) => {
    const signal = boundedSignal(req.signal, opts.timeoutMs);
    try {
      const compiled = compileMetrics(req.query.get('q') ?? '');
      const { startMs, endMs } = rangeMs(req.query, now);
      return jsonBody(await queryInstant(compiled, candidates(compiled, startMs, endMs), { startMs, endMs, signal }));
    } catch (err) {
      return queryFailure(err, signal);
    }
  });
}
