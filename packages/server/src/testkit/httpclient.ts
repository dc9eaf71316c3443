/** Test helpers for HTTP clients: certificates made with openssl, an HTTPS server, and a counting HTTP proxy. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';

/**
 * Writes into `dir`: a self-signed CA (`ca.crt`, `ca.key`), a server certificate for
 * `localhost`/127.0.0.1 signed by it (`server.crt`, `server.key`), and an unrelated CA (`other.crt`).
 */
export function makeCerts(dir: string): void {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=vigil-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'server.crt');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other-ca', '-keyout', 'other.key', '-out', 'other.crt');
}

/** A loopback server and how to reach and stop it. */
export interface TestServer {
  /** `http(s)://127.0.0.1:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

async function listen(srv: http.Server, scheme: string): Promise<TestServer> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/** An HTTPS server with the certificate {@link makeCerts} wrote into `dir`; `opts` adds server options (e.g. TLS versions). */
export function serveHttps(dir: string, handler: http.RequestListener, opts: https.ServerOptions = {}): Promise<TestServer> {
  const srv = https.createServer({ ...opts, key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.crt')) }, handler);
  return listen(srv, 'https');
}

/** What a {@link startProxy} proxy saw. */
export interface ProxyLog {
  /** Plain requests (absolute-form request lines), as `METHOD url`. */
  forwarded: string[];
  /** CONNECT targets (`host:port`). */
  tunnels: string[];
  /** Proxy-Authorization and other headers of each request, in order. */
  headers: http.IncomingHttpHeaders[];
}

/** A minimal forward proxy: absolute-form requests are relayed, CONNECT opens a tunnel. */
export async function startProxy(): Promise<TestServer & { log: ProxyLog }> {
  const log: ProxyLog = { forwarded: [], tunnels: [], headers: [] };
  const srv = http.createServer((req, res) => {
    log.forwarded.push(`${req.method} ${req.url}`);
    log.headers.push(req.headers);
    const target = new URL(req.url ?? '/');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers, agent: false },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  srv.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    log.tunnels.push(req.url ?? '');
    log.headers.push(req.headers);
    const [host, port] = (req.url ?? '').split(':');
    const up = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => up.destroy());
  });
  return { ...(await listen(srv, 'http')), log };
}
