/**
 * Tempo's search API, as Grafana's Tempo data source calls it: `GET /api/search` (TraceQL `q`, or
 * the older `tags` in logfmt, with `minDuration`, `maxDuration`, `limit`, `spss`, `start`, `end` in
 * unix seconds) answering `{traces, metrics}`; `/api/echo`; `/api/status/buildinfo`. The query is
 * compiled once, its hints narrow the store's candidate search, and the run stops on the client's
 * disconnect or after a timeout. Tag autocomplete lives in tempo_tags.ts, metrics in tempo_metrics.ts.
 */
import type { TraceQueryable } from '../../traces/storage/interface.js';
import { compileSearch, hintsOf, searchTraces } from '../../traces/traceql/index.js';
import type { BuildInfo } from '../selfmon/build_info.js';
import type { Router } from './http.js';
import { BadRequest, boundedSignal, durationParam, intParam, jsonBody, queryFailure, rangeParams, storeSearchOf } from './trace_query.js';

/** The Tempo release whose HTTP API Vigil follows; Grafana's data source picks features by it. */
export const TEMPO_COMPAT_VERSION = '2.6.0';
/** Bounds on one search: the most traces and spans per spanset it may return. */
export const MAX_SEARCH_LIMIT = 1000;
export const MAX_SPSS = 1000;

/** Parses Tempo's logfmt `tags` (`service.name=shop http.status_code=500 name="GET /"`) into pairs. */
export function parseLogfmt(s: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /\s*([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/y;
  let at = 0;
  while (at < s.length) {
    if (/^\s*$/.test(s.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) throw new BadRequest(`invalid tags: cannot parse ${JSON.stringify(s.slice(at).trim())}; want key=value pairs separated by spaces`);
    out.push([m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!]);
    at = re.lastIndex;
  }
  return out;
}

/**
 * The TraceQL filter for logfmt tags: every pair must hold on one span. `name`, `status` and `kind`
 * are the intrinsics; any other key is an attribute of the span or its resource, compared as a
 * string, or as a number or boolean too when the text reads as one (tags carry no types).
 */
export function tagsToTraceQL(tags: [string, string][]): string {
  const conds = tags.map(([k, v]) => {
    if (k === 'name') return `name = ${JSON.stringify(v)}`;
    if ((k === 'status' || k === 'status.code') && /^(error|ok|unset)$/.test(v)) return `status = ${v}`;
    if (k === 'kind' && /^(unspecified|internal|server|client|producer|consumer)$/.test(v)) return `kind = ${v}`;
    const attr = `.${JSON.stringify(k)}`;
    const alts = [`${attr} = ${JSON.stringify(v)}`];
    if (/^-?\d+(\.\d+)?$/.test(v)) alts.push(`${attr} = ${v}`);
    if (v === 'true' || v === 'false') alts.push(`${attr} = ${v}`);
    return alts.length === 1 ? alts[0]! : `(${alts.join(' || ')})`;
  });
  return `{ ${conds.join(' && ')} }`;
}

/** Registers `/api/search`, `/api/echo` and `/api/status/buildinfo`. */
export function registerTempoSearch(router: Router, store: TraceQueryable, build: BuildInfo, opts: { timeoutMs?: number } = {}): void {
  router.on('GET', '/api/echo', () => ({ kind: 'raw', status: 200, body: 'echo', contentType: 'text/plain; charset=utf-8' }));
  router.on('GET', '/api/status/buildinfo', () =>
    jsonBody({
      version: TEMPO_COMPAT_VERSION,
      revision: build.revision,
      branch: build.branch,
      buildUser: 'vigil',
      buildDate: '',
      goVersion: `node ${build.nodeVersion}`,
      application: 'vigil',
      vigilVersion: build.version,
    }),
  );

  router.on('GET', '/api/search', async (req) => {
    const signal = boundedSignal(req.signal, opts.timeoutMs);
    try {
      const q = req.query.get('q');
      const tags = req.query.get('tags');
      if (q && tags) throw new BadRequest('invalid search: give either q (TraceQL) or tags, not both');
      const text = q ? q : tags ? tagsToTraceQL(parseLogfmt(tags)) : '{}';
      const search = compileSearch(text);
      const minNs = durationParam(req.query, 'minDuration');
      const maxNs = durationParam(req.query, 'maxDuration');
      if (minNs !== undefined && maxNs !== undefined && maxNs < minNs) throw new BadRequest('invalid maxDuration: less than minDuration');
      const limit = intParam(req.query, 'limit', 20, MAX_SEARCH_LIMIT);
      const spss = intParam(req.query, 'spss', 3, MAX_SPSS);
      const range = rangeParams(req.query);
      const candidates = store.search(storeSearchOf(hintsOf(search.root, { startNanos: range.start, endNanos: range.end }), range.start, range.end));
      const res = await searchTraces(search, candidates, {
        limit,
        spss,
        signal,
        ...(minNs !== undefined ? { minDurationMs: minNs / 1e6 } : {}),
        ...(maxNs !== undefined ? { maxDurationMs: maxNs / 1e6 } : {}),
        ...(range.given ? { startNanos: range.start, endNanos: range.end } : {}),
      });
      return jsonBody(res);
    } catch (err) {
      return queryFailure(err, signal);
    }
  });
}
