/**
 * Loki push request bodies: JSON (`{"streams":[{"stream":{…},"values":[["<ns>","line",{meta}]]}]}`)
 * and protobuf (PushRequest → StreamAdapter{labels string, entries} → EntryAdapter{Timestamp,
 * line, structuredMetadata}), decoded by hand in the style of the remote_write decoder.
 */
import type { Label } from '../../core/model/labels.js';
import { parseStreamSelector } from '../logql/parser.js';
import type { LogEntry, PushStream } from '../storage/types.js';
import { checkLabels, checkLine, LimitError, textOf, type LogLimits } from './limits.js';

function parseNs(v: unknown): bigint {
  if (typeof v === 'string' && /^\d{1,19}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new LimitError(400, `invalid timestamp ${JSON.stringify(v)}: want a string of nanoseconds since the epoch`);
}

/** Decodes a Loki JSON push body. */
export function decodeLokiJson(body: string, limits: LogLimits): PushStream[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new LimitError(400, `invalid JSON push body: ${(err as Error).message}`);
  }
  // `null` is valid JSON too, and has no properties to read.
  const streams = (doc as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams)) throw new LimitError(400, 'push body must be an object with a "streams" array');
  const out: PushStream[] = [];
  for (const s of streams as ({ stream?: Record<string, unknown>; values?: unknown[] } | null)[]) {
    if (s === null || typeof s !== 'object' || (s.values != null && !Array.isArray(s.values)))
      throw new LimitError(400, 'each stream must be an object with a "stream" label map and a "values" array');
    const pairs: Label[] = Object.entries(s.stream ?? {}).map(([name, value]) => ({ name, value: textOf(value) }));
    const labels = checkLabels(pairs, limits);
    const entries: LogEntry[] = [];
    for (const v of s.values ?? []) {
      if (!Array.isArray(v) || v.length < 2 || typeof v[1] !== 'string')
        throw new LimitError(400, 'each value must be ["<ns timestamp>", "<line>"] with optional structured metadata');
      checkLine(v[1], labels, limits);
      const meta =
        v[2] && typeof v[2] === 'object' ? Object.entries(v[2] as Record<string, unknown>).map(([name, value]) => ({ name, value: textOf(value) })) : undefined;
      entries.push(meta && meta.length ? { t: parseNs(v[0]), line: v[1], meta } : { t: parseNs(v[0]), line: v[1] });
    }
    out.push({ labels, entries });
  }
  return out;
}

class R {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}
  varint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new LimitError(400, 'malformed protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 128;
    }
    throw new LimitError(400, 'malformed protobuf: varint too long');
  }
  sub(): R {
    const len = this.varint();
    if (this.pos + len > this.end) throw new LimitError(400, 'malformed protobuf: field runs past the end');
    const r = new R(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
  str(): string {
    const r = this.sub();
    return this.buf.toString('utf8', r.pos, r.end);
  }
  skip(wt: number): void {
    if (wt === 0) this.varint();
    else if (wt === 1) this.pos += 8;
    else if (wt === 2) this.sub();
    else if (wt === 5) this.pos += 4;
    else throw new LimitError(400, `malformed protobuf: wire type ${wt}`);
  }
}

/** Decodes a (decompressed) Loki protobuf PushRequest. */
export function decodeLokiProto(buf: Buffer, limits: LogLimits): PushStream[] {
  const out: PushStream[] = [];
  const r = new R(buf, 0, buf.length);
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
      r.skip(tag & 7);
      continue;
    }
    const s = r.sub();
    let labelText = '';
    const entries: LogEntry[] = [];
    while (s.pos < s.end) {
      const t2 = s.varint();
      const f = t2 >>> 3;
      if (f === 1 && (t2 & 7) === 2) labelText = s.str();
      else if (f === 2 && (t2 & 7) === 2) {
        const e = s.sub();
        let sec = 0;
        let nanos = 0;
        let line = '';
        const meta: Label[] = [];
        while (e.pos < e.end) {
          const t3 = e.varint();
          const f3 = t3 >>> 3;
          if (f3 === 1 && (t3 & 7) === 2) {
            const ts = e.sub();
            while (ts.pos < ts.end) {
              const t4 = ts.varint();
              if (t4 >>> 3 === 1) sec = ts.varint();
              else if (t4 >>> 3 === 2) nanos = ts.varint();
              else ts.skip(t4 & 7);
            }
          } else if (f3 === 2 && (t3 & 7) === 2) line = e.str();
          else if (f3 === 3 && (t3 & 7) === 2) {
            const p = e.sub();
            let name = '';
            let value = '';
            while (p.pos < p.end) {
              const t5 = p.varint();
              if (t5 >>> 3 === 1) name = p.str();
              else if (t5 >>> 3 === 2) value = p.str();
              else p.skip(t5 & 7);
            }
            meta.push({ name, value });
          } else e.skip(t3 & 7);
        }
        const t = BigInt(sec) * 1_000_000_000n + BigInt(nanos);
        entries.push(meta.length ? { t, line, meta } : { t, line });
      } else s.skip(t2 & 7);
    }
    let pairs: Label[];
    try {
      pairs = parseStreamSelector(labelText).map((m) => ({ name: m.name, value: m.value }));
    } catch (err) {
      throw new LimitError(400, `invalid stream labels ${JSON.stringify(labelText)}: ${(err as Error).message}`);
    }
    const labels = checkLabels(pairs, limits);
    for (const e of entries) checkLine(e.line, labels, limits);
    out.push({ labels, entries });
  }
  return out;
}

