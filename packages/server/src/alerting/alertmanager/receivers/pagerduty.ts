/**
 * PagerDuty Events API v2: trigger while firing, resolve when the group resolves, acknowledge when
 * someone acknowledges in Vigil. The dedup key is a hash of the group key, so every event of one
 * group lands on the same incident, across restarts. Description, client, client URL, source,
 * severity, class, component, group and details are templates.
 */
import { createHash } from 'node:crypto';
import type { PagerdutyConfig } from '../config.js';
import type { TemplateData } from '../template.js';
import { fieldRenderer, httpClientFor, postJson, type Integration, type IntegrationDeps, type RenderField } from './integration.js';
import { callTemplate } from './templates.js';

/** The dedup key of a group, as Alertmanager computes it (SHA-256 of the group key, hex). */
export function dedupKey(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** Details every trigger carries unless the configuration sets the same key (as in Alertmanager). */
const DEFAULT_DETAILS: Readonly<Record<string, string>> = {
  firing: '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
  num_firing: '{{ .Alerts.Firing | len }}',
  num_resolved: '{{ .Alerts.Resolved | len }}',
};

/** The Events API v2 body. */
export function pagerdutyEvent(
  c: PagerdutyConfig,
  d: TemplateData,
  action: 'trigger' | 'resolve' | 'acknowledge',
  render: RenderField,
): Record<string, unknown> {
  const ev: Record<string, unknown> = { routing_key: c.routingKey, dedup_key: dedupKey(d.groupKey), event_action: action };
  if (action !== 'trigger') return ev;
  const sevLabel = (c.severity ? render('severity', c.severity, '') : (d.commonLabels['severity'] ?? '')).toLowerCase();
  const severity = SEVERITIES.includes(sevLabel)
    ? sevLabel
    : sevLabel === 'high'
      ? 'error'
      : sevLabel === 'medium'
        ? 'warning'
        : sevLabel === 'low'
          ? 'info'
          : 'error';
  const details: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...DEFAULT_DETAILS, ...c.details })) details[k] = render(`details.${k}`, v, DEFAULT_DETAILS[k] ?? '');
  const client = render('client', c.client, callTemplate('pagerduty.default.client'));
  const payload: Record<string, unknown> = {
    summary: render('description', c.description, callTemplate('pagerduty.default.description')).slice(0, 1024),
    source: (c.source ? render('source', c.source, '') : client) || 'Vigil',
    severity,
    custom_details: details,
  };
  for (const [k, text] of [
    ['component', c.component],
    ['group', c.group],
    ['class', c.class],
  ] as const) {
    if (text) payload[k] = render(k, text, '');
  }
  ev['payload'] = payload;
  ev['client'] = client;
  const clientUrl = render('client_url', c.clientUrl, callTemplate('pagerduty.default.clientURL'));
  if (clientUrl) ev['client_url'] = clientUrl;
  return ev;
}

/** Creates a PagerDuty integration. */
export function pagerdutyIntegration(c: PagerdutyConfig, deps: IntegrationDeps): Integration {
  const client = httpClientFor(c.httpConfig);
  const send = (d: TemplateData, action: 'trigger' | 'resolve' | 'acknowledge', signal: AbortSignal): Promise<string> =>
    postJson(client, c.url, pagerdutyEvent(c, d, action, fieldRenderer(deps, 'pagerduty', d)), c.timeoutMs, signal);
  return {
    type: 'pagerduty',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      await send(d, d.status === 'resolved' ? 'resolve' : 'trigger', signal);
    },
    async acknowledge(d, signal) {
      await send(d, 'acknowledge', signal);
    },
  };
}
