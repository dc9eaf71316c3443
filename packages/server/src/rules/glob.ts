/**
 * Go's `filepath.Glob` for rule_files patterns: `*`, `?` and `[...]` within path segments, no `**`.
 * Node 20 has no fs.glob; rule files are few, so a directory walk per wildcard segment is enough.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function hasMeta(s: string): boolean {
  return /[*?[]/.test(s);
}

/** Converts one glob segment to an anchored RegExp. */
export function segmentRegex(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern: ${seg}`);
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += '[' + cls.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += '\\' + seg[++i];
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Files matching `pattern` (resolved against `baseDir`), sorted; a plain path is returned as is. */
export function globFiles(pattern: string, baseDir = '.'): string[] {
  const abs = path.resolve(baseDir, pattern);
  if (!hasMeta(pattern)) return [abs];
  const root = path.parse(abs).root;
  const segs = abs.slice(root.length).split(path.sep).filter((s) => s !== '');
  let cur = [root];
  for (const seg of segs) {
    const next: string[] = [];
    for (const dir of cur) {
      if (!hasMeta(seg)) {
        const p = path.join(dir, seg);
        if (fs.existsSync(p)) next.push(p);
        continue;
      }
      const re = segmentRegex(seg);
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(path.join(dir, n));
    }
    cur = next;
  }
  return cur.sort();
}
