/**
 * Who is asking: HTTP basic auth against `basic_auth_users` (bcrypt), bearer tokens (Vigil's
 * extension), and login sessions for the UI (a random id in an `HttpOnly`, `SameSite=Strict` cookie,
 * expired on the server). A verified user+password is cached, as Prometheus does, so bcrypt's cost
 * (tens of milliseconds by design) is paid once per credential rather than once per request.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import bcrypt from 'bcryptjs';
import { tokenDigest, type Role, type WebAuthConfig } from '../config/web_config.js';

/** Someone authenticated, and what they may do. */
export interface Principal {
  readonly name: string;
  readonly via: 'basic' | 'bearer' | 'session';
  readonly roles: readonly Role[];
}

/** Why a request is not authenticated: no credentials at all, or ones that did not verify. */
export type AuthFailure = 'missing' | 'bad_basic' | 'bad_bearer' | 'bad_session';

/** The name of the login session cookie. */
export const SESSION_COOKIE = 'vigil_session';

/** Whether `roles` allow an action that needs `need`: admin does all, silence includes read. */
export function grants(roles: readonly Role[], need: Role): boolean {
  return roles.some((r) => r === 'admin' || r === need || (r === 'silence' && need === 'read'));
}

// Compared against when the user does not exist, so an unknown name takes as long as a wrong password.
const DUMMY_HASH = '$2b$10$LV1BLpYc4C/Tznz4ov.zruG6Zot9BmmeFPoW3lg7f5h32fFBzgrQa';
const CACHE_SIZE = 1024;
const MAX_SESSIONS = 10_000;

interface Session {
  readonly user: string;
  readonly created: number;
  lastUsed: number;
}

/** Reads a cookie from a `Cookie` header. */
export function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of String(headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Checks credentials and keeps login sessions. */
export class Authenticator {
  /** Digests of user+password+hash that verified, oldest first (a Map keeps insertion order). */
  private readonly verified = new Map<string, true>();
  private readonly sessions = new Map<string, Session>();
  private tokens: ReadonlyMap<string, { name: string; roles: readonly Role[] }> = new Map();

  constructor(
    private config: WebAuthConfig,
    private readonly now: () => number = Date.now,
    /** Extra tokens (Vigil's self-scrape) beside the configured ones. */
    private readonly internalTokens: ReadonlyArray<{ name: string; token: string; roles: readonly Role[] }> = [],
  ) {
    this.update(config);
  }

  /**
   * Puts a reread configuration in force: the new users, hashes, roles and tokens. Sessions of users
   * who are gone end; the others keep going with their user's new roles.
   */
  update(config: WebAuthConfig): void {
    this.config = config;
    const t = new Map<string, { name: string; roles: readonly Role[] }>();
    for (const tok of config.tokens) t.set(tok.sha256, { name: tok.name, roles: tok.roles });
    for (const tok of this.internalTokens) t.set(tokenDigest(tok.token), { name: tok.name, roles: tok.roles });
    this.tokens = t;
    // Keys include the hash, so a changed password's old entry could never match; drop them anyway.
    this.verified.clear();
    for (const [id, s] of this.sessions) if (!config.users.has(s.user)) this.sessions.delete(id);
  }

  /** How many login sessions are open. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** The roles of a user (not listed in `vigil.user_roles`: admin). */
  private rolesOf(user: string): readonly Role[] {
    return this.config.userRoles.get(user) ?? ['admin'];
  }

  /** Whether `password` is `user`'s, from the cache when it verified before. */
  async checkPassword(user: string, password: string): Promise<boolean> {
    const hash = this.config.users.get(user);
    const key = createHash('sha256')
      .update(`${user}\0${password}\0${hash ?? ''}`)
      .digest('hex');
    if (hash !== undefined && this.verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
    if (!ok || hash === undefined) return false;
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, true);
    return true;
  }

  /** The principal behind a request's `Authorization` header or session cookie. */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal | AuthFailure> {
    const auth = headers.authorization;
    if (typeof auth === 'string' && auth !== '') {
      const sp = auth.indexOf(' ');
      const scheme = (sp < 0 ? auth : auth.slice(0, sp)).toLowerCase();
      const value = sp < 0 ? '' : auth.slice(sp + 1).trim();
      if (scheme === 'bearer') {
        const hit = this.tokens.get(tokenDigest(value));
        return hit ? { name: hit.name, via: 'bearer', roles: hit.roles } : 'bad_bearer';
      }
      if (scheme === 'basic') {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) return 'bad_basic';
        const user = decoded.slice(0, colon);
        return (await this.checkPassword(user, decoded.slice(colon + 1))) ? { name: user, via: 'basic', roles: this.rolesOf(user) } : 'bad_basic';
      }
      return 'bad_basic';
    }
    const id = cookieValue(headers, SESSION_COOKIE);
    if (id === undefined) return 'missing';
    const s = this.session(id);
    return s ? { name: s.user, via: 'session', roles: this.rolesOf(s.user) } : 'bad_session';
  }

  private session(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastUsed > this.config.sessionIdleMs || t - s.created > this.config.sessionMaxMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastUsed = t;
    return s;
  }

  /** Opens a session for a user whose password verifies; undefined when it does not. */
  async login(user: string, password: string): Promise<string | undefined> {
    if (!(await this.checkPassword(user, password))) return undefined;
    this.expireSessions();
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const t = this.now();
    this.sessions.set(id, { user, created: t, lastUsed: t });
    return id;
  }

  /** Ends the session a request's cookie names, if any. */
  logout(headers: IncomingHttpHeaders): void {
    const id = cookieValue(headers, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
  }

  private expireSessions(): void {
    for (const id of [...this.sessions.keys()]) this.session(id);
  }

  /** The `Set-Cookie` value for a new session (or, with no id, one that clears it). */
  sessionCookie(id: string | undefined, secure: boolean): string {
    const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
    if (id === undefined) return [`${SESSION_COOKIE}=`, 'Max-Age=0', ...attrs].join('; ');
    return [`${SESSION_COOKIE}=${id}`, `Max-Age=${Math.floor(this.config.sessionMaxMs / 1000)}`, ...attrs].join('; ');
  }
}
