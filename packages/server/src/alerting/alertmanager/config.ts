/**
 * Alertmanager's configuration format (`alertmanager.yml`), parsed strictly as Alertmanager does
 * (unknown fields are errors) and validated with errors that name the file, the line and the field.
 * It can be read from its own file or from a mapping inside Vigil's configuration.
 */
import * as fs from 'node:fs';
import { readTextFile } from '../../core/util/files.js';
import { isNode, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { parseDuration } from '../../core/time/duration.js';
import { Matcher } from '../../core/model/matcher.js';
import { isValidLabelName } from '../../core/model/labels.js';
import { ConfigError } from '../../core/config_error.js';
import { SECRET_PLACEHOLDER } from '../../core/config_secrets.js';
import * as path from 'node:path';
import { formatMatchers, parseMatcher } from './types.js';
import { parseTimeInterval, type TimeInterval } from './timeinterval.js';
import { loadNotificationTemplates, NotificationTemplates, TemplateFileError } from './receivers/templates.js';
import { TemplateParseError } from '../template/index.js';
import {
  DEFAULT_HTTP_CLIENT_CONFIG,
  HTTP_CLIENT_FIELDS,
  httpClientFiles,
  parseHttpClientConfig,
  type ConfigReader,
  type HttpClientConfig,
} from '../../core/httpclient/config.js';

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

type Path = Array<string | number>;
type Rec = Record<string, unknown>;

const GLOBAL_KEYS = [
  'resolve_timeout',
  'http_config',
  'smtp_from',
  'smtp_hello',
  'smtp_smarthost',
  'smtp_auth_username',
  'smtp_auth_password',
  'smtp_auth_password_file',
  'smtp_auth_secret',
  'smtp_auth_identity',
  'smtp_require_tls',
  'slack_api_url',
  'slack_api_url_file',
  'pagerduty_url',
  'opsgenie_api_url',
  'opsgenie_api_key',
  'opsgenie_api_key_file',
  'wechat_api_url',
  'wechat_api_secret',
  'wechat_api_corp_id',
  'victorops_api_url',
  'victorops_api_key',
  'victorops_api_key_file',
  'telegram_api_url',
  'webex_api_url',
];
const ROUTE_KEYS = [
  'receiver',
  'group_by',
  'continue',
  'matchers',
  'match',
  'match_re',
  'group_wait',
  'group_interval',
  'repeat_interval',
  'mute_time_intervals',
  'active_time_intervals',
  'routes',
];
/** Integrations Alertmanager has that Vigil accepts but does not send to (with a warning). */
const UNSUPPORTED = ['opsgenie_configs', 'wechat_configs', 'pushover_configs', 'victorops_configs', 'sns_configs', 'telegram_configs', 'webex_configs'];
/** `inbox_configs` is Vigil's: amtool check-config refuses it (unknown field), `vigil check config` checks it. */
const SUPPORTED = ['webhook_configs', 'slack_configs', 'email_configs', 'pagerduty_configs', 'discord_configs', 'msteams_configs', 'inbox_configs'];
/** Default `max_items` of an inbox. */
export const DEFAULT_INBOX_ITEMS = 200;
const HTTP_CONFIG = 'http_config';

class Checker {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly base: Path,
  ) {
    this.dir = path.dirname(file);
  }

  /** The configuration file's directory, against which relative file paths resolve (as Alertmanager does). */
  private readonly dir: string;

  /** Template texts seen (receiver fields), checked once the template files are loaded. */
  readonly templateFields: Array<{ path: Path; text: string }> = [];

  /** Accepted but unsupported or suspicious settings, logged when the configuration is applied. */
  readonly warnings: string[] = [];

  /** Adds a warning naming the file, line and field. */
  warn(path: Path, detail: string): void {
    this.warnings.push(`${this.file}:${this.line(path)}: ${path.join('.')}: ${detail}`);
  }

  /** This checker as the shared HTTP client config parser reads values. */
  readonly reader: ConfigReader = {
    fail: (p, detail) => this.fail([...p], detail),
    mapping: (p, v, allowed) => this.map([...p], v, allowed),
    string: (p, v) => this.str([...p], v),
    boolean: (p, v) => this.bool([...p], v, false),
    resolve: (f) => path.resolve(this.dir, f),
  };

  /** The line of the node at `path`, or of its nearest parent that exists. */
  line(path: Path): number {
    const full = [...this.base, ...path];
    let node = this.doc.getIn(full, true);
    for (let p = full; !isNode(node) && p.length > 0; p = p.slice(0, -1)) node = this.doc.getIn(p.slice(0, -1), true);
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    return this.lines.linePos(offset).line;
  }

  fail(path: Path, detail: string): never {
    throw new AlertmanagerConfigError(this.file, this.line(path), path.join('.'), detail);
  }

  /** A string that is a notification template. */
  tmpl(path: Path, v: unknown, dflt = ''): string {
    const s = this.str(path, v, dflt);
    if (s.includes('{{')) this.templateFields.push({ path, text: s });
    return s;
  }

  /** A map of notification templates (PagerDuty details, email headers). */
  tmplMap(path: Path, v: unknown): Record<string, string> {
    const out = this.strMap(path, v);
    for (const [k, x] of Object.entries(out)) if (x.includes('{{')) this.templateFields.push({ path: [...path, k], text: x });
    return out;
  }

  map(path: Path, v: unknown, allowed: readonly string[]): Rec {
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'expected a mapping');
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail([...path, k], `field ${k} not found in type (expected one of ${allowed.join(', ')})`);
    return v as Rec;
  }

  list(path: Path, v: unknown): unknown[] {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, 'expected a list');
    return v;
  }

  str(path: Path, v: unknown, dflt = ''): string {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string') this.fail(path, 'expected a string');
    return v;
  }

  bool(path: Path, v: unknown, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(path, 'expected true or false');
    return v;
  }

  int(path: Path, v: unknown, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(path, 'expected a non-negative integer');
    return v;
  }

  duration(path: Path, v: unknown, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    try {
      return parseDuration(this.str(path, v));
    } catch (err) {
      this.fail(path, (err as Error).message);
    }
  }

  /** A URL field; `secret` ones (Alertmanager's SecretURL: Slack, Discord, Teams) are not quoted in errors, which reach logs. */
  url(path: Path, v: unknown, required: string, secret = false): string {
    const s = this.str(path, v);
    if (s === '') {
      if (required) this.fail(path, required);
      return s;
    }
    try {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      this.fail(path, `unsupported URL ${secret ? SECRET_PLACEHOLDER : JSON.stringify(s)}: expected http or https`);
    }
    return s;
  }

  strMap(path: Path, v: unknown): Record<string, string> {
    const rec = this.map(path, v, Object.keys((v as Rec | null) ?? {}));
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(rec)) out[k] = this.str([...path, k], x);
    return out;
  }

  matcherList(path: Path, v: unknown): Matcher[] {
    return this.list(path, v).map((m, i) => {
      try {
        return parseMatcher(this.str([...path, i], m));
      } catch (err) {
        this.fail([...path, i], (err as Error).message);
      }
    });
  }

  /** Old-style `match:` / `match_re:` maps turned into matchers. */
  legacy(path: Path, match: unknown, matchRe: unknown): Matcher[] {
    const out: Matcher[] = [];
    for (const [k, v] of Object.entries(this.strMap([...path, 'match'], match))) {
      if (!isValidLabelName(k)) this.fail([...path, 'match', k], `invalid label name ${JSON.stringify(k)}`);
      out.push(new Matcher('=', k, v));
    }
    for (const [k, v] of Object.entries(this.strMap([...path, 'match_re'], matchRe))) {
      if (!isValidLabelName(k)) this.fail([...path, 'match_re', k], `invalid label name ${JSON.stringify(k)}`);
      try {
        out.push(new Matcher('=~', k, v));
      } catch (err) {
        this.fail([...path, 'match_re', k], (err as Error).message);
      }
    }
    return out;
  }
}

