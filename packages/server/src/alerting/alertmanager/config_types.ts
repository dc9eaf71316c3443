/** The parsed shape of `alertmanager.yml`: what the router, notifier and API read. */
import { ConfigError } from '../../core/config_error.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { HttpClientConfig } from '../../core/httpclient/config.js';
import type { TimeInterval } from './timeinterval.js';
import type { NotificationTemplates } from './receivers/templates.js';

/** A mistake in the Alertmanager configuration: a {@link ConfigError} that says which loader found it. */
export class AlertmanagerConfigError extends ConfigError {}

/** `global:` with Alertmanager's defaults. */
export interface AmGlobal {
  resolveTimeoutMs: number;
  smtpFrom: string;
  smtpHello: string;
  smtpSmarthost: string;
  smtpAuthUsername: string;
  smtpAuthPassword: string;
  smtpAuthIdentity: string;
  smtpRequireTls: boolean;
  slackApiUrl: string;
  pagerdutyUrl: string;
  /** `http_config`: what HTTP integrations without their own `http_config` use. */
  httpConfig: HttpClientConfig;
}

/** A node of the routing tree, with inherited values resolved. */
export interface Route {
  receiver: string;
  /** Label names to group by; ignored when {@link Route.groupByAll}. */
  groupBy: string[];
  /** `group_by: ['...']`: every label. */
  groupByAll: boolean;
  matchers: Matcher[];
  continue: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  routes: Route[];
  /** Alertmanager's route key (parent key + matchers), the prefix of group keys. */
  key: string;
  /** Unique id: key plus position among siblings. */
  id: string;
}

/** Common to every integration. */
export interface IntegrationBase {
  sendResolved: boolean;
  /** Request timeout in ms. */
  timeoutMs: number;
}

/**
 * An integration that sends over HTTP. Its `http_config` replaces the global one as a whole, as in
 * Alertmanager (`config.go`: `if wh.HTTPConfig == nil { wh.HTTPConfig = c.Global.HTTPConfig }`).
 */
export interface HttpIntegrationBase extends IntegrationBase {
  httpConfig: HttpClientConfig;
}

/** `webhook_configs` entry. */
export interface WebhookConfig extends HttpIntegrationBase {
  type: 'webhook';
  url: string;
  /** 0: no limit. */
  maxAlerts: number;
}
/** A Slack attachment field; title and value are templates. */
export interface SlackField {
  title: string;
  value: string;
  /** Unset: the config's `short_fields`. */
  short: boolean | undefined;
}
/** `slack_configs` entry. Text fields are templates; empty ones render Vigil's named defaults. */
export interface SlackConfig extends HttpIntegrationBase {
  type: 'slack';
  apiUrl: string;
  channel: string;
  username: string;
  title: string;
  titleLink: string;
  pretext: string;
  text: string;
  fallback: string;
  color: string;
  footer: string;
  iconEmoji: string;
  iconUrl: string;
  fields: SlackField[];
  shortFields: boolean;
}
/** `email_configs` entry. */
export interface EmailConfig extends IntegrationBase {
  type: 'email';
  to: string[];
  from: string;
  hello: string;
  smarthost: string;
  authUsername: string;
  authPassword: string;
  authIdentity: string;
  requireTls: boolean;
  headers: Record<string, string>;
  /** Custom subject; empty uses the default template. */
  subject: string;
  /** HTML and plain-text bodies (templates); empty uses the defaults. */
  html: string;
  text: string;
}
/** `pagerduty_configs` entry (Events API v2). */
export interface PagerdutyConfig extends HttpIntegrationBase {
  type: 'pagerduty';
  routingKey: string;
  url: string;
  /** Templates; empty client and client_url render the defaults. */
  client: string;
  clientUrl: string;
  /** Empty: the rendered client. */
  source: string;
  severity: string;
  description: string;
  details: Record<string, string>;
  component: string;
  group: string;
  class: string;
}
/** `discord_configs` entry. */
export interface DiscordConfig extends HttpIntegrationBase {
  type: 'discord';
  webhookUrl: string;
  title: string;
  message: string;
}
/** `msteams_configs` entry (incoming webhook MessageCard). */
export interface MsteamsConfig extends HttpIntegrationBase {
  type: 'msteams';
  webhookUrl: string;
  title: string;
  summary: string;
  text: string;
}
/**
 * `inbox_configs` entry (Vigil's own, not Alertmanager's): keeps each notification inside Vigil,
 * rendered as the page, Slack message and email it would have been.
 */
export interface InboxConfig extends IntegrationBase {
  type: 'inbox';
  /** Most items this receiver keeps; the oldest go first. */
  maxItems: number;
}
/** Any integration. */
export type IntegrationConfig = WebhookConfig | SlackConfig | EmailConfig | PagerdutyConfig | DiscordConfig | MsteamsConfig | InboxConfig;

/** Vigil's per-receiver `rate_limit` (not Alertmanager's): at most `max` notifications per `interval`. */
export interface RateLimit {
  max: number;
  intervalMs: number;
}

/** A named receiver. */
export interface Receiver {
  name: string;
  integrations: IntegrationConfig[];
  rateLimit?: RateLimit;
}

/** An inhibition rule. */
export interface InhibitRule {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

/** The validated configuration. */
export interface AlertmanagerConfig {
  global: AmGlobal;
  route: Route;
  receivers: Receiver[];
  inhibitRules: InhibitRule[];
  timeIntervals: Map<string, TimeInterval[]>;
  /** Template file globs, relative to the configuration file's directory. */
  templates: string[];
  /** Vigil's default notification templates with the template files loaded over them. */
  notificationTemplates: NotificationTemplates;
  /** The text it was parsed from (served by /api/v2/status). */
  original: string;
  /** Accepted but unsupported fields, e.g. integrations Vigil does not implement. */
  warnings: string[];
}
