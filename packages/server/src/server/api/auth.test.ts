// Authentication and roles against a started server (issue 19, item 4): basic auth with bcrypt
// hashes, bearer tokens, the four roles, the login session, the tail WebSocket, the lifecycle and
// admin switches, and the web configuration file's errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { exited, freePort, spawnVigil, startServer, tempDir, VIGIL_BIN, waitFor, writeBody } from '../../testkit/helpers.js';
import { Authenticator } from './auth.js';
import { checkConfigFiles } from '../cmd/checkconfig.js';
import { request } from '../../testkit/certs.js';
import { labelsFrom } from '../../core/model/labels.js';
import { ConfigError } from '../../core/config_error.js';
import { loadWebConfig, parseWebConfig, tokenDigest } from '../config/web_config.js';
import { LOGIN_PAGES, safeNext } from './login.js';

const READ_TOKEN = 'read-token-0123456789abcdef';
const WRITE_TOKEN = 'write-token-0123456789abcdef';
const tmp = tempDir('vigil-auth-');
let srv: Awaited<ReturnType<typeof startServer>>;

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function writeWebConfig(): string {
  fs.writeFileSync(path.join(tmp.dir, 'read.token'), `${READ_TOKEN}\n`);
  const file = path.join(tmp.dir, 'web.yml');
  fs.writeFileSync(
    file,
    `basic_auth_users:
  alice: ${bcrypt.hashSync('alice-pw', 10)}
  reader: ${bcrypt.hashSync('reader-pw', 4).replace('$2b$', '$2y$')}
  oncall: ${bcrypt.hashSync('oncall-pw', 4)}
  shipper: ${bcrypt.hashSync('shipper-pw', 4)}
http_server_config:
  headers:
    Strict-Transport-Security: max-age=31536000
vigil:
  user_roles:
    reader: read
    oncall: [silence]
    shipper: [write]
  bearer_tokens:
    - name: grafana
      token_file: read.token
      roles: [read]
    - name: promtail
      token_sha256: ${tokenDigest(WRITE_TOKEN)}
      roles: [write]
`,
  );
  return file;
}

before(async () => {
  const file = writeWebConfig();
  srv = await startServer((c) => {
    c.web.configFile = file;
    c.web.enableLifecycle = true;
    c.web.enableAdminApi = true;
  });
});
after(async () => {
  await srv.stop();
  tmp.cleanup();
});

const get = (p: string, headers: Record<string, string> = {}) => request(`${srv.url}${p}`, { headers });
const post = (p: string, headers: Record<string, string>, body = '', type = 'application/json') =>
  request(`${srv.url}${p}`, { method: 'POST', headers: { ...(type ? { 'content-type': type } : {}), ...headers }, body });
const silence = JSON.stringify({
  matchers: [{ name: 'alertname', value: 'X', isRegex: false }],
  startsAt: new Date().toISOString(),
  endsAt: new Date(Date.now() + 3600_000).toISOString(),
  createdBy: 't',
  comment: 'c',
});

test('without credentials: 401 with a Basic challenge; a bad bearer token gets a Bearer challenge', async () => {
  const none = await get('/api/v1/query?query=1');
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Basic realm="Vigil", charset="UTF-8"');
  assert.equal((await get('/api/v1/query?query=1', basic('alice', 'wrong'))).status, 401);
  assert.equal((await get('/api/v1/query?query=1', basic('mallory', 'alice-pw'))).status, 401);
  const badToken = await get('/api/v1/query?query=1', bearer('not-a-token'));
  assert.equal(badToken.status, 401);
  assert.match(String(badToken.headers['www-authenticate']), /^Bearer realm="Vigil", error="invalid_token"/);
  // Unknown paths do not tell an anonymous client what exists.
  assert.equal((await get('/no/such/path')).status, 401);
  assert.equal((await get('/no/such/path', basic('reader', 'reader-pw'))).status, 404);
  // Configured headers are on every answer, refusals included.
  assert.equal(none.headers['strict-transport-security'], 'max-age=31536000');
});

