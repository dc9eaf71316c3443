/**
 * Acknowledgements (a Vigil extra). An acknowledgement belongs to one occurrence of an alert (its
 * fingerprint and start time): when the alert resolves and fires again, the new occurrence is
 * unacknowledged. While acknowledged, repeat notifications stop; changes to the group still notify.
 */
import type { Clock } from '../../core/time/clock.js';
import { readJson, writeJson } from './persist.js';
import type { Alert } from './types.js';

/** One acknowledgement. */
export interface Ack {
  fingerprint: string;
  /** The start time of the acknowledged occurrence. */
  startsAt: number;
  by: string;
  at: number;
  comment: string;
  /** Epoch ms when the acknowledgement lapses; 0: when the alert resolves. */
  expiresAt: number;
}

/** A manual resolve, kept so that re-sends of the same occurrence do not re-open it. */
export interface ManualResolve {
  fingerprint: string;
  startsAt: number;
  by: string;
  at: number;
  comment: string;
}

interface State {
  acks: Ack[];
  resolves: ManualResolve[];
}

/** Acknowledgements and manual resolves, persisted to `acks.json`. */
export class AckStore {
  private readonly acks = new Map<string, Ack>();
  private readonly resolves = new Map<string, ManualResolve>();

  constructor(
    private readonly clock: Clock,
    private readonly file: string | undefined,
    onError: (err: Error) => void = () => {},
  ) {
    if (!file) return;
    const data = readJson(file, onError) as State | undefined;
    for (const a of data?.acks ?? []) this.acks.set(a.fingerprint, a);
    for (const r of data?.resolves ?? []) this.resolves.set(r.fingerprint, r);
  }

  /** Records an acknowledgement of the alert's current occurrence. */
  ack(alert: Alert, by: string, comment: string, expiresAt: number): Ack {
    const a: Ack = { fingerprint: alert.fingerprint, startsAt: alert.startsAt, by, at: this.clock.now(), comment, expiresAt };
    this.acks.set(alert.fingerprint, a);
    this.save();
    return a;
  }

  /** Removes an acknowledgement; true when there was one. */
  unack(fp: string): boolean {
    const had = this.acks.delete(fp);
    if (had) this.save();
    return had;
  }

  /** The acknowledgement in force for this occurrence of the alert, if any. */
  active(alert: Alert): Ack | undefined {
    const a = this.acks.get(alert.fingerprint);
    if (!a || a.startsAt !== alert.startsAt) return undefined;
    if (a.expiresAt !== 0 && a.expiresAt <= this.clock.now()) return undefined;
    return a;
  }

  /** Records a manual resolve of the alert's current occurrence. */
  resolve(alert: Alert, by: string, comment: string): ManualResolve {
    const r: ManualResolve = { fingerprint: alert.fingerprint, startsAt: alert.startsAt, by, at: this.clock.now(), comment };
    this.resolves.set(alert.fingerprint, r);
    this.save();
    return r;
  }

  /** The manual resolve of this occurrence, if any. */
  resolvedByHand(fp: string, startsAt: number): ManualResolve | undefined {
    const r = this.resolves.get(fp);
    return r && r.startsAt === startsAt ? r : undefined;
  }

  /** Forgets entries for alerts no longer stored. */
  gc(exists: (fp: string) => boolean): void {
    let changed = false;
    for (const m of [this.acks, this.resolves] as Array<Map<string, unknown>>) {
      for (const fp of m.keys()) {
        if (!exists(fp)) {
          m.delete(fp);
          changed = true;
        }
      }
    }
    if (changed) this.save();
  }

  private save(): void {
    if (this.file) writeJson(this.file, { acks: [...this.acks.values()], resolves: [...this.resolves.values()] } satisfies State);
  }
}
