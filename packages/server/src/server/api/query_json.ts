/**
 * The Prometheus envelope of a query result as chunks of JSON text, for results too large to
 * serialise in one go on the thread that acknowledges writes: a result of 300,000 series is over
 * 100 MB of JSON, seconds of `JSON.stringify`. The text is the same as `JSON.stringify` of
 * `{status, data: {resultType, result, stats}, warnings}` would give.
 */
import { labelsToRecord } from '../../core/model/labels.js';
import { formatValue, toApiJson, type Value } from '../../metrics/promql/engine/value.js';

/** Longest run between pauses, ms. */
const SLICE_MS = 5;
/** Chunk size at which text is handed to the socket, characters. */
const CHUNK_CHARS = 1 << 16;

const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Yields the JSON text of the success envelope of `value`, pausing every few milliseconds. */
export async function* queryJsonChunks(value: Value, warnings: readonly string[], stats: unknown): AsyncGenerator<string> {
  const tail = `${stats === undefined ? '' : `,"stats":${JSON.stringify(stats)}`}}${warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}` : ''}}`;
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
        ? JSON.stringify({ metric: labelsToRecord(item.metric), values: item.points.map((p) => [p.t / 1000, formatValue(p.v)]) })
        : JSON.stringify({ metric: labelsToRecord(item.metric), value: [item.t / 1000, formatValue(item.v)] });
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
