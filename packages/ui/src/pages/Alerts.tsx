/**
 * Alerts: firing alerts grouped as routed (and pending ones from the rules), with labels,
 * annotations and runbook links; acknowledge, resolve and silence from the page; the silences and
 * their editor; the history timeline; and each receiver's notification success.
 */
import { useState } from 'preact/hooks';
import { jsonCall, promGet, uiSettings, type AmAlert, type AmGroup, type Silence } from '../api.js';
import { FailingReceivers, NotificationItem, type NotificationEvent } from '../components/Notifications.js';
import { NotificationVolume } from '../components/NotificationVolume.js';
import { SlowTraces } from '../components/SlowTraces.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import { labelMatcher, safeHref } from '../lib/escape.js';
import { formatSample, unitOf } from '../lib/format.js';
import { dashboardTarget, exploreTarget } from '../lib/links.js';
import { alertLevel } from '../lib/overview.js';
import { age } from '../lib/time.js';
import { alertTracesHref } from '../lib/traces.js';
import { exploreHref, href, onLinkClick, setParams, useLocation } from '../router.js';

interface Ack {
  readonly by: string;
  readonly at: string;
  readonly comment: string;
}

interface PendingAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: string;
  readonly activeAt: string;
  /** Go's `%e` as Prometheus' API writes it ("3.3912e+00"): never shown as it is. */
  readonly value: string;
  /** The rule's expression, whose metric names give the value's unit. */
  readonly query?: string;
}

/** A rule alert's value for people: its unit from the rule's `unit` annotation or label, else from its metric names. */
function ruleValue(a: PendingAlert): string {
  return formatSample(a.value, unitOf(a.query, a.annotations['unit'] ?? a.labels['unit']));
}

/** The rule alert behind a routed alert: same name, and every label of the rule's alert on the routed one. */
function ruleAlertOf(a: AmAlert, ruleAlerts: readonly PendingAlert[]): PendingAlert | undefined {
  return ruleAlerts.find((r) => r.labels['alertname'] === a.labels['alertname'] && Object.entries(r.labels).every(([k, v]) => a.labels[k] === v));
}

interface HistoryEvent {
  readonly time: string;
  readonly type: string;
  readonly fingerprint?: string;
  readonly labels?: Record<string, string>;
  readonly receiver?: string;
  readonly integration?: string;
  readonly success?: boolean;
  readonly error?: string;
  readonly by?: string;
  readonly comment?: string;
  /** Escalations and de-escalations of a tiered alert. */
  readonly severity?: string;
  readonly previousSeverity?: string;
}

interface Stats {
  readonly notifications: Array<{ receiver: string; integration: string; attempts?: number; succeeded?: number; failed?: number; successRate: number | null }>;
  readonly meanTimeToAcknowledgeSeconds: number | null;
  readonly meanTimeToResolveSeconds: number | null;
}

function user(): string {
  return localStorage.getItem('vigil.user') || 'ui';
}

/** The query for an alert's graph: the rule's expression from its generator URL, else its service's latency. */
export function alertExpr(a: { labels: Record<string, string>; generatorURL?: string | undefined }): string {
  try {
    if (a.generatorURL) {
      const u = new URL(a.generatorURL, window.location.origin);
      const e = u.searchParams.get('g0.expr') ?? u.searchParams.get('expr');
      if (e) return e;
    }
  } catch {
    /* not a URL: fall through */
  }
  if (a.labels['service'])
    return `sum by (status_code) (rate(http_server_request_duration_seconds_count{${labelMatcher('service', a.labels['service'])}}[1m]))`;
  if (a.labels['job']) return `up{${labelMatcher('job', a.labels['job'])}}`;
  return `ALERTS{${labelMatcher('alertname', a.labels['alertname'] ?? '')}}`;
}

function Labels({ labels, skip = [] }: { labels: Record<string, string>; skip?: string[] }): preact.JSX.Element {
  return (
    <span class="labels">
      {Object.entries(labels)
        .filter(([k]) => !skip.includes(k))
        .map(([k, v]) => (
          <span class="chip">
            {k}={v}
          </span>
        ))}
    </span>
  );
}