function varintLen(x: number): number {
  let n = 1;
  while (x >= 0x80) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

/** A length-delimited field's bytes: tag, length, body. */
const fieldLen = (body: number): number => 1 + varintLen(body) + body;

/**
 * Encodes a PushRequest (the log forwarder's body, and tests'). Sizes are worked out first and the
 * message written into one buffer, strings straight into it: a batch of thousands of lines makes no
 * buffer per field.
 */
export function encodeLokiProto(streams: readonly { labels: string; entries: readonly { t: bigint; line: string; meta?: readonly Label[] }[] }[]): Buffer {
  const strLens: number[] = [];
  const msgLens: number[] = [];
  const sl = (str: string): number => {
    const n = Buffer.byteLength(str);
    strLens.push(n);
    return n;
  };
  const secOf = (t: bigint): number => Number(t / 1_000_000_000n);
  const nanosOf = (t: bigint): number => Number(t % 1_000_000_000n);
  // Pass 1: the length of every message, in the order pass 2 writes them.
  let total = 0;
  for (const s of streams) {
    const at = msgLens.push(0) - 1;
    let sLen = fieldLen(sl(s.labels));
    for (const e of s.entries) {
      const eAt = msgLens.push(0) - 1;
      const sec = secOf(e.t);
      const nanos = nanosOf(e.t);
      const tsLen = 1 + varintLen(sec) + 1 + varintLen(nanos);
      msgLens.push(tsLen);
      let eLen = fieldLen(tsLen) + fieldLen(sl(e.line));
      for (const m of e.meta ?? []) {
        const pLen = fieldLen(sl(m.name)) + fieldLen(sl(m.value));
        msgLens.push(pLen);
        eLen += fieldLen(pLen);
      }
      msgLens[eAt] = eLen;
      sLen += fieldLen(eLen);
    }
    msgLens[at] = sLen;
    total += fieldLen(sLen);
  }
  // Pass 2: write.
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  let si = 0;
  let mi = 0;
  const varint = (x: number): void => {
    while (x >= 0x80) {
      out[pos++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    out[pos++] = x;
  };
  const head = (field: number, len: number): void => {
    out[pos++] = (field << 3) | 2;
    varint(len);
  };
  const str = (field: number, v: string): void => {
    const n = strLens[si++]!;
    head(field, n);
    pos += out.write(v, pos, n, 'utf8');
  };
  for (const s of streams) {
    head(1, msgLens[mi++]!);
    str(1, s.labels);
    for (const e of s.entries) {
      head(2, msgLens[mi++]!);
      head(1, msgLens[mi++]!);
      out[pos++] = 1 << 3;
      varint(secOf(e.t));
      out[pos++] = 2 << 3;
      varint(nanosOf(e.t));
      str(2, e.line);
      for (const m of e.meta ?? []) {
        head(3, msgLens[mi++]!);
        str(1, m.name);
        str(2, m.value);
      }
    }
  }
  return out;
}
