/** Builds integrations from their configuration. */
import type { IntegrationConfig } from '../config.js';
import { discordIntegration, msteamsIntegration, slackIntegration } from './chat.js';
import { emailIntegration } from './email.js';
import type { Integration, IntegrationDeps } from './integration.js';
import { pagerdutyIntegration } from './pagerduty.js';
import { webhookIntegration } from './webhook.js';

export type { Integration, IntegrationDeps } from './integration.js';
export { NotifyError } from './integration.js';
export { NotificationTemplates, type RenderFailure, type RenderFailureSink } from './templates.js';

/**
 * The integration for one `*_configs` entry. `extra` gives the configuration's templates and who
 * hears render failures; without it integrations render with Vigil's built-in templates.
 */
export function createIntegration(c: IntegrationConfig, now: () => number, extra: Omit<IntegrationDeps, 'now'> = {}): Integration {
  const deps: IntegrationDeps = { ...extra, now };
  switch (c.type) {
    case 'webhook':
      return webhookIntegration(c);
    case 'slack':
      return slackIntegration(c, deps);
    case 'email':
      return emailIntegration(c, deps);
    case 'pagerduty':
      return pagerdutyIntegration(c, deps);
    case 'discord':
      return discordIntegration(c, deps);
    case 'msteams':
      return msteamsIntegration(c, deps);
  }
}
