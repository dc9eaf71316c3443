/**
 * A simulated payment gateway: about 80 ms per charge and 2% declines normally; under the fault
 * it answers in seconds, past the client's timeout.
 */

/** The gateway did not answer in time. */
export class GatewayTimeoutError extends Error {
  override readonly name = 'GatewayTimeoutError';
  readonly code = 'ETIMEDOUT' as const;
}

/** The outcome of a charge. */
export type ChargeResult = 'success' | 'declined';

/** Options of {@link PaymentGateway}. */
export interface GatewayOptions {
  /** Client-side timeout of a charge (default 10 s). */
  readonly timeoutMs?: number;
  /** Latency range under the fault (default 4–12 s). */
  readonly faultLatencyMs?: readonly [number, number];
  /** Share of declined cards (default 0.02). */
  readonly declineRate?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The simulated gateway. */
export class PaymentGateway {
  /** When true, the gateway is slow: the incident. */
  degraded = false;
  private readonly timeoutMs: number;
  private readonly faultLatency: readonly [number, number];
  private readonly declineRate: number;

  constructor(opts: GatewayOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.faultLatency = opts.faultLatencyMs ?? [4000, 12_000];
    this.declineRate = opts.declineRate ?? 0.02;
  }

  /** Charges a card; throws {@link GatewayTimeoutError} past the timeout. */
  async charge(amountCents: number): Promise<ChargeResult> {
    void amountCents;
    const [lo, hi] = this.faultLatency;
    const latency = this.degraded ? lo + Math.random() * (hi - lo) : 40 + Math.random() * 80;
    if (latency > this.timeoutMs) {
      await sleep(this.timeoutMs);
      throw new GatewayTimeoutError(`payment gateway did not answer within ${this.timeoutMs} ms`);
    }
    await sleep(latency);
    return Math.random() < this.declineRate ? 'declined' : 'success';
  }
}
