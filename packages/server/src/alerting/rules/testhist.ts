/**
 * Native-histogram literals of promtool's test notation (`{{schema:1 sum:3 count:2 buckets:[2]}}`,
 * with `+…xN` / `xN` expansion). The PromQL engine has no native histograms yet, so the rule test
 * runner keeps histogram input series aside and answers plain selectors over them itself.
 */

/** A histogram literal as parsed: numbers, words (counter_reset_hint) and bucket lists. */
export type HistLiteral = Record<string, number | string | number[]>;

const NUMERIC = ['sum', 'count', 'z_bucket', 'z_bucket_w', 'schema', 'offset', 'n_offset'];

/** Parses `{{key:value …}}`. Throws on malformed text. */
export function parseHistogram(text: string): HistLiteral {
  const m = /^\{\{(.*)\}\}$/s.exec(text.trim());
  if (m === null) throw new Error(`invalid histogram ${JSON.stringify(text)}`);
  const out: HistLiteral = {};
  const re = /\s*([a-z_]+):(\[[^\]]*\]|\S+)/gy;
  let body = m[1]!;
  body = body.trim();
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const f = re.exec(body);
    if (f === null) throw new Error(`invalid histogram field near ${JSON.stringify(body.slice(pos))}`);
    const [, key, raw] = f as unknown as [string, string, string];
    if (raw.startsWith('['))
      out[key] = raw
        .slice(1, -1)
        .trim()
        .split(/\s+/)
        .filter((s) => s !== '')
        .map(Number);
    else if (NUMERIC.includes(key)) out[key] = Number(raw);
    else out[key] = raw;
    pos = re.lastIndex;
  }
  return out;
}

function add(a: HistLiteral, b: HistLiteral): HistLiteral {
  const out: HistLiteral = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    if (k === 'schema' || k === 'offset' || k === 'n_offset' || k === 'z_bucket_w' || k === 'counter_reset_hint') continue;
    if (Array.isArray(v)) out[k] = (Array.isArray(cur) ? cur : []).map((x, i) => x + (v[i] ?? 0)).concat(v.slice(Array.isArray(cur) ? cur.length : 0));
    else if (typeof v === 'number') out[k] = (typeof cur === 'number' ? cur : 0) + v;
  }
  return out;
}

/** Expands a values string of histograms into one entry per step (undefined for `_`). */
export function expandHistogramValues(text: string): (HistLiteral | undefined)[] {
  const out: (HistLiteral | undefined)[] = [];
  const re = /\s*(_|\{\{.*?\}\})(?:\+(\{\{.*?\}\}))?(?:x(\d+))?/gy;
  let pos = 0;
  const s = text.trim();
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) throw new Error(`invalid histogram series values near ${JSON.stringify(s.slice(pos))}`);
    const times = m[3] === undefined ? 0 : Number(m[3]);
    if (m[1] === '_') for (let i = 0; i <= times; i++) out.push(undefined);
    else {
      let h = parseHistogram(m[1]!);
      const inc = m[2] === undefined ? undefined : parseHistogram(m[2]);
      out.push(h);
      for (let i = 0; i < times; i++) {
        if (inc !== undefined) h = add(h, inc);
        out.push(h);
      }
    }
    pos = re.lastIndex;
  }
  return out;
}

/** A canonical text for comparing histograms (the counter reset hint is ignored). */
export function histogramKey(h: HistLiteral): string {
  const defaults: HistLiteral = { schema: 0, sum: 0, count: 0, z_bucket: 0, z_bucket_w: 0, offset: 0, n_offset: 0, buckets: [], n_buckets: [] };
  const full: HistLiteral = { ...defaults, ...h };
  delete full['counter_reset_hint'];
  return Object.keys(full)
    .sort()
    .map((k) => `${k}:${JSON.stringify(full[k])}`)
    .join(' ');
}

/** Prints a histogram in the test notation. */
export function formatHistogram(h: HistLiteral): string {
  return (
    '{{' +
    Object.entries(h)
      .map(([k, v]) => `${k}:${Array.isArray(v) ? `[${v.join(' ')}]` : String(v)}`)
      .join(' ') +
    '}}'
  );
}
