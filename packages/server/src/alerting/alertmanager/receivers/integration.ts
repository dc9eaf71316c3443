/** What a receiver integration is to the pipeline, and the helpers they share: rendering fields and POSTing JSON with the integration's `http_config`. */
import type { TemplateData } from '../template.js';
import { HttpClient, HttpRequestError, type HttpResponse } from '../../../core/httpclient/client.js';
import type { HttpClientConfig } from '../../../core/httpclient/config.js';
import { NotificationTemplates, type RenderFailureSink } from './templates.js';
import { VigilError } from '../../../core/errors.js';
import { SECRET_PLACEHOLDER } from '../../../core/config_secrets.js';

/** What integrations are built with. */
export interface IntegrationDeps {
  readonly now: () => number;
  /** The configuration's template set; default: Vigil's built-in templates only. */
  readonly templates?: NotificationTemplates;
  /** Hears fields that failed to render (they were sent with their default text). */
  readonly onRenderFailure?: RenderFailureSink;
}

/** Renders one field of a notification: the configured text, else `fallback` (see NotificationTemplates.render). */
export type RenderField = (field: string, text: string, fallback: string, opts?: { html?: boolean }) => string;

/** A field renderer for one notification of one integration. */
export function fieldRenderer(deps: IntegrationDeps, integration: string, d: TemplateData): RenderField {
  const tmpl = deps.templates ?? NotificationTemplates.builtin;
  return (field, text, fallback, opts) => tmpl.render(d, { integration, field, text, fallback, ...(opts?.html ? { html: true } : {}) }, deps.onRenderFailure);
}

/** A notification channel of a receiver (one `*_configs` entry). */
export interface Integration {
  /** `webhook`, `slack`, `email`, `pagerduty`, `discord`, `msteams`. */
  readonly type: string;
  readonly sendResolved: boolean;
  /** Sends a notification; throws {@link NotifyError}. */
  notify(d: TemplateData, signal: AbortSignal): Promise<void>;
  /** Passes an acknowledgement on, for integrations that understand one (PagerDuty). */
  acknowledge?(d: TemplateData, signal: AbortSignal): Promise<void>;
}

/** A failed send; `retry` says whether trying again may help. */
export class NotifyError extends VigilError {
  override readonly code = 'notify_failed' as const;
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super('notify_failed', message);
  }
}

/**
 * The HTTP client of an integration's `http_config`. Integrations sharing one configuration object
 * (all those inheriting the global `http_config`) share a client and its pooled connections.
 */
const clients = new WeakMap<HttpClientConfig, HttpClient>();

/** The client for `cfg`; idle connections close after 90 s, as with Go's default transport. */
export function httpClientFor(cfg: HttpClientConfig): HttpClient {
  let c = clients.get(cfg);
  if (!c) {
    c = new HttpClient(cfg, { idleTimeoutMs: 90_000 });
    clients.set(cfg, c);
  }
  return c;
}

/**
 * POSTs JSON with the integration's HTTP client (authentication, TLS, proxy of its `http_config`).
 * 5xx and 429 answers and network, TLS and secret-file errors are retryable; other non-2xx answers
 * are not, since sending the same body again will fail the same way.
 */
export async function postJson(
  client: HttpClient,
  url: string,
  body: unknown,
  timeoutMs: number,
  signal: AbortSignal,
  opts: { headers?: Record<string, string>; urlIsSecret?: boolean } = {},
): Promise<string> {
  const shown = opts.urlIsSecret ? SECRET_PLACEHOLDER : redact(url);
  let res: HttpResponse;
  try {
    res = await client.request('POST', url, {
      headers: { 'content-type': 'application/json', 'user-agent': 'Vigil-Alertmanager/0.1', ...opts.headers },
      body: JSON.stringify(body),
      signal,
      timeoutMs,
    });
  } catch (err) {
    throw new NotifyError(`POST ${shown}: ${err instanceof HttpRequestError ? err.detail : (err as Error).message}`, true);
  }
  const text = res.body.toString('utf8');
  if (res.status >= 200 && res.status < 300) return text;
  const retry = res.status >= 500 || res.status === 429;
  throw new NotifyError(`POST ${shown}: unexpected status code ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, retry);
}

/**
 * A URL that is not a secret in the configuration (PagerDuty's), without query and credentials.
 * Secret ones (`SecretURL` in Alertmanager: webhook, Slack, Discord, Teams) are never shown; this
 * also strips the path of known chat hosts in case one is configured through a plain field.
 */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return /hooks\.slack\.com|discord(app)?\.com|webhook\.office\.com/.test(u.hostname) ? `${u.origin}/<redacted>` : `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