test("the UI's own calls get a challenge naming the login form, not Basic (no browser password dialog); page loads and other sites still get Basic", async () => {
  const fromUi = await get('/api/v1/status/buildinfo', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' });
  assert.equal(fromUi.status, 401);
  assert.equal(fromUi.headers['www-authenticate'], 'Cookie realm="Vigil", form-action="/login", cookie-name="vigil_session"');
  const crossSite = await get('/api/v1/status/buildinfo', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' });
  assert.equal(crossSite.headers['www-authenticate'], 'Basic realm="Vigil", charset="UTF-8"');
  const navigation = await get('/api/v1/status/buildinfo', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' });
  assert.equal(navigation.headers['www-authenticate'], 'Basic realm="Vigil", charset="UTF-8"');
});

test('roles: read reads, write ingests, silence silences, admin does all; a read token can neither write nor silence', async () => {
  const rw = writeBody([{ labels: labelsFrom({ __name__: 'auth_probe', job: 'x' }), samples: [[Date.now(), 1]] }]);
  const write = (h: Record<string, string>) =>
    request(`${srv.url}/api/v1/write`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...h }, body: rw });
  for (const [who, h] of [
    ['reader', basic('reader', 'reader-pw')],
    ['read token', bearer(READ_TOKEN)],
  ] as const) {
    assert.equal((await get('/api/v1/query?query=1', h)).status, 200, who);
    assert.equal((await get('/api/v2/silences', h)).status, 200, who);
    assert.equal((await write(h)).status, 403, who);
    assert.equal((await post('/api/v2/silences', h, silence)).status, 403, who);
    assert.equal((await post('/loki/api/v1/push', h, '{"streams":[]}')).status, 403, who);
    assert.equal((await post('/-/reload', h, '', '')).status, 403, who);
  }
  for (const [who, h] of [
    ['shipper', basic('shipper', 'shipper-pw')],
    ['write token', bearer(WRITE_TOKEN)],
  ] as const) {
    assert.equal((await write(h)).status, 204, who);
    assert.equal((await get('/api/v1/query?query=1', h)).status, 403, who);
    assert.equal((await post('/api/v2/silences', h, silence)).status, 403, who);
  }
  const oncall = basic('oncall', 'oncall-pw');
  assert.equal((await get('/api/v1/query?query=auth_probe', oncall)).status, 200);
  assert.equal((await post('/api/v2/silences', oncall, silence)).status, 200);
  assert.equal((await write(oncall)).status, 403);
  assert.equal((await post('/-/reload', oncall, '', '')).status, 403);
  const admin = basic('alice', 'alice-pw');
  assert.equal((await write(admin)).status, 204);
  assert.equal((await post('/api/v2/silences', admin, silence)).status, 200);
  assert.equal((await post('/-/reload', admin, '', '')).status, 200);
  assert.equal((await post('/api/v1/admin/tsdb/flush', admin, '', '')).status, 200);
  const forbidden = await post('/api/v2/silences', basic('reader', 'reader-pw'), silence);
  assert.match(forbidden.body, /reader .*lacks the silence role/);
});

test('a verified password is cached: bcrypt runs once per credential, not per request', async () => {
  const h = basic('alice', 'alice-pw');
  // alice's hash has cost 10 (bcryptjs: tens of milliseconds); use a fresh password so the first is uncached.
  const t0 = performance.now();
  assert.equal((await get('/-/healthy', basic('alice', 'wrong-1'))).status, 401);
  const uncached = performance.now() - t0;
  await get('/-/healthy', h);
  const t1 = performance.now();
  for (let i = 0; i < 5; i++) assert.equal((await get('/-/healthy', h)).status, 200);
  const cached = (performance.now() - t1) / 5;
  assert.ok(cached < uncached / 3, `cached ${cached.toFixed(1)} ms vs bcrypt ${uncached.toFixed(1)} ms`);
});

test('UI pages redirect to the login page; a login sets an HttpOnly SameSite=Strict session cookie; logout ends it', async () => {
  const page = await get('/ui/alerts?x=1');
  assert.equal(page.status, 302);
  assert.equal(page.headers['location'], '/login?next=%2Fui%2Falerts%3Fx%3D1');
  assert.equal((await get('/')).headers['location'], '/login');
  const form = await get('/login?next=%2Fui%2Falerts');
  assert.equal(form.status, 200);
  assert.match(form.body, /<form method="post" action="\/login">/);
  assert.match(form.body, /name="next" value="\/ui\/alerts"/);
  const bad = await post('/login', {}, 'username=alice&password=nope&next=%2Fui%2F', 'application/x-www-form-urlencoded');
  assert.equal(bad.status, 401);
  assert.match(bad.body, /Wrong user name or password/);
  assert.match(bad.body, /id="username"[^>]* value="alice"/, 'the name is kept, escaped');
  const tricky = await post('/login', {}, 'username=%22%3E%3Cscript%3Ex%3C%2Fscript%3E&password=x', 'application/x-www-form-urlencoded');
  assert.match(tricky.body, /value="&#34;&#62;&#60;script&#62;x&#60;\/script&#62;"/);
  assert.equal(bad.headers['set-cookie'], undefined);
  // A login from another site is refused by Origin, like any state change.
  assert.equal(
    (await post('/login', { origin: 'http://attacker.example' }, 'username=alice&password=alice-pw', 'application/x-www-form-urlencoded')).status,
    403,
  );
  // `next` never leaves the site.
  const ok = await post('/login', {}, 'username=reader&password=reader-pw&next=%2F%2Fattacker.example', 'application/x-www-form-urlencoded');
  assert.equal(ok.status, 303);
  assert.equal(ok.headers['location'], '/ui/');
  const cookie = String(ok.headers['set-cookie']);
  assert.match(cookie, /^vigil_session=[A-Za-z0-9_-]{43}; /);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.doesNotMatch(cookie, /Secure/, 'no Secure over plain HTTP: the browser would never send it back');
  const session = { cookie: cookie.split(';')[0]! };
  assert.equal((await get('/api/v1/query?query=1', session)).status, 200);
  assert.equal((await get('/ui/', session)).status, 200);
  // The session carries the user's roles: reader cannot silence.
  assert.equal((await post('/api/v2/silences', session, silence)).status, 403);
  assert.equal((await get('/login', session)).headers['location'], '/ui/');
  const out = await post('/logout', session, '', 'application/x-www-form-urlencoded');
  assert.equal(out.status, 303);
  assert.match(String(out.headers['set-cookie']), /^vigil_session=; Max-Age=0/);
  assert.equal((await get('/api/v1/query?query=1', session)).status, 401, 'the session is gone on the server, not only in the browser');
  assert.equal((await get('/ui/', session)).status, 302);
});

/** The status line of a WebSocket handshake on the tail. */
function tailHandshake(headers: Record<string, string>): Promise<string> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      s.write(
        `GET /loki/api/v1/tail?query=%7Bjob%3D%22x%22%7D HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    s.once('data', (d: Buffer) => {
      resolve(d.toString().split('\r\n')[0]!);
      s.destroy();
    });
    s.on('error', reject);
  });
}

test('the tail WebSocket needs credentials too: a header or the session cookie', async () => {
  assert.equal(await tailHandshake({}), 'HTTP/1.1 401 Unauthorized');
  assert.equal(await tailHandshake(bearer('wrong-token-0123456789')), 'HTTP/1.1 401 Unauthorized');
  assert.equal(await tailHandshake(bearer(WRITE_TOKEN)), 'HTTP/1.1 403 Forbidden');
  assert.equal(await tailHandshake(bearer(READ_TOKEN)), 'HTTP/1.1 101 Switching Protocols');
  const login = await post('/login', {}, 'username=reader&password=reader-pw', 'application/x-www-form-urlencoded');
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  assert.equal(await tailHandshake({ cookie }), 'HTTP/1.1 101 Switching Protocols');
});

test('a reload rereads the web configuration: a removed token stops working, a new user can log in', async () => {
  const file = path.join(tmp.dir, 'web.yml');
  const before = fs.readFileSync(file, 'utf8');
  try {
    fs.writeFileSync(
      file,
      before.replace(/ {4}- name: grafana\n.*\n.*\n/, '').replace('basic_auth_users:\n', `basic_auth_users:\n  bob: ${bcrypt.hashSync('bob-pw', 4)}\n`),
    );
    assert.equal((await post('/-/reload', basic('alice', 'alice-pw'), '', '')).status, 200);
    assert.equal((await get('/api/v1/query?query=1', bearer(READ_TOKEN))).status, 401);
    assert.equal((await get('/api/v1/query?query=1', basic('bob', 'bob-pw'))).status, 200);
    // A broken file refuses the reload and keeps the running configuration.
    fs.writeFileSync(file, before.replace('basic_auth_users:', 'basic_auth_user:'));
    const bad = await post('/-/reload', basic('alice', 'alice-pw'), '', '');
    assert.equal(bad.status, 500);
    assert.match(bad.body, /web\.yml:1: basic_auth_user: unknown key/);
    assert.equal((await get('/api/v1/query?query=1', basic('bob', 'bob-pw'))).status, 200);
  } finally {
    fs.writeFileSync(file, before);
    await post('/-/reload', basic('alice', 'alice-pw'), '', '');
  }
});

test('auth off (no web configuration): every request passes as before; lifecycle and admin API answer as Prometheus when off', async () => {
  const plain = await startServer();
  try {
    assert.equal((await fetch(`${plain.url}/api/v1/query?query=1`)).status, 200);
    assert.equal((await fetch(`${plain.url}/ui/`, { redirect: 'manual' })).status, 200);
    assert.equal((await fetch(`${plain.url}/login`, { redirect: 'manual' })).headers.get('location'), '/ui/');
    const reload = await fetch(`${plain.url}/-/reload`, { method: 'POST' });
    assert.equal(reload.status, 403);
    assert.equal(await reload.text(), 'Lifecycle API is not enabled.\n');
    assert.equal((await fetch(`${plain.url}/-/quit`, { method: 'PUT' })).status, 403);
    const flush = await fetch(`${plain.url}/api/v1/admin/tsdb/flush`, { method: 'POST' });
    assert.equal(flush.status, 503);
    assert.deepEqual(await flush.json(), { status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' });
  } finally {
    await plain.stop();
  }
});

test('/-/quit, when the lifecycle API is on, stops the server', async () => {
  const s = await startServer((c) => (c.web.enableLifecycle = true));
  let quit = false;
  s.server.onQuit = () => (quit = true);
  const r = await fetch(`${s.url}/-/quit`, { method: 'POST' });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'Requesting termination... Goodbye!\n');
  await new Promise((res) => setImmediate(res));
  assert.ok(quit);
  await s.stop();
});

test('web configuration errors name the file, the line and the key', () => {
  const cases: Array<[string, RegExp]> = [
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth: x\n', /w\.yml:4: tls_server_config\.client_auth: unknown key/],
    ['basic_auth_users:\n  alice: plain-text\n', /w\.yml:2: basic_auth_users\.alice: expected a bcrypt hash/],
    ['http_server_config:\n  headers:\n    X-Frame-Options: allow\n', /w\.yml:3: http_server_config\.headers\.X-Frame-Options: invalid value/],
    ['http_server_config:\n  headers:\n    X-Powered-By: me\n', /w\.yml:3: http_server_config\.headers\.X-Powered-By: unknown key/],
    ['vigil:\n  user_roles:\n    nobody: read\n', /w\.yml:3: vigil\.user_roles\.nobody: not a user/],
    ['vigil:\n  bearer_tokens:\n    - name: t\n      token_sha256: abc\n      roles: [read]\n', /token_sha256: expected 64 hex digits/],
    [`vigil:\n  bearer_tokens:\n    - name: t\n      token_sha256: ${'a'.repeat(64)}\n      roles: [superuser]\n`, /unknown role "superuser"/],
    ['rate_limit:\n  interval: 1s\n', /w\.yml:1: rate_limit: not supported by Vigil/],
    [
      'tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: RequireAndVerifyClientCert\n',
      /client_auth_type RequireAndVerifyClientCert needs client_ca_file/,
    ],
    ['tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: Always\n', /invalid ClientAuth "Always"/],
    ['tls_server_config:\n  cert: x\n  key: y\n  min_version: TLS14\n', /tls_server_config\.min_version: unknown TLS version "TLS14"/],
    ['tls_server_config:\n  cert: x\n  key: y\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n', /unknown or unsupported cipher suite/],
    [
      'tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key: y\n',
      /w\.yml:2: tls_server_config\.cert_file: cannot read \/nonexistent\/cert\.pem: ENOENT/,
    ],
  ];
  for (const [yaml, want] of cases)
    assert.throws(
      () => parseWebConfig(yaml, 'w.yml'),
      (e: unknown) => e instanceof ConfigError && want.test(e.message),
      yaml,
    );
  // Go's names map to Node's; a 1.2 suite list becomes an OpenSSL cipher list.
  const ok = parseWebConfig(
    'tls_server_config:\n  cert: x\n  key: y\n  min_version: TLS13\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]\n  curve_preferences: [X25519, CurveP256]\n',
    'w.yml',
  );
  assert.deepEqual(
    [ok.tls?.minVersion, ok.tls?.maxVersion, ok.tls?.ciphers, ok.tls?.ecdhCurve],
    ['TLSv1.3', 'TLSv1.3', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305', 'X25519:P-256'],
  );
  // Relative files are read from the web configuration file's directory.
  const d = tempDir();
  try {
    fs.writeFileSync(path.join(d.dir, 't.token'), 'short');
    fs.writeFileSync(path.join(d.dir, 'web.yml'), 'vigil:\n  bearer_tokens:\n    - name: t\n      token_file: t.token\n      roles: read\n');
    assert.throws(() => loadWebConfig(path.join(d.dir, 'web.yml')), /token_file: the token must be at least 16 characters/);
  } finally {
    d.cleanup();
  }
});

test('after a login, the browser goes only to a path on this server', () => {
  assert.equal(safeNext('/ui/alerts?x=1#y'), '/ui/alerts?x=1#y');
  for (const bad of [null, '', 'https://evil.example', '//evil.example', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', 'javascript:alert(1)'])
    assert.equal(safeNext(bad), '/ui/', String(bad));
});

test('the login pages carry no inline script or event handler (the CSP would block them)', () => {
  for (const html of LOGIN_PAGES) {
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /\son[a-z]+=/i);
    assert.doesNotMatch(html, /\sstyle=/i);
  }
});

test('vigil start --web.config.file with an unknown key exits 2 naming the file, the line and the key', async () => {
  const d = tempDir();
  try {
    const file = path.join(d.dir, 'web.yml');
    fs.writeFileSync(file, 'basic_auth_users: {}\ntls_config:\n  ca_file: x\n');
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [VIGIL_BIN, 'start', '--data', path.join(d.dir, 'data'), '--listen', '127.0.0.1:0', `--web.config.file=${file}`],
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, err: stderr }),
      );
    });
    assert.equal(r.code, 2);
    assert.match(r.err, /configuration error: .*web\.yml:2: tls_config: unknown key; expected one of tls_server_config/);
  } finally {
    d.cleanup();
  }
});

test('vigil check config checks the web configuration file vigil.yml names', async () => {
  const d = tempDir();
  try {
    fs.writeFileSync(path.join(d.dir, 'web.yml'), 'basic_auth_users:\n  alice: not-a-hash\n');
    fs.writeFileSync(path.join(d.dir, 'vigil.yml'), 'web:\n  config_file: web.yml\n');
    let err = '';
    const out = { out: () => {}, err: (t: string) => (err += t) };
    assert.equal(await checkConfigFiles([path.join(d.dir, 'vigil.yml')], out), 1);
    assert.match(err, /FAILED: .*web\.yml:2: basic_auth_users\.alice: expected a bcrypt hash/);
  } finally {
    d.cleanup();
  }
});

test('with auth on, Vigil still scrapes itself (a token only the process knows)', { timeout: 40_000 }, async () => {
  const h = basic('alice', 'alice-pw');
  const up = await waitFor(
    'up{job="vigil"}',
    async () => {
      const r = await get(`/api/v1/query?query=${encodeURIComponent('up{job="vigil"}')}`, h);
      const res = (JSON.parse(r.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
      return res[0]?.value[1];
    },
    35_000,
    250,
  );
  assert.equal(up, '1');
});

test('login sessions end after the idle timeout and after the maximum age, on the server', async () => {
  let now = 1_000_000;
  const cfg = parseWebConfig(`basic_auth_users:\n  alice: ${bcrypt.hashSync('pw', 4)}\nvigil:\n  session_idle_timeout: 10m\n  session_max_age: 1h\n`, 'w.yml');
  const auth = new Authenticator(cfg, () => now);
  const cookieOf = (id: string | undefined) => ({ cookie: `vigil_session=${id ?? ''}` });
  const idle = await auth.login('alice', 'pw');
  assert.ok(idle);
  now += 9 * 60_000;
  assert.equal(typeof (await auth.authenticate(cookieOf(idle))), 'object', 'used within the idle timeout');
  now += 11 * 60_000;
  assert.equal(await auth.authenticate(cookieOf(idle)), 'bad_session', 'idle too long');
  const busy = await auth.login('alice', 'pw');
  for (let i = 0; i < 6; i++) {
    now += 9 * 60_000;
    assert.equal(typeof (await auth.authenticate(cookieOf(busy))), 'object');
  }
  now += 9 * 60_000; // 63 minutes after login: past session_max_age though never idle
  assert.equal(await auth.authenticate(cookieOf(busy)), 'bad_session');
  assert.equal(await auth.login('alice', 'wrong'), undefined);
  assert.equal(auth.sessionCount(), 0);
});

test('vigil start --web.enable-lifecycle: POST /-/quit exits the process cleanly', { timeout: 30_000 }, async () => {
  const d = tempDir();
  try {
    const v = await spawnVigil(path.join(d.dir, 'data'), await freePort(), ['--web.enable-lifecycle']);
    const r = await fetch(`${v.url}/-/quit`, { method: 'POST' });
    assert.equal(r.status, 200);
    assert.deepEqual(await exited(v.proc), { code: 0, signal: null });
  } finally {
    d.cleanup();
  }
});