const DEFAULT_GLOBAL: AmGlobal = {
  resolveTimeoutMs: 5 * 60_000,
  smtpFrom: '',
  smtpHello: 'localhost',
  smtpSmarthost: '',
  smtpAuthUsername: '',
  smtpAuthPassword: '',
  smtpAuthIdentity: '',
  smtpRequireTls: true,
  slackApiUrl: '',
  pagerdutyUrl: 'https://events.pagerduty.com/v2/enqueue',
  httpConfig: DEFAULT_HTTP_CLIENT_CONFIG,
};

/**
 * An `http_config` mapping. What Vigil does not apply is an error (oauth2, http_headers) or a
 * warning (enable_http2: true); secret and TLS files are read when sending, so a missing one is a
 * warning here and a failed (retried) send later, not a rejected configuration.
 */
function parseHttpConfig(c: Checker, p: Path, v: unknown): HttpClientConfig {
  const rec = c.map(p, v, HTTP_CLIENT_FIELDS);
  const cfg = parseHttpClientConfig(c.reader, p, rec);
  if (rec['enable_http2'] === true) c.warn([...p, 'enable_http2'], 'enable_http2 is ignored: Vigil sends notifications over HTTP/1.1');
  for (const f of httpClientFiles(cfg)) if (!fs.existsSync(f.file)) c.warn(p, `${f.what} ${f.file} does not exist: notifications will fail until it does`);
  return cfg;
}

