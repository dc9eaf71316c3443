/**
 * Log patterns (Loki's `/loki/api/v1/patterns`): the lines of the matching streams clustered into
 * token templates, a varying token shown as `<_>`, each with its line count per step. The
 * clustering is Drain's (He et al., 2017): lines are split into tokens, sent down a shallow tree
 * keyed by their token count and first token, and joined to the most similar template of that leaf
 * when enough tokens agree (the positions that differ become `<_>`), else start a template of their
 * own. Work and memory are bounded: at most {@link PatternLimits.maxLines} lines are read (newest
 * first) for at most `maxMillis`, each is cut at `maxLineChars` and `maxTokens`, and at most `maxClusters` templates are
 * kept (the least recently matched is dropped first), at most 100 of them compared per line.
 */
import type { Matcher } from '../../core/model/matcher.js';
import type { LogQueryable } from '../storage/interface.js';

/** The placeholder of a varying token; Loki's `| pattern` parser reads it as "anything". */
export const PARAM = '<_>';

/** One pattern and its lines per step: `[bucket start in Unix seconds, count]`, buckets with no line left out. */
export interface LogPattern {
  readonly pattern: string;
  readonly samples: Array<[number, number]>;
}

/** Bounds of one request. */
export interface PatternLimits {
  /** Lines read, newest first (default 50 000). */
  readonly maxLines?: number;
  /** Templates kept (default 1000). */
  readonly maxClusters?: number;
  /** Characters of a line tokenized (default 3000). */
  readonly maxLineChars?: number;
  /** Tokens of a line kept (default 128). */
  readonly maxTokens?: number;
  /** Wall time spent reading and clustering, after which the lines read so far are the answer (default 3000). */
  readonly maxMillis?: number;
}

/** Share of tokens that must agree for a line to join a template (Drain3's default). */
const SIM_THRESHOLD = 0.4;

/** Templates compared per line at most: a leaf past it drops its least recently matched (Drain3's max_children). */
const MAX_PER_LEAF = 100;

/** A token and whether whitespace came before it, so a template prints like the lines it stands for. */
interface Token {
  readonly text: string;
  readonly space: boolean;
  /** Has a digit: see {@link looksVariable}. Computed once, since comparisons are the hot loop. */
  readonly variable: boolean;
}

// Words keep dots, slashes, dashes and the like, so numbers, paths, hosts and ids are one token each;
// every other non-space character is a token by itself (quotes, `=`, `:`, brackets, commas).
const TOKEN = /(\s*)([\p{L}\p{N}_.\-/@%+#~]+|[^\s])/gu;

/** The fields whose value is the message of a JSON line; the rest of a JSON line is context, not its pattern. */
const MESSAGE_FIELDS = ['message', 'msg', 'log', 'msg_', '_msg', 'content'];

/** The text a line is clustered by: a JSON object's message field when it has one, else the whole line. */
export function patternText(line: string): string {
  if (!line.startsWith('{')) return line;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return line;
  for (const f of MESSAGE_FIELDS) {
    const v = (o as Record<string, unknown>)[f];
    if (typeof v === 'string' && v !== '') return v;
  }
  return line;
}

/** Splits a line into tokens, at most `maxTokens`. */
export function tokenize(text: string, maxTokens = 128): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    if (out.length >= maxTokens) break;
    out.push({ text: m[2]!, space: m[1] !== '' && out.length > 0, variable: looksVariable(m[2]!) });
  }
  return out;
}

const DIGIT = /\p{N}/u;

/** Tokens with a digit are values (counts, times, ids) far more often than words, as Drain assumes. */
function looksVariable(t: string): boolean {
  return DIGIT.test(t);
}

class Cluster {
  count = 0;
  /** The miner's line counter when this template last matched, for eviction within a leaf. */
  lastSeen = 0;
  readonly buckets = new Map<number, number>();
  constructor(
    public tokens: Token[],
    readonly leaf: string,
  ) {}

  add(bucketSec: number): void {
    this.count++;
    this.buckets.set(bucketSec, (this.buckets.get(bucketSec) ?? 0) + 1);
  }

  /** Share of positions where the template accepts the token: equal, a placeholder, or both values. */
  similarity(toks: readonly Token[]): number {
    const n = toks.length;
    if (n === 0) return 1;
    // Stop once too many positions differ for the threshold to be reached: most comparisons fail early.
    const maxMisses = n - Math.ceil(SIM_THRESHOLD * n);
    let misses = 0;
    for (let i = 0; i < n; i++) {
      const a = this.tokens[i]!;
      const b = toks[i]!;
      if (a.text === b.text || a.text === PARAM || (a.variable && b.variable)) continue;
      if (++misses > maxMisses) return 0;
    }
    return (n - misses) / n;
  }

