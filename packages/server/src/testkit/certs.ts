/**
 * Certificates made at test time with the `openssl` command line (scripts/ensure-peers.sh installs
 * it): a CA, a server certificate for localhost and 127.0.0.1, and a client certificate, both signed
 * by the CA, plus a client certificate from another CA that must not verify.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';

/** Paths of the PEM files `makeCerts` writes. */
export interface TestCerts {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Signed by another CA: fails verification against `caCert`. */
  readonly strangerCert: string;
  readonly strangerKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
}

function leaf(dir: string, name: string, caName: string, ext: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
}

/** Writes a CA, server, client and stranger certificates into `dir`. */
export function makeCerts(dir: string): TestCerts {
  ca(dir, 'ca');
  ca(dir, 'otherca');
  leaf(dir, 'server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf(dir, 'client', 'ca', 'subjectAltName=DNS:prometheus.example\nextendedKeyUsage=clientAuth\n');
  leaf(dir, 'stranger', 'otherca', 'subjectAltName=DNS:stranger.example\nextendedKeyUsage=clientAuth\n');
  const p = (f: string): string => path.join(dir, f);
  return {
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.crt'),
    strangerKey: p('stranger.key'),
  };
}

/** What {@link request} returns. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Options of {@link request}: HTTP, or HTTPS with a CA, a client certificate and TLS limits. */
export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
}

/** One request over node:http or node:https (fetch cannot take a CA or a client certificate); rejects when the connection fails. */
export function request(url: string, o: RequestOptions = {}): Promise<Reply> {
  const u = new URL(url);
  const file = (p: string | undefined): string | undefined => (p ? fs.readFileSync(p, 'utf8') : undefined);
  return new Promise((resolve, reject) => {
    const opts = {
      method: o.method ?? 'GET',
      headers: o.headers ?? {},
      agent: false as const,
      ...(u.protocol === 'https:'
        ? {
            ca: file(o.ca),
            cert: file(o.cert),
            key: file(o.key),
            ...(o.minVersion ? { minVersion: o.minVersion } : {}),
            ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
            ...(o.ciphers ? { ciphers: o.ciphers } : {}),
          }
        : {}),
    };
    const req = (u.protocol === 'https:' ? https : http).request(u, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    // A WebSocket handshake that is accepted: report the 101 and close.
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: '' });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
