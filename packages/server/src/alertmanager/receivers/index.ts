/** Builds integrations from their configuration. */
import type { IntegrationConfig } from '../config.js';
import { discordIntegration, msteamsIntegration, slackIntegration } from './chat.js';
import { emailIntegration } from './email.js';
import type { Integration } from './integration.js';
import { pagerdutyIntegration } from './pagerduty.js';
import { webhookIntegration } from './webhook.js';

export type { Integration } from './integration.js';
export { NotifyError } from './integration.js';

/** The integration for one `*_configs` entry. */
export function createIntegration(c: IntegrationConfig, now: () => number): Integration {
  switch (c.type) {
    case 'webhook':
      return webhookIntegration(c);
    case 'slack':
      return slackIntegration(c);
    case 'email':
      return emailIntegration(c, now);
    case 'pagerduty':
      return pagerdutyIntegration(c);
    case 'discord':
      return discordIntegration(c);
    case 'msteams':
      return msteamsIntegration(c);
  }
}
