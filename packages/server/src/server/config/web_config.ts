/**
 * The web configuration file (`--web.config.file`, `web.config_file:`), in the format Prometheus,
 * Alertmanager and the exporters share (exporter-toolkit's web configuration): `tls_server_config`,
 * `http_server_config` and `basic_auth_users` with bcrypt hashes. Vigil adds one section, `vigil:`,
 * for what that format has no words for: roles per user, bearer tokens with roles, and how long a
 * login session lasts. Unknown keys are errors naming the file, the line and the key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../../core/config_error.js';
import { parseDuration } from '../../core/time/duration.js';
import { readTextFile } from '../../core/util/files.js';

/** What a principal may do; `admin` may do everything, `silence` includes `read`. */
export const ROLES = ['read', 'write', 'silence', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Go's `tls.ClientAuthType` names, weakest first. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** Go's TLS version names → Node's. */
const TLS_VERSIONS: Readonly<Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/**
 * The TLS 1.2 suites Go's `tls.CipherSuites()` offers (the ones exporter-toolkit accepts), by their
 * OpenSSL names, which is what Node takes. TLS 1.3 suites are not configurable, in Go as in Node.
 */
const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
};

/** Go's curve names → OpenSSL's. */
const CURVES: Readonly<Record<string, string>> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

/** The response headers `http_server_config.headers` may set, with the values exporter-toolkit accepts (undefined: any). */
const HEADERS: Readonly<Record<string, readonly string[] | undefined>> = {
  'Content-Security-Policy': undefined,
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-Content-Type-Options': ['nosniff'],
  'X-XSS-Protection': undefined,
  'Strict-Transport-Security': undefined,
};

/** `tls_server_config`, resolved: PEM contents read, names mapped to Node's. */
export interface TlsServerConfig {
  readonly cert: string;
  readonly key: string;
  readonly clientAuthType: ClientAuthType;
  readonly clientCa?: string;
  readonly clientAllowedSans: readonly string[];
  readonly minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS ≤ 1.2; undefined: Node's defaults. */
  readonly ciphers?: string;
  readonly honorCipherOrder: boolean;
  /** OpenSSL curve list; undefined: Node's defaults. */
  readonly ecdhCurve?: string;
}

/** A bearer token: its SHA-256 (never the token itself is kept) and what it may do. */
export interface BearerToken {
  readonly name: string;
  readonly sha256: string;
  readonly roles: readonly Role[];
}

/** The parsed web configuration file. */
export interface WebAuthConfig {
  readonly file: string;
  readonly tls?: TlsServerConfig;
  /** Response headers to set (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** User → bcrypt hash. */
  readonly users: ReadonlyMap<string, string>;
  /** User → roles (a user not listed is `admin`: full access, as any basic-auth user in Prometheus). */
  readonly userRoles: ReadonlyMap<string, readonly Role[]>;
  readonly tokens: readonly BearerToken[];
  /** How long a login session lasts without use, ms. */
  readonly sessionIdleMs: number;
  /** How long a login session lasts at most, ms. */
  readonly sessionMaxMs: number;
}

/** Whether requests must carry credentials (a user or a token is configured). */
export function authRequired(c: WebAuthConfig | undefined): boolean {
  return c !== undefined && (c.users.size > 0 || c.tokens.length > 0);
}

/** Whether clients are authenticated at all: credentials, or verified client certificates. */
export function authConfigured(c: WebAuthConfig | undefined): boolean {
  return authRequired(c) || c?.tls?.clientAuthType === 'RequireAndVerifyClientCert';
}

type At = Array<string | number>;

