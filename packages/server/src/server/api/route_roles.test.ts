// Every route the server registers is in the route→role table, and with authentication on none of
// them answers a client without credentials (issue 19's target: 0 unauthenticated requests succeed),
// nor one whose roles the table does not grant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { startServer, tempDir } from '../../testkit/helpers.js';
import { request, type Reply } from '../../testkit/certs.js';
import { tokenDigest, type Role } from '../config/web_config.js';
import { grants } from './auth.js';
import { inTable, needOf, ROUTE_NEEDS } from './route_roles.js';

const tmp = tempDir('vigil-routes-');
let srv: Awaited<ReturnType<typeof startServer>>;
const TOKENS: Record<Role, string> = { read: 'r'.repeat(20), write: 'w'.repeat(20), silence: 's'.repeat(20), admin: 'a'.repeat(20) };

before(async () => {
  const file = path.join(tmp.dir, 'web.yml');
  const tokens = Object.entries(TOKENS)
    .map(([role, t]) => `    - name: ${role}\n      token_sha256: ${tokenDigest(t)}\n      roles: [${role}]\n`)
    .join('');
  fs.writeFileSync(file, `basic_auth_users:\n  alice: ${bcrypt.hashSync('pw', 4)}\nvigil:\n  bearer_tokens:\n${tokens}`);
  srv = await startServer((c) => {
    c.web.configFile = file;
    // On, so that what refuses them below is authentication, not the switch.
    c.web.enableLifecycle = true;
    c.web.enableAdminApi = true;
    c.selfScrape = false;
  });
});
after(async () => {
  await srv.stop();
  tmp.cleanup();
});

/** A concrete path for a pattern: parameters filled with harmless values. */
function concrete(route: string): string {
  return route.replace(/:[a-z]+/g, 'x').replace(/\*[a-z]+/g, 'index.html');
}

/** The routes the server serves, plus the tail WebSocket (served by the upgrade handler, not the router). */
function routes(): Array<{ method: string; route: string }> {
  return [...srv.server.routes(), { method: 'GET', route: '/loki/api/v1/tail' }];
}

async function call(method: string, route: string, headers: Record<string, string> = {}): Promise<Reply> {
  const isTail = route === '/loki/api/v1/tail';
  const h: Record<string, string> = isTail
    ? { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' }
    : {};
  // A body each endpoint could take, so only access decides.
  const body = method === 'GET' || method === 'DELETE' ? undefined : '';
  return request(`${srv.url}${concrete(route)}${isTail ? '?query=%7Ba%3D%22b%22%7D' : ''}`, {
    method,
    headers: { ...h, ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}

test('every registered route is in the route→role table, and the table names no route that does not exist', () => {
  const registered = routes();
  const missing = registered.filter((r) => !inTable(r.method, r.route)).map((r) => `${r.method} ${r.route}`);
  assert.deepEqual(missing, [], 'routes without a role (they would need admin)');
  const served = new Set(registered.map((r) => r.route));
  assert.deepEqual(
    Object.keys(ROUTE_NEEDS).filter((r) => !served.has(r)),
    [],
    'table entries for routes that are not served',
  );
});

test('with auth on, no route answers a request without credentials (except the login pages)', async () => {
  const walked: string[] = [];
  const succeeded: string[] = [];
  for (const { method, route } of routes()) {
    const r = await call(method, route);
    walked.push(`${method} ${route}`);
    const open = needOf(method, route) === 'open';
    if (open) continue;
    if (r.status < 400 && !(r.status === 302 && String(r.headers['location']).startsWith('/login'))) succeeded.push(`${method} ${route} → ${r.status}`);
    else assert.ok(r.status === 401 || r.status === 302, `${method} ${route}: ${r.status}`);
  }
  const open = walked.filter((w) => needOf(w.split(' ')[0]!, w.split(' ')[1]!) === 'open');
  console.log(`walked ${walked.length} method+route pairs unauthenticated (${open.length} open login pages skipped): ${succeeded.length} succeeded`);
  assert.deepEqual(succeeded, []);
  assert.ok(walked.length > 80, `${walked.length} routes walked`);
});

test('each role reaches exactly the routes the table grants it', async () => {
  const wrong: string[] = [];
  for (const role of ['read', 'write', 'silence'] as const) {
    for (const { method, route } of routes()) {
      const need = needOf(method, route);
      if (need === 'open') continue;
      const r = await call(method, route, { authorization: `Bearer ${TOKENS[role]}` });
      const denied = r.status === 403;
      if (denied === grants([role], need)) wrong.push(`${role}: ${method} ${route} → ${r.status} (needs ${need})`);
    }
  }
  assert.deepEqual(wrong, []);
});
