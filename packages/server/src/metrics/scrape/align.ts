/**
 * Scrape timestamps aligned to their slot in the interval, as Prometheus' scrape loop stamps them
 * (`--scrape.adjust-timestamps`, `--scrape.timestamp-tolerance`): timer jitter of a millisecond or
 * two would otherwise give every sample's timestamp a delta-of-delta of its own, 16 bits in a
 * chunk instead of 1, and a chunk encoder that writes them on every append.
 */

/** A scrape that starts this close to its slot is stamped with the slot (Prometheus' default tolerance). */
export const SCRAPE_TIMESTAMP_TOLERANCE_MS = 2;

/** The slots of one scrape loop: its first scrape's start, then whole intervals on. */
export class ScrapeTimeAligner {
  private slot = NaN;

  constructor(private readonly intervalMs: number) {}

  /**
   * The timestamp of a scrape starting at `start` (ms): its slot when it starts within the
   * tolerance of it, else `start`. Skipped slots are passed over; intervals of 100 tolerances or
   * less are never aligned, as in Prometheus. Unlike there the nearest slot is taken, not the last
   * one passed, since a Node timer may fire a millisecond early.
   */
  stamp(start: number): number {
    const interval = this.intervalMs;
    if (interval <= 100 * SCRAPE_TIMESTAMP_TOLERANCE_MS) return start;
    if (this.slot !== this.slot) {
      this.slot = start;
      return start;
    }
    const slots = Math.round((start - this.slot) / interval);
    if (slots > 0) this.slot += slots * interval;
    const d = start - this.slot;
    return d <= SCRAPE_TIMESTAMP_TOLERANCE_MS && d >= -SCRAPE_TIMESTAMP_TOLERANCE_MS ? this.slot : start;
  }
}
