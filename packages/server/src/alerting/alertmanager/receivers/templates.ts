/**
 * Notification templates: Vigil's named defaults plus the user's template files in one set, and
 * the rendering of receiver fields through it. A field renders its configured text, or the named
 * default Alertmanager uses for it (`{{ template "slack.default.title" . }}`). A failing render never
 * drops a notification: the failure is reported and the field falls back to its default, and, if a
 * user file broke the default too, to Vigil's built-in one.
 */
import * as path from 'node:path';
import { readTextFile } from '../../../core/util/files.js';
import { alertmanagerFuncs, isSafeHtml, TemplateParseError, TemplateSet, type Template, type TemplateFunc } from '../../template/index.js';
import { glob, GlobPatternError, hasGlobMeta } from '../../../core/util/glob.js';
import { goData, type TemplateData } from '../template.js';
import { DEFAULT_TEMPLATES, DEFAULT_TEMPLATES_NAME } from './defaults.js';
import { VigilError } from '../../../core/errors.js';

/** A template that failed while rendering a field. */
export interface RenderFailure {
  /** `slack`, `email`, … */
  readonly integration: string;
  /** The receiver field: `title`, `details.firing`, … */
  readonly field: string;
  readonly message: string;
  readonly data: TemplateData;
}

/** Hears render failures (the pipeline logs them and records them in the history). */
export type RenderFailureSink = (f: RenderFailure) => void;

/** One receiver field to render. */
export interface FieldSpec {
  readonly integration: string;
  readonly field: string;
  /** The configured text; empty: use {@link FieldSpec.fallback}. */
  readonly text: string;
  /** The default text, usually a call of a named default template. */
  readonly fallback: string;
  /** Email HTML: values are HTML-escaped unless `safeHtml`. */
  readonly html?: boolean;
}

/** A mistake in a template file: which file (as the user wrote it) and line. */
export class TemplateFileError extends VigilError {
  override readonly code = 'bad_template_file' as const;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super('bad_template_file', `${file}:${line}: ${detail}`);
  }
}

/** Calls a named template: the default text of a field. */
export function callTemplate(name: string): string {
  return `{{ template ${JSON.stringify(name)} . }}`;
}

/** The template set notifications render with. */
export class NotificationTemplates {
  /** Only Vigil's defaults: the last resort when a user's files break a default. */
  static readonly builtin: NotificationTemplates = (() => {
    const set = new TemplateSet();
    set.add(DEFAULT_TEMPLATES_NAME, DEFAULT_TEMPLATES);
    return new NotificationTemplates(set, []);
  })();

  /** Failures already reported per notification, so retries do not repeat them. */
  private readonly reported = new WeakMap<TemplateData, Set<string>>();
  private readonly funcs = new WeakMap<TemplateData, ReadonlyMap<string, TemplateFunc>>();

  constructor(
    readonly set: TemplateSet,
    /** The template files loaded, as the user named them. */
    readonly files: readonly string[],
  ) {}

  /** A set with Vigil's defaults, then each file in order (later definitions win, as in Alertmanager). */
  static fromFiles(files: ReadonlyArray<{ name: string; text: string }>): NotificationTemplates {
    const set = NotificationTemplates.builtin.set.clone();
    for (const f of files) {
      try {
        // Go names a file's template by its base name; errors name the file as the user did.
        set.add(path.basename(f.name), f.text, f.name);
      } catch (err) {
        if (err instanceof TemplateParseError) throw new TemplateFileError(f.name, err.line, `template: ${err.reason}`);
        throw err;
      }
    }
    return new NotificationTemplates(
      set,
      files.map((f) => f.name),
    );
  }