  /** Widens the template to cover `toks`: every differing position becomes a placeholder. */
  merge(toks: readonly Token[]): void {
    for (let i = 0; i < toks.length; i++)
      if (this.tokens[i]!.text !== toks[i]!.text) this.tokens[i] = { text: PARAM, space: this.tokens[i]!.space, variable: true };
  }

  /**
   * The template as text. Placeholders with nothing between them print as one: together they match
   * anything, and Loki's `| pattern` parser refuses two captures in a row.
   */
  render(): string {
    let out = '';
    let prevParam = false;
    for (const t of this.tokens) {
      const isParam = t.text === PARAM;
      if (isParam && prevParam && !t.space) continue;
      out += (t.space ? ' ' : '') + t.text;
      prevParam = isParam;
    }
    return out;
  }
}

/** Drain's clustering over lines fed one at a time. */
export class PatternMiner {
  private readonly leaves = new Map<string, Cluster[]>();
  /** Every cluster in order of last match, oldest first, for eviction. */
  private readonly recent = new Set<Cluster>();
  private readonly maxClusters: number;
  private readonly maxLineChars: number;
  private readonly maxTokens: number;
  private seen = 0;

  constructor(limits: PatternLimits = {}) {
    this.maxClusters = limits.maxClusters ?? 1000;
    this.maxLineChars = limits.maxLineChars ?? 3000;
    this.maxTokens = limits.maxTokens ?? 128;
  }

  /** Adds one line seen at `tMs`, counted in the bucket of width `stepMs` it falls in. */
  add(line: string, tMs: number, stepMs: number): void {
    const toks = tokenize(patternText(line).slice(0, this.maxLineChars), this.maxTokens);
    const first = toks[0]?.text ?? '';
    const leafKey = `${toks.length}\x00${looksVariable(first) ? PARAM : first}`;
    let leaf = this.leaves.get(leafKey);
    if (!leaf) this.leaves.set(leafKey, (leaf = []));
    let best: Cluster | undefined;
    let bestSim = -1;
    for (const c of leaf) {
      const s = c.similarity(toks);
      if (s > bestSim) [best, bestSim] = [c, s];
    }
    if (!best || bestSim < SIM_THRESHOLD) {
      if (leaf.length >= MAX_PER_LEAF) this.evict(leaf.reduce((a, b) => (b.lastSeen < a.lastSeen ? b : a)));
      else if (this.recent.size >= this.maxClusters) this.evict(this.recent.values().next().value!);
      best = new Cluster([...toks], leafKey);
      leaf.push(best);
      if (!this.leaves.has(leafKey)) this.leaves.set(leafKey, leaf);
    } else {
      best.merge(toks);
      this.recent.delete(best);
    }
    this.recent.add(best);
    best.lastSeen = ++this.seen;
    best.add(Math.floor(tMs / stepMs) * (stepMs / 1000));
  }

  private evict(old: Cluster): void {
    this.recent.delete(old);
    const leaf = this.leaves.get(old.leaf)!;
    leaf.splice(leaf.indexOf(old), 1);
    if (leaf.length === 0) this.leaves.delete(old.leaf);
  }

  /** The patterns, most lines first; clusters that render alike are reported once with their counts summed. */
  patterns(): LogPattern[] {
    const byText = new Map<string, { count: number; buckets: Map<number, number> }>();
    for (const c of this.recent) {
      const text = c.render();
      let p = byText.get(text);
      if (!p) byText.set(text, (p = { count: 0, buckets: new Map() }));
      p.count += c.count;
      for (const [t, n] of c.buckets) p.buckets.set(t, (p.buckets.get(t) ?? 0) + n);
    }
    return [...byText]
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([pattern, p]) => ({ pattern, samples: [...p.buckets].sort((a, b) => a[0] - b[0]) }));
  }
}

const NS_PER_MS = 1_000_000n;

/**
 * The patterns of the lines of the streams matching `matchers` in [start, end) (ns), counted per
 * `stepMs` bucket (aligned to multiples of the step, as Loki aligns them). Reads the newest lines
 * first and stops after `maxLines`.
 */
export function logPatterns(
  store: LogQueryable,
  matchers: readonly Matcher[],
  start: bigint,
  end: bigint,
  stepMs: number,
  limits: PatternLimits = {},
): LogPattern[] {
  const miner = new PatternMiner(limits);
  const maxLines = limits.maxLines ?? 50_000;
  const deadline = performance.now() + (limits.maxMillis ?? 3000);
  let n = 0;
  for (const s of store.selectStreams(matchers, start, end)) {
    for (const e of store.entries(s, start, end, 'backward')) {
      // The clock is read every 256 lines: often enough to stop on time, rarely enough to cost nothing.
      if (n >= maxLines || ((n & 255) === 255 && performance.now() > deadline)) return miner.patterns();
      miner.add(e.line, Number(e.t / NS_PER_MS), stepMs);
      n++;
    }
  }
  return miner.patterns();
}
