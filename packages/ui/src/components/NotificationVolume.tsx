/**
 * The notification-volume panel of the alerts statistics: how many notifications each receiver got
 * per hour over the last 24 hours (held-back ones from a `rate_limit` stacked on top) and the alert
 * names that caused the most, so the noise behind alert fatigue has names and numbers.
 */
import { jsonCall } from '../api.js';
import { useAsync } from '../hooks.js';
import { Empty, ErrorBox, Loading } from './States.js';
import '../notifications.css';

/** `/api/v1/alertmanager/stats/volume`. */
interface Volume {
  readonly from: string;
  readonly until: string;
  readonly hours: number;
  readonly total: number;
  readonly suppressed: number;
  readonly receivers: ReadonlyArray<{ receiver: string; hourly: number[]; suppressedHourly: number[]; total: number; suppressed: number }>;
  readonly topRules: ReadonlyArray<{ alertname: string; notifications: number; suppressed: number }>;
}

const BAR = 10;
const GAP = 2;
const HEIGHT = 40;

/** One receiver's hours as bars, scaled to the busiest hour of any receiver so rows compare. */
function HourBars({ sent, held, max, from }: { sent: number[]; held: number[]; max: number; from: number }): preact.JSX.Element {
  const scale = (n: number): number => (max === 0 ? 0 : Math.round((n / max) * HEIGHT));
  return (
    <svg class="volume-bars" width={sent.length * (BAR + GAP)} height={HEIGHT} role="img" aria-label="notifications per hour">
      {sent.map((s, i) => {
        const h = held[i] ?? 0;
        const hs = scale(s);
        const hh = scale(h);
        const x = i * (BAR + GAP);
        const hourStart = new Date(from + i * 3_600_000);
        return (
          <g data-hour={i} data-sent={s} data-suppressed={h}>
            <title>{`${hourStart.toLocaleString()}: ${s} sent${h ? `, ${h} suppressed` : ''}`}</title>
            <rect class="volume-sent" x={x} y={HEIGHT - hs} width={BAR} height={hs} />
            <rect class="volume-held" x={x} y={HEIGHT - hs - hh} width={BAR} height={hh} />
            {/* An empty hour still shows where it is. */}
            <rect class="volume-base" x={x} y={HEIGHT - 1} width={BAR} height={1} />
          </g>
        );
      })}
    </svg>
  );
}

/** The panel; loads its own data so the Alerts page stays as it is when the endpoint is missing. */
export function NotificationVolume(): preact.JSX.Element {
  const st = useAsync(() => jsonCall<Volume>('GET', '/api/v1/alertmanager/stats/volume'), [], 60_000);
  if (st.error) return <ErrorBox error={st.error} />;
  if (!st.data) return <Loading what="Loading notification volume" />;
  const v = st.data;
  if (v.total + v.suppressed === 0) return <Empty title={`No notifications in the last ${v.hours} hours`} />;
  const max = Math.max(1, ...v.receivers.flatMap((r) => r.hourly.map((s, i) => s + (r.suppressedHourly[i] ?? 0))));
  const from = Date.parse(v.from);
  return (
    <div class="volume" data-testid="notification-volume">
      <p class="muted small">
        {v.total} notifications sent and {v.suppressed} held back by rate limits in the last {v.hours} hours; each bar is an hour, the last one in progress
        (busiest hour: {max}).
      </p>
      <table class="data">
        <thead>
          <tr>
            <th>Receiver</th>
            <th>Per hour</th>
            <th class="num">Sent</th>
            <th class="num">Suppressed</th>
          </tr>
        </thead>
        <tbody>
          {v.receivers.map((r) => (
            <tr data-receiver={r.receiver}>
              <td>{r.receiver}</td>
              <td>
                <HourBars sent={r.hourly} held={r.suppressedHourly} max={max} from={from} />
              </td>
              <td class="num">{r.total}</td>
              <td class="num">{r.suppressed || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Noisiest rules</h3>
      <table class="data" data-testid="noisy-rules">
        <thead>
          <tr>
            <th>Alert</th>
            <th class="num">Notifications</th>
            <th class="num">Suppressed</th>
          </tr>
        </thead>
        <tbody>
          {v.topRules.map((r) => (
            <tr data-alertname={r.alertname}>
              <td>{r.alertname}</td>
              <td class="num">{r.notifications}</td>
              <td class="num">{r.suppressed || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
