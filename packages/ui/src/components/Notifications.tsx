/**
 * Notification delivery on the Alerts page: the banner naming receivers whose last attempts failed
 * (since when, the last error), and the history row of one notification with its attempts inside.
 */
import { jsonCall } from '../api.js';
import '../notifications.css';
import { useAsync } from '../hooks.js';
import { href, onLinkClick } from '../router.js';
import { age } from '../lib/time.js';

/** A receiver integration's health, from `/api/v1/alertmanager/receivers`. */
export interface ReceiverHealth {
  readonly receiver: string;
  readonly integration: string;
  readonly failing: boolean;
  readonly failingSince: string | null;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly lastSuccessAt: string | null;
}

/** A notification row of the grouped history. */
export interface NotificationEvent {
  readonly time: string;
  readonly type: 'notification';
  readonly firstTime?: string;
  readonly labels?: Record<string, string>;
  readonly receiver?: string;
  readonly integration?: string;
  readonly status?: string;
  readonly alerts?: number;
  readonly state?: 'delivered' | 'failed' | 'suppressed';
  readonly attemptCount?: number;
  readonly failedCount?: number;
  readonly error?: string;
  readonly attempts?: ReadonlyArray<{ time: string; ok: boolean; error?: string }>;
  readonly warnings?: readonly string[];
}

/** The receivers whose last attempt failed, refreshed with the page; nothing when all deliver. */
export function FailingReceivers({ refresh, onInbox = false }: { refresh: unknown; onInbox?: boolean }): preact.JSX.Element | null {
  const st = useAsync(() => jsonCall<ReceiverHealth[]>('GET', '/api/v1/alertmanager/receivers'), [refresh]);
  const failing = (st.data ?? []).filter((h) => h.failing);
  if (failing.length === 0) return null;
  const now = Date.now();
  return (
    <div class="state error receiver-failing" role="alert" data-testid="failing-receivers">
      <strong>{failing.length === 1 ? 'A receiver is failing' : `${failing.length} receivers are failing`}: notifications are not reaching people.</strong>
      <ul>
        {failing.map((h) => (
          <li data-receiver={h.receiver} data-integration={h.integration}>
            <strong>
              {h.receiver} / {h.integration}
            </strong>{' '}
            failing since{' '}
            <time dateTime={h.failingSince ?? ''} title={h.failingSince ?? ''}>
              {h.failingSince ? `${age(Date.parse(h.failingSince), now)} ago` : '?'}
            </time>{' '}
            ({h.consecutiveFailures} failed {h.consecutiveFailures === 1 ? 'attempt' : 'attempts'}
            {h.lastSuccessAt ? `, last delivered ${age(Date.parse(h.lastSuccessAt), now)} ago` : ', never delivered'}):{' '}
            <code class="error-text">{h.lastError}</code>
          </li>
        ))}
      </ul>
      <div class="hint">
        {onInbox ? (
          <>
            Each attempt is in the{' '}
            <a href={href('/alerts#history')} onClick={onLinkClick}>
              history on the Alerts page
            </a>
            .
          </>
        ) : (
          <>
            The{' '}
            <a href={href('/inbox')} onClick={onLinkClick}>
              Inbox
            </a>{' '}
            shows what receivers with <code>inbox_configs</code> would have sent; the history below lists each attempt.
          </>
        )}
      </div>
    </div>
  );
}

/** One notification in the history timeline: its outcome, and its attempts when there were retries or failures. */
export function NotificationItem({ e }: { e: NotificationEvent }): preact.JSX.Element {
  const failed = e.state === 'failed';
  const n = e.attemptCount ?? 1;
  const name = e.labels?.['alertname'] ?? '';
  if (e.state === 'suppressed')
    // Held back by the receiver's rate_limit: never attempted, summarised when the window closes.
    return (
      <li class="ev ev-notification ev-suppressed" data-state="suppressed" data-receiver={e.receiver} data-integration={e.integration}>
        <time dateTime={e.time}>{new Date(e.time).toLocaleString()}</time> <strong>notification suppressed</strong> {name}{' '}
        <span class="muted">({e.status})</span> → {e.receiver}/{e.integration} <span class="muted">rate limit reached</span>
      </li>
    );
  return (
    <li class={`ev ev-notification${failed ? ' ev-failed' : ''}`} data-state={e.state} data-receiver={e.receiver} data-integration={e.integration}>
      <time dateTime={e.time}>{new Date(e.time).toLocaleString()}</time> <strong>{failed ? 'notification failed' : 'notified'}</strong> {name}{' '}
      <span class="muted">({e.status})</span> → {e.receiver}/{e.integration}
      {failed ? (
        <>
          {' '}
          after {n} {n === 1 ? 'attempt' : 'attempts'}: <code class="error-text">{e.error}</code>
        </>
      ) : n > 1 ? (
        <span class="muted">
          {' '}
          after {n} attempts ({e.failedCount} failed)
        </span>
      ) : null}
      {(e.warnings ?? []).map((w) => (
        <div class="muted small" data-testid="template-warning">
          warning: {w}
        </div>
      ))}
      {n > 1 || failed ? (
        <details class="attempts">
          <summary>
            {n} {n === 1 ? 'attempt' : 'attempts'}
            {e.firstTime ? ` since ${new Date(e.firstTime).toLocaleTimeString()}` : ''}
          </summary>
          <ol>
            {(e.attempts ?? []).map((a) => (
              <li class={a.ok ? 'ok' : 'failed'}>
                <time dateTime={a.time}>{new Date(a.time).toLocaleTimeString()}</time> {a.ok ? 'delivered' : `failed: ${a.error ?? ''}`}
              </li>
            ))}
          </ol>
          {(e.attempts?.length ?? 0) < n ? <div class="muted small">only the last {e.attempts?.length} attempts are listed</div> : null}
        </details>
      ) : null}
    </li>
  );
}
