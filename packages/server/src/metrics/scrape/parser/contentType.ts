/**
 * Content negotiation for scrapes: the `Accept` header a scraper sends, and the parser chosen
 * from the target's `Content-Type`. Targets that send no, an unparsable or an unknown media type
 * are read as Prometheus text 0.0.4, which is what nearly every such target means.
 */
import type { ExpositionFormat } from './types.js';

/**
 * The `Accept` header Prometheus sends when scraping: OpenMetrics 1.0.0, then OpenMetrics 0.0.1,
 * then text 0.0.4, then anything.
 */
export const SCRAPE_ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** The format to parse a response with, and whether it was a guess. */
export interface NegotiatedFormat {
  readonly format: ExpositionFormat;
  /** True when the content type was missing or not recognised and text 0.0.4 was assumed. */
  readonly fallback: boolean;
  /** The media type as sent, lower-cased without parameters ('' when absent). */
  readonly mediaType: string;
}

/** Splits `type/subtype; k=v; …` into the lower-cased media type and its parameters. */
export function parseMediaType(contentType: string): { mediaType: string; params: Map<string, string> } {
  const parts = contentType.split(';');
  const mediaType = parts[0]!.trim().toLowerCase();
  const params = new Map<string, string>();
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k]!;
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    params.set(p.slice(0, eq).trim().toLowerCase(), v);
  }
  return { mediaType, params };
}

/** Chooses the parser for a response's `Content-Type` header value. */
export function formatForContentType(contentType: string | null | undefined): NegotiatedFormat {
  if (!contentType) return { format: 'prometheus-text', fallback: true, mediaType: '' };
  const { mediaType } = parseMediaType(contentType);
  // Both OpenMetrics versions (1.0.0 and the pre-release 0.0.1) share one text syntax.
  if (mediaType === 'application/openmetrics-text') return { format: 'openmetrics-text', fallback: false, mediaType };
  if (mediaType === 'text/plain') return { format: 'prometheus-text', fallback: false, mediaType };
  return { format: 'prometheus-text', fallback: true, mediaType };
}
