/**
 * A token bucket: `rate` tokens a second flow in up to `burst`; a take either fits or is refused
 * with the seconds until it would. Ingestion rate limits (samples, log bytes) share it, so they
 * behave alike. Refilled lazily on take: no timer, and no allocation per call.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  /**
   * @param rate tokens per second; 0 or less means unlimited.
   * @param burst most tokens held, the largest single take that can ever succeed.
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  /** True when no take can ever be refused. */
  get unlimited(): boolean {
    return this.rate <= 0;
  }

  /** Tokens available now (for the usage gauges). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Takes `n` tokens if they are there and returns 0; otherwise takes nothing and returns the whole
   * seconds (at least 1) to wait before the same take fits, the Retry-After a client is given. A
   * take larger than the burst never fits: it returns Infinity.
   */
  take(n: number): number {
    if (this.rate <= 0) return 0;
    if (n > this.burst) return Infinity;
    this.refill();
    if (n > this.tokens) return Math.max(1, Math.ceil((n - this.tokens) / this.rate));
    this.tokens -= n;
    return 0;
  }

  private refill(): void {
    const now = this.now();
    // A clock that steps back must not drain the bucket.
    if (now > this.at) this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
  }
}
