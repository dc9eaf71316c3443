/**
 * The HTTP server itself: plain, or HTTPS from `tls_server_config`. Go's five client-auth policies
 * map onto Node's `requestCert`/`rejectUnauthorized`, and the two Node has no word for (a
 * certificate required but not verified; verified only if given) plus `client_allowed_sans` are
 * enforced right after the handshake, before the connection carries a request.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { TlsServerConfig } from '../config/web_config.js';

/** Node's TLS options for `tls_server_config`. */
export function tlsServerOptions(t: TlsServerConfig): https.ServerOptions {
  return {
    cert: t.cert,
    key: t.key,
    ...(t.clientCa ? { ca: t.clientCa } : {}),
    requestCert: t.clientAuthType !== 'NoClientCert',
    // Only this policy lets the TLS layer refuse the handshake itself; the others are checked below.
    rejectUnauthorized: t.clientAuthType === 'RequireAndVerifyClientCert',
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ...(t.ciphers ? { ciphers: t.ciphers } : {}),
    honorCipherOrder: t.honorCipherOrder,
    ...(t.ecdhCurve ? { ecdhCurve: t.ecdhCurve } : {}),
    // A client that never finishes the handshake holds a socket; 10 s is plenty for a real one.
    handshakeTimeout: 10_000,
  };
}

/** The names in a certificate's subjectAltName (`DNS:a, IP Address:1.2.3.4, email:x, URI:y`), without their kinds. */
export function subjectAltNames(san: string | undefined): string[] {
  if (!san) return [];
  return san
    .split(/,\s*/)
    .map((part) => part.slice(part.indexOf(':') + 1).trim())
    .filter(Boolean);
}

/** Why a TLS connection's client certificate is not acceptable under `t`, or undefined when it is. */
export function clientCertProblem(socket: TLSSocket, t: TlsServerConfig): string | undefined {
  const cert = socket.getPeerCertificate();
  const given = cert !== null && Object.keys(cert).length > 0;
  if (t.clientAuthType === 'RequireAnyClientCert' && !given) return 'a client certificate is required';
  if (t.clientAuthType === 'VerifyClientCertIfGiven' && given && !socket.authorized)
    return `client certificate not verified: ${String(socket.authorizationError)}`;
  if (t.clientAllowedSans.length > 0) {
    const sans = subjectAltNames(given ? cert.subjectaltname : undefined);
    if (!sans.some((s) => t.clientAllowedSans.includes(s))) return 'client certificate has no allowed subject alternative name';
  }
  return undefined;
}

/** An HTTP server, or an HTTPS one when `tls` gives a configuration; `tls` is asked again on every connection, so the client-certificate checks follow a reload. */
export function createWebServer(
  tls: (() => TlsServerConfig | undefined) | undefined,
  listener: http.RequestListener,
  onRefused: (why: string) => void,
): http.Server | https.Server {
  // Deadlines are checked on this period; node's default (30 s) would let a slow client hold a
  // socket well past the header timeout.
  const common = { connectionsCheckingInterval: 1000 };
  const first = tls?.();
  if (!tls || !first) return http.createServer(common, listener);
  const server = https.createServer({ ...common, ...tlsServerOptions(first) }, listener);
  server.on('secureConnection', (socket: TLSSocket) => {
    const t = tls();
    const problem = t && clientCertProblem(socket, t);
    if (problem) {
      onRefused(problem);
      socket.destroy();
    }
  });
  return server;
}
