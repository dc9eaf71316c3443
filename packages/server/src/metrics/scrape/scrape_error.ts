/** The error a failed scrape records; its own module so the loop's helpers can throw it too. */
import { VigilError } from '../../core/errors.js';

/** A scrape that failed; `message` is what the targets API shows as `lastError`. */
export class ScrapeError extends VigilError {
  declare readonly code: 'http' | 'parse' | 'sample_limit' | 'label_limit' | 'bucket_limit' | 'invalid_series' | 'storage';
  constructor(code: ScrapeError['code'], message: string) {
    super(code, message);
  }
}
