/**
 * Wall-clock parts of an instant in an IANA time zone, from the platform's time zone database via
 * Intl. Alertmanager's time intervals and the Go-style template time formatting both need them; one
 * formatter per zone is cached because building one costs far more than using it.
 */

/** The calendar and clock reading of an instant in a zone. */
export interface WallClock {
  /** Astronomical year numbering: 1 BC is 0, as Go's time package counts. */
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formats.set(zone, f);
  }
  return f;
}

/** Whether the platform's time zone database knows `zone` (an IANA name such as Europe/Berlin). */
export function isKnownZone(zone: string): boolean {
  try {
    formatFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** The process's own zone (it honours TZ), which Go and Alertmanager call `Local`; UTC when the platform names none. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The wall clock at `ms` in `zone`; throws RangeError for a zone the platform does not know. */
export function wallClock(ms: number, zone: string): WallClock {
  const p: Record<string, string> = {};
  for (const x of formatFor(zone).formatToParts(new Date(ms))) p[x.type] = x.value;
  let year = Number(p['year']);
  if (p['era'] === 'BC' || p['era'] === 'B') year = 1 - year;
  return {
    year,
    month: Number(p['month']),
    day: Number(p['day']),
    hour: Number(p['hour']),
    minute: Number(p['minute']),
    second: Number(p['second']),
    weekday: WEEKDAYS.indexOf(String(p['weekday'])),
  };
}
