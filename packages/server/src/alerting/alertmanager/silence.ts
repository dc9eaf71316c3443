/**
 * Silences: matchers plus a time window, persisted to the data directory. A silence is pending
 * before it starts, active while it lasts and expired after; expired silences are kept for a
 * retention period so they stay visible, as in Alertmanager.
 */
import { randomUUID } from 'node:crypto';
import { Matcher, MatcherError } from '../../core/model/matcher.js';
import { isValidLabelName } from '../../core/model/labels.js';
import type { Clock } from '../../core/time/clock.js';
import { readJson, writeJson } from './persist.js';
import { formatTime, matchesAll, parseTime, type LabelSet } from './types.js';
import { VigilError, writeFailure } from '../../core/errors.js';

/** A silence with its compiled matchers. */
interface Entry {
  s: Silence;
  compiled: Matcher[];
}

/** Silence states. */
export type SilenceState = 'pending' | 'active' | 'expired';

/** A matcher in the API's JSON shape. */
export interface ApiMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

/** A stored silence. */
export interface Silence {
  id: string;
  matchers: ApiMatcher[];
  startsAt: number;
  endsAt: number;
  updatedAt: number;
  createdBy: string;
  comment: string;
}

/** A rejected silence (maps to HTTP 400). */
export class SilenceError extends VigilError {
  override readonly code = 'bad_silence' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('bad_silence', message, options);
  }
}

/** A new silence refused because `max_silences` silences are active or pending. */
export class SilenceLimitError extends VigilError {
  override readonly code = 'silence_limit' as const;
  constructor(message: string) {
    super('silence_limit', message);
  }
}

/** A silence id that does not exist (maps to HTTP 404). */
export class SilenceNotFoundError extends VigilError {
  override readonly code = 'not_found' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('not_found', message, options);
  }
}

/** Expiring a silence that has already expired (Alertmanager answers HTTP 500 for it). */
export class SilenceExpiredError extends VigilError {
  override readonly code = 'silence_expired' as const;
  constructor(message: string) {
    super('silence_expired', message);
  }
}

/** The state of `s` at `now`. */
export function silenceState(s: Silence, now: number): SilenceState {
  if (s.endsAt <= now) return 'expired';
  if (s.startsAt > now) return 'pending';
  return 'active';
}

/** Compiles API matchers. */
export function compileMatchers(ms: readonly ApiMatcher[]): Matcher[] {
  return ms.map((m) => new Matcher(m.isRegex ? (m.isEqual === false ? '!~' : '=~') : m.isEqual === false ? '!=' : '=', m.name, m.value));
}

/** Silences in the API's JSON shape. */
export function silenceToApi(s: Silence, now: number): Record<string, unknown> {
  return {
    id: s.id,
    matchers: s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual !== false })),
    startsAt: formatTime(s.startsAt),
    endsAt: formatTime(s.endsAt),
    updatedAt: formatTime(s.updatedAt),
    createdBy: s.createdBy,
    comment: s.comment,
    status: { state: silenceState(s, now) },
  };
}

/** What clients post to create or update a silence. */
export interface PostableSilence {
  id?: string;
  matchers: ApiMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** The silence store. */
export class Silences {
  private readonly byId = new Map<string, Entry>();
  private readonly file: string | undefined;
  /**
   * Most silences active or pending at once (`max_silences`, Alertmanager's
   * `--silences.max-silences`); 0: no limit. Expired ones do not count: they go by themselves.
   */
  maxSilences = 0;
  /** New silences refused by {@link maxSilences}. */
  refused = 0;

  /**
   * @param dir directory for `silences.json`; undefined keeps silences in memory only.
   * @param retentionMs how long expired silences are kept (Alertmanager: 120h).
   */
  constructor(
    private readonly clock: Clock,
    dir: string | undefined,
    private readonly retentionMs = 120 * 3600_000,
    onError: (err: Error) => void = () => {},
  ) {
    this.file = dir === undefined ? undefined : `${dir}/silences.json`;
    if (this.file === undefined) return;
    const data = readJson(this.file, onError);
    if (!Array.isArray(data)) return;
    for (const s of data as Silence[]) {
      try {
        this.byId.set(s.id, { s, compiled: compileMatchers(s.matchers) });
      } catch (err) {
        onError(err as Error);
      }
    }
  }

