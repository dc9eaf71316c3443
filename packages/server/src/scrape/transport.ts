/**
 * The HTTP side of a scrape: one GET with the scrape config's authentication and TLS settings,
 * gzip, redirects and a body size limit. Behind the {@link ScrapeTransport} interface so loops can
 * be tested with an in-memory fake. One transport per scrape pool keeps connections alive across
 * scrapes, which matters with a thousand targets.
 */
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import type { ScrapeConfig } from './config.js';

/** One scrape request. */
export interface ScrapeRequest {
  readonly url: string;
  /** Headers besides authentication, which the transport adds itself. */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborted on timeout or when the loop stops. */
  readonly signal: AbortSignal;
  /** Largest uncompressed body in bytes; 0: no limit. */
  readonly bodySizeLimit: number;
}

/** A scrape response with the whole (decompressed) body. */
export interface ScrapeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Fetches scrape bodies; `close()` releases pooled connections. */
export interface ScrapeTransport {
  fetch(req: ScrapeRequest): Promise<ScrapeResponse>;
  close(): void;
}

/** Builds the transport of a scrape pool. */
export type TransportFactory = (cfg: ScrapeConfig) => ScrapeTransport;

/** The body was larger than `body_size_limit`. */
export class BodySizeLimitError extends Error {
  readonly code = 'body_size_limit' as const;
  constructor(limit: number) {
    super(`body size limit exceeded (limit: ${limit} bytes)`);
    this.name = 'BodySizeLimitError';
  }
}

const MAX_REDIRECTS = 10;

/** The node:http(s) transport, with the auth and TLS of `cfg`. */
export function httpTransport(cfg: ScrapeConfig): ScrapeTransport {
  return new HttpTransport(cfg);
}

class HttpTransport implements ScrapeTransport {
  private httpAgent = new http.Agent({ keepAlive: true });
  private httpsAgent: https.Agent | undefined;

  constructor(private readonly cfg: ScrapeConfig) {}

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  /** TLS files are read on first use, so a missing file is a scrape error, not a crash at reload. */
  private async tlsAgent(): Promise<https.Agent> {
    if (this.httpsAgent) return this.httpsAgent;
    const t = this.cfg.tlsConfig;
    const read = async (f: string | undefined, what: string): Promise<Buffer | undefined> => {
      if (f === undefined) return undefined;
      try {
        return await fs.readFile(f);
      } catch (err) {
        throw new Error(`unable to read ${what} file ${f}: ${(err as Error).message}`);
      }
    };
    const [ca, cert, key] = await Promise.all([read(t.caFile, 'CA'), read(t.certFile, 'cert'), read(t.keyFile, 'key')]);
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      rejectUnauthorized: !t.insecureSkipVerify,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(t.serverName !== undefined ? { servername: t.serverName } : {}),
    });
    return this.httpsAgent;
  }

  /** The Authorization header; secret files are re-read every scrape so rotation needs no reload. */
  private async authHeader(): Promise<string | undefined> {
    const { basicAuth: b, authorization: a } = this.cfg;
    if (b) {
      const pw = b.passwordFile !== undefined ? (await fs.readFile(b.passwordFile, 'utf8')).trim() : (b.password ?? '');
      return `Basic ${Buffer.from(`${b.username}:${pw}`).toString('base64')}`;
    }
    if (a) {
      const cred = a.credentialsFile !== undefined ? (await fs.readFile(a.credentialsFile, 'utf8')).trim() : (a.credentials ?? '');
      return `${a.type} ${cred}`;
    }
    return undefined;
  }

  async fetch(req: ScrapeRequest): Promise<ScrapeResponse> {
    const headers: Record<string, string> = { ...req.headers };
    const auth = await this.authHeader();
    if (auth !== undefined) headers['authorization'] = auth;
    if (this.cfg.enableCompression) headers['accept-encoding'] = 'gzip';
    let url = req.url;
    for (let hops = 0; ; hops++) {
      const u = new URL(url);
      const agent = u.protocol === 'https:' ? await this.tlsAgent() : this.httpAgent;
      const res = await get(u, headers, agent, req);
      const loc = res.location;
      if (loc !== undefined && this.cfg.followRedirects && [301, 302, 303, 307, 308].includes(res.status)) {
        if (hops >= MAX_REDIRECTS) throw new Error(`Get ${JSON.stringify(req.url)}: stopped after ${MAX_REDIRECTS} redirects`);
        url = new URL(loc, u).href;
        continue;
      }
      return res;
    }
  }
}

function get(u: URL, headers: Record<string, string>, agent: http.Agent, req: ScrapeRequest): Promise<ScrapeResponse & { location?: string }> {
  const mod = u.protocol === 'https:' ? https : http;
  const prefix = `Get ${JSON.stringify(u.href)}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, res?: ScrapeResponse & { location?: string }): void => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const r = mod.request(u, { method: 'GET', headers, agent });
    const onAbort = (): void => {
      r.destroy();
      done(new Error(`${prefix}: context deadline exceeded`));
    };
    if (req.signal.aborted) return onAbort();
    req.signal.addEventListener('abort', onAbort, { once: true });
    r.on('error', (err) => done(new Error(`${prefix}: ${err.message}`)));
    r.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      const gzip = /\bgzip\b/i.test(res.headers['content-encoding'] ?? '');
      const src: NodeJS.ReadableStream = gzip ? res.pipe(zlib.createGunzip()) : res;
      const chunks: Buffer[] = [];
      let size = 0;
      src.on('data', (c: Buffer) => {
        size += c.length;
        if (req.bodySizeLimit > 0 && size > req.bodySizeLimit) {
          res.destroy();
          done(new BodySizeLimitError(req.bodySizeLimit));
          return;
        }
        chunks.push(c);
      });
      src.on('error', (err: Error) => done(new Error(`${prefix}: ${gzip ? 'gzip: ' : ''}${err.message}`)));
      src.on('end', () =>
        done(undefined, {
          status,
          statusText: res.statusMessage ?? '',
          contentType: res.headers['content-type'],
          body: Buffer.concat(chunks, size),
          ...(location !== undefined ? { location } : {}),
        }),
      );
    });
    r.end();
  });
}
