/**
 * The login page of the UI when authentication is on: a plain HTML form (no script at all, so the
 * Content-Security-Policy has nothing to allow) that posts the user name and password; a good pair
 * opens a server-side session and sets its id in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`
 * over TLS). `/logout` shows one button that posts to end the session. API clients keep using basic
 * auth or a bearer token; the cookie is for the browser.
 */
import type { TLSSocket } from 'node:tls';
import type { ApiRequest, ApiResult, Router } from './http.js';
import type { AccessControl } from './access.js';

/** Where a login may send the browser afterwards: a path on this server, never another site. */
export function safeNext(next: string | null): string {
  // Only URL characters: browsers drop tabs and newlines, so `/\t/evil.example` would become `//evil.example`.
  if (!next || !/^\/[\w.~!$&'()*+,;=:@%/?#-]*$/.test(next) || next.startsWith('//')) return '/ui/';
  return next;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The frame both pages share: a titled document around one form posting to `action`. */
function htmlPage(title: string, action: string, form: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Vigil</title>
<link rel="stylesheet" href="/login.css">
</head>
<body>
<main>
<h1>Vigil</h1>
<form method="post" action="${action}">
${form}</form>
</main>
</body>
</html>
`;
}

/** The login page; `message` is one of ours (never client text); `next` and `user` are escaped. */
export function loginPage(next: string, message?: string, user = ''): string {
  return htmlPage(
    'Sign in',
    '/login',
    `${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>\n` : ''}<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" value="${escapeHtml(user)}" required${user ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${user ? ' autofocus' : ''}>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button>
`,
  );
}

const LOGOUT_PAGE = htmlPage('Sign out', '/logout', '<button type="submit">Sign out</button>\n');

const LOGIN_CSS = `:root{color-scheme:light dark;font-family:system-ui,sans-serif}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:Canvas;color:CanvasText}
main{width:min(22rem,90vw);padding:2rem;border:1px solid color-mix(in srgb,CanvasText 20%,transparent);border-radius:.5rem}
h1{margin:0 0 1.5rem;font-size:1.5rem;color:#2f81f7}
form{display:grid;gap:.5rem}
label{font-size:.9rem}
input{font:inherit;padding:.5rem;border:1px solid color-mix(in srgb,CanvasText 30%,transparent);border-radius:.25rem;background:Field;color:FieldText}
button{margin-top:1rem;font:inherit;padding:.6rem;border:0;border-radius:.25rem;background:#2f81f7;color:#fff;cursor:pointer}
.error{margin:0 0 .5rem;padding:.5rem;border-radius:.25rem;background:#f851491a;color:#cf222e}
`;

const HTML = 'text/html; charset=utf-8';

function page(status: number, body: string, headers: Record<string, string> = {}): ApiResult {
  // Credentials are typed here: never cached, never framed (the CSP's frame-ancestors says so too).
  return { kind: 'raw', status, body, contentType: HTML, headers: { 'cache-control': 'no-store', ...headers } };
}

function isTls(req: ApiRequest): boolean {
  return (req.raw.socket as TLSSocket).encrypted === true;
}

/** Registers `/login`, `/login.css` and `/logout`; with auth off they send the browser to the UI. */
export function registerLoginRoutes(router: Router, access: () => AccessControl): void {
  const redirect = (location: string, headers: Record<string, string> = {}): ApiResult => ({
    kind: 'raw',
    status: 303,
    body: '',
    headers: { location, 'cache-control': 'no-store', ...headers },
  });
  router.on('GET', '/login.css', () => ({
    kind: 'raw',
    status: 200,
    body: LOGIN_CSS,
    contentType: 'text/css; charset=utf-8',
    headers: { 'cache-control': 'no-cache' },
  }));
  router.on('GET', '/login', async (req) => {
    const next = safeNext(req.query.get('next'));
    const ac = access();
    if (!ac.authOn) return redirect(next);
    const who = await ac.who(req.raw);
    if (who !== undefined && typeof who !== 'string') return redirect(next);
    return page(200, loginPage(next));
  });
  router.on('POST', '/login', async (req) => {
    const next = safeNext(req.query.get('next'));
    const auth = access().options.auth;
    if (!auth) return redirect(next);
    const user = req.query.get('username') ?? '';
    const password = req.query.get('password') ?? '';
    const id = user && password ? await auth.login(user, password) : undefined;
    if (!id) return page(401, loginPage(next, 'Wrong user name or password.', user));
    return redirect(next, { 'set-cookie': auth.sessionCookie(id, isTls(req)) });
  });
  router.on('GET', '/logout', () => page(200, LOGOUT_PAGE));
  router.on('POST', '/logout', (req) => {
    const auth = access().options.auth;
    if (!auth) return redirect('/ui/');
    auth.logout(req.headers);
    return redirect('/login', { 'set-cookie': auth.sessionCookie(undefined, isTls(req)) });
  });
}

/** The pages' HTML, for the test that they carry no inline script (the CSP would block it). */
export const LOGIN_PAGES: readonly string[] = [loginPage('/ui/', 'x'), LOGOUT_PAGE];
