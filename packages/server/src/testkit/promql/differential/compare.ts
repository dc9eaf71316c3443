/**
 * Compares two Prometheus query API answers: same status (and error type), same result type, same
 * series set by labels, same timestamps, and values within a relative tolerance (NaN equals NaN,
 * infinities must match exactly). Order matters only when the caller says the query sorts.
 */

/** Relative tolerance on sample values. Fixed: a mismatch is fixed in the engine, not here. */
export const REL_TOLERANCE = 1e-6;

/** A parsed API answer, as far as the comparison needs it. */
export interface ApiAnswer {
  readonly httpStatus: number;
  readonly status: string;
  readonly errorType?: string;
  readonly error?: string;
  readonly resultType?: string;
  readonly result?: unknown;
}

type Point = readonly [number, string];
interface SeriesJson {
  readonly metric: Readonly<Record<string, string>>;
  readonly value?: Point;
  readonly values?: readonly Point[];
}

/** Parses a sample value as the API writes it ("NaN", "+Inf", "-Inf" or a decimal). */
export function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** True when two sample values agree: NaN == NaN, infinities exactly, finite values relatively. */
export function valuesMatch(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseValue(a);
  const y = parseValue(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return x === y;
  return Math.abs(x - y) <= REL_TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

/** A canonical key of a label set, independent of the order the JSON object lists them in. */
export function metricKey(m: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );
}

function isPoint(p: unknown): p is Point {
  return Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'string';
}

function asSeriesList(result: unknown, what: string): SeriesJson[] {
  if (!Array.isArray(result)) throw new Error(`${what}: result is not an array`);
  return result as SeriesJson[];
}

function comparePoint(a: unknown, b: unknown, where: string): string | undefined {
  if (!isPoint(a) || !isPoint(b)) return `${where}: malformed point ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (a[0] !== b[0]) return `${where}: timestamp ${a[0]} vs ${b[0]}`;
  if (!valuesMatch(a[1], b[1])) return `${where}: value at ${a[0]}: ${a[1]} vs ${b[1]}`;
  return undefined;
}

/**
 * Returns undefined when `got` (Vigil) matches `want` (Prometheus), else a description of the first
 * difference. `ordered`: an instant vector's values must come in the same sequence (tied values may
 * swap places, as sorting does not define their order).
 */
export function compareAnswers(got: ApiAnswer, want: ApiAnswer, ordered: boolean): string | undefined {
  if (got.status !== want.status) return `status ${got.status} (${got.error ?? ''}) vs ${want.status} (${want.error ?? ''})`;
  if (got.status !== 'success') {
    return got.errorType === want.errorType ? undefined : `error type ${got.errorType} (${got.error}) vs ${want.errorType} (${want.error})`;
  }
  if (got.resultType !== want.resultType) return `result type ${got.resultType} vs ${want.resultType}`;
  switch (want.resultType) {
    case 'scalar':
      return comparePoint(got.result, want.result, 'scalar');
    case 'string': {
      const a = got.result as Point;
      const b = want.result as Point;
      return isPoint(a) && isPoint(b) && a[0] === b[0] && a[1] === b[1] ? undefined : `string ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    }
    case 'vector':
    case 'matrix':
      return compareSeries(asSeriesList(got.result, 'vigil'), asSeriesList(want.result, 'prometheus'), want.resultType === 'vector', ordered);
    default:
      return `unknown result type ${want.resultType}`;
  }
}

function compareSeries(got: SeriesJson[], want: SeriesJson[], vector: boolean, ordered: boolean): string | undefined {
  const index = (xs: SeriesJson[], who: string): Map<string, SeriesJson> | string => {
    const m = new Map<string, SeriesJson>();
    for (const s of xs) {
      const k = metricKey(s.metric);
      if (m.has(k)) return `${who} returned ${k} twice`;
      m.set(k, s);
    }
    return m;
  };
  const g = index(got, 'vigil');
  const w = index(want, 'prometheus');
  if (typeof g === 'string') return g;
  if (typeof w === 'string') return w;
  for (const k of w.keys()) if (!g.has(k)) return `series ${k} missing from vigil (vigil has ${got.length}, prometheus ${want.length})`;
  for (const k of g.keys()) if (!w.has(k)) return `extra series ${k} in vigil (vigil has ${got.length}, prometheus ${want.length})`;
  for (const [k, ws] of w) {
    const gs = g.get(k)!;
    if (vector) {
      const d = comparePoint(gs.value, ws.value, `series ${k}`);
      if (d) return d;
      continue;
    }
    const gv = gs.values ?? [];
    const wv = ws.values ?? [];
    const n = Math.min(gv.length, wv.length);
    for (let i = 0; i < n; i++) {
      const d = comparePoint(gv[i], wv[i], `series ${k} point ${i}`);
      if (d) return d;
    }
    if (gv.length !== wv.length) {
      const extra = gv.length > wv.length ? `vigil has extra ${JSON.stringify(gv[n])}` : `vigil lacks ${JSON.stringify(wv[n])}`;
      return `series ${k}: ${gv.length} points vs ${wv.length}; ${extra}`;
    }
  }
  if (ordered) {
    for (let i = 0; i < want.length; i++) {
      const a = got[i]!.value;
      const b = want[i]!.value;
      if (!isPoint(a) || !isPoint(b) || !valuesMatch(a[1], b[1])) {
        return `order differs at position ${i}: vigil ${metricKey(got[i]!.metric)}=${a?.[1]} vs prometheus ${metricKey(want[i]!.metric)}=${b?.[1]}`;
      }
    }
  }
  return undefined;
}

/** `s` cut to `max` characters, for failure messages. */
export function truncate(s: string, max = 1500): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}
