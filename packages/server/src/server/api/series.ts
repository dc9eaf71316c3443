/** The metadata endpoints: `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`. */
import { labelsKey, labelsToRecord, type Labels } from '../../core/model/labels.js';
import type { Queryable } from '../../metrics/storage/interface.js';
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

/** Registers the endpoints on `router`, reading from `store`. */
export function registerSeriesApi(router: Router, store: Queryable): void {
  router.on(['GET', 'POST'], '/api/v1/series', (req): ApiResult => {
    const sets = matchParams(req.query);
    if (sets.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const { start, end } = range(req);
    const limit = limitParam(req.query);
    const q = store.querier(start, end);
    try {
      const seen = new Map<string, Labels>();
      // Storage problems met on the way (a damaged chunk in a block) answer as warnings, not errors.
      const warnings = new Set<string>();
      for (const matchers of sets) {
        // One more than the limit tells whether the result was cut.
        const ss = q.select({ start, end, seriesOnly: true, ...(limit ? { limit: limit + 1 } : {}) }, matchers);
        while (ss.next()) {
          const s = ss.at();
          seen.set(labelsKey(s.labels), s.labels);
        }
        for (const w of ss.warnings()) warnings.add(w);
      }
      const out = [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, l]) => labelsToRecord(l));
      const all = [...warnings, ...(truncated(out, limit) ?? [])];
      return json(out, all.length ? all : undefined);
    } finally {
      q.close();
    }
  });

  router.on(['GET', 'POST'], '/api/v1/labels', (req): ApiResult => {
    const { start, end } = range(req);
    const limit = limitParam(req.query);
    const sets = matchParams(req.query);
    const q = store.querier(start, end);
    try {
      const names = new Set<string>();
      for (const matchers of sets.length ? sets : [[]]) for (const n of q.labelNames(matchers)) names.add(n);
      const out = [...names].sort();
      return json(out, truncated(out, limit));
    } finally {
      q.close();
    }
  });

  router.on('GET', '/api/v1/label/:name/values', (req): ApiResult => {
    let name = req.params['name']!;
    // UTF-8 label names arrive escaped as U__<hex-escaped name>.
    if (name.startsWith('U__')) name = unescapeLabelName(name.slice(3));
    if (name === '') throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(req.params['name'])}`);
    const { start, end } = range(req);
    const limit = limitParam(req.query);
    const sets = matchParams(req.query);
    const q = store.querier(start, end);
    try {
      const values = new Set<string>();
      for (const matchers of sets.length ? sets : [[]]) for (const v of q.labelValues(name, matchers)) values.add(v);
      const out = [...values].sort();
      return json(out, truncated(out, limit));
    } finally {
      q.close();
    }
  });
}

/** Undoes Prometheus' `U__` value-encoding escape: `_` stays, `_XX_` is the code point XX. */
function unescapeLabelName(s: string): string {
  return s.replace(/_([0-9a-fA-F]+)_|__/g, (_m, hex: string | undefined) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : '_'));
}