  /** Validates and stores a silence; returns its id (a new one when the old cannot be updated in place). */
  set(p: PostableSilence): string {
    const now = this.clock.now();
    let startsAt: number;
    let endsAt: number;
    try {
      startsAt = parseTime(p.startsAt);
      endsAt = parseTime(p.endsAt);
    } catch (err) {
      throw new SilenceError((err as Error).message);
    }
    if (!Array.isArray(p.matchers) || p.matchers.length === 0) throw new SilenceError('at least one matcher required');
    let compiled: Matcher[];
    try {
      for (const m of p.matchers) if (!isValidLabelName(m.name)) throw new SilenceError(`invalid label name ${JSON.stringify(m.name)}`);
      compiled = compileMatchers(p.matchers);
    } catch (err) {
      if (err instanceof MatcherError || err instanceof SilenceError) throw new SilenceError(`invalid silence: ${err.message}`);
      throw err;
    }
    if (compiled.every((m) => m.matchesEmpty())) throw new SilenceError('at least one matcher must not match the empty string');
    if (endsAt <= startsAt) throw new SilenceError('Failed to create silence: start time must be before end time');
    if (endsAt < now) throw new SilenceError("Failed to create silence: end time can't be in the past");
    if (startsAt < now) startsAt = now;
    const matchers = p.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual !== false }));
    const next: Silence = { id: '', matchers, startsAt, endsAt, updatedAt: now, createdBy: String(p.createdBy ?? ''), comment: String(p.comment ?? '') };
    if (p.id) {
      const prev = this.byId.get(p.id);
      if (!prev) throw new SilenceNotFoundError(`silence ${p.id} not found`);
      if (canUpdate(prev.s, next, now)) {
        // Keep the original start of an active silence: it has been muting since then.
        const updated = { ...next, id: p.id, startsAt: silenceState(prev.s, now) === 'active' ? prev.s.startsAt : next.startsAt };
        const before = this.snapshot();
        this.byId.set(p.id, { s: updated, compiled });
        this.saveOrRestore(before);
        return p.id;
      }
      // Checked before the old one is expired, so a refused update leaves the old silence muting.
      this.checkLimit(now, p.id);
    }
    if (!p.id) this.checkLimit(now, undefined);
    const before = this.snapshot();
    if (p.id) {
      const prev = this.byId.get(p.id)!;
      if (silenceState(prev.s, now) !== 'expired') this.expireEntry(prev.s, now);
    }
    const id = randomUUID();
    this.byId.set(id, { s: { ...next, id }, compiled });
    this.saveOrRestore(before);
    return id;
  }

  /** Silences active or pending: what {@link maxSilences} bounds. */
  unexpired(now = this.clock.now()): number {
    let n = 0;
    for (const { s } of this.byId.values()) if (silenceState(s, now) !== 'expired') n++;
    return n;
  }

  /** Throws when one more silence would pass the limit; `replaced` (just expired by an update) does not count. */
  private checkLimit(now: number, replaced: string | undefined): void {
    if (this.maxSilences <= 0) return;
    const n = this.unexpired(now) - (replaced !== undefined && this.byId.has(replaced) && silenceState(this.byId.get(replaced)!.s, now) !== 'expired' ? 1 : 0);
    if (n < this.maxSilences) return;
    this.refused++;
    throw new SilenceLimitError(`exceeded maximum number of silences: ${n} (limit max_silences: ${this.maxSilences}); expire silences or raise the limit`);
  }

  /** Expires a silence now; an already expired silence is an error, as in Alertmanager. */
  expire(id: string): void {
    const e = this.byId.get(id);
    if (!e) throw new SilenceNotFoundError(`silence ${id} not found`);
    const now = this.clock.now();
    if (silenceState(e.s, now) === 'expired') throw new SilenceExpiredError(`silence ${id} already expired`);
    const before = this.snapshot();
    this.expireEntry(e.s, now);
    this.saveOrRestore(before);
  }

  private expireEntry(s: Silence, now: number): void {
    const e = this.byId.get(s.id)!;
    const pending = silenceState(s, now) === 'pending';
    e.s = { ...s, endsAt: now, startsAt: pending ? now : s.startsAt, updatedAt: now };
  }

  /** One silence. */
  get(id: string): Silence | undefined {
    return this.byId.get(id)?.s;
  }

  /** All silences (after dropping those past retention). */
  list(): Silence[] {
    this.gc();
    return [...this.byId.values()].map((e) => e.s);
  }

  /** Ids of active silences that match the label set. */
  mutedBy(labels: LabelSet): string[] {
    const now = this.clock.now();
    const out: string[] = [];
    for (const { s, compiled } of this.byId.values()) if (silenceState(s, now) === 'active' && matchesAll(compiled, labels)) out.push(s.id);
    return out;
  }

  /** Counts by state, for metrics. */
  counts(): Record<SilenceState, number> {
    const now = this.clock.now();
    const c: Record<SilenceState, number> = { pending: 0, active: 0, expired: 0 };
    for (const { s } of this.byId.values()) c[silenceState(s, now)]++;
    return c;
  }

  private gc(): void {
    const cutoff = this.clock.now() - this.retentionMs;
    let changed = false;
    for (const [id, { s }] of this.byId) {
      if (s.endsAt < cutoff) {
        this.byId.delete(id);
        changed = true;
      }
    }
    if (changed) this.save();
  }

  /** The entries as they are, to put back if a change cannot be saved. */
  private snapshot(): Map<string, Entry> {
    return new Map([...this.byId].map(([k, e]) => [k, { ...e }]));
  }

  /**
   * Saves, or (when the disk refuses) puts the entries back as they were and throws a StorageError:
   * a silence the API refused must not mute anything, and one it accepted must survive a restart.
   */
  private saveOrRestore(before: Map<string, Entry>): void {
    try {
      this.save();
    } catch (err) {
      this.byId.clear();
      for (const [k, e] of before) this.byId.set(k, e);
      throw writeFailure('saving silences', err);
    }
  }

  private save(): void {
    if (this.file)
      writeJson(
        this.file,
        [...this.byId.values()].map((e) => e.s),
      );
  }
}

function canUpdate(a: Silence, b: Silence, now: number): boolean {
  if (JSON.stringify(a.matchers) !== JSON.stringify(b.matchers)) return false;
  switch (silenceState(a, now)) {
    case 'active':
      return b.endsAt >= now;
    case 'pending':
      return b.startsAt >= now;
    case 'expired':
      return false;
  }
}
