// HTTPS from `tls_server_config` with certificates made by openssl at test time: the client-auth
// policies, client_allowed_sans, min_version and cipher_suites, and the Secure session cookie.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { makeCerts, request, type TestCerts } from '../../testkit/certs.js';

const tmp = tempDir('vigil-tls-');
let certs: TestCerts;

before(() => {
  certs = makeCerts(tmp.dir);
});
after(() => tmp.cleanup());

/** Starts Vigil with `tls_server_config` lines (indented under it) and more web configuration. */
async function withTls(tlsLines: string, rest = '', selfScrape = false): Promise<{ url: string; stop: () => Promise<void> }> {
  const file = path.join(tmp.dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  fs.writeFileSync(file, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n${tlsLines}${rest}`);
  const s = await startServer((c) => {
    c.web.configFile = file;
    c.selfScrape = selfScrape;
  });
  return { url: s.url.replace('http://', 'https://'), stop: s.stop };
}

/** The status, or the error code of a connection the server refused. */
async function status(url: string, o: Parameters<typeof request>[1] = {}): Promise<number | string> {
  try {
    return (await request(`${url}/api/v1/status/buildinfo`, { ca: certs.caCert, ...o })).status;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

const client = (): { cert: string; key: string } => ({ cert: certs.clientCert, key: certs.clientKey });
const stranger = (): { cert: string; key: string } => ({ cert: certs.strangerCert, key: certs.strangerKey });

test('NoClientCert: HTTPS with the server certificate; plain HTTP on the port is not served', async () => {
  const s = await withTls('');
  try {
    assert.equal(await status(s.url), 200);
    // The client does not trust a certificate it has no CA for.
    assert.match(String(await status(s.url, { ca: certs.strangerCert })), /UNABLE_TO_VERIFY|SELF_SIGNED|unable to verify/i);
    assert.notEqual(await status(s.url.replace('https://', 'http://')), 200);
  } finally {
    await s.stop();
  }
});

test('RequireAndVerifyClientCert: without a certificate, or with one from another CA, the connection is refused', async () => {
  const s = await withTls(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n`);
  try {
    assert.equal(await status(s.url, client()), 200);
    assert.notEqual(await status(s.url), 200);
    assert.notEqual(await status(s.url, stranger()), 200);
  } finally {
    await s.stop();
  }
});

test('RequireAnyClientCert, VerifyClientCertIfGiven, RequestClientCert and client_allowed_sans', async () => {
  const any = await withTls('  client_auth_type: RequireAnyClientCert\n');
  try {
    assert.equal(await status(any.url, stranger()), 200, 'any certificate, verified or not');
    assert.notEqual(await status(any.url), 200, 'but one is required');
  } finally {
    await any.stop();
  }
  const ifGiven = await withTls('  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n');
  try {
    assert.equal(await status(ifGiven.url), 200);
    assert.equal(await status(ifGiven.url, client()), 200);
    assert.notEqual(await status(ifGiven.url, stranger()), 200);
  } finally {
    await ifGiven.stop();
  }
  const request_ = await withTls('  client_auth_type: RequestClientCert\n');
  try {
    assert.equal(await status(request_.url), 200);
    assert.equal(await status(request_.url, stranger()), 200);
  } finally {
    await request_.stop();
  }
  const sans = await withTls('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [grafana.example]\n');
  try {
    assert.notEqual(await status(sans.url, client()), 200, 'the client certificate names prometheus.example only');
  } finally {
    await sans.stop();
  }
  const sansOk = await withTls('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [prometheus.example]\n');
  try {
    assert.equal(await status(sansOk.url, client()), 200);
  } finally {
    await sansOk.stop();
  }
});

test('min_version TLS13 refuses a TLS 1.2 client; cipher_suites limits TLS 1.2 to the listed suites', async () => {
  const s = await withTls('  min_version: TLS13\n');
  try {
    assert.equal(await status(s.url, { minVersion: 'TLSv1.3' }), 200);
    assert.notEqual(await status(s.url, { maxVersion: 'TLSv1.2' }), 200);
  } finally {
    await s.stop();
  }
  const suites = await withTls('  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n');
  try {
    assert.equal(await status(suites.url, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 200);
    assert.notEqual(await status(suites.url, { ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }), 200);
  } finally {
    await suites.stop();
  }
});

test('over TLS the session cookie is Secure, and Vigil scrapes itself over HTTPS', { timeout: 40_000 }, async () => {
  const s = await withTls('', `basic_auth_users:\n  alice: ${bcrypt.hashSync('pw', 4)}\n`, true);
  try {
    const r = await request(`${s.url}/login`, {
      ca: certs.caCert,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=pw',
    });
    assert.equal(r.status, 303);
    assert.match(String(r.headers['set-cookie']), /; HttpOnly; SameSite=Strict; Secure$/);
    assert.equal((await request(`${s.url}/-/ready`, { ca: certs.caCert })).status, 401);
    const alice = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
    const up = await waitFor(
      'up{job="vigil"} over HTTPS',
      async () => {
        const q = await request(`${s.url}/api/v1/query?query=${encodeURIComponent('up{job="vigil"}')}`, { ca: certs.caCert, headers: alice });
        return (JSON.parse(q.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1];
      },
      35_000,
      250,
    );
    assert.equal(up, '1');
  } finally {
    await s.stop();
  }
});
