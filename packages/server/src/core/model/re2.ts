/**
 * Translates the RE2 syntax that Prometheus accepts into JavaScript RegExp source. Most of RE2 is
 * JavaScript already; the differences that show up in real selectors are flag groups (`(?i)`,
 * `(?i:…)`, `(?s)`), named groups `(?P<n>…)` and `\Q…\E` literals. Case-insensitive parts are
 * spelled out as `[aA]` classes, because Node 20's RegExp has no inline modifiers.
 */

/** The other case of a letter, or '' for characters without one (digits, punctuation, `.`). */
function otherCase(ch: string): string {
  const lo = ch.toLowerCase();
  const up = ch.toUpperCase();
  const other = ch === lo ? up : lo;
  return other.length === 1 && other !== ch ? other : '';
}

function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** RE2 pattern → JavaScript source and flags (`s` always: `.` matches newlines, as in Prometheus 3). */
export function translateRe2(pattern: string): { source: string; flags: string } {
  let out = '';
  let fold = false; // case-insensitive at this point
  const stack: boolean[] = [];
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const lit = pattern.slice(i + 2, end < 0 ? n : end);
        out += fold ? [...lit].map((ch) => (otherCase(ch) ? foldChar(ch) : escapeLiteral(ch))).join('') : escapeLiteral(lit);
        i = end < 0 ? n : end + 2;
        continue;
      }
      if (next === 'z') {
        out += '$';
        i += 2;
        continue;
      }
      out += pattern.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '[') {
      const end = classEnd(pattern, i);
      const body = pattern.slice(i, end);
      out += fold ? foldClass(body) : body;
      i = end;
      continue;
    }
    if (c === '(') {
      stack.push(fold);
      const flagGroup = /^\(\?([imsU-]*)(:|\))/.exec(pattern.slice(i));
      if (flagGroup && flagGroup[1] !== undefined && flagGroup[1].length > 0) {
        const [on, off = ''] = flagGroup[1].split('-');
        const newFold: boolean = on!.includes('i') ? true : off.includes('i') ? false : fold;
        if (flagGroup[2] === ')') {
          // `(?i)` changes the rest of the enclosing group; it opens no group of its own.
          stack.pop();
          fold = newFold;
        } else {
          out += '(?:';
          fold = newFold;
        }
        i += flagGroup[0].length;
        continue;
      }
      if (pattern.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
        continue;
      }
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      fold = stack.pop() ?? false;
      out += c;
      i++;
      continue;
    }
    out += fold ? foldChar(c) : c;
    i++;
  }
  return { source: out, flags: 's' };
}

function foldChar(ch: string): string {
  const other = otherCase(ch);
  if (!other) return ch;
  return `[${ch}${other}]`;
}

/** Index just past the character class starting at `start`. */
function classEnd(p: string, start: number): number {
  let i = start + 1;
  if (p[i] === '^') i++;
  if (p[i] === ']') i++;
  while (i < p.length && p[i] !== ']') i += p[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, p.length);
}

/** Adds the other case of every letter and letter range in a class. */
function foldClass(body: string): string {
  const inner = body.slice(1, -1);
  let extra = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inner[i + 1] === '-' && i + 2 < inner.length) {
      const to = inner[i + 2]!;
      const a = otherCase(ch);
      const b = otherCase(to);
      if (a && b && /[a-zA-Z]/.test(ch) && /[a-zA-Z]/.test(to)) extra += `${a}-${b}`;
      i += 2;
      continue;
    }
    const o = otherCase(ch);
    if (o && /[a-zA-Z]/.test(ch)) extra += o;
  }
  return body.slice(0, -1) + extra + ']';
}
