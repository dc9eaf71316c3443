/**
 * The client side of the trace benchmark (traces_http.ts): demo-shaped traces (testkit/tracegen.ts)
 * generated on the fly from a seed, so two phases of one run can send the very same spans, and sent
 * as OTLP/HTTP protobuf requests of about 1000 spans from several concurrent senders that wait out
 * 429/503 as an OTLP exporter would. Optionally the same spans are written as uncompressed OTLP/JSON
 * to a raw file (for `grep -F`).
 */
import * as fs from 'node:fs';
import http from 'node:http';
import { encodeTracesData, toOtlpJson } from '../../traces/ingest/otlp_encode.js';
import type { Span } from '../../traces/storage/types.js';
import { demoTrace, rng } from '../tracegen.js';

/** What a send phase produced: counts, and up to 100,000 trace ids to look up later. */
export interface SendResult {
  spans: number;
  requests: number;
  retries: number;
  rawBytes: number;
  ids: string[];
}

/** `n` spans of demo traces filling the 50 minutes before `nowMs`, oldest first, as a live system would see them. */
export class TraceWorkload {
  private readonly r: () => number;
  private readonly spanEvery: bigint;
  private readonly t0: bigint;
  readonly result: SendResult = { spans: 0, requests: 0, retries: 0, rawBytes: 0, ids: [] };

  constructor(
    readonly n: number,
    nowMs: number,
    seed: number,
    private readonly rawFd?: number,
  ) {
    this.r = rng(seed);
    this.spanEvery = (50n * 60n * 1_000_000_000n) / BigInt(n);
    this.t0 = BigInt(nowMs) * 1_000_000n - 50n * 60n * 1_000_000_000n;
  }

  /** The next request body (about 1000 whole traces' spans), or undefined when all were generated. */
  next(): { body: Buffer; spans: number } | undefined {
    const res = this.result;
    if (res.spans >= this.n) return undefined;
    const batch: Span[] = [];
    while (batch.length < 1000 && res.spans + batch.length < this.n) {
      const t = demoTrace(this.r, this.t0 + BigInt(res.spans + batch.length) * this.spanEvery);
      batch.push(...t);
      if (res.ids.length < 100_000) res.ids.push(t[0]!.traceId);
    }
    res.spans += batch.length;
    if (this.rawFd !== undefined) {
      const raw = JSON.stringify({ resourceSpans: toOtlpJson(batch) }) + '\n';
      fs.writeSync(this.rawFd, raw);
      res.rawBytes += Buffer.byteLength(raw);
    }
    return { body: encodeTracesData(batch), spans: batch.length };
  }
}

function post(agent: http.Agent, url: string, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/v1/traces`,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends the whole workload to `url` from `senders` concurrent connections. */
export async function sendAll(url: string, w: TraceWorkload, senders: number): Promise<SendResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: senders });
  const sender = async (): Promise<void> => {
    for (let next = w.next(); next; next = w.next()) {
      for (;;) {
        const res = await post(agent, url, next.body);
        w.result.requests++;
        if (res.status === 429 || res.status === 503) {
          w.result.retries++;
          await new Promise((ok) => setTimeout(ok, 1000 * Number(res.headers['retry-after'] ?? 1)));
          continue;
        }
        // A full success is an empty ExportTraceServiceResponse; anything else is a partial success or an error.
        if (res.status !== 200 || res.body.length > 0) throw new Error(`POST /v1/traces: ${res.status} ${res.body.toString('latin1')}`);
        break;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: senders }, sender));
  } finally {
    agent.destroy();
  }
  return w.result;
}
