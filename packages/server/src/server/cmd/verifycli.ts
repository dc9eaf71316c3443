/** `vigil tsdb verify DIR` and `vigil logs verify DIR`: read-only integrity checks of a data directory. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyLogs } from './logs_verify.js';
import { verifyTsdb } from './tsdb_verify.js';

const USAGE = 'usage: vigil tsdb verify DIR | vigil logs verify DIR (DIR: the data directory, storage.path)\n';

/** Runs a verify command if `argv` is one; undefined otherwise. Exit code 0: clean, 1: damage found, 2: usage. */
export function verifyCommand(argv: readonly string[]): number | undefined {
  const [signal, verb, dir, ...rest] = argv;
  if ((signal !== 'tsdb' && signal !== 'logs') || verb !== 'verify') return undefined;
  if (!dir || rest.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    process.stderr.write(`vigil: ${dir}: not a directory\n`);
    return 2;
  }
  const print = (line: string): void => void process.stdout.write(line + '\n');
  if (signal === 'tsdb') return verifyTsdb(dir, print);
  // The log store lives in <data>/logs; the log directory itself is accepted too.
  const logs = fs.existsSync(path.join(dir, 'logs')) && !fs.existsSync(path.join(dir, 'streams')) ? path.join(dir, 'logs') : dir;
  return verifyLogs(logs, print);
}
