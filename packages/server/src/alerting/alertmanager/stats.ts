/**
 * Notification and response statistics (a Vigil extra): attempts and outcomes per receiver
 * integration, and the running sums behind mean time to acknowledge and to resolve. Persisted so
 * a restart does not reset them.
 */
import { readJson, writeJson } from './persist.js';

/** Outcomes of one integration. */
export interface IntegrationStats {
  attempts: number;
  succeeded: number;
  failed: number;
  /** Epoch ms of the last attempt and the last success (absent before the first). */
  lastAttemptAt?: number;
  lastSuccessAt?: number;
  /** Set while the last attempt failed: when the failures began (the first failure after the last success). */
  failingSince?: number;
  /** Failed attempts since the last success. */
  consecutiveFailures?: number;
  /** The error of the last failed attempt. */
  lastError?: string;
}

interface State {
  integrations: Record<string, IntegrationStats>;
  acks: { count: number; totalMs: number };
  resolves: { count: number; totalMs: number };
}

/** Counters. */
export class Stats {
  private state: State = { integrations: {}, acks: { count: 0, totalMs: 0 }, resolves: { count: 0, totalMs: 0 } };
  private dirty = false;

  constructor(
    private readonly file: string | undefined,
    onError: (err: Error) => void = () => {},
  ) {
    if (!file) return;
    const data = readJson(file, onError) as Partial<State> | undefined;
    if (data?.integrations && data.acks && data.resolves) this.state = data as State;
  }

  /**
   * Records one send attempt of `receiver`'s integration (`receiver/type`) at `time`. A failure
   * marks the integration failing (from its first failure on) until an attempt succeeds.
   */
  attempt(receiver: string, integration: string, ok: boolean, time = 0, error = ''): void {
    const k = `${receiver}/${integration}`;
    const s = (this.state.integrations[k] ??= { attempts: 0, succeeded: 0, failed: 0 });
    s.attempts++;
    if (time) s.lastAttemptAt = time;
    if (ok) {
      s.succeeded++;
      if (time) s.lastSuccessAt = time;
      delete s.failingSince;
      s.consecutiveFailures = 0;
    } else {
      s.failed++;
      s.failingSince ??= time;
      s.consecutiveFailures = (s.consecutiveFailures ?? 0) + 1;
      s.lastError = error;
    }
    this.dirty = true;
  }

  /** Records the time from an alert's start to its acknowledgement. */
  acked(ms: number): void {
    this.state.acks.count++;
    this.state.acks.totalMs += Math.max(0, ms);
    this.dirty = true;
  }

  /** Records how long an alert fired before it resolved. */
  resolved(ms: number): void {
    this.state.resolves.count++;
    this.state.resolves.totalMs += Math.max(0, ms);
    this.dirty = true;
  }

  /** Per integration key, with success rate (NaN before any attempt). */
  integrations(): Array<IntegrationStats & { receiver: string; integration: string; successRate: number }> {
    return Object.entries(this.state.integrations).map(([k, s]) => {
      const i = k.lastIndexOf('/');
      return { receiver: k.slice(0, i), integration: k.slice(i + 1), ...s, successRate: s.attempts ? s.succeeded / s.attempts : NaN };
    });
  }

  /** Mean time to acknowledge and to resolve, in seconds (null before the first). */
  means(): { meanTimeToAcknowledgeSeconds: number | null; meanTimeToResolveSeconds: number | null; acknowledged: number; resolved: number } {
    const { acks, resolves } = this.state;
    return {
      meanTimeToAcknowledgeSeconds: acks.count ? acks.totalMs / acks.count / 1000 : null,
      meanTimeToResolveSeconds: resolves.count ? resolves.totalMs / resolves.count / 1000 : null,
      acknowledged: acks.count,
      resolved: resolves.count,
    };
  }

  /** Writes the file if anything changed. */
  flush(): void {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    writeJson(this.file, this.state);
  }
}
