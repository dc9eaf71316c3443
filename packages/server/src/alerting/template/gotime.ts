/**
 * Go's time.Time and time.Duration as template values, for notification templates: times print
 * as Go prints them (`2024-03-05 10:11:12.345 +0000 UTC`), format with Go's reference-time layouts
 * (`.StartsAt.Format "15:04 MST"`), move between zones (`tz "Europe/Berlin"`), and subtract to
 * durations that print as `1h2m3.5s`.
 *
 * Times have millisecond precision (Vigil stores alert times in ms). Zone offsets and
 * abbreviations come from the platform's time zone database through Intl; where it knows no
 * abbreviation, the numeric form tzdata uses (`+0530`) is printed.
 */
import { isKnownZone, localZone, wallClock } from '../../core/time/wallclock.js';
import { goTypeName, type TValue } from './gofmt.js';
import { getter, methods, opaque, opaqueState, type GoMethod, type GoType } from './gotype.js';

interface TimeState {
  /** Epoch milliseconds. */
  readonly ms: number;
  /** A location: `UTC`, `Local` or an IANA zone name. */
  readonly zone: string;
}

/** Go's zero time, 0001-01-01 00:00:00 UTC, in epoch ms. */
export const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Checks a zone name as Go's LoadLocation does; returns the canonical location name. */
export function loadLocation(name: string): string {
  if (name === '' || name === 'UTC') return 'UTC';
  if (name === 'Local') return 'Local';
  if (!isKnownZone(name)) throw new Error(`unknown time zone ${name}`);
  return name;
}

function ianaOf(zone: string): string {
  return zone === 'Local' ? localZone() : zone;
}

/** The offset east of UTC, in seconds, and the abbreviation of `zone` at `ms`. */
function zoneAt(zone: string, ms: number): { offset: number; abbr: string } {
  const iana = ianaOf(zone);
  if (iana === 'UTC' || iana === 'Etc/UTC') return { offset: 0, abbr: 'UTC' };
  const w = wallClock(ms, iana);
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  const offset = Math.round((d.getTime() - (ms - mod(ms, 1000))) / 1000);
  return { offset, abbr: zoneAbbr(iana, ms, offset) };
}

/** Locales whose CLDR data carries the abbreviations tzdata uses (EST, CET, IST, AEDT, SAST, JST…). */
const ABBR_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-ZA', 'ja-JP'];
const abbrCache = new Map<string, string>();

