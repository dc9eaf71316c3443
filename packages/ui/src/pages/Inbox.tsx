/**
 * Inbox: what receivers with `inbox_configs` kept instead of sending — for each notification the
 * page (PagerDuty-style summary), the Slack message and the email, rendered by the same templates the
 * real integrations use. The demo routes every receiver here, so a new user sees what would have
 * gone out without a PagerDuty account, a Slack workspace or a mail server.
 */
import { jsonCall } from '../api.js';
import '../notifications.css';
import { FailingReceivers } from '../components/Notifications.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import { safeHref } from '../lib/escape.js';
import { age } from '../lib/time.js';
import { href, onLinkClick, setParams, useLocation } from '../router.js';

interface InboxItem {
  readonly id: string;
  readonly time: string;
  readonly receiver: string;
  readonly groupKey: string;
  readonly groupLabels: Record<string, string>;
  readonly status: 'firing' | 'resolved';
  readonly alerts: ReadonlyArray<{ status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string }>;
  readonly page: { action: string; summary: string; severity: string; source: string; details: Record<string, string>; clientUrl: string; configured: boolean };
  readonly slack: { channel: string; title: string; titleLink: string; text: string; color: string; configured: boolean };
  readonly email: { to: string[]; subject: string; text: string; configured: boolean };
}

/** Slack's named attachment colours, as the client draws them. */
/** Says when a part was rendered from Vigil's defaults because the receiver has no such integration. */
function Defaulted({ on, what }: { on: boolean; what: string }): preact.JSX.Element | null {
  return on ? null : (
    <div class="muted small">
      Vigil's default {what}: this receiver has no {what === 'page' ? 'PagerDuty' : what === 'message' ? 'Slack' : 'email'} integration.
    </div>
  );
}

const SLACK_COLORS: Record<string, string> = { danger: '#e01e5a', warning: '#ecb22e', good: '#2eb67d' };

function Item({ x }: { x: InboxItem }): preact.JSX.Element {
  const name = x.groupLabels['alertname'] ?? x.alerts[0]?.labels['alertname'] ?? 'notification';
  const firing = x.status === 'firing';
  const bar = SLACK_COLORS[x.slack.color] ?? (/^#[0-9a-f]{3,8}$/i.test(x.slack.color) ? x.slack.color : 'var(--border)');
  const link = safeHref(x.slack.titleLink, window.location.href);
  return (
    <article class={`inbox-item panel ${firing ? 'is-firing' : 'is-resolved'}`} data-alertname={name} data-status={x.status} data-receiver={x.receiver}>
      <header class="inbox-head">
        <span class={`badge ${firing ? 'level-critical' : 'level-ok'}`}>{x.status}</span> <strong>{name}</strong>{' '}
        <span class="muted">
          → {x.receiver} · {x.alerts.length} {x.alerts.length === 1 ? 'alert' : 'alerts'} ·{' '}
          <time dateTime={x.time} title={new Date(x.time).toLocaleString()}>
            {age(Date.parse(x.time), Date.now())} ago
          </time>
        </span>
      </header>
      <div class="inbox-parts">
        <section class="inbox-page" data-part="page" aria-label="Page">
          <h3>Page</h3>
          <div class="page-card">
            <div>
              <span class={`badge ${x.page.action === 'trigger' ? 'level-critical' : 'level-ok'}`}>
                {x.page.action === 'trigger' ? 'triggered' : 'resolved'}
              </span>{' '}
              <span class="muted">severity</span> {x.page.severity} <span class="muted">· source</span> {x.page.source}
            </div>
            <p class="page-summary">{x.page.summary}</p>
          </div>
          <Defaulted on={x.page.configured} what="page" />
        </section>
        <section class="inbox-slack" data-part="slack" aria-label="Slack message">
          <h3>Slack {x.slack.channel ? <span class="muted">{x.slack.channel}</span> : null}</h3>
          <div class="slack-msg" style={{ borderLeftColor: bar }}>
            <div class="slack-title">{link ? <a href={link}>{x.slack.title}</a> : x.slack.title}</div>
            <pre class="slack-text">{x.slack.text}</pre>
          </div>
          <Defaulted on={x.slack.configured} what="message" />
        </section>
        <section class="inbox-email" data-part="email" aria-label="Email">
          <h3>Email {x.email.to.length ? <span class="muted">to {x.email.to.join(', ')}</span> : null}</h3>
          <div class="email-subject">
            <span class="muted">Subject:</span> {x.email.subject}
          </div>
          <details>
            <summary>Body</summary>
            <pre class="email-body">{x.email.text}</pre>
          </details>
          <Defaulted on={x.email.configured} what="email" />
        </section>
      </div>
    </article>
  );
}

/** The inbox page. */
export function Inbox(): preact.JSX.Element {
  const { params } = useLocation();
  const receiver = params.get('receiver') ?? '';
  const st = useAsync(
    () => jsonCall<InboxItem[]>('GET', `/api/v1/alertmanager/inbox?limit=200${receiver ? `&receiver=${encodeURIComponent(receiver)}` : ''}`),
    [receiver],
    10_000,
  );
  if (st.error && !st.data) return <ErrorBox error={st.error} hint="The inbox comes from /api/v1/alertmanager/inbox; check that Vigil is running." />;
  if (!st.data) return <Loading what="Loading the inbox" />;
  const receivers = [...new Set(st.data.map((x) => x.receiver))].sort();
  return (
    <div class="inbox">
      <div class="page-head">
        <h1>Inbox</h1>
        {receiver ? (
          <span class="chip">
            receiver={receiver}{' '}
            <button class="link" aria-label="Clear filter" onClick={() => setParams((p) => p.delete('receiver'))}>
              ×
            </button>
          </span>
        ) : receivers.length > 1 ? (
          <span class="muted">
            receivers:{' '}
            {receivers.map((r) => (
              <button class="link" onClick={() => setParams((p) => p.set('receiver', r))}>
                {r}
              </button>
            ))}
          </span>
        ) : null}
      </div>
      <p class="muted">
        Notifications kept by receivers with <code>inbox_configs</code>, newest first: the page, the Slack message and the email, as their receivers render
        them. Delivery failures of the real integrations are on the{' '}
        <a href={href('/alerts#history')} onClick={onLinkClick}>
          Alerts
        </a>{' '}
        page.
      </p>
      <FailingReceivers refresh={st.data} onInbox />
      {st.data.length === 0 ? (
        <Empty title="The inbox is empty">
          Add <code>inbox_configs: [{'{}'}]</code> to a receiver in the Alertmanager configuration; its notifications appear here.
        </Empty>
      ) : (
        st.data.map((x) => <Item x={x} />)
      )}
    </div>
  );
}
