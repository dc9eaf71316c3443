/**
 * Chat integrations: Slack incoming webhooks (attachment coloured by state and severity), Discord
 * webhooks (embed) and Microsoft Teams incoming webhooks (MessageCard).
 */
import type { DiscordConfig, MsteamsConfig, SlackConfig } from '../config.js';
import { defaultText, defaultTitle, renderSimple, type TemplateData } from '../template.js';
import { postJson, type Integration } from './integration.js';

/** Colour by state, then by the highest severity among firing alerts. */
export function severityColor(d: TemplateData): { slack: string; hex: string } {
  if (d.status === 'resolved') return { slack: 'good', hex: '2EB886' };
  const sev = new Set(d.alerts.filter((a) => a.status === 'firing').map((a) => (a.labels['severity'] ?? '').toLowerCase()));
  if (sev.has('critical') || sev.has('page') || sev.has('error')) return { slack: 'danger', hex: 'D00000' };
  if (sev.has('high') || sev.has('warning')) return { slack: 'warning', hex: 'F2A900' };
  return { slack: '#439FE0', hex: '439FE0' };
}

function title(custom: string, d: TemplateData): string {
  return renderSimple(custom, d) ?? defaultTitle(d);
}

function body(custom: string, d: TemplateData): string {
  return renderSimple(custom, d) ?? defaultText(d);
}

/** The Slack message body. */
export function slackPayload(c: SlackConfig, d: TemplateData): Record<string, unknown> {
  const t = title(c.title, d);
  const msg: Record<string, unknown> = {
    attachments: [{ title: t, title_link: d.externalURL || undefined, text: body(c.text, d), fallback: t, color: severityColor(d).slack, footer: 'Vigil', mrkdwn_in: ['fallback', 'pretext', 'text'] }],
  };
  if (c.channel) msg['channel'] = c.channel;
  if (c.username) msg['username'] = c.username;
  if (c.iconEmoji) msg['icon_emoji'] = c.iconEmoji;
  return msg;
}

/** Creates a Slack integration. */
export function slackIntegration(c: SlackConfig): Integration {
  return {
    type: 'slack',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      await postJson(c.apiUrl, slackPayload(c, d), c.timeoutMs, signal);
    },
  };
}

/** Creates a Discord integration (embed limits: title 256, description 4096). */
export function discordIntegration(c: DiscordConfig): Integration {
  return {
    type: 'discord',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      const embed = { title: title(c.title, d).slice(0, 256), description: body(c.message, d).slice(0, 4096), color: parseInt(severityColor(d).hex, 16) };
      await postJson(c.webhookUrl, { embeds: [embed] }, c.timeoutMs, signal);
    },
  };
}

/** Creates a Microsoft Teams integration. */
export function msteamsIntegration(c: MsteamsConfig): Integration {
  return {
    type: 'msteams',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      const t = title(c.title, d);
      const card = { '@type': 'MessageCard', '@context': 'http://schema.org/extensions', themeColor: severityColor(d).hex, title: t, summary: t, text: body(c.text, d).replace(/\n/g, '\n\n') };
      await postJson(c.webhookUrl, card, c.timeoutMs, signal);
    },
  };
}
