/**
 * The scrape settings that choose exposition formats and what becomes of histograms, with
 * Prometheus 3's names and defaults, in `global:` and per job (a job's unset field takes the
 * global one):
 *
 * - `scrape_protocols`: the formats offered in the Accept header, most wanted first. Unset, it is
 *   PrometheusProto first when native histograms are scraped (only protobuf carries them), else
 *   the text formats.
 * - `fallback_scrape_protocol` (jobs only; unset: Prometheus text): how a response without a known
 *   `Content-Type` is read.
 * - `native_histogram_bucket_limit` (0: none) and `native_histogram_min_bucket_factor` (0: none),
 *   jobs only: the resolution native histograms are stored at (see ./histogram_limits.ts).
 * - `scrape_native_histograms` (false): store native histograms of protobuf scrapes as such.
 *   (Prometheus 2 had this as the `native-histograms` feature flag.)
 * - `always_scrape_classic_histograms` (false): also store the classic `_bucket`, `_count` and
 *   `_sum` series of a histogram that is exposed as a native histogram too.
 * - `convert_classic_histograms_to_nhcb` (false): store classic histograms (text, or protobuf
 *   without native fields) as native histograms with custom buckets (schema −53).
 */
import type { SdReader } from './sd_config.js';
import { DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS, SCRAPE_PROTOCOLS, type ScrapeProtocol } from './parser/contentType.js';

/** The fields of this module allowed in `global:`. */
export const FORMAT_FIELDS = [
  'scrape_protocols',
  'scrape_native_histograms',
  'always_scrape_classic_histograms',
  'convert_classic_histograms_to_nhcb',
] as const;
/** The fields of this module allowed in a scrape config. */
export const JOB_FORMAT_FIELDS = [...FORMAT_FIELDS, 'fallback_scrape_protocol', 'native_histogram_bucket_limit', 'native_histogram_min_bucket_factor'] as const;

/** The format settings as `global:` holds them (`scrapeProtocols` undefined: chosen per job). */
export interface GlobalFormats {
  readonly scrapeProtocols?: readonly ScrapeProtocol[];
  readonly scrapeNativeHistograms: boolean;
  readonly alwaysScrapeClassicHistograms: boolean;
  readonly convertClassicHistogramsToNhcb: boolean;
}

/** The format settings of one job, every default filled in. */
export interface ScrapeFormats {
  readonly scrapeProtocols: readonly ScrapeProtocol[];
  /** How a response without a known `Content-Type` is read (unset: as Prometheus text 0.0.4). */
  readonly fallbackScrapeProtocol?: ScrapeProtocol;
  /** At most this many buckets in a native histogram, resolution reduced to fit (0: no limit). */
  readonly nativeHistogramBucketLimit: number;
  /** Native histograms' buckets at least this factor wide (0: any). */
  readonly nativeHistogramMinBucketFactor: number;
  readonly scrapeNativeHistograms: boolean;
  readonly alwaysScrapeClassicHistograms: boolean;
  readonly convertClassicHistogramsToNhcb: boolean;
}

/** Prometheus' defaults for `global:`. */
export const DEFAULT_GLOBAL_FORMATS: GlobalFormats = {
  scrapeNativeHistograms: false,
  alwaysScrapeClassicHistograms: false,
  convertClassicHistogramsToNhcb: false,
};

type Path = ReadonlyArray<string | number>;

function has(rec: Record<string, unknown>, k: string): boolean {
  return rec[k] !== undefined && rec[k] !== null;
}

function protocol(r: SdReader, p: Path, v: unknown): ScrapeProtocol {
  const s = r.string(p, v);
  const known = Object.keys(SCRAPE_PROTOCOLS);
  if (!known.includes(s)) r.fail(p, `unknown scrape protocol ${s}, supported: ${[...known].sort().join(', ')}`);
  return s as ScrapeProtocol;
}

/** A `scrape_protocols` list: known names (case-sensitive, as Prometheus), not empty, no repeats. */
function protocols(r: SdReader, p: Path, v: unknown): ScrapeProtocol[] {
  const items = r.list(p, v);
  if (items.length === 0) r.fail(p, 'scrape_protocols cannot be empty');
  const seen = new Set<string>();
  return items.map((item, i) => {
    const s = protocol(r, [...p, i], item);
    if (seen.has(s.toLowerCase())) r.fail([...p, i], `duplicated protocol in scrape_protocols, got ${items.map(String).join(', ')}`);
    seen.add(s.toLowerCase());
    return s;
  });
}

/** A non-negative number (YAML may hand over a string for it). */
function factor(r: SdReader, p: Path, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(r.string(p, v));
  if (!Number.isFinite(n) || n < 0) r.fail(p, `expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** Reads the format fields of `global:` (the mapping `g` at `p`). */
export function parseGlobalFormats(r: SdReader, p: Path, g: Record<string, unknown>): GlobalFormats {
  const flag = (k: string): boolean => (has(g, k) ? r.boolean([...p, k], g[k]) : false);
  const out = {
    scrapeNativeHistograms: flag('scrape_native_histograms'),
    alwaysScrapeClassicHistograms: flag('always_scrape_classic_histograms'),
    convertClassicHistogramsToNhcb: flag('convert_classic_histograms_to_nhcb'),
  };
  return has(g, 'scrape_protocols') ? { ...out, scrapeProtocols: protocols(r, [...p, 'scrape_protocols'], g['scrape_protocols']) } : out;
}

/** Reads the format fields of a scrape config (the mapping `c` at `p`), defaults from `global`. */
export function parseScrapeFormats(r: SdReader, p: Path, c: Record<string, unknown>, global: GlobalFormats): ScrapeFormats {
  const flag = (k: string, dflt: boolean): boolean => (has(c, k) ? r.boolean([...p, k], c[k]) : dflt);
  const scrapeNativeHistograms = flag('scrape_native_histograms', global.scrapeNativeHistograms);
  const scrapeProtocols = has(c, 'scrape_protocols')
    ? protocols(r, [...p, 'scrape_protocols'], c['scrape_protocols'])
    : (global.scrapeProtocols ?? (scrapeNativeHistograms ? DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS : DEFAULT_SCRAPE_PROTOCOLS));
  return {
    scrapeProtocols,
    ...(has(c, 'fallback_scrape_protocol') ? { fallbackScrapeProtocol: protocol(r, [...p, 'fallback_scrape_protocol'], c['fallback_scrape_protocol']) } : {}),
    scrapeNativeHistograms,
    nativeHistogramBucketLimit: has(c, 'native_histogram_bucket_limit')
      ? r.uint([...p, 'native_histogram_bucket_limit'], c['native_histogram_bucket_limit'])
      : 0,
    nativeHistogramMinBucketFactor: has(c, 'native_histogram_min_bucket_factor')
      ? factor(r, [...p, 'native_histogram_min_bucket_factor'], c['native_histogram_min_bucket_factor'])
      : 0,
    alwaysScrapeClassicHistograms: flag('always_scrape_classic_histograms', global.alwaysScrapeClassicHistograms),
    convertClassicHistogramsToNhcb: flag('convert_classic_histograms_to_nhcb', global.convertClassicHistogramsToNhcb),
  };
}
