/**
 * What the entries of `remote_write:`, `remote_read:` and `logs.forward_to:` read alike: the shared
 * HTTP client fields, with errors naming the file and line, and the entry's name.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ConfigReader } from '../../core/httpclient/config.js';
import type { Checker } from './config.js';

/** The reader the shared HTTP client fields are parsed with, errors naming the file and line. */
export function clientConfigReader(c: Checker, baseDir: string): ConfigReader {
  return {
    fail: (q, d) => c.fail([...q], d),
    mapping: (q, v, allowed) => c.keys([...q], v, allowed),
    string: (q, v) => c.str([...q], v),
    boolean: (q, v) => (typeof v === 'boolean' ? v : c.fail([...q], 'expected true or false')),
    resolve: (f) => path.resolve(baseDir, f),
  };
}

/**
 * The entry's `name` (at `q`), or, as Prometheus names an unnamed queue, the first six hex digits
 * of a hash of its configuration: stable across restarts, so a saved position still finds its entry.
 */
export function entryName(c: Checker, q: Array<string | number>, e: Record<string, unknown>): string {
  return e['name'] === undefined ? createHash('sha256').update(JSON.stringify(e)).digest('hex').slice(0, 6) : c.str(q, e['name']);
}

/** {@link entryName} for an entry whose name also names `what` on disk (where its position is saved): letters, digits, _, . and - only. */
export function onDiskEntryName(c: Checker, q: Array<string | number>, e: Record<string, unknown>, what: string): string {
  const name = entryName(c, q, e);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) c.fail(q, `expected letters, digits, _, . and - only (the name names ${what})`);
  return name;
}
