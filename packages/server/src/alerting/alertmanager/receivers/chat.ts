/**
 * Chat integrations: Slack incoming webhooks (attachment coloured by state and severity), Discord
 * webhooks (embed) and Microsoft Teams incoming webhooks (MessageCard). Every text field Alertmanager
 * templates is rendered through the notification templates.
 */
import type { DiscordConfig, MsteamsConfig, SlackConfig } from '../config.js';
import type { TemplateData } from '../template.js';
import type { HttpClientConfig } from '../../../core/httpclient/config.js';
import { fieldRenderer, httpClientFor, postJson, type Integration, type IntegrationDeps, type RenderField } from './integration.js';
import { callTemplate } from './templates.js';

/** Colour by state, then by the highest severity among firing alerts (Discord and Teams; Slack's is the `slack.default.color` template). */
export function severityColor(d: TemplateData): { slack: string; hex: string } {
  if (d.status === 'resolved') return { slack: 'good', hex: '2EB886' };
  const sev = new Set(d.alerts.filter((a) => a.status === 'firing').map((a) => (a.labels['severity'] ?? '').toLowerCase()));
  if (sev.has('critical') || sev.has('page') || sev.has('error')) return { slack: 'danger', hex: 'D00000' };
  if (sev.has('high') || sev.has('warning')) return { slack: 'warning', hex: 'F2A900' };
  return { slack: '#439FE0', hex: '439FE0' };
}

/** Cuts a text to `max` characters (runes), as Alertmanager truncates titles. */
function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/** The Slack message body. */
export function slackPayload(c: SlackConfig, render: RenderField): Record<string, unknown> {
  const field = (name: string, text: string, dflt: string): string => render(name, text, dflt ? callTemplate(`slack.default.${dflt}`) : '');
  const title = truncate(field('title', c.title, 'title'), 1024);
  const att: Record<string, unknown> = {
    title,
    title_link: field('title_link', c.titleLink, 'titlelink') || undefined,
    pretext: field('pretext', c.pretext, 'pretext') || undefined,
    text: field('text', c.text, 'text'),
    // A configured title also heads the fallback (what notifications show) unless one is configured.
    fallback: field('fallback', c.fallback || c.title, 'fallback'),
    color: field('color', c.color, 'color') || undefined,
    footer: field('footer', c.footer, 'footer'),
    mrkdwn_in: ['fallback', 'pretext', 'text'],
  };
  if (c.fields.length > 0) {
    att['fields'] = c.fields.map((f, i) => ({
      title: render(`fields.${i}.title`, f.title, ''),
      value: render(`fields.${i}.value`, f.value, ''),
      short: f.short ?? c.shortFields,
    }));
  }
  const msg: Record<string, unknown> = { attachments: [att] };
  const opt: Array<[string, string, string, string]> = [
    ['channel', 'channel', c.channel, ''],
    ['username', 'username', c.username, 'username'],
    ['icon_emoji', 'icon_emoji', c.iconEmoji, 'iconemoji'],
    ['icon_url', 'icon_url', c.iconUrl, 'iconurl'],
  ];
  for (const [key, name, text, dflt] of opt) {
    const v = field(name, text, dflt);
    if (v) msg[key] = v;
  }
  return msg;
}

/** What every chat integration is configured with. */
interface ChatConfig {
  readonly httpConfig: HttpClientConfig;
  readonly sendResolved: boolean;
  readonly timeoutMs: number;
}

/** A chat integration: one JSON POST of `payload` to `url` (a secret: it carries the token), its fields rendered for `type`. */
function chatIntegration(
  type: string,
  c: ChatConfig,
  url: string,
  deps: IntegrationDeps,
  payload: (d: TemplateData, render: RenderField) => unknown,
): Integration {
  const client = httpClientFor(c.httpConfig);
  return {
    type,
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      await postJson(client, url, payload(d, fieldRenderer(deps, type, d)), c.timeoutMs, signal, { urlIsSecret: true });
    },
  };
}

/** Creates a Slack integration. */
export function slackIntegration(c: SlackConfig, deps: IntegrationDeps): Integration {
  return chatIntegration('slack', c, c.apiUrl, deps, (_d, render) => slackPayload(c, render));
}

/** The Discord body: one embed (limits: title 256, description 4096). */
export function discordPayload(c: DiscordConfig, d: TemplateData, render: RenderField): Record<string, unknown> {
  const embed = {
    title: truncate(render('title', c.title, callTemplate('discord.default.title')), 256),
    description: truncate(render('message', c.message, callTemplate('discord.default.message')), 4096),
    color: parseInt(severityColor(d).hex, 16),
  };
  return { embeds: [embed] };
}

/** Creates a Discord integration. */
export function discordIntegration(c: DiscordConfig, deps: IntegrationDeps): Integration {
  return chatIntegration('discord', c, c.webhookUrl, deps, (d, render) => discordPayload(c, d, render));
}

/** The Teams MessageCard. */
export function msteamsPayload(c: MsteamsConfig, d: TemplateData, render: RenderField): Record<string, unknown> {
  const title = render('title', c.title, callTemplate('msteams.default.title'));
  // A configured title also serves as the summary (the notification preview) unless one is configured.
  const summary = render('summary', c.summary || c.title, callTemplate('msteams.default.summary'));
  // Teams' markdown needs a blank line for a line break.
  const text = render('text', c.text, callTemplate('msteams.default.text')).replace(/\n/g, '\n\n');
  return { '@type': 'MessageCard', '@context': 'http://schema.org/extensions', themeColor: severityColor(d).hex, title, summary, text };
}

/** Creates a Microsoft Teams integration. */
export function msteamsIntegration(c: MsteamsConfig, deps: IntegrationDeps): Integration {
  return chatIntegration('msteams', c, c.webhookUrl, deps, (d, render) => msteamsPayload(c, d, render));
}
