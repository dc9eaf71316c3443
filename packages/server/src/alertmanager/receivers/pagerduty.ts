/**
 * PagerDuty Events API v2: trigger while firing, resolve when the group resolves, acknowledge when
 * someone acknowledges in Vigil. The dedup key is a hash of the group key, so every event of one
 * group lands on the same incident, across restarts.
 */
import { createHash } from 'node:crypto';
import type { PagerdutyConfig } from '../config.js';
import { defaultText, defaultTitle, renderSimple, type TemplateData } from '../template.js';
import { postJson, type Integration } from './integration.js';

/** The dedup key of a group, as Alertmanager computes it (SHA-256 of the group key, hex). */
export function dedupKey(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** The Events API v2 body. */
export function pagerdutyEvent(c: PagerdutyConfig, d: TemplateData, action: 'trigger' | 'resolve' | 'acknowledge'): Record<string, unknown> {
  const ev: Record<string, unknown> = { routing_key: c.routingKey, dedup_key: dedupKey(d.groupKey), event_action: action };
  if (action !== 'trigger') return ev;
  const sevLabel = (renderSimple(c.severity, d) ?? d.commonLabels['severity'] ?? '').toLowerCase();
  const severity = SEVERITIES.includes(sevLabel) ? sevLabel : sevLabel === 'high' ? 'error' : sevLabel === 'medium' ? 'warning' : sevLabel === 'low' ? 'info' : 'error';
  const details: Record<string, string> = { firing: defaultText(d), num_firing: String(d.alerts.filter((a) => a.status === 'firing').length), num_resolved: String(d.alerts.filter((a) => a.status === 'resolved').length) };
  for (const [k, v] of Object.entries(c.details)) details[k] = renderSimple(v, d) ?? v;
  const payload: Record<string, unknown> = {
    summary: (renderSimple(c.description, d) ?? defaultTitle(d)).slice(0, 1024),
    source: c.client || 'Vigil',
    severity,
    custom_details: details,
  };
  if (c.component) payload['component'] = renderSimple(c.component, d) ?? c.component;
  if (c.group) payload['group'] = renderSimple(c.group, d) ?? c.group;
  if (c.class) payload['class'] = renderSimple(c.class, d) ?? c.class;
  ev['payload'] = payload;
  ev['client'] = c.client;
  if (c.clientUrl || d.externalURL) ev['client_url'] = c.clientUrl || d.externalURL;
  return ev;
}

/** Creates a PagerDuty integration. */
export function pagerdutyIntegration(c: PagerdutyConfig): Integration {
  return {
    type: 'pagerduty',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      await postJson(c.url, pagerdutyEvent(c, d, d.status === 'resolved' ? 'resolve' : 'trigger'), c.timeoutMs, signal);
    },
    async acknowledge(d, signal) {
      await postJson(c.url, pagerdutyEvent(c, d, 'acknowledge'), c.timeoutMs, signal);
    },
  };
}
