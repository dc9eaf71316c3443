// Real clients against Vigil with TLS and basic auth on: Debian's Prometheus remote_writes over
// HTTPS with basic_auth, and amtool talks to the Alertmanager API with --http.config.file. A
// credential with the read role cannot silence through amtool.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort, peerBinary, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { makeCerts, request, type TestCerts } from '../../testkit/certs.js';

const tmp = tempDir('vigil-auth-peers-');
let certs: TestCerts;
let vigil: Awaited<ReturnType<typeof startServer>>;
let url: string;
const children: ChildProcess[] = [];
const ADMIN = { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` };

before(async () => {
  certs = makeCerts(tmp.dir);
  const file = path.join(tmp.dir, 'web.yml');
  fs.writeFileSync(
    file,
    `tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  alice: ${bcrypt.hashSync('alice-pw', 4)}
  prometheus: ${bcrypt.hashSync('prom-pw', 4)}
  oncall: ${bcrypt.hashSync('oncall-pw', 4)}
  viewer: ${bcrypt.hashSync('viewer-pw', 4)}
vigil:
  user_roles:
    prometheus: write
    oncall: silence
    viewer: read
`,
  );
  vigil = await startServer((c) => {
    c.web.configFile = file;
    c.selfScrape = false;
  });
  url = vigil.url.replace('http://', 'https://');
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await vigil.stop();
  tmp.cleanup();
});

test('Prometheus remote_writes into Vigil over TLS with basic_auth; without the password it is refused', { timeout: 90_000 }, async () => {
  const bin = peerBinary('prometheus', 'prometheus');
  const port = await freePort();
  const cfg = path.join(tmp.dir, 'prometheus.yml');
  fs.writeFileSync(
    cfg,
    `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prom-tls
    static_configs:
      - targets: ['127.0.0.1:${port}']
remote_write:
  - url: ${url}/api/v1/write
    basic_auth:
      username: prometheus
      password: prom-pw
    tls_config:
      ca_file: ${certs.caCert}
    queue_config:
      batch_send_deadline: 1s
`,
  );
  const p = spawn(bin, [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(tmp.dir, 'prom-data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  children.push(p);
  const series = await waitFor(
    "Prometheus' samples in Vigil",
    async () => {
      const r = await request(`${url}/api/v1/series?match[]=${encodeURIComponent('up{job="prom-tls"}')}`, { ca: certs.caCert, headers: ADMIN });
      assert.equal(r.status, 200, r.body);
      const data = (JSON.parse(r.body) as { data: unknown[] }).data;
      return data.length > 0 ? data : undefined;
    },
    60_000,
    500,
  );
  assert.equal(series.length, 1);
  // The same write without credentials, or with the sender's credentials to read, is refused.
  assert.equal((await request(`${url}/api/v1/write`, { ca: certs.caCert, method: 'POST', body: '' })).status, 401);
  const prom = { authorization: `Basic ${Buffer.from('prometheus:prom-pw').toString('base64')}` };
  assert.equal((await request(`${url}/api/v1/query?query=up`, { ca: certs.caCert, headers: prom })).status, 403);
});

function amtool(user: string, password: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const bin = peerBinary('amtool', 'prometheus-alertmanager');
  const httpConfig = path.join(tmp.dir, `amtool-${user}.yml`);
  fs.writeFileSync(httpConfig, `basic_auth:\n  username: ${user}\n  password: ${password}\ntls_config:\n  ca_file: ${certs.caCert}\n`);
  return new Promise((resolve) => {
    execFile(bin, [`--alertmanager.url=${url}`, `--http.config.file=${httpConfig}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

test('amtool with --http.config.file: the on-call user silences, a read-only user cannot, no credentials get nothing', { timeout: 60_000 }, async () => {
  const add = await amtool('oncall', 'oncall-pw', 'silence', 'add', 'alertname=TlsProbe', '--duration=1h', '--comment=maintenance', '--author=oncall');
  assert.equal(add.code, 0, add.err);
  const id = add.out.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const query = await amtool('viewer', 'viewer-pw', 'silence', 'query', '-o', 'json');
  assert.equal(query.code, 0, query.err);
  assert.deepEqual(
    (JSON.parse(query.out) as Array<{ id: string }>).map((s) => s.id),
    [id],
  );
  const denied = await amtool('viewer', 'viewer-pw', 'silence', 'add', 'alertname=Other', '--duration=1h', '--comment=x', '--author=viewer');
  assert.notEqual(denied.code, 0);
  assert.match(denied.err, /403|Forbidden|forbidden/);
  const anon = await amtool('nobody', 'nothing', 'silence', 'query');
  assert.notEqual(anon.code, 0);
  assert.match(anon.err, /401|Unauthorized|unauthorized/);
});
