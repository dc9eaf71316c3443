/**
 * The access decision in front of every route: who is asking (auth.ts), whether the endpoint is
 * turned on (`--web.enable-lifecycle`, `--web.enable-admin-api`) and whether the asker's roles
 * allow the route (route_roles.ts). Without a web configuration nobody is asked for credentials,
 * exactly as before; the lifecycle and admin endpoints are off either way unless enabled.
 */
import type { IncomingMessage } from 'node:http';
import type { ApiResult } from './http.js';
import { grants, SESSION_COOKIE, type Authenticator, type AuthFailure, type Principal } from './auth.js';
import { featureOf, isUiPage, needOf } from './route_roles.js';

/** What the access decision depends on; replaced as a whole on reload. */
export interface AccessOptions {
  /** Set when the web configuration names users or tokens. */
  readonly auth?: Authenticator;
  readonly enableAdminApi: boolean;
  readonly enableLifecycle: boolean;
}

const REALM = 'Vigil';

function plain(status: number, body: string, headers: Record<string, string> = {}): ApiResult {
  return { kind: 'raw', status, body, contentType: 'text/plain; charset=utf-8', headers };
}

/**
 * True for a request the UI's own script made (a same-origin `fetch`, not a page load), as browsers
 * label them with the Fetch Metadata headers; API clients send none.
 */
function fromOwnScript(req: IncomingMessage | undefined): boolean {
  return req?.headers['sec-fetch-site'] === 'same-origin' && req.headers['sec-fetch-mode'] !== 'navigate';
}

/**
 * The 401 for a failure: a bearer challenge when a bearer token was refused, else basic. For the
 * UI's own calls (a session that expired) the challenge names the login form instead (the Cookie
 * scheme of draft-broyer-http-cookie-auth): a Basic challenge would make the browser open its own
 * password dialog over the page, where the UI sends the user to its login page.
 */
export function unauthorized(failure: AuthFailure, req?: IncomingMessage): ApiResult {
  const challenge =
    failure === 'bad_bearer'
      ? `Bearer realm="${REALM}", error="invalid_token"`
      : fromOwnScript(req)
        ? `Cookie realm="${REALM}", form-action="/login", cookie-name="${SESSION_COOKIE}"`
        : `Basic realm="${REALM}", charset="UTF-8"`;
  return plain(401, 'Unauthorized\n', { 'www-authenticate': challenge });
}

/** The login page's address for a page `path` (with its query), so the login comes back to it. */
export function loginLocation(pathAndQuery: string): string {
  return pathAndQuery === '/' || pathAndQuery === '/ui/' ? '/login' : `/login?next=${encodeURIComponent(pathAndQuery)}`;
}

/** Decides on each request; see the file comment. */
export class AccessControl {
  constructor(public options: AccessOptions) {}

  /** Whether requests must carry credentials. */
  get authOn(): boolean {
    return this.options.auth !== undefined;
  }

  /** Who is asking, when auth is on (undefined when off). */
  async who(req: IncomingMessage): Promise<Principal | AuthFailure | undefined> {
    return this.options.auth ? this.options.auth.authenticate(req.headers) : undefined;
  }

  /** A refusal for `method` on `route`, or undefined to go on. `pathAndQuery` is where a UI page redirect comes back to. */
  async check(req: IncomingMessage, method: string, route: string, pathAndQuery: string): Promise<ApiResult | undefined> {
    const need = needOf(method, route);
    if (need === 'open') return undefined;
    const who = await this.who(req);
    if (typeof who === 'string') {
      if (isUiPage(method, route)) return { kind: 'raw', status: 302, body: '', headers: { location: loginLocation(pathAndQuery) } };
      return unauthorized(who, req);
    }
    // Prometheus' answers for endpoints that are off, after authentication as there.
    const feature = featureOf(route);
    if (feature === 'lifecycle' && !this.options.enableLifecycle) return plain(403, 'Lifecycle API is not enabled.\n');
    if (feature === 'admin_api' && !this.options.enableAdminApi)
      return {
        kind: 'raw',
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' }),
      };
    if (who && !grants(who.roles, need))
      return plain(403, `Forbidden: ${who.name} (roles ${who.roles.join(', ')}) lacks the ${need} role for ${method} ${route}\n`);
    return undefined;
  }

  /** For a path no route matches: with auth on, a client without credentials learns nothing (401, not 404). */
  async checkUnmatched(req: IncomingMessage): Promise<ApiResult | undefined> {
    const who = await this.who(req);
    return typeof who === 'string' ? unauthorized(who, req) : undefined;
  }
}