/** An integration's own `http_config`, else the global one (a null `http_config:` counts as none, as in Go's YAML). */
function integrationHttpConfig(c: Checker, p: Path, r: Rec, g: AmGlobal): HttpClientConfig {
  return r[HTTP_CONFIG] === undefined || r[HTTP_CONFIG] === null ? g.httpConfig : parseHttpConfig(c, [...p, HTTP_CONFIG], r[HTTP_CONFIG]);
}

function parseGlobal(c: Checker, v: unknown): AmGlobal {
  const g = c.map(['global'], v, GLOBAL_KEYS);
  const p = (k: string): Path => ['global', k];
  let password = c.str(p('smtp_auth_password'), g['smtp_auth_password']);
  if (g['smtp_auth_password_file'] !== undefined) password = readSecret(c, p('smtp_auth_password_file'), g['smtp_auth_password_file']);
  let slack = c.url(p('slack_api_url'), g['slack_api_url'], '', true);
  if (g['slack_api_url_file'] !== undefined) slack = readSecret(c, p('slack_api_url_file'), g['slack_api_url_file']);
  return {
    resolveTimeoutMs: c.duration(p('resolve_timeout'), g['resolve_timeout'], DEFAULT_GLOBAL.resolveTimeoutMs),
    smtpFrom: c.str(p('smtp_from'), g['smtp_from']),
    smtpHello: c.str(p('smtp_hello'), g['smtp_hello'], 'localhost'),
    smtpSmarthost: c.str(p('smtp_smarthost'), g['smtp_smarthost']),
    smtpAuthUsername: c.str(p('smtp_auth_username'), g['smtp_auth_username']),
    smtpAuthPassword: password,
    smtpAuthIdentity: c.str(p('smtp_auth_identity'), g['smtp_auth_identity']),
    smtpRequireTls: c.bool(p('smtp_require_tls'), g['smtp_require_tls'], true),
    slackApiUrl: slack,
    pagerdutyUrl: c.url(p('pagerduty_url'), g['pagerduty_url'], '') || DEFAULT_GLOBAL.pagerdutyUrl,
    httpConfig: g[HTTP_CONFIG] === undefined || g[HTTP_CONFIG] === null ? DEFAULT_GLOBAL.httpConfig : parseHttpConfig(c, p(HTTP_CONFIG), g[HTTP_CONFIG]),
  };
}

