/**
 * The metadata endpoints: `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`,
 * answered by the query service (the local TSDB or remote storage) through the query gate.
 */
import type { PromQueryService, SeriesArgs } from '../../metrics/query/service.js';
import { yieldToLoop } from '../../core/util/pace.js';
import { ApiError } from './errors.js';
import { json, type ApiRequest, type ApiResult, type Router } from './http.js';
import { limitParam, matchParams, parseTime } from './params.js';
import type { QueryGate } from './query_gate.js';
import { serviceCall } from './query.js';

function optionalTime(req: ApiRequest, name: string): number | undefined {
  const v = req.query.get(name);
  return v === null || v === '' ? undefined : parseTime(v, name);
}

/** The parameters every one of these endpoints reads. */
function seriesArgs(req: ApiRequest): SeriesArgs {
  const start = optionalTime(req, 'start');
  const end = optionalTime(req, 'end');
  if (start !== undefined && end !== undefined && end < start)
    throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
  return {
    matchers: matchParams(req.query),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    limit: limitParam(req.query),
    signal: req.signal,
  };
}

/** Results with more entries than this are written in pieces, pausing between them. */
const STREAM_ABOVE = 1000;
/** Longest run between pauses while writing, ms (as a query's). */
const SLICE_MS = 5;

/** The success envelope of `items` as chunks of text, pausing every few ms. */
async function* listJsonChunks(items: readonly unknown[], warnings: readonly string[]): AsyncGenerator<string> {
  let buf = '{"status":"success","data":[';
  let sliceStart = performance.now();
  for (let i = 0; i < items.length; i++) {
    buf += (i === 0 ? '' : ',') + JSON.stringify(items[i]);
    if (buf.length >= 1 << 16) {
      yield buf;
      buf = '';
    }
    if ((i & 255) === 255 && performance.now() - sliceStart >= SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  yield `${buf}]${warnings.length ? `,"warnings":${JSON.stringify(warnings)}` : ''}}`;
}

/** The answer: one JSON body, or for a long list one written in pieces so acks are not held up. */
function answer(a: { data: unknown[]; warnings: string[] }): ApiResult {
  if (a.data.length <= STREAM_ABOVE) return json(a.data, a.warnings.length ? a.warnings : undefined);
  return { kind: 'stream', status: 200, contentType: 'application/json', chunks: listJsonChunks(a.data, a.warnings) };
}

/** Registers the endpoints on `router`, reading through `service`. */
export function registerSeriesApi(router: Router, service: PromQueryService, gate: QueryGate): void {
  router.on(['GET', 'POST'], '/api/v1/series', async (req) => {
    const args = seriesArgs(req);
    if (args.matchers.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    return answer(await serviceCall(gate, req.signal, () => service.series(args)));
  });

  router.on(['GET', 'POST'], '/api/v1/labels', async (req) => {
    const args = seriesArgs(req);
    return answer(await serviceCall(gate, req.signal, () => service.labelNames(args)));
  });

  router.on('GET', '/api/v1/label/:name/values', async (req) => {
    let name = req.params['name']!;
    // UTF-8 label names arrive escaped as U__<hex-escaped name>.
    if (name.startsWith('U__')) name = unescapeLabelName(name.slice(3));
    if (name === '') throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(req.params['name'])}`);
    const args = seriesArgs(req);
    return answer(await serviceCall(gate, req.signal, () => service.labelValues(name, args)));
  });
}

/** Undoes Prometheus' `U__` value-encoding escape: `_` stays, `_XX_` is the code point XX. */
function unescapeLabelName(s: string): string {
  return s.replace(/_([0-9a-fA-F]+)_|__/g, (_m, hex: string | undefined) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : '_'));
}
