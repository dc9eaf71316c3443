/** The receivers' integrations (`webhook_configs`, `slack_configs`, …): each one's fields, defaults and checks. */
import type { HttpClientConfig } from '../../core/httpclient/config.js';
import { Checker, HTTP_CONFIG, integrationHttpConfig, readSecret, type Path, type Rec } from './config_checker.js';
import type { AmGlobal, IntegrationConfig, RateLimit } from './config_types.js';

/** Default `max_items` of an inbox. */
export const DEFAULT_INBOX_ITEMS = 200;

export function parseIntegration(c: Checker, kind: string, path: Path, v: unknown, g: AmGlobal): IntegrationConfig {
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
export function parseRateLimit(c: Checker, path: Path, v: unknown): RateLimit | undefined {
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
