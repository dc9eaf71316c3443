/** In-memory fakes and helpers for tests of instrumented code (the SDK's own and its users'). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A log destination that keeps every line, parsed. */
export interface LogCapture {
  readonly lines: Array<Record<string, unknown>>;
  write(line: string): void;
  /** The lines whose `msg` is `msg`. */
  withMsg(msg: string): Array<Record<string, unknown>>;
}

/** A pino destination capturing lines in memory. */
export function captureLogs(): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
    withMsg(msg: string) {
      return lines.filter((l) => l['msg'] === msg);
    },
  };
}

/** Listens on a free loopback port; returns the base URL and a close function. */
export async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The sample lines of an exposition whose series name is `name` (exactly), in order. */
export function seriesLines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

/** The value of the one series with exactly this name and label text, e.g. `x{a="b"}`; undefined if absent. */
export function seriesValue(text: string, series: string): number | undefined {
  for (const l of text.split('\n')) if (l.startsWith(series + ' ')) return Number(l.slice(series.length + 1));
  return undefined;
}
