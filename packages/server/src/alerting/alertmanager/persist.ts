/**
 * Small JSON state files (silences, notification log, acknowledgements, history, statistics),
 * written atomically (temp file, fsync, rename) so a crash never leaves half a file, and wrapped
 * with a CRC-32C of their content so a flipped bit is detected instead of silently changing, say,
 * a silence's end time. A damaged file is moved aside (`<file>.corrupt`) and reported; the state
 * starts empty rather than wrong. Files written before checksums (bare JSON) still read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '../../core/util/crc32c.js';

/**
 * The first line of a checksummed state file: a format tag, a version and the CRC-32C of the JSON
 * text that follows. Files from before checksums start with `[` or `{`, which no single flipped bit
 * of the tag can produce, so a damaged header is never mistaken for an old file.
 */
const HEADER_RE = /^vigil-state 1 crc32c=([0-9a-f]{8})\n/;

/**
 * Reads `file`'s state, or undefined when it does not exist. A file that does not parse or whose
 * checksum does not match is reported through `onError` and moved aside, so the next start does not
 * trip over it again and a person can still look at it.
 */
export function readJson(file: string, onError: (err: Error) => void): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err as Error);
    return undefined;
  }
  let problem: string;
  try {
    const header = HEADER_RE.exec(text);
    if (header) {
      const json = text.slice(header[0].length);
      if (crc32c(Buffer.from(json)) === Number.parseInt(header[1]!, 16)) return JSON.parse(json) as unknown;
      problem = 'checksum mismatch';
    } else if (text.startsWith('[') || text.startsWith('{'))
      return JSON.parse(text) as unknown; // written before checksums
    else problem = 'not a state file (bad header)';
  } catch (err) {
    problem = (err as Error).message;
  }
  const aside = `${file}.corrupt`;
  try {
    fs.renameSync(file, aside);
  } catch {
    // Could not move it: it is reported all the same, and rewritten at the next save.
  }
  onError(new Error(`${file}: ${problem}; moved to ${path.basename(aside)}, starting without it`));
  return undefined;
}

/** Writes `data` to `file` atomically with its checksum, creating the directory. Throws if the disk refuses. */
export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const json = JSON.stringify(data);
  const text = `vigil-state 1 crc32c=${crc32c(Buffer.from(json)).toString(16).padStart(8, '0')}\n${json}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // A full disk leaves a partial temp file: remove it, keep the previous state file.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