function AlertItem({
  a,
  ack,
  value,
  activeAt,
  onChange,
  onSilence,
}: {
  a: AmAlert;
  ack: Ack | undefined;
  /** The current value from the rule that fires it, formatted; undefined for alerts posted by clients. */
  value: string | undefined;
  /** When the rule's alert became active (pending), epoch ms; undefined for alerts posted by clients. */
  activeAt: number | undefined;
  onChange: () => void;
  onSilence: (a: AmAlert) => void;
}): preact.JSX.Element {
  const [err, setErr] = useState<unknown>();
  const act = async (path: 'acknowledge' | 'resolve'): Promise<void> => {
    setErr(undefined);
    try {
      await jsonCall('POST', `/api/v1/alertmanager/${path}`, { fingerprint: a.fingerprint, by: user(), comment: `from the Vigil UI` });
      onChange();
    } catch (e) {
      setErr(e);
    }
  };
  const start = Date.parse(a.startsAt);
  const lvl = alertLevel(a);
  const svc = a.labels['service'] ?? a.labels['job'] ?? '';
  // A log alert's own link (its query's lines, narrowed by its labels) beats the service's whole log.
  const logsLink =
    safeHref(a.annotations['logs_url'], window.location.href) ??
    (svc
      ? href(
          `/logs?${new URLSearchParams({ query: `{${labelMatcher('service', svc)}}`, from: new Date(start - 5 * 60_000).toISOString(), to: new Date(start + 15 * 60_000).toISOString() }).toString()}`,
        )
      : undefined);
  const runbook = safeHref(a.annotations['runbook_url'], window.location.href);
  const settings = useAsync(() => uiSettings(), []);
  // A link to one of Vigil's dashboards opens it here, over the alert's time range; others open a new tab.
  const linkCtx = { location: window.location.href, externalUrl: settings.data?.externalUrl ?? undefined, startsAt: start, now: Date.now() };
  const inApp = dashboardTarget(a.annotations['dashboard_url'], linkCtx);
  const dashboard = inApp ?? safeHref(a.annotations['dashboard_url'], window.location.href);
  // A rule's graph_url (e.g. the latency that the alert's cause shows up in, with its exemplars) is
  // the first graph to look at; the rule's own expression stays one click away as "Query".
  const graphInApp = exploreTarget(a.annotations['graph_url'], linkCtx);
  const graphOut = graphInApp ? undefined : safeHref(a.annotations['graph_url'], window.location.href);
  const queryGraph = exploreHref(alertExpr(a), '3h');
  const silenced = a.status.silencedBy.length > 0;
  return (
    <li class={`alert level-${lvl}`} data-fingerprint={a.fingerprint} data-alertname={a.labels['alertname']}>
      <div class="alert-head">
        <span class={`badge level-${lvl}`}>{silenced ? 'silenced' : a.status.state === 'suppressed' ? 'suppressed' : 'firing'}</span>
        <strong>{a.labels['alertname']}</strong>
        <span class="muted" title={a.startsAt}>
          for {age(start, Date.now())}
        </span>
        {value !== undefined ? (
          <span class="muted" data-testid="alert-value">
            value <strong class="value">{value}</strong>
          </span>
        ) : null}
        {ack ? (
          <span class="badge level-ok" data-testid="acked">
            acknowledged by {ack.by} {age(Date.parse(ack.at), Date.now())} ago
          </span>
        ) : null}
      </div>
      {a.annotations['summary'] ? <div>{a.annotations['summary']}</div> : null}
      {a.annotations['description'] ? <div class="muted">{a.annotations['description']}</div> : null}
      <Labels labels={a.labels} skip={['alertname']} />
      <div class="actions">
        {!ack ? (
          <button onClick={() => void act('acknowledge')} data-action="ack">
            Acknowledge
          </button>
        ) : null}
        <button onClick={() => void act('resolve')} data-action="resolve">
          Resolve
        </button>
        <button onClick={() => onSilence(a)} data-action="silence">
          Silence…
        </button>
        {graphInApp ? (
          <a href={graphInApp} onClick={onLinkClick} data-link="graph" title="The graph this alert's rule links to (graph_url)">
            Graph
          </a>
        ) : graphOut ? (
          <a href={graphOut} target="_blank" rel="noopener noreferrer" data-link="graph">
            Graph ↗
          </a>
        ) : (
          <a href={queryGraph} onClick={onLinkClick} data-link="graph" title="The rule's expression">
            Graph
          </a>
        )}
        {graphInApp || graphOut ? (
          <a href={queryGraph} onClick={onLinkClick} data-link="query" title="The rule's expression">
            Query
          </a>
        ) : null}
        {logsLink ? (
          <a href={logsLink} onClick={onLinkClick}>
            Logs
          </a>
        ) : null}
        {svc ? (
          <a
            href={alertTracesHref(svc, start, a.status.state === 'active' ? undefined : Date.parse(a.endsAt), Date.now())}
            onClick={onLinkClick}
            data-link="traces"
          >
            Slowest traces
          </a>
        ) : null}
        <a href={href(`/alerts?fp=${a.fingerprint}#history`)} onClick={onLinkClick}>
          History
        </a>
        {runbook ? (
          <a href={runbook} target="_blank" rel="noopener noreferrer">
            Runbook ↗
          </a>
        ) : null}
        {inApp ? (
          <a href={inApp} onClick={onLinkClick} data-link="dashboard">
            Dashboard
          </a>
        ) : dashboard ? (
          <a href={dashboard} target="_blank" rel="noopener noreferrer" data-link="dashboard">
            Dashboard ↗
          </a>
        ) : null}
      </div>
      {svc && a.status.state === 'active' ? <SlowTraces service={svc} activeAt={activeAt ?? start} /> : null}
      {err ? <ErrorBox error={err} /> : null}
    </li>
  );
}