class Reader {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly file: string,
  ) {}

  fail(at: At, detail: string): never {
    // The key's line when the path ends at a key (a value may start on the next line).
    const parent = at.length > 1 ? this.doc.getIn(at.slice(0, -1), true) : this.doc.contents;
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === at.at(-1)) : undefined;
    const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (keyRange) throw new ConfigError(this.file, this.lines.linePos(keyRange[0]).line, at.join('.'), detail);
    let node: unknown = this.doc.getIn(at, true);
    for (let p = at; !(node && typeof node === 'object' && 'range' in node) && p.length > 0; p = p.slice(0, -1)) node = this.doc.getIn(p.slice(0, -1), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    throw new ConfigError(this.file, range ? this.lines.linePos(range[0]).line : 0, at.join('.'), detail);
  }

  map(at: At, v: unknown, allowed?: readonly string[]): Record<string, unknown> {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(at, 'expected a mapping');
    const rec = v as Record<string, unknown>;
    if (allowed) for (const k of Object.keys(rec)) if (!allowed.includes(k)) this.fail([...at, k], `unknown key; expected one of ${allowed.join(', ')}`);
    return rec;
  }

  str(at: At, v: unknown): string {
    if (typeof v !== 'string' || v === '') this.fail(at, 'expected a non-empty string');
    return v;
  }

  list(at: At, v: unknown): string[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(at, 'expected a list');
    return v.map((x, i) => this.str([...at, i], x));
  }

  /** A file path relative to the web configuration file's directory, read whole. */
  readFile(at: At, v: unknown): string {
    const p = path.resolve(path.dirname(path.resolve(this.file)), this.str(at, v));
    try {
      return fs.readFileSync(p, 'utf8');
    } catch (err) {
      this.fail(at, `cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  roles(at: At, v: unknown): Role[] {
    const names = typeof v === 'string' ? [v] : this.list(at, v);
    if (names.length === 0) this.fail(at, `expected one or more roles of ${ROLES.join(', ')}`);
    for (const r of names) if (!(ROLES as readonly string[]).includes(r)) this.fail(at, `unknown role ${JSON.stringify(r)}; expected ${ROLES.join(', ')}`);
    return names as Role[];
  }
}

function parseTls(r: Reader, v: unknown): TlsServerConfig | undefined {
  const at = ['tls_server_config'];
  const t = r.map(at, v, [
    'cert',
    'key',
    'client_ca',
    'cert_file',
    'key_file',
    'client_auth_type',
    'client_ca_file',
    'client_allowed_sans',
    'min_version',
    'max_version',
    'cipher_suites',
    'prefer_server_cipher_suites',
    'curve_preferences',
  ]);
  if (Object.keys(t).length === 0) return undefined;
  const pem = (inline: string, file: string, what: string, required: boolean): string | undefined => {
    if (t[inline] !== undefined && t[file] !== undefined) r.fail([...at, inline], `give ${inline} or ${file}, not both`);
    if (t[inline] !== undefined) return r.str([...at, inline], t[inline]);
    if (t[file] !== undefined) return r.readFile([...at, file], t[file]);
    if (required) r.fail([...at, file], `missing ${what}`);
    return undefined;
  };
  const cert = pem('cert', 'cert_file', 'the server certificate (cert_file)', true)!;
  const key = pem('key', 'key_file', 'the server key (key_file)', true)!;
  const clientCa = pem('client_ca', 'client_ca_file', 'client_ca_file', false);
  const clientAuthType = (t['client_auth_type'] === undefined ? 'NoClientCert' : r.str([...at, 'client_auth_type'], t['client_auth_type'])) as ClientAuthType;
  if (!CLIENT_AUTH_TYPES.includes(clientAuthType))
    r.fail([...at, 'client_auth_type'], `invalid ClientAuth ${JSON.stringify(clientAuthType)}; expected ${CLIENT_AUTH_TYPES.join(', ')}`);
  // Verifying needs a CA to verify against; exporter-toolkit refuses the same.
  if ((clientAuthType === 'VerifyClientCertIfGiven' || clientAuthType === 'RequireAndVerifyClientCert') && !clientCa)
    r.fail([...at, 'client_ca_file'], `client_auth_type ${clientAuthType} needs client_ca_file`);
  const clientAllowedSans = r.list([...at, 'client_allowed_sans'], t['client_allowed_sans']);
  if (clientAllowedSans.length > 0 && clientAuthType !== 'RequireAnyClientCert' && clientAuthType !== 'RequireAndVerifyClientCert')
    r.fail([...at, 'client_allowed_sans'], 'needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert');
  const version = (key: string, dflt: string): TlsServerConfig['minVersion'] => {
    const name = t[key] === undefined ? dflt : r.str([...at, key], t[key]);
    const v = TLS_VERSIONS[name];
    if (!v) r.fail([...at, key], `unknown TLS version ${JSON.stringify(name)}; expected ${Object.keys(TLS_VERSIONS).join(', ')}`);
    return v;
  };
  const minVersion = version('min_version', 'TLS12');
  const maxVersion = version('max_version', 'TLS13');
  if (minVersion > maxVersion) r.fail([...at, 'min_version'], 'is above max_version');
  const suites = r.list([...at, 'cipher_suites'], t['cipher_suites']).map((s, i) => {
    const o = CIPHER_SUITES[s];
    if (!o) r.fail([...at, 'cipher_suites', i], `unknown or unsupported cipher suite ${JSON.stringify(s)} (TLS 1.3 suites are not configurable)`);
    return o;
  });
  const curves = r
    .list([...at, 'curve_preferences'], t['curve_preferences'])
    .map((c, i) => CURVES[c] ?? r.fail([...at, 'curve_preferences', i], `unknown curve ${JSON.stringify(c)}`));
  const prefer = t['prefer_server_cipher_suites'];
  if (prefer !== undefined && typeof prefer !== 'boolean') r.fail([...at, 'prefer_server_cipher_suites'], 'expected true or false');
  return {
    cert,
    key,
    clientAuthType,
    ...(clientCa ? { clientCa } : {}),
    clientAllowedSans,
    minVersion,
    maxVersion,
    ...(suites.length ? { ciphers: suites.join(':') } : {}),
    honorCipherOrder: prefer ?? true,
    ...(curves.length ? { ecdhCurve: curves.join(':') } : {}),
  };
}

function parseHeaders(r: Reader, v: unknown): Record<string, string> {
  const s = r.map(['http_server_config'], v, ['http2', 'headers']);
  if (s['http2'] !== undefined && typeof s['http2'] !== 'boolean') r.fail(['http_server_config', 'http2'], 'expected true or false');
  const out: Record<string, string> = {};
  const h = r.map(['http_server_config', 'headers'], s['headers'], Object.keys(HEADERS));
  for (const [name, value] of Object.entries(h)) {
    const at = ['http_server_config', 'headers', name];
    if (typeof value !== 'string') r.fail(at, 'expected a string');
    if (value === '') continue; // "Unset if blank"
    const allowed = HEADERS[name];
    if (allowed && !allowed.includes(value.toLowerCase())) r.fail(at, `invalid value ${JSON.stringify(value)}; expected ${allowed.join(' or ')}`);
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** The hex SHA-256 of a bearer token: tokens are compared by digest, and the file may hold only digests. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function parseVigil(r: Reader, v: unknown, users: ReadonlyMap<string, string>): Pick<WebAuthConfig, 'userRoles' | 'tokens' | 'sessionIdleMs' | 'sessionMaxMs'> {
  const at = ['vigil'];
  const x = r.map(at, v, ['user_roles', 'bearer_tokens', 'session_idle_timeout', 'session_max_age']);
  const userRoles = new Map<string, Role[]>();
  for (const [user, roles] of Object.entries(r.map([...at, 'user_roles'], x['user_roles']))) {
    if (!users.has(user)) r.fail([...at, 'user_roles', user], 'not a user in basic_auth_users');
    userRoles.set(user, r.roles([...at, 'user_roles', user], roles));
  }
  const tokens: BearerToken[] = [];
  const list = x['bearer_tokens'];
  if (list !== undefined && list !== null && !Array.isArray(list)) r.fail([...at, 'bearer_tokens'], 'expected a list');
  for (const [i, entry] of ((list as unknown[] | undefined) ?? []).entries()) {
    const tat = [...at, 'bearer_tokens', i];
    const e = r.map(tat, entry, ['name', 'token_file', 'token_sha256', 'roles']);
    const name = r.str([...tat, 'name'], e['name']);
    let sha256: string;
    if ((e['token_file'] === undefined) === (e['token_sha256'] === undefined)) r.fail(tat, 'give token_file or token_sha256 (one of them)');
    if (e['token_file'] !== undefined) {
      const token = r.readFile([...tat, 'token_file'], e['token_file']).trim();
      // A guessable token is no credential; 16 characters is the least a generated one has.
      if (token.length < 16) r.fail([...tat, 'token_file'], 'the token must be at least 16 characters');
      sha256 = tokenDigest(token);
    } else {
      sha256 = r.str([...tat, 'token_sha256'], e['token_sha256']).toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(sha256)) r.fail([...tat, 'token_sha256'], 'expected 64 hex digits (sha256sum of the token)');
    }
    tokens.push({ name, sha256, roles: r.roles([...tat, 'roles'], e['roles']) });
  }
  const dur = (key: string, dflt: number): number => {
    if (x[key] === undefined) return dflt;
    try {
      const ms = parseDuration(r.str([...at, key], x[key]));
      if (ms <= 0) throw new Error('must be above 0');
      return ms;
    } catch (err) {
      r.fail([...at, key], (err as Error).message);
    }
  };
  return { userRoles, tokens, sessionIdleMs: dur('session_idle_timeout', 3600_000), sessionMaxMs: dur('session_max_age', 12 * 3600_000) };
}

/** Parses web configuration text; `file` names it in errors and is where relative paths start. */
export function parseWebConfig(text: string, file: string): WebAuthConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ConfigError(file, lines.linePos(doc.errors[0]!.pos[0]).line, '', `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const r = new Reader(doc, lines, file);
  if (doc.contents !== null && !isMap(doc.contents)) r.fail([], 'the web configuration must be a mapping');
  const root = r.map([], doc.toJS(), ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit', 'vigil']);
  if (root['rate_limit'] !== undefined) r.fail(['rate_limit'], 'not supported by Vigil; use limits: in vigil.yml (ingestion rates) instead');
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(r.map(['basic_auth_users'], root['basic_auth_users']))) {
    const h = r.str(['basic_auth_users', user], hash);
    // bcrypt's modular crypt format: $2a$/$2b$/$2y$, a two-digit cost, 53 characters of salt and hash.
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(h)) r.fail(['basic_auth_users', user], 'expected a bcrypt hash (htpasswd -nBC 10 "" | tr -d \':\\n\')');
    users.set(user, h);
  }
  const tls = parseTls(r, root['tls_server_config']);
  return {
    file,
    ...(tls ? { tls } : {}),
    headers: parseHeaders(r, root['http_server_config']),
    users,
    ...parseVigil(r, root['vigil'], users),
  };
}

/** Reads and parses a web configuration file. */
export function loadWebConfig(file: string): WebAuthConfig {
  return parseWebConfig(
    readTextFile(file, (detail) => new ConfigError(file, 0, '', detail)),
    file,
  );
}
