/** Small JSON state files, written atomically (temp file + rename) so a crash never leaves half a file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Reads `file` as JSON, or returns undefined when it does not exist; a corrupt file is reported through `onError`. */
export function readJson(file: string, onError: (err: Error) => void): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err as Error);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    onError(new Error(`${file}: ${(err as Error).message}`));
    return undefined;
  }
}

/** Writes `data` as JSON to `file` atomically, creating the directory. */
export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data));
  fs.renameSync(tmp, file);
}
