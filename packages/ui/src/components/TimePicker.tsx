/** The time range picker: relative ranges, or absolute from/to, plus step and auto-refresh. */
import type { TimeRange } from '../lib/time.js';

/** Relative ranges offered. */
export const RANGES = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '24h', '2d', '7d'];
/** Auto-refresh intervals offered (empty: off). */
export const REFRESH = ['', '5s', '10s', '30s', '1m', '5m'];

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** Props of {@link TimePicker}. */
export interface TimePickerProps {
  readonly range: TimeRange;
  readonly onRange: (r: TimeRange) => void;
  readonly refresh?: string;
  readonly onRefresh?: (r: string) => void;
}

/** A compact range picker. */
export function TimePicker({ range, onRange, refresh, onRefresh }: TimePickerProps): preact.JSX.Element {
  const now = Date.now();
  const abs = range.kind === 'absolute' ? range : { from: now - 3_600_000, to: now };
  return (
    <div class="timepicker">
      <label>
        Range{' '}
        <select
          aria-label="Time range"
          value={range.kind === 'relative' ? range.range : 'absolute'}
          onChange={(e) => {
            const v = e.currentTarget.value;
            onRange(v === 'absolute' ? { kind: 'absolute', from: abs.from, to: abs.to } : { kind: 'relative', range: v });
          }}
        >
          {RANGES.map((r) => (
            <option value={r}>Last {r}</option>
          ))}
          <option value="absolute">Absolute…</option>
        </select>
      </label>
      {range.kind === 'absolute' ? (
        <>
          <label>
            From{' '}
            <input
              type="datetime-local"
              aria-label="From"
              value={toLocalInput(range.from)}
              onChange={(e) => onRange({ ...range, from: new Date(e.currentTarget.value).getTime() })}
            />
          </label>
          <label>
            To{' '}
            <input
              type="datetime-local"
              aria-label="To"
              value={toLocalInput(range.to)}
              onChange={(e) => onRange({ ...range, to: new Date(e.currentTarget.value).getTime() })}
            />
          </label>
        </>
      ) : null}
      {onRefresh ? (
        <label>
          Refresh{' '}
          <select aria-label="Auto-refresh" value={refresh ?? ''} onChange={(e) => onRefresh(e.currentTarget.value)}>
            {REFRESH.map((r) => (
              <option value={r}>{r || 'Off'}</option>
            ))}
          </select>
        </label>
      ) : null}
    </div>
  );
}
