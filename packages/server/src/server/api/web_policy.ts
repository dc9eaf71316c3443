/**
 * Who may talk to Vigil from a browser. Non-browser clients (Prometheus, promtail, amtool, curl)
 * send no `Origin`, so they pass; a page on another origin always does (browsers add `Origin` to
 * every POST, PUT and DELETE, and to WebSocket handshakes), so it is refused unless allowed by
 * `web.cors_origin`. The `Host` check stops DNS rebinding: a page whose domain is made to resolve
 * to 127.0.0.1 is "same-origin" to the browser, but its requests still name that domain in `Host`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as os from 'node:os';
import { isIP } from 'node:net';

/** How the web policy is configured (`web:` in the configuration file). */
export interface WebPolicyOptions {
  /** The listen address (`host:port`); its host is always an accepted Host. */
  readonly listen?: string;
  /** The URL users reach Vigil by (behind a proxy, say); its origin and host are accepted. */
  readonly externalUrl?: string;
  /** Origins (a regex matched against the whole `Origin`, as Prometheus' `--web.cors.origin`) allowed cross-origin access. */
  readonly corsOrigin?: RegExp;
  /** More host names accepted in `Host` (names, without ports). */
  readonly allowedHosts?: readonly string[];
}

/** A refusal: the status and the message the client is told. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/**
 * Name suffixes no public DNS answers for, so an attacker cannot point one at a victim's loopback:
 * names in them (and single-label names such as a container's `vigil`) are accepted as Host.
 */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa', '.svc', '.cluster.local', '.lan'];

/** Headers every response carries: no sniffing, no framing, no script but our own files. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  // `data:` images: the favicon and the bundle's inlined SVG icons. `connect-src 'self'` covers the
  // same-origin WebSocket of live tail.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

function hostName(hostHeader: string): string {
  // `[::1]:9466` → `::1`; `example.com:9466` → `example.com`.
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader) ?? /^([^:]*)(?::\d+)?$/.exec(hostHeader);
  return (m ? m[1]! : hostHeader).toLowerCase().replace(/\.$/, '');
}

/** Decides on Host and Origin for every request and WebSocket handshake. */
export class WebPolicy {
  private readonly hosts: ReadonlySet<string>;
  private readonly externalOrigin: string | undefined;

  constructor(private readonly opts: WebPolicyOptions = {}) {
    const hosts = new Set(['localhost', os.hostname().toLowerCase(), os.hostname().toLowerCase().split('.')[0]!]);
    if (opts.listen) hosts.add(hostName(opts.listen));
    if (opts.externalUrl) {
      const u = new URL(opts.externalUrl);
      hosts.add(hostName(u.host));
      this.externalOrigin = u.origin;
    }
    for (const h of opts.allowedHosts ?? []) hosts.add(h.toLowerCase());
    this.hosts = hosts;
  }

  /** Whether `Host` names Vigil: an IP literal (rebinding needs a name), a local or private name, or a configured one. */
  checkHost(headers: IncomingHttpHeaders): Refusal | undefined {
    const raw = headers.host;
    // HTTP/1.0 clients may omit Host; a browser never does.
    if (raw === undefined || raw === '') return undefined;
    const name = hostName(raw);
    if (isIP(name) || this.hosts.has(name) || !name.includes('.') || PRIVATE_SUFFIXES.some((s) => name.endsWith(s))) return undefined;
    return { status: 421, message: `host ${JSON.stringify(raw)} is not one Vigil answers for; add it to web.allowed_hosts or set web.external_url` };
  }

  /** Whether a browser origin may use Vigil: its own origin (same Host), the external URL's, or one `web.cors_origin` matches. */
  originAllowed(origin: string, headers: IncomingHttpHeaders): boolean {
    if (this.opts.corsOrigin?.test(origin)) return true;
    if (origin === this.externalOrigin) return true;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false; // `null` (sandboxed frames, data: URLs) and garbage
    }
    return (u.protocol === 'http:' || u.protocol === 'https:') && headers.host !== undefined && u.host.toLowerCase() === headers.host.toLowerCase();
  }

  /**
   * Refuses a state-changing request from another origin. Without `Origin` the `Referer` tells;
   * without either it is not a browser acting for a page, so it passes.
   */
  checkOrigin(headers: IncomingHttpHeaders): Refusal | undefined {
    let origin = headers.origin;
    if (origin === undefined && typeof headers.referer === 'string') {
      try {
        origin = new URL(headers.referer).origin;
      } catch {
        origin = 'null';
      }
    }
    if (origin === undefined || this.originAllowed(origin, headers)) return undefined;
    return { status: 403, message: `cross-origin request from ${JSON.stringify(origin)} refused; allow it with web.cors_origin` };
  }

  /** CORS response headers for an allowed cross-origin reader; none unless `web.cors_origin` matches. */
  corsHeaders(headers: IncomingHttpHeaders): Record<string, string> {
    const origin = headers.origin;
    if (origin === undefined || !this.opts.corsOrigin?.test(origin)) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
      'access-control-allow-headers': 'Accept, Authorization, Content-Type, Origin',
      'access-control-expose-headers': 'Date',
      vary: 'Origin',
    };
  }
}

/** Anchors a `web.cors_origin` pattern as Prometheus does, so `https://a\.example` cannot match `https://a.example.evil`. */
export function corsOriginRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}
