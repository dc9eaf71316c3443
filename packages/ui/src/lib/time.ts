/** Durations and time ranges as the URL and the Prometheus API spell them. */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Parses a Prometheus duration (`1h30m`, `15s`) into milliseconds; undefined if malformed. */
export function parseDuration(s: string): number | undefined {
  if (!/^(\d+(ms|[smhdwy]))+$/.test(s)) return undefined;
  let ms = 0;
  for (const m of s.matchAll(/(\d+)(ms|[smhdwy])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return ms;
}

/** Formats milliseconds as the shortest Prometheus duration (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let out = '';
  let rest = Math.round(ms);
  for (const [u, size] of [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}

/** A time range: relative to now (`range`) or absolute (`from`/`to`, ms). */
export type TimeRange = { readonly kind: 'relative'; readonly range: string } | { readonly kind: 'absolute'; readonly from: number; readonly to: number };

/** Start and end (ms) of a range at `now`. */
export function resolveRange(r: TimeRange, now: number): { start: number; end: number } {
  if (r.kind === 'absolute') return { start: r.from, end: r.to };
  return { start: now - (parseDuration(r.range) ?? 3_600_000), end: now };
}

/** Reads a range from URL parameters (`range=1h`, or `from`/`to` as ISO or epoch ms). */
export function rangeFromParams(p: URLSearchParams, fallback = '1h'): TimeRange {
  const from = parseTime(p.get('from'));
  const to = parseTime(p.get('to'));
  if (from !== undefined && to !== undefined && to > from) return { kind: 'absolute', from, to };
  const range = p.get('range');
  return { kind: 'relative', range: range && parseDuration(range) ? range : fallback };
}

/** Writes a range into URL parameters. */
export function rangeToParams(r: TimeRange, p: URLSearchParams): void {
  p.delete('range');
  p.delete('from');
  p.delete('to');
  if (r.kind === 'relative') p.set('range', r.range);
  else {
    p.set('from', new Date(r.from).toISOString());
    p.set('to', new Date(r.to).toISOString());
  }
}

function parseTime(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** A step that gives about `points` points over the range, rounded to a friendly duration, ≥ 1 s. */
export function autoStep(rangeMs: number, points = 250): number {
  const raw = rangeMs / points;
  const nice = [
    1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
  ];
  return nice.find((n) => n >= raw) ?? 86_400_000;
}

/** "3m ago"-style age. */
export function age(fromMs: number, now: number): string {
  const s = Math.max(0, Math.round((now - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A time-axis label for tick `tSec` (Unix seconds) on an axis spanning `spanSec`, in local time:
 * seconds under 10 minutes (`14:05:30`), `hh:mm` up to a day and a half (`14:05`), dates beyond
 * (`Dec 2`, with the time when the tick is not at midnight: `Dec 2 12:00`). Chosen from the range
 * shown, not from where the data happens to be, so a 7-day range reads as days even when the data
 * covers one hour of it.
 */
export function timeAxisLabel(tSec: number, spanSec: number): string {
  const d = new Date(tSec * 1000);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (spanSec <= 600) return `${hm}:${pad2(d.getSeconds())}`;
  if (spanSec <= 36 * 3600) return hm;
  const date = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  return d.getHours() === 0 && d.getMinutes() === 0 ? date : `${date} ${hm}`;
}