  /** Executes a text against a notification's data. Throws on parse or execution errors. */
  execute(text: string, d: TemplateData, opts: { html?: boolean; parseName?: string } = {}): string {
    let funcs = this.funcs.get(d);
    if (funcs === undefined) {
      // `since` reads the notification's clock, so a replayed or tested notification renders alike.
      funcs = alertmanagerFuncs(() => d.now);
      this.funcs.set(d, funcs);
    }
    return this.set.executeText(text, goData(d), { funcs, parseName: opts.parseName ?? '', ...(opts.html ? { html: true, isSafe: isSafeHtml } : {}) });
  }

  /** Renders one field, falling back as the module comment describes; never throws. */
  render(d: TemplateData, spec: FieldSpec, onFailure?: RenderFailureSink): string {
    const opts = { parseName: `${spec.integration}.${spec.field}`, ...(spec.html ? { html: true } : {}) };
    const attempts: Array<[NotificationTemplates, string]> = [];
    if (spec.text) attempts.push([this, spec.text]);
    attempts.push([this, spec.fallback]);
    if (this !== NotificationTemplates.builtin) attempts.push([NotificationTemplates.builtin, spec.fallback]);
    for (const [tmpl, text] of attempts) {
      try {
        return tmpl.execute(text, d, opts);
      } catch (err) {
        this.report(d, spec, (err as Error).message, onFailure);
      }
    }
    return '';
  }

  private report(d: TemplateData, spec: FieldSpec, message: string, onFailure?: RenderFailureSink): void {
    let seen = this.reported.get(d);
    if (seen === undefined) this.reported.set(d, (seen = new Set()));
    const key = `${spec.integration}\x00${spec.field}\x00${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    onFailure?.({ integration: spec.integration, field: spec.field, message, data: d });
  }

  /**
   * Checks an inline text (a receiver field): throws {@link TemplateParseError} for a syntax error;
   * returns the names it calls that no template defines.
   */
  checkText(text: string): string[] {
    const trees: ReadonlyMap<string, Template> = this.set.parseInline(text, '');
    return this.set.missing(trees).map((m) => m.name);
  }

  /** `file:line: template: no such template "x"` for every call of an undefined template in the files. */
  missingInFiles(): string[] {
    return this.set.missing().map((m) => `${m.parseName}:${m.line}: template: no such template ${JSON.stringify(m.name)}`);
  }
}

/** Why a `templates:` entry could not be loaded: a bad pattern or a missing literal path. */
export class TemplateGlobError extends VigilError {
  override readonly code = 'bad_template_glob' as const;
  constructor(message: string) {
    super('bad_template_glob', message);
  }
}

/**
 * Loads the `templates:` globs, relative to `baseDir` (the configuration file's directory), into
 * a set over Vigil's defaults. A glob that matches nothing is fine (Alertmanager allows files
 * that appear later); a literal path that does not exist is a {@link TemplateGlobError} (Vigil is
 * stricter than Alertmanager, which ignores it). Syntax errors throw {@link TemplateFileError}.
 */
export function loadNotificationTemplates(
  globs: readonly string[],
  baseDir: string,
  onGlobError: (index: number, err: TemplateGlobError) => never,
): NotificationTemplates {
  const files: Array<{ name: string; text: string }> = [];
  globs.forEach((pattern, i) => {
    const abs = path.resolve(baseDir, pattern);
    let matches: string[];
    try {
      matches = glob(abs);
    } catch (err) {
      if (err instanceof GlobPatternError) onGlobError(i, new TemplateGlobError(`${pattern}: ${err.message}`));
      throw err;
    }
    if (matches.length === 0 && !hasGlobMeta(pattern)) onGlobError(i, new TemplateGlobError(`open ${pattern}: no such file or directory`));
    for (const m of matches) {
      // Name the file as the user would: relative to the configuration when the pattern was.
      const name = path.isAbsolute(pattern) ? m : path.relative(baseDir, m) || m;
      const text = readTextFile(m, (detail) => new TemplateFileError(name, 0, detail));
      files.push({ name, text });
    }
  });
  return NotificationTemplates.fromFiles(files);
}
