/**
 * Cooperative pacing for the query drivers: a query runs on the event loop that also serves ingest
 * and every other request, so it gives the loop back about every few milliseconds of work and
 * stops as soon as its caller gives up.
 */

/** Resolves on the next turn of the event loop, so timers and I/O run between slices of work. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Cooperative pacing shared by search and metrics: yield every `sliceMs`, stop when aborted. */
export class Pacer {
  private last = performance.now();
  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly sliceMs = 5,
  ) {
    signal?.throwIfAborted();
  }
  async tick(): Promise<void> {
    if (performance.now() - this.last < this.sliceMs) return;
    await yieldToLoop();
    this.signal?.throwIfAborted();
    this.last = performance.now();
  }
}
