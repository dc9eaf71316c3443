/**
 * The native-histogram notation of Prometheus' promqltest scripts:
 * `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2 1] offset:1 n_buckets:[1] n_offset:0
 * custom_values:[5 10] counter_reset_hint:gauge}}`, and the series forms `{{…}}x3` (repeat) and
 * `{{…}}+{{…}}x3` / `{{…}}-{{…}}x3` (each next sample adds or subtracts the second histogram).
 */
import { type CounterResetHint, FloatHistogram, type HistogramFields } from '../../../core/model/histogram.js';

const HINTS: Readonly<Record<string, CounterResetHint>> = { unknown: 'unknown', reset: 'reset', not_reset: 'not_reset', gauge: 'gauge' };

function num(s: string): number {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) throw new Error(`bad number ${JSON.stringify(s)} in histogram`);
  return v;
}

/** Parses the inside of one `{{…}}`. Bucket lists are absolute counts laid out as one span each. */
export function parseHistogram(body: string): FloatHistogram {
  const f: Partial<HistogramFields> = {};
  let pos: number[] = [];
  let neg: number[] = [];
  let offset = 0;
  let nOffset = 0;
  const re = /([a-z_]+):\s*(\[[^\]]*\]|\S+)/gy;
  const text = body.trim();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) throw new Error(`cannot parse histogram at ${JSON.stringify(text.slice(i))}`);
    i = re.lastIndex;
    const [, key, raw] = m as unknown as [string, string, string];
    const list = (): number[] => {
      if (!raw.startsWith('[')) throw new Error(`histogram field ${key} needs a [list]`);
      return raw
        .slice(1, -1)
        .trim()
        .split(/\s+/)
        .filter((x) => x !== '')
        .map(num);
    };
    switch (key) {
      case 'schema':
        f.schema = num(raw);
        break;
      case 'sum':
        f.sum = num(raw);
        break;
      case 'count':
        f.count = num(raw);
        break;
      case 'z_bucket':
        f.zeroCount = num(raw);
        break;
      case 'z_bucket_w':
        f.zeroThreshold = num(raw);
        break;
      case 'buckets':
        pos = list();
        break;
      case 'n_buckets':
        neg = list();
        break;
      case 'offset':
        offset = num(raw);
        break;
      case 'n_offset':
        nOffset = num(raw);
        break;
      case 'custom_values':
        f.customValues = list();
        break;
      case 'counter_reset_hint': {
        const h = HINTS[raw];
        if (h === undefined) throw new Error(`unknown counter_reset_hint ${JSON.stringify(raw)}`);
        f.counterResetHint = h;
        break;
      }
      default:
        throw new Error(`unknown histogram field ${JSON.stringify(key)}`);
    }
  }
  if (pos.length > 0) {
    f.positiveSpans = [{ offset, length: pos.length }];
    f.positiveBuckets = pos;
  }
  if (neg.length > 0) {
    f.negativeSpans = [{ offset: nOffset, length: neg.length }];
    f.negativeBuckets = neg;
  }
  return FloatHistogram.of(f);
}

/**
 * Reads a histogram token at `text[i]` (which starts with `{{`): a single sample or a series form.
 * Returns the samples and the index after the token.
 */
export function readHistogramToken(text: string, i: number): { samples: FloatHistogram[]; end: number } {
  const close = (from: number): number => {
    const e = text.indexOf('}}', from);
    if (e < 0) throw new Error('unterminated {{ in histogram');
    return e;
  };
  const e1 = close(i + 2);
  const first = parseHistogram(text.slice(i + 2, e1));
  let j = e1 + 2;
  const times = (): number | undefined => {
    const m = /^x(\d+)/.exec(text.slice(j));
    if (m === null) return undefined;
    j += m[0].length;
    return Number(m[1]);
  };
  if (text[j] === '+' || text[j] === '-') {
    const sign = text[j];
    if (!text.startsWith('{{', j + 1)) throw new Error('expected {{ after + or - in histogram series');
    const e2 = close(j + 3);
    const inc = parseHistogram(text.slice(j + 3, e2));
    j = e2 + 2;
    const n = times();
    if (n === undefined) throw new Error('histogram series needs xN');
    const out = [first];
    let cur = first;
    for (let k = 0; k < n; k++) {
      // The increment's hint is not the sum's: Prometheus' expansion keeps the first sample's.
      cur = (sign === '+' ? cur.add(inc) : cur.sub(inc)).with({ counterResetHint: first.counterResetHint });
      out.push(cur);
    }
    return { samples: out, end: j };
  }
  const n = times();
  if (n === undefined) return { samples: [first], end: j };
  return { samples: new Array<FloatHistogram>(n + 1).fill(first), end: j };
}
