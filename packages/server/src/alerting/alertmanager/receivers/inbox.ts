/**
 * The inbox integration (`inbox_configs`, Vigil's own): instead of sending, it keeps the
 * notification in Vigil's {@link Inbox}, rendered as the page, the Slack message and the email it
 * would have been. Rendering reuses the real integrations' code and the configuration's templates;
 * where the same receiver has a PagerDuty, Slack or email integration, that one's fields
 * (description, title, text, subject …) are used, so the inbox shows exactly what they send.
 */
import type { EmailConfig, InboxConfig, IntegrationConfig, PagerdutyConfig, SlackConfig } from '../config.js';
import type { Inbox, InboxItem } from '../inbox.js';
import type { TemplateData } from '../template.js';
import { slackPayload } from './chat.js';
import { emailParts } from './email.js';
import { fieldRenderer, NotifyError, type Integration, type IntegrationDeps } from './integration.js';
import { pagerdutyEvent } from './pagerduty.js';

/** Rendering never reads the HTTP client settings: these configurations are never sent with. */
const NO_HTTP = undefined as never;

/** The fields Vigil's defaults render when a receiver has no integration of that kind. */
const DEFAULT_SLACK: SlackConfig = {
  type: 'slack',
  apiUrl: '',
  channel: '',
  username: '',
  title: '',
  titleLink: '',
  pretext: '',
  text: '',
  fallback: '',
  color: '',
  footer: '',
  iconEmoji: '',
  iconUrl: '',
  fields: [],
  shortFields: false,
  sendResolved: true,
  timeoutMs: 0,
  httpConfig: NO_HTTP,
};
const DEFAULT_PAGERDUTY: PagerdutyConfig = {
  type: 'pagerduty',
  routingKey: '',
  url: '',
  client: '',
  clientUrl: '',
  source: '',
  severity: '',
  description: '',
  details: {},
  component: '',
  group: '',
  class: '',
  sendResolved: true,
  timeoutMs: 0,
  httpConfig: NO_HTTP,
};

function first<T extends IntegrationConfig['type']>(siblings: readonly IntegrationConfig[], type: T): Extract<IntegrationConfig, { type: T }> | undefined {
  return siblings.find((s): s is Extract<IntegrationConfig, { type: T }> => s.type === type);
}

/** Renders a notification into an inbox item's page, Slack and email parts. */
export function renderInboxParts(d: TemplateData, siblings: readonly IntegrationConfig[], deps: IntegrationDeps): Pick<InboxItem, 'page' | 'slack' | 'email'> {
  const pdConfig = first(siblings, 'pagerduty');
  const ev = pagerdutyEvent(pdConfig ?? DEFAULT_PAGERDUTY, d, 'trigger', fieldRenderer(deps, 'pagerduty', d));
  const payload = ev['payload'] as { summary: string; severity: string; source: string; custom_details: Record<string, string> };
  const slack = first(siblings, 'slack');
  const msg = slackPayload(slack ?? DEFAULT_SLACK, fieldRenderer(deps, 'slack', d));
  const att = (msg['attachments'] as Array<Record<string, unknown>>)[0]!;
  const email: EmailConfig | undefined = first(siblings, 'email');
  const mail = emailParts(email ?? { subject: '', text: '', html: '' }, fieldRenderer(deps, 'email', d));
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    page: {
      action: d.status === 'resolved' ? ('resolve' as const) : ('trigger' as const),
      summary: payload.summary,
      severity: payload.severity,
      source: payload.source,
      details: payload.custom_details,
      clientUrl: s(ev['client_url']),
      configured: pdConfig !== undefined,
    },
    slack: {
      channel: s(msg['channel']),
      title: s(att['title']),
      titleLink: s(att['title_link']),
      text: s(att['text']),
      color: s(att['color']),
      configured: slack !== undefined,
    },
    email: { to: email?.to ?? [], subject: mail.subject, text: mail.text, configured: email !== undefined },
  };
}

/** Creates an inbox integration; `siblings` are the other integrations of its receiver. */
export function inboxIntegration(c: InboxConfig, deps: IntegrationDeps, inbox: Inbox | undefined, siblings: readonly IntegrationConfig[]): Integration {
  return {
    type: 'inbox',
    sendResolved: c.sendResolved,
    notify(d) {
      if (!inbox) return Promise.reject(new NotifyError('no inbox store configured', false));
      const parts = renderInboxParts(d, siblings, deps);
      try {
        inbox.add(
          {
            time: deps.now(),
            receiver: d.receiver,
            groupKey: d.groupKey,
            groupLabels: d.groupLabels,
            status: d.status,
            alerts: d.alerts.map((a) => ({
              status: a.status,
              fingerprint: a.fingerprint,
              labels: a.labels,
              annotations: a.annotations,
              startsAt: a.startsAtMs,
              endsAt: a.endsAtMs,
              generatorURL: a.generatorURL,
            })),
            ...parts,
          },
          c.maxItems,
        );
      } catch (err) {
        // The disk refused the write: retrying may help once space is freed.
        return Promise.reject(new NotifyError(`inbox: ${(err as Error).message}`, true));
      }
      return Promise.resolve();
    },
  };
}
