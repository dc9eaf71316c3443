/**
 * Live tail when logs are queried from remote storage: the remote offers no stream of accepted
 * lines to this process, so the tail asks the remote for the query's lines newer than the newest it
 * has sent, every `pollMs`. A line the remote takes later stamped at or before that newest one is
 * not shown (Loki's own tail has `delay_for` for the same reason); nothing is shown twice.
 */
import { parseLogql } from '../logql/parser.js';
import type { ResultStream } from '../logql/engine.js';
import type { LogWindow, QueryOutcome } from './service.js';
import { type LiveTail, TailQueryError, type TailLine } from './tail.js';

/** The range query the tail asks (the remote service's). */
export type RangeQueryFn = (query: string, w: LogWindow, stepMs: number) => Promise<QueryOutcome>;

const NS_PER_MS = 1_000_000n;

function linesOf(streams: readonly ResultStream[]): TailLine[] {
  const out: TailLine[] = [];
  for (const s of streams) for (const e of s.entries) out.push({ labels: s.labels, entry: { t: e.t, line: e.line } });
  return out.sort((a, b) => (a.entry.t < b.entry.t ? -1 : a.entry.t > b.entry.t ? 1 : 0));
}

export class RemoteLogTail implements LiveTail {
  /** Lines newer than this (ns) are new. */
  private since = -1n;

  constructor(
    private readonly query: string,
    private readonly rangeQuery: RangeQueryFn,
    private readonly opts: { pollMs: number; maxLines: number; now: () => number; warn: (err: unknown) => void },
  ) {
    if (parseLogql(query).kind !== 'log') throw new TailQueryError('tail needs a log query');
  }

  private async ask(w: LogWindow): Promise<TailLine[]> {
    const v = (await this.rangeQuery(this.query, w, 1000)).value;
    const lines = v.type === 'streams' ? linesOf(v.streams) : [];
    const newest = lines.at(-1)?.entry.t;
    if (newest !== undefined && newest > this.since) this.since = newest;
    return lines;
  }

  async backfill(start: bigint, end: bigint, limit: number): Promise<TailLine[]> {
    if (this.since < end - 1n) this.since = end - 1n;
    return this.ask({ start, end, limit, direction: 'backward' });
  }

  follow(send: (lines: TailLine[]) => void): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      try {
        const end = BigInt(this.opts.now()) * NS_PER_MS + 1n;
        if (end > this.since + 1n) {
          const lines = await this.ask({ start: this.since + 1n, end, limit: this.opts.maxLines, direction: 'forward' });
          if (!stopped && lines.length) send(lines);
        }
      } catch (err) {
        // The remote away for a moment: the next poll asks again from the same place.
        this.opts.warn(err);
      }
      if (!stopped) timer = setTimeout(() => void tick(), this.opts.pollMs);
    };
    timer = setTimeout(() => void tick(), this.opts.pollMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}
