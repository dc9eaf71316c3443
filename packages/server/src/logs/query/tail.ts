/**
 * Live tail: the newest lines of a log query, then every accepted line that matches it, as the
 * store reports them.
 */
import { VigilError } from '../../core/errors.js';
import type { Labels } from '../../core/model/labels.js';
import type { LogExpr } from '../logql/ast.js';
import type { LogqlEngine } from '../logql/engine.js';
import { parseLogql } from '../logql/parser.js';
import { Pipeline } from '../logql/pipeline.js';
import type { LogQueryable } from '../storage/interface.js';
import type { LogEntry, StreamInfo } from '../storage/types.js';

/** A line as tail delivers it: after the pipeline, with the labels it produced. */
export interface TailLine {
  readonly labels: Labels;
  readonly entry: LogEntry;
}

/** A query that tail cannot follow. */
export class TailQueryError extends VigilError {
  constructor(message: string) {
    super('bad_data', message);
  }
}

/** A live tail as the Loki API's WebSocket drives it: the newest lines first, then new ones as they come. */
export interface LiveTail {
  /** The newest `limit` matching lines in [start, end) (ns), oldest first. */
  backfill(start: bigint, end: bigint, limit: number): TailLine[] | Promise<TailLine[]>;
  /** Calls `send` with each batch of new matching lines; returns the function that stops following. */
  follow(send: (lines: TailLine[]) => void): () => void;
}

/** A tail of one log query over the local store. Parse errors surface from the constructor, before anything is sent. */
export class LogTail implements LiveTail {
  private readonly expr: LogExpr;
  private readonly pipeline: Pipeline;

  constructor(
    private readonly store: LogQueryable,
    private readonly engine: LogqlEngine,
    query: string,
  ) {
    const e = parseLogql(query);
    if (e.kind !== 'log') throw new TailQueryError('tail needs a log query');
    this.expr = e;
    this.pipeline = new Pipeline(e.stages);
  }

  /** The newest `limit` lines of the selector in [start, end) (ns) that pass the pipeline, oldest first. */
  backfill(start: bigint, end: bigint, limit: number): TailLine[] {
    // The limit counts the selector's lines, as Loki's tail does, before the pipeline filters them.
    const back = this.engine.logs({ kind: 'log', matchers: this.expr.matchers, stages: [] }, start, end, limit, 'backward');
    const out: TailLine[] = [];
    for (const s of back.streams) for (const e of s.entries) this.pass(s.labels, e, out);
    return out.sort((a, b) => (a.entry.t < b.entry.t ? -1 : a.entry.t > b.entry.t ? 1 : 0));
  }

  /** Calls `send` with each batch of newly accepted lines that match; returns the unsubscribe function. */
  follow(send: (lines: TailLine[]) => void): () => void {
    return this.store.subscribe((stream: StreamInfo, entries: readonly LogEntry[]) => {
      if (!this.selects(stream.labels)) return;
      const out: TailLine[] = [];
      for (const e of entries) this.pass(stream.labels, e, out);
      if (out.length) send(out);
    });
  }

  private selects(labels: Labels): boolean {
    return this.expr.matchers.every((m) => m.matches(labels.find((l) => l.name === m.name)?.value ?? ''));
  }

  private pass(labels: Labels, e: LogEntry, out: TailLine[]): void {
    const r = this.pipeline.run(e.line, e.t, labels, e.meta);
    if (r) out.push({ labels: r.labels, entry: { t: e.t, line: r.line } });
  }
}
