/** The webhook integration: Alertmanager's version-4 JSON payload. */
import type { WebhookConfig } from '../config.js';
import type { TemplateData } from '../template.js';
import { httpClientFor, postJson, type Integration } from './integration.js';

/** The version-4 webhook body. */
export function webhookPayload(d: TemplateData, maxAlerts: number): Record<string, unknown> {
  const alerts = maxAlerts > 0 ? d.alerts.slice(0, maxAlerts) : d.alerts;
  return {
    receiver: d.receiver,
    status: d.status,
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
    groupLabels: d.groupLabels,
    commonLabels: d.commonLabels,
    commonAnnotations: d.commonAnnotations,
    externalURL: d.externalURL,
    version: '4',
    groupKey: d.groupKey,
    truncatedAlerts: d.alerts.length - alerts.length,
  };
}

/** Creates a webhook integration. */
export function webhookIntegration(c: WebhookConfig): Integration {
  const client = httpClientFor(c.httpConfig);
  return {
    type: 'webhook',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      await postJson(client, c.url, webhookPayload(d, c.maxAlerts), c.timeoutMs, signal);
    },
  };
}
