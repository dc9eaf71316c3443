/**
 * Alertmanager's time intervals (`time_intervals:` and the older `mute_time_intervals:`): times of
 * day, weekdays, days of the month, months and years, evaluated in a time zone.
 */
import { isKnownZone, localZone, wallClock } from '../../core/time/wallclock.js';

/** An inclusive integer range. */
export interface Range {
  begin: number;
  end: number;
}

/** One entry of a named interval's list; an empty field places no constraint. */
export interface TimeInterval {
  /** Minutes of the day, end exclusive. */
  times: Array<{ startMinute: number; endMinute: number }>;
  /** 0 = Sunday. */
  weekdays: Range[];
  /** Negative values count from the end of the month. */
  daysOfMonth: Range[];
  /** 1 = January. */
  months: Range[];
  years: Range[];
  /** IANA zone name; undefined means UTC. */
  location: string | undefined;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function parseRanges(items: unknown, what: string, parseOne: (s: string) => number, min: number, max: number, allowNegative = false): Range[] {
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) throw new Error(`${what} must be a list`);
  return items.map((raw: unknown) => {
    const s = String(raw).toLowerCase().trim();
    // A leading minus is a negative day, not a range separator.
    const m = /^(-?[^:]+)(?::(-?[^:]+))?$/.exec(s);
    if (!m) throw new Error(`invalid ${what} range ${JSON.stringify(raw)}`);
    const begin = parseOne(m[1]!);
    const end = m[2] === undefined ? begin : parseOne(m[2]);
    for (const v of [begin, end]) {
      const ok = allowNegative ? (v >= min && v <= max) || (v <= -1 && v >= -max) : v >= min && v <= max;
      if (!ok || !Number.isInteger(v)) throw new Error(`${what} ${JSON.stringify(raw)} out of range`);
    }
    if (!allowNegative && begin > end) throw new Error(`${what} range ${JSON.stringify(raw)} starts after it ends`);
    if (allowNegative && Math.sign(begin) === Math.sign(end) && begin > end) throw new Error(`${what} range ${JSON.stringify(raw)} starts after it ends`);
    return { begin, end };
  });
}

function named(names: string[], offset: number): (s: string) => number {
  return (s) => {
    const i = names.indexOf(s);
    if (i >= 0) return i + offset;
    if (/^-?\d+$/.test(s)) return Number(s);
    throw new Error(`unknown name ${JSON.stringify(s)}`);
  };
}

function num(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new Error(`not a number: ${JSON.stringify(s)}`);
  return Number(s);
}

function parseClock(s: unknown, allow24: boolean): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(String(s));
  if (!m) throw new Error(`invalid time of day ${JSON.stringify(s)}: expected HH:MM`);
  const v = Number(m[1]) * 60 + Number(m[2]);
  if (Number(m[2]) > 59 || v > 24 * 60 || (!allow24 && v === 24 * 60)) throw new Error(`time of day ${JSON.stringify(s)} out of range`);
  return v;
}

/** Validates one YAML interval entry; throws with the reason. */
export function parseTimeInterval(raw: Record<string, unknown>): TimeInterval {
  for (const k of Object.keys(raw))
    if (!['times', 'weekdays', 'days_of_month', 'months', 'years', 'location'].includes(k)) throw new Error(`unknown field ${k}`);
  const times = raw['times'] === undefined ? [] : (raw['times'] as unknown[]);
  if (!Array.isArray(times)) throw new Error('times must be a list');
  const location = raw['location'] === undefined ? undefined : String(raw['location']);
  if (location !== undefined && location !== 'UTC' && location !== 'Local') {
    if (!isKnownZone(location)) throw new Error(`unknown time zone ${JSON.stringify(location)}`);
  }
  return {
    times: times.map((t) => {
      const r = (t ?? {}) as Record<string, unknown>;
      const startMinute = parseClock(r['start_time'], false);
      const endMinute = parseClock(r['end_time'], true);
      if (startMinute >= endMinute) throw new Error('start_time must be before end_time');
      return { startMinute, endMinute };
    }),
    weekdays: parseRanges(raw['weekdays'], 'weekday', named(WEEKDAYS, 0), 0, 6),
    daysOfMonth: parseRanges(raw['days_of_month'], 'day of month', num, 1, 31, true),
    months: parseRanges(raw['months'], 'month', named(MONTHS, 1), 1, 12),
    years: parseRanges(raw['years'], 'year', num, 0, 9999),
    location: location === 'Local' ? localZone() : location,
  };
}

interface Parts {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minute: number;
  daysInMonth: number;
}

function partsIn(t: number, zone: string | undefined): Parts {
  const w = wallClock(t, zone ?? 'UTC');
  return {
    year: w.year,
    month: w.month,
    day: w.day,
    weekday: w.weekday,
    minute: w.hour * 60 + w.minute,
    daysInMonth: new Date(Date.UTC(w.year, w.month, 0)).getUTCDate(),
  };
}

function inRanges(v: number, ranges: Range[]): boolean {
  return ranges.length === 0 || ranges.some((r) => v >= r.begin && v <= r.end);
}

/** True when `t` falls inside the interval. */
export function intervalContains(ti: TimeInterval, t: number): boolean {
  const p = partsIn(t, ti.location);
  if (ti.times.length > 0 && !ti.times.some((r) => p.minute >= r.startMinute && p.minute < r.endMinute)) return false;
  if (!inRanges(p.weekday, ti.weekdays)) return false;
  if (!inRanges(p.month, ti.months)) return false;
  if (!inRanges(p.year, ti.years)) return false;
  if (ti.daysOfMonth.length > 0) {
    const dom = (v: number): number => (v < 0 ? p.daysInMonth + v + 1 : v);
    if (!ti.daysOfMonth.some((r) => p.day >= Math.max(1, dom(r.begin)) && p.day <= Math.min(p.daysInMonth, dom(r.end)))) return false;
  }
  return true;
}

/** True when `t` falls inside any of the intervals (a named interval is a list of these). */
export function anyContains(list: readonly TimeInterval[], t: number): boolean {
  return list.some((ti) => intervalContains(ti, t));
}
