/* global document, fetch, URL */
// The login page in Debian's Chromium (issue 19, item 4): with authentication on, a UI page sends
// the browser to /login; a wrong password is told; the right one sets an HttpOnly, SameSite=Strict
// session cookie and lands on the page asked for; the UI works; signing out ends the session. The
// page runs under the Content-Security-Policy without a violation. Screenshot: test-artifacts/login.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { launchChromium, noChromium } from './browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiRoot = path.resolve(here, '../..');
const repo = path.resolve(uiRoot, '../..');
const artifacts = path.join(uiRoot, 'test-artifacts');
const skip = noChromium;

const { startServer, tempDir } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));

let vigil, browser, tmp;

before(async () => {
  if (skip) return;
  tmp = tempDir('vigil-login-');
  const file = path.join(tmp.dir, 'web.yml');
  fs.writeFileSync(file, `basic_auth_users:\n  alice: ${bcrypt.hashSync('correct horse', 4)}\n`);
  vigil = await startServer((c) => {
    c.web.configFile = file;
    c.selfScrape = false;
  });
  browser = await launchChromium();
  fs.mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await vigil?.stop();
  tmp?.cleanup();
});

test('log in through the login page, use the UI, log out', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(`${vigil.url}/ui/alerts`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/ui/alerts');
  await page.screenshot({ path: path.join(artifacts, 'login.png') });

  await page.fill('#username', 'alice');
  await page.fill('#password', 'wrong');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('.error'), /Wrong user name or password/);
  assert.deepEqual(await context.cookies(), []);
  await page.screenshot({ path: path.join(artifacts, 'login-failed.png') });

  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse');
  await Promise.all([page.waitForURL(`${vigil.url}/ui/alerts`), page.click('button[type=submit]')]);
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, 'vigil_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, false, 'plain HTTP here; over TLS the cookie is Secure (tls.test.ts)');
  // Script cannot read it.
  assert.equal(await page.evaluate(() => document.cookie), '');
  // The UI renders and its API calls go through with the session.
  await page.waitForSelector('#app nav, #app header', { timeout: 15_000 });
  const status = await page.evaluate(async () => (await fetch('/api/v1/status/buildinfo')).status);
  assert.equal(status, 200);
  await page.screenshot({ path: path.join(artifacts, 'login-ui.png') });

  await page.goto(`${vigil.url}/logout`);
  await Promise.all([page.waitForURL(`${vigil.url}/login`), page.click('button[type=submit]')]);
  assert.deepEqual(await context.cookies(), []);
  await page.goto(`${vigil.url}/ui/`);
  assert.equal(new URL(page.url()).pathname, '/login', 'signed out: the UI asks for a login again');
  assert.deepEqual(violations, []);
  await context.close();
});

test('a session that expires sends the browser to the login page, and back once signed in', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  await page.goto(`${vigil.url}/login?next=${encodeURIComponent('/ui/alerts')}`);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse');
  await Promise.all([page.waitForURL(`${vigil.url}/ui/alerts`), page.click('button[type=submit]')]);
  await page.waitForSelector('#app nav', { timeout: 15_000 });
  // The session ends behind the page's back (expiry, a sign-out in another tab): its cookie is gone.
  await context.clearCookies();
  const documents = [];
  page.on('request', (r) => {
    if (r.isNavigationRequest()) documents.push(new URL(r.url()).pathname);
  });
  // A client-side move to Status: no page load, only its API calls, which are answered 401.
  await Promise.all([page.waitForURL((u) => u.pathname === '/login', { timeout: 15_000 }), page.click('nav a[href="/ui/status"]')]);
  assert.equal(new URL(page.url()).searchParams.get('next'), '/ui/status', 'the login page knows where the browser was');
  assert.deepEqual(documents, ['/login'], 'the UI itself went to /login: no page of the UI was loaded (the server redirects those)');
  assert.equal(await page.locator('.error').count(), 0, 'the login page shows no error');
  await page.screenshot({ path: path.join(artifacts, 'login-expired.png') });
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse');
  await Promise.all([page.waitForURL(`${vigil.url}/ui/status`), page.click('button[type=submit]')]);
  await page.waitForSelector('[data-testid="targets"], .state.empty', { timeout: 15_000 });
  await context.close();
});
