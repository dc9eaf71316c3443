/**
 * The alert model shared by the pipeline: label sets as plain records, alerts with times in epoch
 * milliseconds, fingerprints as Alertmanager computes them, and the matcher syntax of
 * `matchers:` lists, silences and API filters.
 */
import { Matcher, MatcherError, type MatchType } from '../../core/model/matcher.js';
import { isValidLabelName } from '../../core/model/labels.js';

/** A label set or annotation set. */
export type LabelSet = Readonly<Record<string, string>>;

/** An alert as the router keeps it. Times are epoch milliseconds. */
export interface Alert {
  readonly labels: LabelSet;
  readonly annotations: LabelSet;
  readonly startsAt: number;
  /** When the alert resolves (or resolved); always set once the alert is stored. */
  readonly endsAt: number;
  readonly generatorURL: string;
  readonly updatedAt: number;
  /** True when endsAt was filled in from resolve_timeout rather than sent by the client. */
  readonly timeout: boolean;
  readonly fingerprint: string;
  /**
   * Set only for alerts of a tiered rule (`severity_tiers`) that the rule manager handed over in
   * process: the index of the current tier, lowest first. Such an alert's identity ignores its
   * `severity` label (see {@link tieredFingerprint}); absent for every other alert.
   */
  readonly tier?: number;
}

/** The JSON shape clients send (Prometheus, vmalert, amtool, the rules engine). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  /**
   * The tier index of a tiered rule's alert. Honoured only on the rule manager's in-process path
   * (`receive(alerts, { fromRules: true })`); ignored when a client posts it to `/api/v2/alerts`.
   */
  tier?: number;
}

/** True when the alert is resolved at `now`. */
export function isResolved(a: Alert, now: number): boolean {
  return a.endsAt <= now;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/**
 * Alertmanager's fingerprint of a label set: FNV-1a 64 over sorted `name 0xff value 0xff`, printed
 * as 16 hex digits, so fingerprints match those Alertmanager and amtool show.
 */
export function fingerprint(labels: LabelSet): string {
  let h = FNV_OFFSET;
  const names = Object.keys(labels).sort();
  const enc = new TextEncoder();
  for (const n of names) {
    for (const part of [n, labels[n]!]) {
      for (const b of enc.encode(part)) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
      h = ((h ^ 0xffn) * FNV_PRIME) & MASK;
    }
  }
  return h.toString(16).padStart(16, '0');
}

/** The label a severity tier sets. */
export const SEVERITY_LABEL = 'severity';

/**
 * The identity of a tiered rule's alert: the fingerprint of its labels without `severity`, plus a
 * pseudo-label whose name (it has a space) no valid label set can carry, so that a tiered alert never
 * shares a fingerprint with an untiered alert posted with the same other labels.
 */
export function tieredFingerprint(labels: LabelSet): string {
  const rest: Record<string, string> = { 'tiered severity': '' };
  for (const [k, v] of Object.entries(labels)) if (k !== SEVERITY_LABEL) rest[k] = v;
  return fingerprint(rest);
}

/**
 * The key under which the notification log remembers an alert: its fingerprint, and for a tiered
 * alert also its tier (`fp/2`), so an escalation is news to a group that already told of the alert.
 */
export function notifyKey(a: Alert): string {
  return a.tier === undefined ? a.fingerprint : `${a.fingerprint}/${a.tier}`;
}

/** Prints a label set as Alertmanager does: `{a="1", b="2"}`, sorted. */
export function formatLabelSet(labels: LabelSet): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

/** The labels of `labels` named in `names`, or all of them when `all`. */
export function pickLabels(labels: LabelSet, names: readonly string[], all: boolean): Record<string, string> {
  if (all) return { ...labels };
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = labels[n];
    if (v !== undefined && v !== '') out[n] = v;
  }
  return out;
}

/** True when every matcher accepts the label set (absent labels read as ''). */
export function matchesAll(matchers: readonly Matcher[], labels: LabelSet): boolean {
  for (const m of matchers) if (!m.matches(labels[m.name] ?? '')) return false;
  return true;
}

/** Prints matchers as Alertmanager's `Matchers.String()`: `{a="1",b=~"x"}`. */
export function formatMatchers(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(',')}}`;
}

const MATCHER_RE = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

function unquote(s: string): string {
  try {
    return JSON.parse(s) as string;
  } catch {
    throw new MatcherError(`invalid quoted string ${s}`);
  }
}

/**
 * Parses one matcher as Alertmanager accepts it: `name="value"`, `name=~"re"`, `name!=value`
 * (an unquoted value runs to the end), throwing {@link MatcherError} when malformed.
 */
export function parseMatcher(s: string): Matcher {
  const m = MATCHER_RE.exec(s);
  if (!m) throw new MatcherError(`bad matcher format: ${s}`);
  const name = m[1]!.startsWith('"') ? unquote(m[1]!) : m[1]!;
  const raw = m[3]!;
  const value = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? unquote(raw) : raw;
  if (!raw.startsWith('"') && /[{}",]/.test(raw)) throw new MatcherError(`bad matcher value ${JSON.stringify(raw)}: quote it`);
  return new Matcher(m[2] as MatchType, name, value);
}

/** Splits `{a="1", b=~"x,y"}` or `a="1",b="2"` into matchers, respecting quotes. */
export function parseMatchers(s: string): Matcher[] {
  let body = s.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && quoted) {
      cur += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') parts.push(cur);
  return parts.filter((p) => p.trim() !== '').map(parseMatcher);
}

/** Why a label set is unacceptable for an alert, or undefined. */
export function validateAlertLabels(labels: unknown): string | undefined {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return 'labels must be an object';
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length === 0) return 'at least one label pair required';
  for (const [k, v] of entries) {
    if (!isValidLabelName(k)) return `invalid label set: invalid name ${JSON.stringify(k)}`;
    if (typeof v !== 'string') return `invalid label set: value of ${k} must be a string`;
  }
  return undefined;
}

/** Go's zero time as clients print it; treated as "not set". */
export function parseTime(s: string | undefined): number {
  if (s === undefined || s === '' || s.startsWith('0001-01-01')) return 0;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`invalid time ${JSON.stringify(s)}`);
  return t;
}

/** RFC 3339 with milliseconds; 0 prints as Go's zero time, as Alertmanager's JSON does. */
export function formatTime(t: number): string {
  return t === 0 ? '0001-01-01T00:00:00.000Z' : new Date(t).toISOString();
}

/** Go's RFC 3339 with trailing zeros of the fraction dropped, as Go's JSON prints `time.Time` (webhook payloads). */
export function formatGoTime(t: number): string {
  if (t === 0) return '0001-01-01T00:00:00Z';
  return new Date(t).toISOString().replace(/\.?0*Z$/, 'Z');
}
