/** Builds integrations from their configuration. */
import type { IntegrationConfig } from '../config.js';
import { discordIntegration, msteamsIntegration, slackIntegration } from './chat.js';
import { emailIntegration } from './email.js';
import type { Integration, IntegrationDeps } from './integration.js';
import { pagerdutyIntegration } from './pagerduty.js';
import { inboxIntegration } from './inbox.js';
import type { Inbox } from '../inbox.js';
import { webhookIntegration } from './webhook.js';

export type { Integration, IntegrationDeps } from './integration.js';
export { NotifyError } from './integration.js';
export { NotificationTemplates, type RenderFailure, type RenderFailureSink } from './templates.js';

/**
 * The integration for one `*_configs` entry. `extra` gives the configuration's templates and who
 * hears render failures (without it integrations render with Vigil's built-in templates), the inbox
 * store, and the receiver's other integrations, whose fields the inbox renders.
 */
export function createIntegration(
  c: IntegrationConfig,
  now: () => number,
  extra: Omit<IntegrationDeps, 'now'> & { inbox?: Inbox; siblings?: readonly IntegrationConfig[] } = {},
): Integration {
  const { inbox, siblings, ...rest } = extra;
  const deps: IntegrationDeps = { ...rest, now };
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
    case 'inbox':
      return inboxIntegration(c, deps, inbox, siblings ?? []);
  }
}