function zoneAbbr(iana: string, ms: number, offset: number): string {
  const key = `${iana}|${offset}`;
  let abbr = abbrCache.get(key);
  if (abbr !== undefined) return abbr;
  for (const locale of ABBR_LOCALES) {
    const name =
      new Intl.DateTimeFormat(locale, { timeZone: iana, timeZoneName: 'short' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ??
      '';
    if (/^[A-Z]{2,5}$/.test(name)) {
      abbr = name;
      break;
    }
  }
  if (abbr === undefined) {
    // tzdata's numeric form for zones without a letter abbreviation.
    const m = Math.abs(offset) / 60;
    abbr = `${offset < 0 ? '-' : '+'}${pad(Math.floor(m / 60), 2)}${m % 60 ? pad(m % 60, 2) : ''}`;
  }
  abbrCache.set(key, abbr);
  return abbr;
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function pad(n: number, width: number, ch = '0'): string {
  return String(n).padStart(width, ch);
}

/** The wall clock of a time in its zone. */
interface Wall {
  year: number;
  month: number;
  day: number;
  yday: number;
  weekday: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  offset: number;
  abbr: string;
}

function wallOf(t: TimeState): Wall {
  const { offset, abbr } = zoneAt(t.zone, t.ms);
  const d = new Date(t.ms + offset * 1000);
  const year = d.getUTCFullYear();
  const start = new Date(0);
  start.setUTCFullYear(year, 0, 1);
  start.setUTCHours(0, 0, 0, 0);
  return {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    yday: Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1,
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanos: mod(t.ms, 1000) * 1_000_000,
    offset,
    abbr,
  };
}

/** One element of a layout: literal text or a reference-time field. */
type Chunk = { lit: string } | { std: string; digits?: number; sep?: string };

/** Splits a layout into literals and fields, matching the same tokens as Go's nextStdChunk. */
function layoutChunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  const emit = (c: Chunk): void => {
    if (lit) out.push({ lit });
    lit = '';
    out.push(c);
  };
  const lowerNext = (i: number): boolean => /[a-z]/.test(layout[i] ?? '');
  let i = 0;
  while (i < layout.length) {
    const rest = layout.slice(i);
    const c = layout[i]!;
    let tok: string | undefined;
    if (c === 'J' && rest.startsWith('January')) tok = 'January';
    else if (c === 'J' && rest.startsWith('Jan') && !lowerNext(i + 3)) tok = 'Jan';
    else if (c === 'M' && rest.startsWith('Monday')) tok = 'Monday';
    else if (c === 'M' && rest.startsWith('Mon') && !lowerNext(i + 3)) tok = 'Mon';
    else if (c === 'M' && rest.startsWith('MST')) tok = 'MST';
    else if (c === '0' && /^0[1-6]/.test(rest)) tok = rest.slice(0, 2);
    else if (c === '0' && rest.startsWith('002')) tok = '002';
    else if (c === '1') tok = rest.startsWith('15') ? '15' : '1';
    else if (c === '2') tok = rest.startsWith('2006') ? '2006' : '2';
    else if (c === '_' && rest.startsWith('_2006')) {
      // A literal underscore, then the year.
      lit += '_';
      i++;
      continue;
    } else if (c === '_' && rest.startsWith('__2')) tok = '__2';
    else if (c === '_' && rest.startsWith('_2')) tok = '_2';
    else if (c === '3' || c === '4' || c === '5') tok = c;
    else if (rest.startsWith('PM') || rest.startsWith('pm')) tok = rest.slice(0, 2);
    else if (c === '-' || c === 'Z') tok = ['070000', '07:00:00', '0700', '07:00', '07'].map((s) => c + s).find((s) => rest.startsWith(s));
    else if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const ch = layout[i + 1]!;
      let j = i + 1;
      while (layout[j] === ch) j++;
      // Only a run of one digit not followed by another digit is a fraction.
      if (!/[0-9]/.test(layout[j] ?? '')) {
        emit({ std: ch === '0' ? 'frac0' : 'frac9', digits: j - i - 1, sep: c });
        i = j;
        continue;
      }
    }
    if (tok === undefined) {
      lit += c;
      i++;
    } else {
      emit({ std: tok });
      i += tok.length;
    }
  }
  if (lit) out.push({ lit });
  return out;
}

function formatZone(std: string, w: Wall): string {
  if (std === 'MST') {
    if (w.abbr) return w.abbr;
    std = '-0700';
  }
  if (std.startsWith('Z') && w.offset === 0) return 'Z';
  const abs = Math.abs(w.offset);
  const colon = std.includes(':');
  let s = (w.offset < 0 ? '-' : '+') + pad(Math.floor(abs / 3600), 2);
  const body = std.slice(1);
  if (body !== '07') s += (colon ? ':' : '') + pad(Math.floor(abs / 60) % 60, 2);
  if (body.length > 5) s += (colon ? ':' : '') + pad(abs % 60, 2);
  return s;
}

function formatChunk(c: Chunk, w: Wall): string {
  if ('lit' in c) return c.lit;
  const h12 = w.hour % 12 === 0 ? 12 : w.hour % 12;
  switch (c.std) {
    case 'January':
      return MONTHS[w.month - 1]!;
    case 'Jan':
      return MONTHS[w.month - 1]!.slice(0, 3);
    case 'Monday':
      return DAYS[w.weekday]!;
    case 'Mon':
      return DAYS[w.weekday]!.slice(0, 3);
    case '2006':
      return pad(w.year, 4);
    case '06':
      return pad(mod(w.year, 100), 2);
    case '01':
      return pad(w.month, 2);
    case '1':
      return String(w.month);
    case '02':
      return pad(w.day, 2);
    case '2':
      return String(w.day);
    case '_2':
      return pad(w.day, 2, ' ');
    case '002':
      return pad(w.yday, 3);
    case '__2':
      return pad(w.yday, 3, ' ');
    case '15':
      return pad(w.hour, 2);
    case '03':
      return pad(h12, 2);
    case '3':
      return String(h12);
    case '04':
      return pad(w.minute, 2);
    case '4':
      return String(w.minute);
    case '05':
      return pad(w.second, 2);
    case '5':
      return String(w.second);
    case 'PM':
      return w.hour >= 12 ? 'PM' : 'AM';
    case 'pm':
      return w.hour >= 12 ? 'pm' : 'am';
    case 'frac0':
    case 'frac9': {
      let digits = pad(w.nanos, 9).slice(0, c.digits);
      if (c.std === 'frac9') digits = digits.replace(/0+$/, '');
      return digits === '' ? '' : c.sep! + digits;
    }
    default:
      return formatZone(c.std, w);
  }
}

const layoutCache = new Map<string, Chunk[]>();

function formatTime(t: TimeState, layout: string): string {
  let chunks = layoutCache.get(layout);
  if (chunks === undefined) {
    chunks = layoutChunks(layout);
    if (layoutCache.size > 1000) layoutCache.clear();
    layoutCache.set(layout, chunks);
  }
  const w = wallOf(t);
  return chunks.map((c) => formatChunk(c, w)).join('');
}

/** Go's time.Duration.String(): `1h2m3.5s`, `1.5ms`, `0s`. */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  let u = ns < 0n ? -ns : ns;
  const frac = (v: bigint, digits: number): string => {
    const div = 10n ** BigInt(digits);
    const f = (v % div).toString().padStart(digits, '0').replace(/0+$/, '');
    return (v / div).toString() + (f ? '.' + f : '');
  };
  if (u < 1_000_000_000n) {
    if (u < 1000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${frac(u, 3)}µs`;
    return `${sign}${frac(u, 6)}ms`;
  }
  let out = frac(u % 60_000_000_000n, 9) + 's';
  u /= 60_000_000_000n;
  if (u > 0n) {
    out = `${u % 60n}m` + out;
    u /= 60n;
    if (u > 0n) out = `${u}h` + out;
  }
  return sign + out;
}

const DURATION_METHODS: Record<string, GoMethod> = {
  String: getter((d) => formatDuration(durationNs(d))),
  Seconds: getter((d) => Number(durationNs(d)) / 1e9),
  Minutes: getter((d) => Number(durationNs(d)) / 6e10),
  Hours: getter((d) => Number(durationNs(d)) / 3.6e12),
  Milliseconds: getter((d) => durationNs(d) / 1_000_000n),
};

/** Go's time.Duration: an int64 of nanoseconds that prints as `1h2m3s`. */
export const DURATION_TYPE: GoType = {
  name: 'time.Duration',
  string: (d) => formatDuration(durationNs(d)),
  basic: (d) => durationNs(d),
  methods: methods(DURATION_METHODS),
};

/** A time.Duration value. */
export function goDuration(ns: bigint): TValue {
  return opaque(DURATION_TYPE, ns);
}

function durationNs(d: TValue): bigint {
  return opaqueState<bigint>(d, DURATION_TYPE) ?? 0n;
}

/** The nanoseconds of a Duration argument, or undefined when `v` is not one. */
export function asDurationNs(v: TValue): bigint | undefined {
  return opaqueState<bigint>(v, DURATION_TYPE);
}

function self(t: TValue): TimeState {
  return opaqueState<TimeState>(t, TIME_TYPE)!;
}

/** The state of a time.Time argument; throws Go's type error for anything else. */
export function timeArg(v: TValue): { ms: number; zone: string } {
  const s = opaqueState<TimeState>(v, TIME_TYPE);
  if (s === undefined) throw new Error(`wrong type for value; expected time.Time; got ${goTypeName(v)}`);
  return s;
}

const TIME_STRING_LAYOUT = '2006-01-02 15:04:05.999999999 -0700 MST';

const TIME_METHODS: Record<string, GoMethod> = {
  Format: {
    minArgs: 1,
    maxArgs: 1,
    call: (t, [layout]) => {
      if (typeof layout !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(layout)}`);
      return formatTime(self(t), layout);
    },
  },
  String: getter((t) => formatTime(self(t), TIME_STRING_LAYOUT)),
  UTC: getter((t) => goTime(self(t).ms, 'UTC')),
  Local: getter((t) => goTime(self(t).ms, 'Local')),
  Unix: getter((t) => BigInt(Math.floor(self(t).ms / 1000))),
  UnixMilli: getter((t) => BigInt(self(t).ms)),
  IsZero: getter((t) => self(t).ms === GO_ZERO_TIME_MS),
  Sub: { minArgs: 1, maxArgs: 1, call: (t, [u]) => goDuration(BigInt(self(t).ms - timeArg(u).ms) * 1_000_000n) },
  Add: {
    minArgs: 1,
    maxArgs: 1,
    call: (t, [d]) => {
      const ns = asDurationNs(d) ?? (typeof d === 'bigint' ? d : undefined);
      if (ns === undefined) throw new Error(`wrong type for value; expected time.Duration; got ${goTypeName(d)}`);
      return goTime(self(t).ms + Number(ns / 1_000_000n), self(t).zone);
    },
  },
  Before: { minArgs: 1, maxArgs: 1, call: (t, [u]) => self(t).ms < timeArg(u).ms },
  After: { minArgs: 1, maxArgs: 1, call: (t, [u]) => self(t).ms > timeArg(u).ms },
  Equal: { minArgs: 1, maxArgs: 1, call: (t, [u]) => self(t).ms === timeArg(u).ms },
};

/** Go's time.Time. */
export const TIME_TYPE: GoType = {
  name: 'time.Time',
  string: (t) => formatTime(self(t), TIME_STRING_LAYOUT),
  methods: methods(TIME_METHODS),
};

/** A time.Time at epoch ms `ms` in `zone` (`UTC`, `Local` or an IANA name). */
export function goTime(ms: number, zone = 'UTC'): TValue {
  return opaque(TIME_TYPE, { ms, zone } satisfies TimeState);
}

/** Seconds as a float, for humanizeDuration given a Duration. */
export function durationSeconds(v: TValue): number | undefined {
  const ns = asDurationNs(v);
  return ns === undefined ? undefined : Number(ns) / 1e9;
}
