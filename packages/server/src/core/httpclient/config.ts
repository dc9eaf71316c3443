/**
 * Prometheus' "HTTP client config" (`github.com/prometheus/common/config.HTTPClientConfig`): the
 * authentication, TLS, redirect and proxy settings shared by scrape configs and Alertmanager's
 * `http_config`. Parsing is here once; each caller supplies a {@link ConfigReader} so that type
 * errors read like the rest of its file and every error carries the caller's own path (scrape
 * errors a `scrape_configs[2].basic_auth` path, Alertmanager errors a file and line).
 */
import { redactUrlPassword } from '../config_secrets.js';

/** A path into a configuration document: mapping keys and list indexes. */
export type FieldPath = ReadonlyArray<string | number>;

/** How the caller reads values and reports mistakes; `fail` throws the caller's own error type. */
export interface ConfigReader {
  fail(path: FieldPath, detail: string): never;
  /** A mapping whose keys are all in `allowed` (null or undefined: an empty mapping). */
  mapping(path: FieldPath, v: unknown, allowed: readonly string[]): Record<string, unknown>;
  string(path: FieldPath, v: unknown): string;
  boolean(path: FieldPath, v: unknown): boolean;
  /** Resolves a file path against the configuration file's directory. */
  resolve(file: string): string;
}

/** `basic_auth`. */
export interface BasicAuth {
  readonly username: string;
  readonly password?: string;
  /** Absolute path, read on every request so rotated secrets are picked up. */
  readonly passwordFile?: string;
}

/** `authorization` (and the legacy `bearer_token` / `bearer_token_file`). */
export interface Authorization {
  /** The scheme, `Bearer` by default. */
  readonly type: string;
  readonly credentials?: string;
  /** Absolute path, read on every request. */
  readonly credentialsFile?: string;
}

/** TLS protocol versions as Node names them. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** `tls_config`. File paths are absolute. */
export interface TlsConfig {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
}

/** The validated HTTP client settings. Proxy fields are absent when no proxy is configured. */
export interface HttpClientConfig {
  readonly basicAuth?: BasicAuth;
  readonly authorization?: Authorization;
  readonly tlsConfig: TlsConfig;
  readonly followRedirects: boolean;
  /** An `http://` proxy for every request (except hosts matched by {@link HttpClientConfig.noProxy}). */
  readonly proxyUrl?: string;
  /** Go's NO_PROXY syntax: comma-separated hosts, domains (`.sub` for subdomains only), IPs, CIDRs, `*`. */
  readonly noProxy?: string;
  /** Use HTTP_PROXY, HTTPS_PROXY and NO_PROXY from the environment. */
  readonly proxyFromEnvironment?: boolean;
  /** Headers sent to the proxy with CONNECT (https targets). */
  readonly proxyConnectHeader?: Readonly<Record<string, readonly string[]>>;
}

/** Prometheus' defaults: no authentication, verified TLS, redirects followed, no proxy. */
export const DEFAULT_HTTP_CLIENT_CONFIG: HttpClientConfig = { tlsConfig: { insecureSkipVerify: false }, followRedirects: true };

/** The keys of an HTTP client config, for callers that check a mapping's keys. */
export const HTTP_CLIENT_FIELDS = [
  'basic_auth',
  'authorization',
  'bearer_token',
  'bearer_token_file',
  'oauth2',
  'tls_config',
  'follow_redirects',
  'enable_http2',
  'proxy_url',
  'no_proxy',
  'proxy_from_environment',
  'proxy_connect_header',
  'http_headers',
] as const;

function has(rec: Record<string, unknown>, k: string): boolean {
  return rec[k] !== undefined && rec[k] !== null;
}

/**
 * Validates the HTTP client fields of `c` (a mapping whose keys the caller has checked); `p` is the
 * path of that mapping. `enable_http2` is validated and ignored: Vigil speaks HTTP/1.1, which every
 * endpoint Prometheus or Alertmanager talks to accepts.
 */
