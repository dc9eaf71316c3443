/**
 * The node-by-node reader the Alertmanager configuration parser is built on: typed field readers that
 * fail with the file, line and dotted field path, plus the `http_config` and secret-file readers that
 * the global section and every integration share.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isNode, type Document, type LineCounter } from 'yaml';
import { parseDuration } from '../../core/time/duration.js';
import { Matcher } from '../../core/model/matcher.js';
import { isValidLabelName } from '../../core/model/labels.js';
import { SECRET_PLACEHOLDER } from '../../core/config_secrets.js';
import { parseMatcher } from './types.js';
import { HTTP_CLIENT_FIELDS, httpClientFiles, parseHttpClientConfig, type ConfigReader, type HttpClientConfig } from '../../core/httpclient/config.js';
import { AlertmanagerConfigError, type AmGlobal } from './config_types.js';

/** A field's place in the document: keys and list indexes from the configuration's root. */
export type Path = Array<string | number>;
/** A mapping's fields as plain values. */
export type Rec = Record<string, unknown>;

export const HTTP_CONFIG = 'http_config';

export class Checker {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly base: Path,
  ) {
    this.dir = path.dirname(file);
  }

  /** The configuration file's directory, against which relative file paths resolve (as Alertmanager does). */
  private readonly dir: string;

  /** Template texts seen (receiver fields), checked once the template files are loaded. */
  readonly templateFields: Array<{ path: Path; text: string }> = [];

  /** Accepted but unsupported or suspicious settings, logged when the configuration is applied. */
  readonly warnings: string[] = [];

  /** Adds a warning naming the file, line and field. */
  warn(path: Path, detail: string): void {
    this.warnings.push(`${this.file}:${this.line(path)}: ${path.join('.')}: ${detail}`);
  }

  /** This checker as the shared HTTP client config parser reads values. */
  readonly reader: ConfigReader = {
    fail: (p, detail) => this.fail([...p], detail),
    mapping: (p, v, allowed) => this.map([...p], v, allowed),
    string: (p, v) => this.str([...p], v),
    boolean: (p, v) => this.bool([...p], v, false),
    resolve: (f) => path.resolve(this.dir, f),
  };

  /** The line of the node at `path`, or of its nearest parent that exists. */
  line(path: Path): number {
    const full = [...this.base, ...path];
    let node = this.doc.getIn(full, true);
    for (let p = full; !isNode(node) && p.length > 0; p = p.slice(0, -1)) node = this.doc.getIn(p.slice(0, -1), true);
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    return this.lines.linePos(offset).line;
  }

  fail(path: Path, detail: string): never {
    throw new AlertmanagerConfigError(this.file, this.line(path), path.join('.'), detail);
  }

  /** A string that is a notification template. */
  tmpl(path: Path, v: unknown, dflt = ''): string {
    const s = this.str(path, v, dflt);
    if (s.includes('{{')) this.templateFields.push({ path, text: s });
    return s;
  }

  /** A map of notification templates (PagerDuty details, email headers). */
  tmplMap(path: Path, v: unknown): Record<string, string> {
    const out = this.strMap(path, v);
    for (const [k, x] of Object.entries(out)) if (x.includes('{{')) this.templateFields.push({ path: [...path, k], text: x });
    return out;
  }

  map(path: Path, v: unknown, allowed: readonly string[]): Rec {
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'expected a mapping');
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail([...path, k], `field ${k} not found in type (expected one of ${allowed.join(', ')})`);
    return v as Rec;
  }

  list(path: Path, v: unknown): unknown[] {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, 'expected a list');
    return v;
  }

  str(path: Path, v: unknown, dflt = ''): string {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string') this.fail(path, 'expected a string');
    return v;
  }

  bool(path: Path, v: unknown, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(path, 'expected true or false');
    return v;
  }

  int(path: Path, v: unknown, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(path, 'expected a non-negative integer');
    return v;
  }

  duration(path: Path, v: unknown, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    try {
      return parseDuration(this.str(path, v));
    } catch (err) {
      this.fail(path, (err as Error).message);
    }
  }

  /** A URL field; `secret` ones (Alertmanager's SecretURL: Slack, Discord, Teams) are not quoted in errors, which reach logs. */
  url(path: Path, v: unknown, required: string, secret = false): string {
    const s = this.str(path, v);
    if (s === '') {
      if (required) this.fail(path, required);
      return s;
    }
    try {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      this.fail(path, `unsupported URL ${secret ? SECRET_PLACEHOLDER : JSON.stringify(s)}: expected http or https`);
    }
    return s;
  }

  strMap(path: Path, v: unknown): Record<string, string> {
    const rec = this.map(path, v, Object.keys((v as Rec | null) ?? {}));
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(rec)) out[k] = this.str([...path, k], x);
    return out;
  }

  matcherList(path: Path, v: unknown): Matcher[] {
    return this.list(path, v).map((m, i) => {
      try {
        return parseMatcher(this.str([...path, i], m));
      } catch (err) {
        this.fail([...path, i], (err as Error).message);
      }
    });
  }

  /** Old-style `match:` / `match_re:` maps turned into matchers. */
  legacy(path: Path, match: unknown, matchRe: unknown): Matcher[] {
    const out: Matcher[] = [];
    for (const [k, v] of Object.entries(this.strMap([...path, 'match'], match))) {
      if (!isValidLabelName(k)) this.fail([...path, 'match', k], `invalid label name ${JSON.stringify(k)}`);
      out.push(new Matcher('=', k, v));
    }
    for (const [k, v] of Object.entries(this.strMap([...path, 'match_re'], matchRe))) {
      if (!isValidLabelName(k)) this.fail([...path, 'match_re', k], `invalid label name ${JSON.stringify(k)}`);
      try {
        out.push(new Matcher('=~', k, v));
      } catch (err) {
        this.fail([...path, 'match_re', k], (err as Error).message);
      }
    }
    return out;
  }
}

/**
 * An `http_config` mapping. What Vigil does not apply is an error (oauth2, http_headers) or a
 * warning (enable_http2: true); secret and TLS files are read when sending, so a missing one is a
 * warning here and a failed (retried) send later, not a rejected configuration.
 */
export function parseHttpConfig(c: Checker, p: Path, v: unknown): HttpClientConfig {
  const rec = c.map(p, v, HTTP_CLIENT_FIELDS);
  const cfg = parseHttpClientConfig(c.reader, p, rec);
  if (rec['enable_http2'] === true) c.warn([...p, 'enable_http2'], 'enable_http2 is ignored: Vigil sends notifications over HTTP/1.1');
  for (const f of httpClientFiles(cfg)) if (!fs.existsSync(f.file)) c.warn(p, `${f.what} ${f.file} does not exist: notifications will fail until it does`);
  return cfg;
}

/** An integration's own `http_config`, else the global one (a null `http_config:` counts as none, as in Go's YAML). */
export function integrationHttpConfig(c: Checker, p: Path, r: Rec, g: AmGlobal): HttpClientConfig {
  return r[HTTP_CONFIG] === undefined || r[HTTP_CONFIG] === null ? g.httpConfig : parseHttpConfig(c, [...p, HTTP_CONFIG], r[HTTP_CONFIG]);
}

export function readSecret(c: Checker, path: Path, v: unknown): string {
  const f = c.str(path, v);
  try {
    return fs.readFileSync(f, 'utf8').trim();
  } catch (err) {
    c.fail(path, `cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
