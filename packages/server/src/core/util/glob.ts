/**
 * Go's filepath.Glob, for the file lists of configurations written for Prometheus and Alertmanager
 * (rule_files, templates): `*` and `?` never match a
 * `/`, `[a-z]`/`[^…]` classes, `\` escapes, no `**`; directory entries in byte order; unreadable
 * directories are skipped silently. Only a malformed pattern is an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../errors.js';

/** A pattern Go's filepath.Match rejects. */
export class GlobPatternError extends VigilError {
  override readonly code = 'bad_glob' as const;
  constructor() {
    super('bad_glob', 'syntax error in pattern');
  }
}

/** True when the pattern has glob metacharacters (otherwise it names one file). */
export function hasGlobMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

/** Characters to escape in a RegExp (`u` mode), outside and inside a class. */
const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;
const CLASS_SPECIAL = /[\]\\^-]/g;

/** Translates one path element's pattern to an anchored RegExp; throws {@link GlobPatternError}. */
function elementRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new GlobPatternError();
      re += pattern[++i]!.replace(REGEX_SPECIAL, '\\$&');
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let ranges = 0;
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        let lo = pattern[j]!;
        if (lo === '\\') lo = pattern[++j] ?? '';
        if (lo === '') throw new GlobPatternError();
        let part = lo.replace(CLASS_SPECIAL, '\\$&');
        if (pattern[j + 1] === '-' && pattern[j + 2] !== undefined && pattern[j + 2] !== ']') {
          let hi = pattern[j + 2]!;
          j += 2;
          if (hi === '\\') hi = pattern[++j] ?? '';
          if (hi === '' || hi < lo) throw new GlobPatternError();
          part += '-' + hi.replace(CLASS_SPECIAL, '\\$&');
        }
        cls += part;
        ranges++;
      }
      if (j >= pattern.length || ranges === 0) throw new GlobPatternError();
      // A class never matches the separator, as in Go.
      re += cls.startsWith('^') ? `[${cls}/]` : `(?!/)[${cls}]`;
      i = j;
    } else re += c.replace(REGEX_SPECIAL, '\\$&');
  }
  return new RegExp(`^${re}$`, 'su');
}

function listDir(dir: string, pattern: string): string[] {
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) return [];
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const re = elementRegex(pattern);
  return names
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .filter((n) => re.test(n))
    .map((n) => path.join(dir, n));
}

/** The paths matching `pattern`, like Go's filepath.Glob. Throws {@link GlobPatternError}. */
export function glob(pattern: string): string[] {
  // Validate every element first, as Go's Match(pattern, "") does.
  for (const el of pattern.split('/')) elementRegex(el);
  if (!hasGlobMeta(pattern)) {
    try {
      fs.lstatSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  let dir = path.dirname(pattern);
  const file = path.basename(pattern);
  if (pattern.endsWith('/')) return [];
  if (dir === '') dir = '.';
  if (!hasGlobMeta(dir)) return listDir(dir, file);
  if (dir === pattern) throw new GlobPatternError();
  return glob(dir).flatMap((d) => listDir(d, file));
}

/**
 * The files of a configured pattern, resolved against `baseDir` (the configuration file's
 * directory). A plain path is returned as is, so a missing file is reported by whoever reads it.
 */
export function globFiles(pattern: string, baseDir = '.'): string[] {
  const abs = path.resolve(baseDir, pattern);
  return hasGlobMeta(pattern) ? glob(abs) : [abs];
}
