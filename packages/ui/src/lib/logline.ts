/**
 * A log line split for display: time, level and message as columns, the rest as fields, and any
 * multi-line stack trace kept whole. JSON lines (pino's, the SDK's, most shippers') and logfmt are
 * read; anything else is shown as it is.
 */

/** A line read for display. */
export interface ParsedLine {
  /** `json`, `logfmt` or `text` (shown as it is). */
  readonly format: 'json' | 'logfmt' | 'text';
  /** Lower-case level name (`info`, `error`, …), or '' when the line has none. */
  readonly level: string;
  /** The message column: the line's `msg`/`message` field, or the whole line when it has none. */
  readonly message: string;
  /** The other fields in line order; nested objects flattened with `_`, as LogQL's `| json` names them. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** Multi-line stack traces or messages, by the field that holds them. */
  readonly stacks: ReadonlyArray<readonly [string, string]>;
}

const MESSAGE_KEYS = ['msg', 'message', 'log', 'MESSAGE'];
const LEVEL_KEYS = ['level', 'lvl', 'severity', 'levelname', 'log.level'];
/** Timestamps are shown from the entry itself; the line's own copy would repeat it. */
const TIME_KEYS = ['time', 'ts', 'timestamp', '@timestamp', 't'];

/** pino's numeric levels, for lines written without the level formatter. */
const PINO_LEVELS: Record<string, string> = { '10': 'trace', '20': 'debug', '30': 'info', '40': 'warn', '50': 'error', '60': 'fatal' };

/** A level name in the words the page colours by: `warning` → `warn`, `ERR` → `error`, pino's 50 → `error`. */
export function normalizeLevel(v: string | undefined): string {
  if (v === undefined) return '';
  const l = v.trim().toLowerCase();
  if (PINO_LEVELS[l]) return PINO_LEVELS[l];
  if (l === 'warning') return 'warn';
  if (l === 'err' || l === 'critical' || l === 'crit') return 'error';
  if (l === 'dbg') return 'debug';
  if (l === 'panic' || l === 'emerg' || l === 'alert') return 'fatal';
  return l;
}

function flatten(prefix: string, v: unknown, out: Array<[string, string]>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) out.push([prefix, '{}']);
    for (const [k, x] of entries) flatten(prefix ? `${prefix}_${k}` : k, x, out);
    return;
  }
  out.push([prefix, typeof v === 'string' ? v : JSON.stringify(v)]);
}

function logfmt(line: string): Array<[string, string]> {
  return [...line.matchAll(/([a-zA-Z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)/g)].map((m) => {
    const raw = m[2]!;
    return [m[1]!, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : raw];
  });
}

/** Whether a field's value is a stack trace or another multi-line text to show preformatted. */
function isStack(key: string, value: string): boolean {
  return value.includes('\n') || (/(^|_)stack(_?trace)?$/i.test(key) && value.length > 0);
}

/**
 * Splits `line` for display. `labels` are the stream's labels: a `level` label is the level when the
 * line carries none (Loki clients often put it there).
 */
export function parseLogLine(line: string, labels: Readonly<Record<string, string>> = {}): ParsedLine {
  const t = line.trim();
  let pairs: Array<[string, string]> | undefined;
  let format: ParsedLine['format'] = 'text';
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      const o = JSON.parse(t) as unknown;
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
        pairs = [];
        flatten('', o, pairs);
        format = 'json';
      }
    } catch {
      /* not JSON after all: try logfmt */
    }
  }
  if (!pairs) {
    const lf = logfmt(t);
    // A line is logfmt when it is mostly key=value pairs, not prose that happens to hold one.
    if (lf.length >= 2 && (lf.some(([k]) => MESSAGE_KEYS.includes(k)) || lf.some(([k]) => LEVEL_KEYS.includes(k)))) {
      pairs = lf;
      format = 'logfmt';
    }
  }
  if (!pairs) {
    return { format: 'text', level: normalizeLevel(labels['level']), message: line, fields: [], stacks: line.includes('\n') ? [['line', line]] : [] };
  }
  const get = (keys: readonly string[]): string | undefined => pairs.find(([k]) => keys.includes(k))?.[1];
  const msgKey = MESSAGE_KEYS.find((k) => pairs.some(([x]) => x === k));
  const message = msgKey !== undefined ? (get([msgKey]) ?? '') : '';
  const level = normalizeLevel(get(LEVEL_KEYS) ?? labels['level']);
  const fields: Array<[string, string]> = [];
  const stacks: Array<[string, string]> = [];
  for (const [k, v] of pairs) {
    if (k === msgKey || LEVEL_KEYS.includes(k) || TIME_KEYS.includes(k)) continue;
    if (isStack(k, v)) stacks.push([k, v]);
    else fields.push([k, v]);
  }
  // A message with newlines is shown whole, below the row, as well as its first line in the column.
  if (message.includes('\n')) stacks.unshift([msgKey ?? 'msg', message]);
  return { format, level, message: message.split('\n')[0] ?? '', fields, stacks };
}

/** The index of the `}` closing a query's stream selector (a `}` inside a quoted value does not), or -1. */
function selectorEnd(q: string): number {
  let quote = '';
  for (let i = 0; i < q.length; i++) {
    const c = q[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}') return i;
  }
  return -1;
}

/**
 * The query narrowed to lines whose `field` is `value`: a stream label goes into the selector (cheap,
 * it picks streams), a line field into a parser stage and a label filter, reusing a parser already
 * in the query.
 */
export function withFilter(q: string, field: string, value: string, labelNames: ReadonlySet<string>, parser: 'json' | 'logfmt'): string {
  const v = value.replace(/["\\]/g, (c) => `\\${c}`);
  const name = /^[a-zA-Z_]\w*$/.test(field) ? field : field.replace(/\W/g, '_');
  const close = selectorEnd(q);
  if (labelNames.has(field) && close > 0) return `${q.slice(0, close)}, ${name}="${v}"${q.slice(close)}`;
  const hasParser = /\|\s*(json|logfmt)\b/.test(q);
  return `${q}${hasParser ? '' : ` | ${parser}`} | ${name}="${v}"`;
}
