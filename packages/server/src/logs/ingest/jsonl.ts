/**
 * JSON lines ingest (`POST /api/v1/logs/jsonl`): one JSON object per line. The stream labels are the
 * fields named in `stream_fields` (default `service,level`) plus static `labels` (`a=b,c=d`); the
 * timestamp comes from `time_field` (default: the first of `ts`, `time`, `timestamp`, `@timestamp`;
 * RFC 3339, epoch seconds, milliseconds or nanoseconds), the level from `level_field`, and when
 * `msg_field` is set and present that field alone becomes the line. Otherwise the line is kept whole.
 */
import type { Label } from '../../core/model/labels.js';
import type { LogEntry, PushStream } from '../storage/types.js';
import { sanitizeLabelName } from '../logql/pipeline.js';
import { checkLabels, checkLine, LimitError, textOf, type LogLimits } from './limits.js';

/** Field names of the JSON lines format (query parameters of the request). */
export interface JsonlOptions {
  readonly timeField?: string;
  readonly levelField?: string;
  readonly msgField?: string;
  readonly streamFields?: readonly string[];
  readonly staticLabels?: readonly Label[];
}

const LEVELS: Record<string, string> = { '10': 'trace', '20': 'debug', '30': 'info', '40': 'warn', '50': 'error', '60': 'fatal' };

/** A timestamp in any common form → ns. */
export function toNs(v: unknown, now: number): bigint {
  // JSON.parse reads an out-of-range number (1e999) as Infinity, which BigInt() refuses with a RangeError.
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (v > 1e17) return BigInt(Math.round(v));
    if (v > 1e14) return BigInt(Math.round(v)) * 1000n;
    if (v > 1e11) return BigInt(Math.round(v * 1000)) * 1000n;
    // A huge negative number of seconds overflows to -Infinity, which BigInt() refuses with a RangeError;
    // it is no time at all, so it gets the fallback an unparseable string gets.
    const us = Math.round(v * 1e6);
    if (Number.isFinite(us)) return BigInt(us) * 1000n;
  }
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return v.length >= 16 ? BigInt(v) * (v.length <= 16 ? 1000n : 1n) : toNs(Number(v), now);
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) {
      const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
      const subMs = frac.length > 3 ? BigInt(frac.slice(3, 9).padEnd(6, '0')) : 0n;
      return BigInt(ms) * 1_000_000n + subMs;
    }
  }
  return BigInt(now) * 1_000_000n;
}

/** Decodes a JSON lines body. */
export function decodeJsonl(body: string, opts: JsonlOptions, limits: LogLimits, now = Date.now()): PushStream[] {
  const streamFields = opts.streamFields ?? ['service', 'level'];
  const byKey = new Map<string, { labels: PushStream['labels']; entries: LogEntry[] }>();
  let lineNo = 0;
  for (const raw of body.split('\n')) {
    lineNo++;
    const text = raw.trim();
    if (!text) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new LimitError(400, `line ${lineNo}: invalid JSON: ${(err as Error).message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new LimitError(400, `line ${lineNo}: not a JSON object`);
    const tf = opts.timeField ?? ['ts', 'time', 'timestamp', '@timestamp'].find((f) => f in obj);
    const t = toNs(tf ? obj[tf] : undefined, now);
    const pairs: Label[] = [...(opts.staticLabels ?? [])];
    for (const f of streamFields) {
      let v = obj[f === 'level' ? (opts.levelField ?? 'level') : f];
      if (v === undefined) continue;
      if (f === 'level') v = LEVELS[textOf(v)] ?? v;
      pairs.push({ name: sanitizeLabelName(f), value: textOf(v) });
    }
    if (!pairs.length) pairs.push({ name: 'service', value: 'unknown' });
    const labels = checkLabels(pairs, limits);
    const msg = opts.msgField !== undefined ? obj[opts.msgField] : undefined;
    const line = typeof msg === 'string' ? msg : text;
    checkLine(line, labels, limits);
    const key = JSON.stringify(labels);
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { labels, entries: [] }));
    g.entries.push({ t, line });
  }
  for (const g of byKey.values()) g.entries.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  return [...byKey.values()];
}