export function parseHttpClientConfig(r: ConfigReader, p: FieldPath, c: Record<string, unknown>): HttpClientConfig {
  const at = (k: string): FieldPath => [...p, k];
  if (has(c, 'oauth2')) r.fail(at('oauth2'), 'oauth2 is not supported by Vigil; use authorization with a token from credentials_file');
  if (has(c, 'http_headers')) r.fail(at('http_headers'), 'http_headers is not supported by Vigil');

  const basicAuth = has(c, 'basic_auth') ? parseBasicAuth(r, at('basic_auth'), c['basic_auth']) : undefined;
  let authorization = has(c, 'authorization') ? parseAuthorization(r, at('authorization'), c['authorization']) : undefined;
  if (has(c, 'bearer_token') || has(c, 'bearer_token_file')) {
    const k = has(c, 'bearer_token') ? 'bearer_token' : 'bearer_token_file';
    if (authorization) r.fail(at(k), 'at most one of bearer_token, bearer_token_file & authorization must be configured');
    if (has(c, 'bearer_token') && has(c, 'bearer_token_file'))
      r.fail(at('bearer_token_file'), 'at most one of bearer_token & bearer_token_file must be configured');
    authorization = has(c, 'bearer_token')
      ? { type: 'Bearer', credentials: r.string(at('bearer_token'), c['bearer_token']) }
      : { type: 'Bearer', credentialsFile: r.resolve(r.string(at('bearer_token_file'), c['bearer_token_file'])) };
  }
  if (basicAuth && authorization)
    r.fail(at('authorization'), 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file & authorization must be configured');

  const tlsConfig = parseTls(r, at('tls_config'), c['tls_config']);
  const followRedirects = has(c, 'follow_redirects') ? r.boolean(at('follow_redirects'), c['follow_redirects']) : true;
  if (has(c, 'enable_http2')) r.boolean(at('enable_http2'), c['enable_http2']);
  return {
    tlsConfig,
    followRedirects,
    ...(basicAuth ? { basicAuth } : {}),
    ...(authorization ? { authorization } : {}),
    ...parseProxy(r, p, c),
  };
}

function parseBasicAuth(r: ConfigReader, p: FieldPath, raw: unknown): BasicAuth {
  const b = r.mapping(p, raw, ['username', 'password', 'password_file', 'username_file']);
  if (has(b, 'username_file')) r.fail([...p, 'username_file'], 'username_file is not supported by Vigil; use username');
  if (has(b, 'password') && has(b, 'password_file')) r.fail([...p, 'password_file'], 'at most one of basic_auth password & password_file must be configured');
  const username = has(b, 'username') ? r.string([...p, 'username'], b['username']) : '';
  if (has(b, 'password_file')) return { username, passwordFile: r.resolve(r.string([...p, 'password_file'], b['password_file'])) };
  return { username, password: has(b, 'password') ? r.string([...p, 'password'], b['password']) : '' };
}

function parseAuthorization(r: ConfigReader, p: FieldPath, raw: unknown): Authorization {
  const a = r.mapping(p, raw, ['type', 'credentials', 'credentials_file']);
  const type = has(a, 'type') ? r.string([...p, 'type'], a['type']).trim() || 'Bearer' : 'Bearer';
  if (type.toLowerCase() === 'basic') r.fail([...p, 'type'], 'authorization type cannot be set to "basic", use "basic_auth" instead');
  if (has(a, 'credentials') && has(a, 'credentials_file'))
    r.fail([...p, 'credentials_file'], 'at most one of authorization credentials & credentials_file must be configured');
  if (has(a, 'credentials_file')) return { type, credentialsFile: r.resolve(r.string([...p, 'credentials_file'], a['credentials_file'])) };
  return has(a, 'credentials') ? { type, credentials: r.string([...p, 'credentials'], a['credentials']) } : { type };
}

/** Prometheus' TLS version names. */
const TLS_VERSIONS: Readonly<Record<string, TlsVersion>> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

function parseTls(r: ConfigReader, p: FieldPath, raw: unknown): TlsConfig {
  const t = r.mapping(p, raw, ['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify', 'min_version', 'max_version', 'ca', 'cert', 'key']);
  for (const inline of ['ca', 'cert', 'key']) if (has(t, inline)) r.fail([...p, inline], `inline ${inline} is not supported by Vigil; use ${inline}_file`);
  const file = (k: string): string | undefined => (has(t, k) ? r.resolve(r.string([...p, k], t[k])) : undefined);
  const caFile = file('ca_file');
  const certFile = file('cert_file');
  const keyFile = file('key_file');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    r.fail(
      [...p, certFile === undefined ? 'key_file' : 'cert_file'],
      'exactly one of key or key_file and cert or cert_file must be configured when a client certificate is used',
    );
  }
  const version = (k: string): TlsVersion | undefined => {
    if (!has(t, k)) return undefined;
    const s = r.string([...p, k], t[k]);
    const v = TLS_VERSIONS[s];
    if (v === undefined) r.fail([...p, k], `unknown TLS version: ${s}`);
    return v;
  };
  const minVersion = version('min_version');
  const maxVersion = version('max_version');
  return {
    insecureSkipVerify: has(t, 'insecure_skip_verify') ? r.boolean([...p, 'insecure_skip_verify'], t['insecure_skip_verify']) : false,
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
    ...(has(t, 'server_name') ? { serverName: r.string([...p, 'server_name'], t['server_name']) } : {}),
    ...(minVersion !== undefined ? { minVersion } : {}),
    ...(maxVersion !== undefined ? { maxVersion } : {}),
  };
}