function readSecret(c: Checker, path: Path, v: unknown): string {
  const f = c.str(path, v);
  try {
    return fs.readFileSync(f, 'utf8').trim();
  } catch (err) {
    c.fail(path, `cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

interface Inherited {
  receiver: string;
  groupBy: string[];
  groupByAll: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

function parseRoute(c: Checker, path: Path, v: unknown, parent: Inherited | undefined, parentKey: string | undefined, index: number): Route {
  const r = c.map(path, v, ROUTE_KEYS);
  const at = (k: string): Path => [...path, k];
  const matchers = [...c.legacy(path, r['match'], r['match_re']), ...c.matcherList(at('matchers'), r['matchers'])];
  let groupBy = parent?.groupBy ?? [];
  let groupByAll = parent?.groupByAll ?? false;
  if (r['group_by'] !== undefined) {
    const names = c.list(at('group_by'), r['group_by']).map((x, i) => c.str([...path, 'group_by', i], x));
    groupByAll = names.includes('...');
    if (groupByAll && names.length > 1) c.fail(at('group_by'), 'cannot have wildcard group_by (`...`) and other labels at the same time');
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (n !== '...' && !isValidLabelName(n)) c.fail([...path, 'group_by', i], `invalid label name ${JSON.stringify(n)} in group_by list`);
      if (seen.has(n)) c.fail([...path, 'group_by', i], `duplicated label ${JSON.stringify(n)} in group_by`);
      seen.add(n);
    });
    groupBy = groupByAll ? [] : names;
  }
  const receiver = c.str(at('receiver'), r['receiver']) || parent?.receiver || '';
  const ownKey = formatMatchers(matchers);
  const key = parentKey === undefined ? ownKey : `${parentKey}/${ownKey}`;
  const inherited: Inherited = {
    receiver,
    groupBy,
    groupByAll,
    groupWaitMs: c.duration(at('group_wait'), r['group_wait'], parent?.groupWaitMs ?? 30_000),
    groupIntervalMs: c.duration(at('group_interval'), r['group_interval'], parent?.groupIntervalMs ?? 5 * 60_000),
    repeatIntervalMs: c.duration(at('repeat_interval'), r['repeat_interval'], parent?.repeatIntervalMs ?? 4 * 3600_000),
  };
  if (inherited.groupIntervalMs === 0) c.fail(at('group_interval'), 'group_interval cannot be zero');
  if (inherited.repeatIntervalMs === 0) c.fail(at('repeat_interval'), 'repeat_interval cannot be zero');
  const names = (k: string): string[] => c.list(at(k), r[k]).map((x, i) => c.str([...path, k, i], x));
  const route: Route = {
    ...inherited,
    matchers,
    continue: c.bool(at('continue'), r['continue'], false),
    muteTimeIntervals: names('mute_time_intervals'),
    activeTimeIntervals: names('active_time_intervals'),
    routes: [],
    key,
    id: parentKey === undefined ? key : `${key}/${index}`,
  };
  route.routes = c.list(at('routes'), r['routes']).map((child, i) => parseRoute(c, [...path, 'routes', i], child, inherited, key, i));
  return route;
}

function parseIntegration(c: Checker, kind: string, path: Path, v: unknown, g: AmGlobal): IntegrationConfig {
  const at = (k: string): Path => [...path, k];
  const common = ['send_resolved', HTTP_CONFIG];
  const http = (r: Rec): { httpConfig: HttpClientConfig } => ({ httpConfig: integrationHttpConfig(c, path, r, g) });
  switch (kind) {
    case 'webhook_configs': {
      const r = c.map(path, v, [...common, 'url', 'url_file', 'max_alerts', 'timeout']);
      const url =
        r['url_file'] !== undefined ? readSecret(c, at('url_file'), r['url_file']) : c.url(at('url'), r['url'], 'one of url or url_file must be configured');
      return {
        type: 'webhook',
        url,
        maxAlerts: c.int(at('max_alerts'), r['max_alerts'], 0),
        sendResolved: c.bool(at('send_resolved'), r['send_resolved'], true),
        timeoutMs: c.duration(at('timeout'), r['timeout'], 10_000),
        ...http(r),
      };
    }
    case 'slack_configs': {
      const r = c.map(path, v, [
        ...common,
        'api_url',
        'api_url_file',
        'channel',
        'username',
        'color',
        'title',
        'title_link',
        'pretext',
        'text',
        'fields',
        'short_fields',
        'footer',
        'fallback',
        'callback_id',
        'icon_emoji',
        'icon_url',
        'image_url',
        'thumb_url',
        'link_names',
        'mrkdwn_in',
        'actions',
      ]);
      let apiUrl = c.url(at('api_url'), r['api_url'], '', true);
      if (r['api_url_file'] !== undefined) apiUrl = readSecret(c, at('api_url_file'), r['api_url_file']);
      apiUrl ||= g.slackApiUrl;
      if (!apiUrl) c.fail(path, 'no global Slack API URL set either inline or in a file');
      const t = (k: string): string => c.tmpl(at(k), r[k]);
      const fields = c.list(at('fields'), r['fields']).map((f, i) => {
        const fp: Path = [...path, 'fields', i];
        const fr = c.map(fp, f, ['title', 'value', 'short']);
        const title = c.tmpl([...fp, 'title'], fr['title']);
        const value = c.tmpl([...fp, 'value'], fr['value']);
        if (!title) c.fail(fp, 'missing title in Slack field configuration');
        if (!value) c.fail(fp, 'missing value in Slack field configuration');
        return { title, value, short: fr['short'] === undefined ? undefined : c.bool([...fp, 'short'], fr['short'], false) };
      });
      return {
        type: 'slack',
        apiUrl,
        channel: t('channel'),
        username: t('username'),
        title: t('title'),
        titleLink: t('title_link'),
        pretext: t('pretext'),
        text: t('text'),
        fallback: t('fallback'),
        color: t('color'),
        footer: t('footer'),
        iconEmoji: t('icon_emoji'),
        iconUrl: t('icon_url'),
        fields,
        shortFields: c.bool(at('short_fields'), r['short_fields'], false),
        sendResolved: c.bool(at('send_resolved'), r['send_resolved'], false),
        timeoutMs: 10_000,
        ...http(r),
      };
    }
    case 'email_configs': {
      // Alertmanager's email_configs have no http_config (SMTP has its own tls_config).
      const r = c.map(path, v, [
        'send_resolved',
        'to',
        'from',
        'hello',
        'smarthost',
        'auth_username',
        'auth_password',
        'auth_password_file',
        'auth_secret',
        'auth_identity',
        'headers',
        'html',
        'text',
        'require_tls',
        'tls_config',
      ]);
      const to = c.str(at('to'), r['to']);
      if (!to) c.fail(path, 'missing to address in email config');
      const headers = c.tmplMap(at('headers'), r['headers']);
      const from = c.str(at('from'), r['from']) || g.smtpFrom;
      if (!from) c.fail(path, 'no global SMTP from set');
      const smarthost = c.str(at('smarthost'), r['smarthost']) || g.smtpSmarthost;
      if (!smarthost) c.fail(path, 'no global SMTP smarthost set');
      if (!/^.+:\d+$/.test(smarthost)) c.fail(at('smarthost'), `address ${smarthost}: missing port in address`);
      const subject = Object.entries(headers).find(([k]) => k.toLowerCase() === 'subject')?.[1] ?? '';
      return {
        type: 'email',
        to: to
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        from,
        smarthost,
        hello: c.str(at('hello'), r['hello']) || g.smtpHello,
        authUsername: c.str(at('auth_username'), r['auth_username']) || g.smtpAuthUsername,
        authPassword:
          r['auth_password_file'] !== undefined
            ? readSecret(c, at('auth_password_file'), r['auth_password_file'])
            : c.str(at('auth_password'), r['auth_password']) || g.smtpAuthPassword,
        authIdentity: c.str(at('auth_identity'), r['auth_identity']) || g.smtpAuthIdentity,
        requireTls: c.bool(at('require_tls'), r['require_tls'], g.smtpRequireTls),
        headers,
        subject,
        html: c.tmpl(at('html'), r['html']),
        text: c.tmpl(at('text'), r['text']),
        sendResolved: c.bool(at('send_resolved'), r['send_resolved'], false),
        timeoutMs: 30_000,
      };
    }
    case 'pagerduty_configs': {
      const r = c.map(path, v, [
        ...common,
        'routing_key',
        'routing_key_file',
        'service_key',
        'service_key_file',
        'url',
        'client',
        'client_url',
        'description',
        'details',
        'images',
        'links',
        'source',
        'severity',
        'class',
        'component',
        'group',
      ]);
      let key = c.str(at('routing_key'), r['routing_key']);
      if (r['routing_key_file'] !== undefined) key = readSecret(c, at('routing_key_file'), r['routing_key_file']);
      if (!key && (r['service_key'] !== undefined || r['service_key_file'] !== undefined))
        c.fail(at('service_key'), 'service_key (Events API v1) is not supported by Vigil; use routing_key (Events API v2)');
      if (!key) c.fail(path, 'missing service or routing key in PagerDuty config');
      return {
        type: 'pagerduty',
        routingKey: key,
        url: c.url(at('url'), r['url'], '') || g.pagerdutyUrl,
        client: c.tmpl(at('client'), r['client']),
        clientUrl: c.tmpl(at('client_url'), r['client_url']),
        source: c.tmpl(at('source'), r['source']),
        severity: c.tmpl(at('severity'), r['severity']),
        description: c.tmpl(at('description'), r['description']),
        details: c.tmplMap(at('details'), r['details']),
        component: c.tmpl(at('component'), r['component']),
        group: c.tmpl(at('group'), r['group']),
        class: c.tmpl(at('class'), r['class']),
        sendResolved: c.bool(at('send_resolved'), r['send_resolved'], true),
        timeoutMs: 10_000,
        ...http(r),
      };
    }
    case 'discord_configs': {
      const r = c.map(path, v, [...common, 'webhook_url', 'webhook_url_file', 'title', 'message']);
      const webhookUrl =
        r['webhook_url_file'] !== undefined
          ? readSecret(c, at('webhook_url_file'), r['webhook_url_file'])
          : c.url(at('webhook_url'), r['webhook_url'], 'one of webhook_url or webhook_url_file must be configured', true);
      return {
        type: 'discord',
        webhookUrl,
        title: c.tmpl(at('title'), r['title']),
        message: c.tmpl(at('message'), r['message']),
        sendResolved: c.bool(at('send_resolved'), r['send_resolved'], true),
        timeoutMs: 10_000,
        ...http(r),
      };
    }
    case 'inbox_configs': {
      const r = c.map(path, v, ['send_resolved', 'max_items']);
      const maxItems = c.int(at('max_items'), r['max_items'], DEFAULT_INBOX_ITEMS);
      if (maxItems < 1) c.fail(at('max_items'), 'max_items must be at least 1');
      return { type: 'inbox', maxItems, sendResolved: c.bool(at('send_resolved'), r['send_resolved'], true), timeoutMs: 0 };
    }
    default: {
      const r = c.map(path, v, [...common, 'webhook_url', 'webhook_url_file', 'title', 'summary', 'text']);
      const webhookUrl =
        r['webhook_url_file'] !== undefined
          ? readSecret(c, at('webhook_url_file'), r['webhook_url_file'])
          : c.url(at('webhook_url'), r['webhook_url'], 'one of webhook_url or webhook_url_file must be configured', true);
      return {
        type: 'msteams',
        webhookUrl,
        title: c.tmpl(at('title'), r['title']),
        summary: c.tmpl(at('summary'), r['summary']),
        text: c.tmpl(at('text'), r['text']),
        sendResolved: c.bool(at('send_resolved'), r['send_resolved'], true),
        timeoutMs: 10_000,
        ...http(r),
      };
    }
  }
}

/** A receiver's `rate_limit: { max: N, interval: 1h }`; both fields required, neither zero. */
function parseRateLimit(c: Checker, path: Path, v: unknown): RateLimit | undefined {
  if (v === undefined || v === null) return undefined;
  const r = c.map(path, v, ['max', 'interval']);
  if (r['max'] === undefined) c.fail(path, 'rate_limit needs max (notifications per interval)');
  if (r['interval'] === undefined) c.fail(path, 'rate_limit needs interval (e.g. 1h)');
  const max = c.int([...path, 'max'], r['max'], 0);
  if (max < 1) c.fail([...path, 'max'], 'rate_limit max must be at least 1');
  const intervalMs = c.duration([...path, 'interval'], r['interval'], 0);
  if (intervalMs < 1000) c.fail([...path, 'interval'], 'rate_limit interval must be at least 1s');
  return { max, intervalMs };
}

function checkRouteRefs(c: Checker, route: Route, path: Path, receivers: Set<string>, intervals: Map<string, TimeInterval[]>): void {
  if (!receivers.has(route.receiver)) c.fail([...path, 'receiver'], `undefined receiver ${JSON.stringify(route.receiver)} used in route`);
  for (const k of ['mute_time_intervals', 'active_time_intervals'] as const) {
    const list = k === 'mute_time_intervals' ? route.muteTimeIntervals : route.activeTimeIntervals;
    list.forEach((n, i) => {
      if (!intervals.has(n)) c.fail([...path, k, i], `undefined time interval ${JSON.stringify(n)} used in route`);
    });
  }
  route.routes.forEach((r, i) => checkRouteRefs(c, r, [...path, 'routes', i], receivers, intervals));
}

/** Parses the configuration at `base` inside an already parsed YAML document (e.g. Vigil's `alertmanager_config:`). */
export function parseAlertmanagerConfigIn(doc: Document, lines: LineCounter, file: string, base: Path = []): AlertmanagerConfig {
  const c: Checker = new Checker(doc, lines, file, base);
  const node = base.length ? doc.getIn(base, true) : doc.contents;
  const root = c.map([], isNode(node) ? node.toJS(doc) : node, [
    'global',
    'route',
    'receivers',
    'inhibit_rules',
    'time_intervals',
    'mute_time_intervals',
    'templates',
  ]);
  const global = parseGlobal(c, root['global']);
  const warnings = c.warnings;
  const receivers = c.list(['receivers'], root['receivers']).map((rv, i): Receiver => {
    const path: Path = ['receivers', i];
    const r = c.map(path, rv, ['name', 'rate_limit', ...SUPPORTED, ...UNSUPPORTED]);
    const name = c.str([...path, 'name'], r['name']);
    if (!name) c.fail(path, 'missing name in receiver');
    const integrations: IntegrationConfig[] = [];
    for (const kind of SUPPORTED)
      c.list([...path, kind], r[kind]).forEach((x, j) => integrations.push(parseIntegration(c, kind, [...path, kind, j], x, global)));
    for (const kind of UNSUPPORTED) if (r[kind] !== undefined) warnings.push(`receiver ${name}: ${kind} is not supported by Vigil and is ignored`);
    const rateLimit = parseRateLimit(c, [...path, 'rate_limit'], r['rate_limit']);
    return rateLimit ? { name, integrations, rateLimit } : { name, integrations };
  });
  const names = new Set<string>();
  receivers.forEach((r, i) => {
    if (names.has(r.name)) c.fail(['receivers', i, 'name'], `notification config name ${JSON.stringify(r.name)} is not unique`);
    names.add(r.name);
  });
  const timeIntervals = new Map<string, TimeInterval[]>();
  for (const key of ['time_intervals', 'mute_time_intervals'] as const) {
    c.list([key], root[key]).forEach((ti, i) => {
      const t = c.map([key, i], ti, ['name', 'time_intervals']);
      const name = c.str([key, i, 'name'], t['name']);
      if (!name) c.fail([key, i], 'missing name in time interval');
      if (timeIntervals.has(name)) c.fail([key, i, 'name'], `time interval ${JSON.stringify(name)} is not unique`);
      timeIntervals.set(
        name,
        c.list([key, i, 'time_intervals'], t['time_intervals']).map((x, j) => {
          try {
            return parseTimeInterval((x ?? {}) as Rec);
          } catch (err) {
            c.fail([key, i, 'time_intervals', j], (err as Error).message);
          }
        }),
      );
    });
  }
  if (root['route'] === undefined) c.fail([], 'no routes provided');
  const route = parseRoute(c, ['route'], root['route'], undefined, undefined, 0);
  if (!route.receiver) c.fail(['route'], 'root route must specify a default receiver');
  if (route.matchers.length > 0) c.fail(['route'], 'root route must not have any matchers');
  if (route.continue) c.fail(['route', 'continue'], 'cannot have continue in root route');
  if (route.muteTimeIntervals.length > 0) c.fail(['route', 'mute_time_intervals'], 'root route must not have any mute time intervals');
  if (route.activeTimeIntervals.length > 0) c.fail(['route', 'active_time_intervals'], 'root route must not have any active time intervals');
  checkRouteRefs(c, route, ['route'], names, timeIntervals);
  const inhibitRules = c.list(['inhibit_rules'], root['inhibit_rules']).map((ir, i): InhibitRule => {
    const path: Path = ['inhibit_rules', i];
    const r = c.map(path, ir, ['source_matchers', 'target_matchers', 'equal', 'source_match', 'source_match_re', 'target_match', 'target_match_re']);
    const equal = c.list([...path, 'equal'], r['equal']).map((x, j) => c.str([...path, 'equal', j], x));
    return {
      sourceMatchers: [...c.legacy(path, r['source_match'], r['source_match_re']), ...c.matcherList([...path, 'source_matchers'], r['source_matchers'])],
      targetMatchers: [...c.legacy(path, r['target_match'], r['target_match_re']), ...c.matcherList([...path, 'target_matchers'], r['target_matchers'])],
      equal,
    };
  });
  const templates = c.list(['templates'], root['templates']).map((x, i) => c.str(['templates', i], x));
  const notificationTemplates = loadTemplates(c, templates, file, warnings);
  const original = base.length ? stringify(root) : doc.toString();
  return { global, route, receivers, inhibitRules, timeIntervals, templates, notificationTemplates, original, warnings };
}

/**
 * Loads the template files (globs relative to the configuration file's directory, as Alertmanager
 * resolves them) and checks the receivers' template fields against them. Syntax errors are
 * configuration errors naming the file and line; calls of templates nobody defines are warnings,
 * since Alertmanager finds those only when a notification renders.
 */
function loadTemplates(c: Checker, globs: string[], file: string, warnings: string[]): NotificationTemplates {
  let tmpl: NotificationTemplates;
  try {
    tmpl = loadNotificationTemplates(globs, path.dirname(file), (i, err) => c.fail(['templates', i], err.message));
  } catch (err) {
    if (err instanceof TemplateFileError) throw new AlertmanagerConfigError(err.file, err.line, '', err.detail);
    throw err;
  }
  warnings.push(...tmpl.missingInFiles());
  for (const f of c.templateFields) {
    let missing: string[];
    try {
      missing = tmpl.checkText(f.text);
    } catch (err) {
      if (err instanceof TemplateParseError) c.fail(f.path, `template: ${err.reason}${err.line > 1 ? ` (line ${err.line} of the text)` : ''}`);
      throw err;
    }
    for (const name of missing) warnings.push(`${file}:${c.line(f.path)}: ${f.path.join('.')}: template: no such template ${JSON.stringify(name)}`);
  }
  return tmpl;
}

/** Parses and validates `alertmanager.yml` text; `file` names it in errors. */
export function parseAlertmanagerConfig(text: string, file: string): AlertmanagerConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new AlertmanagerConfigError(file, lines.linePos(e.pos[0]).line, '', `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const cfg = parseAlertmanagerConfigIn(doc, lines, file);
  cfg.original = text;
  return cfg;
}

/** Reads and validates an `alertmanager.yml` file. */
export function loadAlertmanagerConfig(file: string): AlertmanagerConfig {
  return parseAlertmanagerConfig(
    readTextFile(file, (detail) => new AlertmanagerConfigError(file, 0, '', detail)),
    file,
  );
}

/** The smallest valid configuration: one receiver with no integrations. */
export function defaultAlertmanagerConfig(): AlertmanagerConfig {
  return parseAlertmanagerConfig('route:\n  receiver: default\nreceivers:\n  - name: default\n', '<default>');
}
