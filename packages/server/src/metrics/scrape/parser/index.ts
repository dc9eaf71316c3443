/**
 * Exposition-format parsing for scrapes: Prometheus text 0.0.4 and OpenMetrics 1.0 text, as
 * Prometheus 3 parses them. Pick a parser with {@link createParser} (usually from
 * {@link formatForContentType}) and pull entries until `eof`.
 */
import { OpenMetricsParser } from './omparse.js';
import { PromTextParser } from './promparse.js';
import type { ExpositionFormat, ExpositionParser } from './types.js';

export { ExpositionError } from './errors.js';
export { formatForContentType, parseMediaType, SCRAPE_ACCEPT_HEADER, type NegotiatedFormat } from './contentType.js';
export { familySuffixes, isCreatedName, isSeriesOfFamily } from './family.js';
export { formatOpenMetricsFloat, parseFloatBytes } from './float.js';
export { OpenMetricsParser } from './omparse.js';
export { PromTextParser } from './promparse.js';
export * from './types.js';

/** A parser for `body` in `format`. The body is read in place and must not change while parsing. */
export function createParser(body: Buffer, format: ExpositionFormat): ExpositionParser {
  return format === 'openmetrics-text' ? new OpenMetricsParser(body) : new PromTextParser(body);
}
