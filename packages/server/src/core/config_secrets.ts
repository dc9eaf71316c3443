/**
 * Hides secrets in configuration before it leaves the process (status endpoints, `amtool config
 * show`, logs), the way Prometheus and Alertmanager marshal their `Secret` and `SecretURL` fields:
 * the value becomes `<secret>`, and the password in a `proxy_url` becomes `xxxxx`. `*_file` fields are
 * paths, shown as they are; the files' contents are never read into the output.
 */
import { parseDocument, stringify } from 'yaml';

/** What Prometheus and Alertmanager print in place of a secret. */
export const SECRET_PLACEHOLDER = '<secret>';

/**
 * Fields that are secret wherever they appear: Prometheus' common HTTP client config (`password`
 * of basic_auth, `credentials` of authorization, `bearer_token`, oauth2 `client_secret`,
 * `proxy_connect_header`) and the `Secret`/`SecretURL` fields of Alertmanager's config.go and
 * notifiers.go (global and per integration).
 */
const ALWAYS_SECRET = new Set([
  'password',
  'credentials',
  'bearer_token',
  'client_secret',
  'proxy_connect_header',
  'smtp_auth_password',
  'smtp_auth_secret',
  'auth_password',
  'auth_secret',
  'slack_api_url',
  'opsgenie_api_key',
  'victorops_api_key',
  'wechat_api_secret',
  'telegram_bot_token',
  'rocketchat_token',
  'rocketchat_token_id',
  'routing_key',
  'service_key',
  'api_key',
  'api_secret',
  'bot_token',
  'user_key',
  'token_id',
  'secret_key',
  'webhook_url',
]);

/**
 * Fields secret only inside one kind of mapping: Slack's `api_url` is a `SecretURL` while Webex's
 * and Jira's are not, and `key` is the private key only in `tls_config`. A webhook's `url` is shown:
 * it is a plain URL in Alertmanager 0.25, the version Vigil's API reports, and amtool 0.25 cannot
 * read `url: <secret>` back (`amtool config routes` loads the configuration from /api/v2/status).
 */
const SECRET_IN: Readonly<Record<string, readonly string[]>> = {
  api_url: ['slack_configs'],
  token: ['pushover_configs', 'rocketchat_configs'],
  key: ['tls_config'],
};

/**
 * Fields holding a URL whose password is hidden but the rest shown, as Prometheus' `config.URL`
 * marshals (Go's `url.URL.Redacted`): `http://user:xxxxx@proxy:3128`.
 */
const URL_WITH_PASSWORD = new Set(['proxy_url']);

/** What Go's `url.Redacted` puts in place of a password. */
export const REDACTED_PASSWORD = 'xxxxx';

/**
 * The URL with the password of its user info replaced by {@link REDACTED_PASSWORD}, the rest as
 * written (no normalization, so the value still reads like the file). Text that does not parse as
 * `scheme://authority…` but has an `@` is hidden whole: it may be a mistyped URL with a password.
 */
export function redactUrlPassword(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s.exec(url);
  if (!m) return url.includes('@') ? SECRET_PLACEHOLDER : url;
  const authority = m[2]!;
  // The user info ends at the last `@` of the authority: an unescaped `@` in a password stays in it.
  const at = authority.lastIndexOf('@');
  if (at < 0) return url;
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${m[1]!}${userinfo.slice(0, colon)}:${REDACTED_PASSWORD}@${authority.slice(at + 1)}${m[3]!}`;
}

function isSecret(key: string, parent: string | undefined): boolean {
  if (ALWAYS_SECRET.has(key)) return true;
  const within = SECRET_IN[key];
  return within !== undefined && parent !== undefined && within.includes(parent);
}

/** The value with every leaf replaced, keeping its shape (`proxy_connect_header` maps names to lists). */
function hide(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hide);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hide(v)]));
  // Empty values are shown: they tell the reader that nothing is set, which is no secret.
  return value === null || value === undefined || value === '' ? value : SECRET_PLACEHOLDER;
}

/** A copy of parsed configuration (YAML as plain values) with every secret field's value replaced. */
export function redactSecrets(value: unknown, parent?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, parent));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecret(k, parent) ? hide(v) : URL_WITH_PASSWORD.has(k) && typeof v === 'string' ? redactUrlPassword(v) : redactSecrets(v, k);
  }
  return out;
}

/** Configuration YAML text with its secrets replaced, re-serialized (comments do not survive). */
export function redactYaml(text: string): string {
  const doc = parseDocument(text);
  // Parser messages quote the offending text, which may be the secret itself.
  if (doc.errors.length > 0) return '# not shown: the configuration is not valid YAML\n';
  return stringify(redactSecrets(doc.toJS()));
}
