/**
 * The Prometheus envelope of a query result as chunks of JSON text, for results too large to
 * serialise in one go on the thread that acknowledges writes: a result of 300,000 series is over
 * 100 MB of JSON, seconds of `JSON.stringify`. The text is the same as `JSON.stringify` of
 * `{status, data: {resultType, result, stats}, warnings}` would give.
 */
import { type MatrixSeries, pointArraysOf } from '../../core/eval/value.js';
import { labelsToRecord } from '../../core/model/labels.js';
import { apiHistogram, apiMatrixSeries, formatValue, toApiJson, type Value } from '../../metrics/promql/engine/value.js';

/** Longest run between pauses, ms. */
const SLICE_MS = 5;
/** Chunk size at which text is handed to the socket, characters. */
const CHUNK_CHARS = 1 << 16;

const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One series as JSON, from its point arrays when it has them: a large result's point objects,
 * made only to be written, would be millions of allocations on the thread that acknowledges writes.
 */
function seriesJson(s: MatrixSeries): string {
  const arrays = pointArraysOf(s);
  // Native histograms are rare and small in number: their series take the general path.
  if (arrays === undefined || arrays.hs !== undefined) return JSON.stringify(apiMatrixSeries(s));
  const { ts, vs } = arrays;
  let out = `{"metric":${JSON.stringify(labelsToRecord(s.metric))},"values":[`;
  for (let i = 0; i < ts.length; i++) {
    // What JSON.stringify writes for [t / 1000, formatValue(v)]: times are finite numbers, and a
    // formatted value (digits, '.', '-', 'NaN', '+Inf', '-Inf') needs quotes but no escapes.
    out += `${i === 0 ? '' : ','}[${ts[i]! / 1000},"${formatValue(vs[i]!)}"]`;
  }
  return `${out}]}`;
}

/** Results with more series than this are written in pieces. */
const PIECES_ABOVE_SERIES = 1000;
/**
 * Nor is a result of more points than this (about 300 KB of JSON) built as one tree of API
 * objects and one string: that tree is nearly 200 bytes a point, lives until the string is made
 * and outgrows the young generation, so every range query of a few hundred series promoted tens
 * of MB of garbage into the old generation (most of the query benchmark's peak RSS). Written
 * series by series, each series' text dies young.
 */
const PIECES_ABOVE_POINTS = 10_000;

/** Whether `value` is sent through {@link queryJsonChunks} rather than one `JSON.stringify`. */
export function writtenInPieces(value: Value): boolean {
  if (value.type === 'vector') return value.samples.length > PIECES_ABOVE_SERIES;
  if (value.type !== 'matrix') return false;
  if (value.series.length > PIECES_ABOVE_SERIES) return true;
  // Counted without making a lazy series' point objects.
  let points = 0;
  for (const s of value.series) points += pointArraysOf(s)?.ts.length ?? s.points.length;
  return points > PIECES_ABOVE_POINTS;
}

/** Yields the JSON text of the success envelope of `value`, pausing every few milliseconds. */
export async function* queryJsonChunks(value: Value, warnings: readonly string[], stats: unknown, infos: readonly string[] = []): AsyncGenerator<string> {
  const tail = `${stats === undefined ? '' : `,"stats":${JSON.stringify(stats)}`}}${warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}` : ''}${infos.length > 0 ? `,"infos":${JSON.stringify(infos)}` : ''}}`;
  if (value.type !== 'vector' && value.type !== 'matrix') {
    const data = JSON.stringify(toApiJson(value));
    yield `{"status":"success","data":${data.slice(0, -1)}${tail}`;
    return;
  }
  const items = value.type === 'vector' ? value.samples : value.series;
  let buf = `{"status":"success","data":{"resultType":"${value.type}","result":[`;
  let sliceStart = performance.now();
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const text =
      'points' in item
        ? seriesJson(item)
        : item.h === undefined
          ? JSON.stringify({ metric: labelsToRecord(item.metric), value: [item.t / 1000, formatValue(item.v)] })
          : JSON.stringify({ metric: labelsToRecord(item.metric), histogram: [item.t / 1000, apiHistogram(item.h)] });
    buf += i === 0 ? text : `,${text}`;
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
    if ((i & 255) === 255 && performance.now() - sliceStart >= SLICE_MS) {
      await pause();
      sliceStart = performance.now();
    }
  }
  yield `${buf}]${tail}`;
}
