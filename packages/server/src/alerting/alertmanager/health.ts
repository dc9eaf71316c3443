/**
 * Receiver health (a Vigil extra): which configured receiver integrations are failing, since when
 * and with which error, from the attempt statistics. The Alerts page flags them and `/metrics`
 * exports `vigil_receiver_failing{receiver,integration}`.
 */
import type { AlertmanagerConfig } from './config.js';
import type { Stats } from './stats.js';

/** A configured receiver integration's delivery health (`AlertRouter.receiverHealth`). */
export interface ReceiverHealth {
  receiver: string;
  integration: string;
  attempts: number;
  failed: number;
  /** The last attempt failed. */
  failing: boolean;
  /** Epoch ms of the first failure since the last success; null when not failing. */
  failingSince: number | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
}

/**
 * The health of every configured receiver integration: its counts, and whether its last attempt
 * failed (since when, with which error). Integrations of receivers no longer configured are left
 * out, so a removed receiver stops being flagged.
 */
export function receiverHealth(cfg: AlertmanagerConfig, stats: Stats): ReceiverHealth[] {
  const byKey = new Map(stats.integrations().map((s) => [`${s.receiver}/${s.integration}`, s]));
  const out: ReceiverHealth[] = [];
  const seen = new Set<string>();
  for (const r of cfg.receivers)
    for (const c of r.integrations) {
      const k = `${r.name}/${c.type}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const s = byKey.get(k);
      out.push({
        receiver: r.name,
        integration: c.type,
        attempts: s?.attempts ?? 0,
        failed: s?.failed ?? 0,
        failing: s?.failingSince !== undefined,
        failingSince: s?.failingSince ?? null,
        consecutiveFailures: s?.consecutiveFailures ?? 0,
        lastError: s?.failingSince !== undefined ? (s.lastError ?? '') : null,
        lastAttemptAt: s?.lastAttemptAt ?? null,
        lastSuccessAt: s?.lastSuccessAt ?? null,
      });
    }
  return out;
}