type Matcher = { name: string; value: string; isRegex: boolean; isEqual: boolean };

function SilenceEditor({ initial, onDone }: { initial: Matcher[]; onDone: () => void }): preact.JSX.Element {
  const [matchers, setMatchers] = useState<Matcher[]>(initial.length ? initial : [{ name: 'alertname', value: '', isRegex: false, isEqual: true }]);
  const [hours, setHours] = useState('2');
  const [comment, setComment] = useState('');
  const [err, setErr] = useState<unknown>();
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    setErr(undefined);
    const now = Date.now();
    try {
      await jsonCall('POST', '/api/v2/silences', {
        matchers: matchers.filter((m) => m.name),
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + Number(hours) * 3_600_000).toISOString(),
        createdBy: user(),
        comment: comment || 'silenced from the Vigil UI',
      });
      onDone();
    } catch (x) {
      setErr(x);
    }
  };
  const set = (i: number, patch: Partial<Matcher>): void => setMatchers(matchers.map((m, j) => (j === i ? { ...m, ...patch } : m)));
  return (
    <form class="silence-editor panel" onSubmit={(e) => void save(e)} aria-label="New silence">
      <h3>New silence</h3>
      {matchers.map((m, i) => (
        <div class="matcher">
          <input aria-label="Label name" value={m.name} onInput={(e) => set(i, { name: e.currentTarget.value })} />
          <select
            aria-label="Operator"
            value={`${m.isEqual ? '=' : '!'}${m.isRegex ? '~' : '='}`}
            onChange={(e) => set(i, { isEqual: e.currentTarget.value.startsWith('='), isRegex: e.currentTarget.value.endsWith('~') })}
          >
            {['==', '!=', '=~', '!~'].map((o) => (
              <option value={o}>{o === '==' ? '=' : o}</option>
            ))}
          </select>
          <input aria-label="Label value" value={m.value} onInput={(e) => set(i, { value: e.currentTarget.value })} />
          <button type="button" aria-label="Remove matcher" onClick={() => setMatchers(matchers.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => setMatchers([...matchers, { name: '', value: '', isRegex: false, isEqual: true }])}>
        + matcher
      </button>
      <label>
        Duration (hours) <input class="short" type="number" min="0.25" step="0.25" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
      </label>
      <label>
        Comment <input value={comment} onInput={(e) => setComment(e.currentTarget.value)} placeholder="why, and who is on it" />
      </label>
      <div class="actions">
        <button class="primary" type="submit">
          Create silence
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      {err ? <ErrorBox error={err} /> : null}
    </form>
  );
}

/** The alerts page. */
export function Alerts(): preact.JSX.Element {
  const { params } = useLocation();
  const filter = params.get('filter') ?? '';
  const fp = params.get('fp') ?? '';
  const [editing, setEditing] = useState<Matcher[] | undefined>();
  const st = useAsync(
    async () => {
      const [groups, acks, silences, stats, pending] = await Promise.all([
        jsonCall<AmGroup[]>('GET', '/api/v2/alerts/groups'),
        jsonCall<Array<{ fingerprint: string; acknowledgement: Ack | null }>>('GET', '/api/v1/alertmanager/alerts').catch(() => []),
        jsonCall<Silence[]>('GET', '/api/v2/silences').catch(() => []),
        jsonCall<Stats>('GET', '/api/v1/alertmanager/stats').catch(() => undefined),
        // The rules' own view adds pending alerts and every alert's value; servers without rules answer 404.
        promGet<{ groups: Array<{ rules: Array<{ type: string; query: string; alerts?: PendingAlert[] }> }> }>('/api/v1/rules', { type: 'alert' }).then(
          (r) => r.groups.flatMap((g) => g.rules.flatMap((rule) => (rule.alerts ?? []).map((a) => ({ ...a, query: rule.query })))),
          () => [] as PendingAlert[],
        ),
      ]);
      const ackBy = new Map(acks.filter((a) => a.acknowledgement).map((a) => [a.fingerprint, a.acknowledgement!]));
      return { groups, ackBy, silences, stats, ruleAlerts: pending, pending: pending.filter((a) => a.state === 'pending') };
    },
    [],
    10_000,
  );
  const history = useAsync(() => jsonCall<HistoryEvent[]>('GET', `/api/v1/alertmanager/history?limit=100${fp ? `&fingerprint=${fp}` : ''}`), [fp, st.data], 0);

  if (st.error && !st.data) return <ErrorBox error={st.error} hint="The alerts come from Alertmanager's API at /api/v2; check that Vigil is running." />;
  if (!st.data) return <Loading what="Loading alerts" />;
  const { groups, ackBy, silences, stats, pending, ruleAlerts } = st.data;
  const [fk, fv] = filter.split('=');
  const match = (l: Record<string, string>): boolean => !filter || (fk !== undefined && fv !== undefined && l[fk] === fv);
  const shown = groups.map((g) => ({ ...g, alerts: g.alerts.filter((a) => match(a.labels)) })).filter((g) => g.alerts.length > 0);
  const silenceFor = (a: AmAlert): void =>
    setEditing(
      Object.entries(a.labels)
        .filter(([k]) => ['alertname', 'service', 'job', 'instance', 'pool'].includes(k))
        .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
    );
  return (
    <div class="alerts">
      <div class="page-head">
        <h1>Alerts</h1>
        {filter ? (
          <span class="chip">
            {filter}{' '}
            <button class="link" aria-label="Clear filter" onClick={() => setParams((p) => p.delete('filter'))}>
              ×
            </button>
          </span>
        ) : null}
        <button onClick={() => setEditing([])}>New silence</button>
      </div>
      <FailingReceivers refresh={st.data} />
      {editing ? (
        <SilenceEditor
          initial={editing}
          onDone={() => {
            setEditing(undefined);
            st.reload();
          }}
        />
      ) : null}
      <h2>Firing</h2>
      {shown.length === 0 ? (
        <Empty title="No alerts are firing">
          {filter ? 'Nothing matches the filter; clear it to see all alerts.' : 'Alerts from rules and from clients posting to /api/v2/alerts appear here.'}
        </Empty>
      ) : (
        shown.map((g) => (
          <section class="group panel">
            <div class="group-head">
              <Labels labels={g.labels} /> <span class="muted">→ {g.receiver.name}</span>
            </div>
            <ul class="alert-list">
              {g.alerts.map((a) => (
                <AlertItem
                  a={a}
                  ack={ackBy.get(a.fingerprint)}
                  value={((r) => (r ? ruleValue(r) : undefined))(ruleAlertOf(a, ruleAlerts))}
                  activeAt={((r) => (r && Number.isFinite(Date.parse(r.activeAt)) ? Date.parse(r.activeAt) : undefined))(ruleAlertOf(a, ruleAlerts))}
                  onChange={st.reload}
                  onSilence={silenceFor}
                />
              ))}
            </ul>
          </section>
        ))
      )}
      {pending.length > 0 ? (
        <>
          <h2>Pending</h2>
          <ul class="alert-list">
            {pending
              .filter((a) => match(a.labels))
              .map((a) => (
                <li class="alert level-warning" data-pending={a.labels['alertname']}>
                  <span class="badge level-warning">pending</span> <strong>{a.labels['alertname']}</strong>{' '}
                  <span class="muted">
                    since {age(Date.parse(a.activeAt), Date.now())}, value <strong class="value">{ruleValue(a)}</strong>
                  </span>{' '}
                  <Labels labels={a.labels} skip={['alertname']} />
                </li>
              ))}
          </ul>
        </>
      ) : null}
      <h2>Silences</h2>
      {silences.filter((s) => s.status.state !== 'expired').length === 0 ? (
        <Empty title="No active silences">Use “Silence…” on an alert, or “New silence”, to mute notifications for a while.</Empty>
      ) : (
        <table class="data">
          <thead>
            <tr>
              <th>Matchers</th>
              <th>State</th>
              <th>Ends</th>
              <th>By</th>
              <th>Comment</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {silences
              .filter((s) => s.status.state !== 'expired')
              .map((s) => (
                <tr data-silence={s.id}>
                  <td>
                    {s.matchers.map((m) => (
                      <span class="chip">
                        {m.name}
                        {m.isEqual === false ? '!' : '='}
                        {m.isRegex ? '~' : ''}
                        {m.value}
                      </span>
                    ))}
                  </td>
                  <td>{s.status.state}</td>
                  <td title={s.endsAt}>in {age(Date.now(), Date.parse(s.endsAt))}</td>
                  <td>{s.createdBy}</td>
                  <td>{s.comment}</td>
                  <td>
                    <button onClick={() => void jsonCall('DELETE', `/api/v2/silence/${s.id}`).then(st.reload, st.reload)}>Expire</button>
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      <h2>Receivers</h2>
      {!stats || stats.notifications.length === 0 ? (
        <Empty title="No notifications sent yet">Receivers appear once an alert has been routed to them.</Empty>
      ) : (
        <table class="data">
          <thead>
            <tr>
              <th>Receiver</th>
              <th>Integration</th>
              <th class="num">Attempts</th>
              <th class="num">Success</th>
            </tr>
          </thead>
          <tbody>
            {stats.notifications.map((n) => (
              <tr>
                <td>{n.receiver}</td>
                <td>{n.integration}</td>
                <td class="num">{n.attempts ?? ''}</td>
                <td class={`num ${n.successRate !== null && n.successRate < 0.95 ? 'text-critical' : ''}`}>
                  {n.successRate === null ? '–' : `${(n.successRate * 100).toFixed(1)}%`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {stats ? (
        <div class="muted small">
          Mean time to acknowledge: {stats.meanTimeToAcknowledgeSeconds === null ? '–' : `${Math.round(stats.meanTimeToAcknowledgeSeconds)} s`} · to resolve:{' '}
          {stats.meanTimeToResolveSeconds === null ? '–' : `${Math.round(stats.meanTimeToResolveSeconds)} s`}
        </div>
      ) : null}
      <h2 id="volume">Notification volume</h2>
      <NotificationVolume />
      <h2 id="history">History{fp ? ` of ${fp}` : ''}</h2>
      {fp ? (
        <button class="link" onClick={() => setParams((p) => p.delete('fp'))}>
          show all alerts
        </button>
      ) : null}
      {history.error ? <ErrorBox error={history.error} /> : null}
      {history.data && history.data.length === 0 ? <Empty title="No history yet">State changes and notification attempts are recorded here.</Empty> : null}
      <ol class="timeline">
        {(history.data ?? [])
          .slice()
          .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
          .map((e) =>
            e.type === 'notification' ? (
              <NotificationItem e={e as unknown as NotificationEvent} />
            ) : (
              <li class={`ev ev-${e.type}${e.success === false ? ' ev-failed' : ''}`}>
                <time dateTime={e.time}>{new Date(e.time).toLocaleString()}</time> <strong>{e.type.replace('_', ' ')}</strong> {e.labels?.['alertname'] ?? ''}
                {e.receiver ? ` → ${e.receiver}${e.integration ? `/${e.integration}` : ''}` : ''}
                {e.success === false ? ` failed: ${e.error ?? ''}` : ''}
                {e.by ? ` by ${e.by}` : ''}
                {e.severity ? ` ${e.previousSeverity ?? '?'} → ${e.severity}` : ''}
              </li>
            ),
          )}
      </ol>
    </div>
  );
}