type ProxyFields = Pick<HttpClientConfig, 'proxyUrl' | 'noProxy' | 'proxyFromEnvironment' | 'proxyConnectHeader'>;

/** The proxy settings, with the mutual exclusions Prometheus' `ProxyConfig.Validate` enforces. */
function parseProxy(r: ConfigReader, p: FieldPath, c: Record<string, unknown>): ProxyFields {
  const at = (k: string): FieldPath => [...p, k];
  const proxyUrl = has(c, 'proxy_url') ? r.string(at('proxy_url'), c['proxy_url']) : '';
  const noProxy = has(c, 'no_proxy') ? r.string(at('no_proxy'), c['no_proxy']) : '';
  const fromEnv = has(c, 'proxy_from_environment') ? r.boolean(at('proxy_from_environment'), c['proxy_from_environment']) : false;
  const connect = r.mapping(at('proxy_connect_header'), c['proxy_connect_header'], Object.keys((c['proxy_connect_header'] as object | null) ?? {}));
  const connectHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(connect)) {
    const hp = [...at('proxy_connect_header'), k];
    if (!Array.isArray(v)) r.fail(hp, 'expected a list of header values');
    connectHeaders[k] = v.map((x, i) => r.string([...hp, i], x));
  }
  const hasConnect = Object.keys(connectHeaders).length > 0;
  if (hasConnect && !fromEnv && proxyUrl === '')
    r.fail(at('proxy_connect_header'), 'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured');
  if (fromEnv && proxyUrl !== '') r.fail(at('proxy_url'), 'if proxy_from_environment is configured, proxy_url must not be configured');
  if (fromEnv && noProxy !== '') r.fail(at('no_proxy'), 'if proxy_from_environment is configured, no_proxy must not be configured');
  if (proxyUrl === '' && noProxy !== '') r.fail(at('no_proxy'), 'if no_proxy is configured, proxy_url must also be configured');
  if (proxyUrl !== '') checkProxyUrl(r, at('proxy_url'), proxyUrl);
  return {
    ...(proxyUrl !== '' ? { proxyUrl } : {}),
    ...(noProxy !== '' ? { noProxy } : {}),
    ...(fromEnv ? { proxyFromEnvironment: true } : {}),
    ...(hasConnect ? { proxyConnectHeader: connectHeaders } : {}),
  };
}

function checkProxyUrl(r: ConfigReader, p: FieldPath, s: string): void {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    // The message reaches logs and the API: a password in the text is not repeated there.
    r.fail(p, `invalid proxy URL ${JSON.stringify(redactUrlPassword(s))}`);
  }
  if (u.protocol !== 'http:')
    r.fail(p, `unsupported proxy scheme ${JSON.stringify(u.protocol.slice(0, -1))}: Vigil supports http:// proxies (https targets are tunnelled with CONNECT)`);
}

/** Every file an HTTP client config reads at request time (secrets and TLS material). */
export function httpClientFiles(c: HttpClientConfig): Array<{ what: string; file: string }> {
  const out: Array<{ what: string; file: string }> = [];
  const add = (what: string, file: string | undefined): void => void (file !== undefined && out.push({ what, file }));
  add('basic_auth password_file', c.basicAuth?.passwordFile);
  add('authorization credentials_file', c.authorization?.credentialsFile);
  add('tls_config ca_file', c.tlsConfig.caFile);
  add('tls_config cert_file', c.tlsConfig.certFile);
  add('tls_config key_file', c.tlsConfig.keyFile);
  return out;
}
