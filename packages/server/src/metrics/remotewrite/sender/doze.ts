/**
 * A sleep that new work can cut short: a send loop waits for its batch deadline (or for ever when
 * idle) and is woken as soon as a full batch is ready or the queue stops, without polling.
 */
export class Doze {
  private wakeUp: (() => void) | undefined;

  /** Resolves after `ms` (never, for Infinity) or at the next {@link wake}, whichever comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = ms === Infinity ? undefined : setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        if (t) clearTimeout(t);
        resolve();
      };
    });
  }

  /** Ends the current sleep, if any; a wake with nobody asleep is forgotten. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
}
