/**
 * The HTTP side of a scrape: one GET with the scrape config's HTTP client settings (authentication,
 * TLS, redirects, proxy: see ../httpclient/client.ts), gzip and a body size limit. Behind the
 * {@link ScrapeTransport} interface so loops can be tested with an in-memory fake. One transport per
 * scrape pool keeps connections alive across scrapes, which matters with a thousand targets.
 */
import { HttpClient } from '../../core/httpclient/client.js';
import type { ScrapeConfig } from './config.js';

export { BodySizeLimitError } from '../../core/httpclient/client.js';

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

/** The node:http(s) transport, with the auth, TLS, redirect and proxy settings of `cfg`. */
export function httpTransport(cfg: ScrapeConfig): ScrapeTransport {
  const client = new HttpClient(cfg);
  return {
    async fetch(req) {
      const headers = cfg.enableCompression ? { ...req.headers, 'accept-encoding': 'gzip' } : req.headers;
      const res = await client.request('GET', req.url, { headers, signal: req.signal, bodySizeLimit: req.bodySizeLimit });
      return { status: res.status, statusText: res.statusText, contentType: res.headers['content-type'], body: res.body };
    },
    close: () => client.close(),
  };
}
