/**
 * Content negotiation for scrapes: the `Accept` header a scraper sends (from `scrape_protocols`),
 * and the parser chosen from the target's `Content-Type`. Targets that send no, an unparsable or an unknown media type
 * are read as Prometheus text 0.0.4, which is what nearly every such target means.
 */
import type { ExpositionFormat } from './types.js';

/** `scrape_protocols` values and the media types they stand for, as Prometheus 3 names them. */
export const SCRAPE_PROTOCOLS = {
  PrometheusProto: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'PrometheusText0.0.4': 'text/plain;version=0.0.4',
  'PrometheusText1.0.0': 'text/plain;version=1.0.0',
  'OpenMetricsText0.0.1': 'application/openmetrics-text;version=0.0.1',
  'OpenMetricsText1.0.0': 'application/openmetrics-text;version=1.0.0',
} as const;
/** One of the keys of {@link SCRAPE_PROTOCOLS}. */
export type ScrapeProtocol = keyof typeof SCRAPE_PROTOCOLS;

/** Prometheus' default `scrape_protocols`. */
export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = [
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
];
/** The default when native histograms are scraped: protobuf first, the only format that carries them. */
export const DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = ['PrometheusProto', ...DEFAULT_SCRAPE_PROTOCOLS];

/**
 * The `Accept` header for `protocols`, in order of preference, as Prometheus 3 builds it: weights
 * falling by 0.1 from 0.6 (one more than the number of protocols there are), then anything.
 */
export function acceptHeader(protocols: readonly ScrapeProtocol[]): string {
  let weight = Object.keys(SCRAPE_PROTOCOLS).length + 1;
  const parts = protocols.map((p) => `${SCRAPE_PROTOCOLS[p]};q=0.${weight--}`);
  parts.push(`*/*;q=0.${weight}`);
  return parts.join(',');
}

/** The `Accept` header of a scrape with the default protocols. */
export const SCRAPE_ACCEPT_HEADER = acceptHeader(DEFAULT_SCRAPE_PROTOCOLS);

/** The parser each protocol's media type is read with. */
export function protocolFormat(p: ScrapeProtocol): ExpositionFormat {
  return p === 'PrometheusProto' ? 'prometheus-protobuf' : p.startsWith('OpenMetrics') ? 'openmetrics-text' : 'prometheus-text';
}

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

/**
 * Chooses the parser for a response's `Content-Type` header value; `fallback` (the job's
 * `fallback_scrape_protocol`) is the format of a missing or unknown one, text 0.0.4 without it.
 */
export function formatForContentType(contentType: string | null | undefined, fallback: ExpositionFormat = 'prometheus-text'): NegotiatedFormat {
  if (!contentType) return { format: fallback, fallback: true, mediaType: '' };
  const { mediaType } = parseMediaType(contentType);
  // Both OpenMetrics versions (1.0.0 and the pre-release 0.0.1) share one text syntax.
  if (mediaType === 'application/openmetrics-text') return { format: 'openmetrics-text', fallback: false, mediaType };
  if (mediaType === 'text/plain') return { format: 'prometheus-text', fallback: false, mediaType };
  if (mediaType === 'application/vnd.google.protobuf') return { format: 'prometheus-protobuf', fallback: false, mediaType };
  return { format: fallback, fallback: true, mediaType };
}
