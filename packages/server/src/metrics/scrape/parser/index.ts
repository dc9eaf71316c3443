/**
 * Exposition-format parsing for scrapes: Prometheus text 0.0.4, OpenMetrics 1.0 text and the
 * Prometheus protobuf format (with native histograms), as Prometheus 3 parses them. Pick a parser with {@link createParser} (usually from
 * {@link formatForContentType}) and pull entries until `eof`.
 */
import { OpenMetricsParser } from './omparse.js';
import { NhcbParser } from './nhcb.js';
import { PromTextParser } from './promparse.js';
import { ProtobufParser, type ProtobufParserOptions } from './protoparse.js';
import type { ExpositionFormat, ExpositionParser } from './types.js';

export { ExpositionError } from './errors.js';
export {
  acceptHeader,
  DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS,
  DEFAULT_SCRAPE_PROTOCOLS,
  formatForContentType,
  parseMediaType,
  protocolFormat,
  SCRAPE_ACCEPT_HEADER,
  SCRAPE_PROTOCOLS,
  type NegotiatedFormat,
  type ScrapeProtocol,
} from './contentType.js';
export { familySuffixes, isCreatedName, isSeriesOfFamily } from './family.js';
export { formatOpenMetricsFloat, parseFloatBytes } from './float.js';
export { OpenMetricsParser } from './omparse.js';
export { PromTextParser } from './promparse.js';
export { ProtobufParser, type ProtobufParserOptions } from './protoparse.js';
export * from './types.js';

/**
 * A parser for `body` in `format`. The body is read in place and must not change while parsing.
 * `histograms` says what becomes of histograms: native ones (protobuf only), and classic ones
 * converted to custom buckets (every format).
 */
export function createParser(body: Buffer, format: ExpositionFormat, histograms?: ProtobufParserOptions): ExpositionParser {
  if (format === 'prometheus-protobuf') return new ProtobufParser(body, histograms);
  const text = format === 'openmetrics-text' ? new OpenMetricsParser(body) : new PromTextParser(body);
  return histograms?.convertClassicToNhcb ? new NhcbParser(text, histograms.keepClassicHistograms === true) : text;
}
