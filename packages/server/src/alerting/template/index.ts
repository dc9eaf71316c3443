/**
 * Go text/template for Vigil: template sets with define/template/block ({@link TemplateSet}, used
 * by notification templates with Alertmanager's functions and types), and alert templates.
 *
 * Alert templates: Go text/template with Prometheus' functions. {@link expandAlertTemplate} does
 * what Prometheus' alerting rule does for each label and annotation: prepend the `$labels`,
 * `$externalLabels`, `$externalURL` and `$value` definitions, expand, and on error return the
 * error text in place of the result so the alert still fires.
 */
import { Executor, TemplateExecError, type TemplateFunc } from './exec.js';
import { prometheusFuncs, type QuerySample, type TemplateQueryFn } from './funcs.js';
import type { TValue } from './gofmt.js';
import { parseTemplate, TemplateParseError, type Template } from './parse.js';

export { TemplateExecError, BUILTINS, isTrue, MAX_TEMPLATE_DEPTH, type TemplateFunc, type ExecOptions } from './exec.js';
export { TemplateParseError, parseTemplate, parseTemplates, isEmptyTree, type Template } from './parse.js';
export { formatV, formatG, sprintf, sprint, type TValue, type TStruct } from './gofmt.js';
export { goTypeOf, withGoType, type GoType, type GoMethod } from './gotype.js';
export { TemplateSet, type SetExecOptions, type MissingTemplate } from './set.js';
export { goTime, goDuration, formatDuration, loadLocation, GO_ZERO_TIME_MS, TIME_TYPE, DURATION_TYPE } from './gotime.js';
export { alertmanagerFuncs, alertList, kv, isSafeHtml, titleCase, shortDuration, KV_TYPE, PAIRS_TYPE, ALERTS_TYPE, HTML_TYPE } from './alertmanager.js';
export { humanize, humanize1024, humanizeDuration, prometheusFuncs, type QuerySample, type TemplateQueryFn } from './funcs.js';

/** The definitions Prometheus prepends to every alert template (one line, so line numbers hold). */
export const ALERT_TEMPLATE_DEFS = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

/** The data an alert template sees as `.`. */
export interface AlertTemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly value: number;
}

// Rules expand the same few texts for every alert at every evaluation; parse each once.
const cache = new Map<string, Template>();
const CACHE_MAX = 10_000;

function cachedParse(name: string, text: string): Template {
  const key = name + '\x00' + text;
  let t = cache.get(key);
  if (t === undefined) {
    t = parseTemplate(name, text);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, t);
  }
  return t;
}

function toMap(rec: Readonly<Record<string, string>>): Map<string, TValue> {
  return new Map(Object.entries(rec));
}

/**
 * Expands `text` like Prometheus' `Expander.Expand`. Throws Error with Prometheus' wording
 * (`error parsing template NAME: …` / `error executing template NAME: …`).
 */
export function expandTemplate(name: string, text: string, data: TValue, funcs: ReadonlyMap<string, TemplateFunc>): string {
  let tmpl: Template;
  try {
    tmpl = cachedParse(name, text);
  } catch (err) {
    if (err instanceof TemplateParseError) throw new Error(`error parsing template ${name}: ${err.message}`);
    throw err;
  }
  try {
    return new Executor(tmpl, funcs, data).run();
  } catch (err) {
    if (err instanceof TemplateExecError) throw new Error(`error executing template ${name}: ${err.message}`);
    if (err instanceof RangeError) throw new Error(`error executing template ${name}: ${err.message}`);
    throw err;
  }
}

/** Options of one alert-template expansion. */
export interface AlertExpandOptions {
  /** `__alert_<alertname>` in Prometheus. */
  readonly name: string;
  readonly data: AlertTemplateData;
  /** Answers the `query` function at the evaluation time; absent: `query` reports an error. */
  readonly query?: TemplateQueryFn;
  /** Prebuilt functions (from {@link prometheusFuncs}), so a rule builds them once per evaluation. */
  readonly funcs?: ReadonlyMap<string, TemplateFunc>;
}

/**
 * Expands an alert label or annotation. Never throws: on error the result is
 * `<error expanding template: …>` (as Prometheus does), and `onError` hears the message.
 */
export function expandAlertTemplate(text: string, opts: AlertExpandOptions, onError?: (message: string) => void): string {
  // Plain text needs no engine; most label values are plain.
  if (!text.includes('{{')) return text;
  const data = {
    Labels: toMap(opts.data.labels),
    ExternalLabels: toMap(opts.data.externalLabels),
    ExternalURL: opts.data.externalURL,
    Value: opts.data.value,
  };
  const funcs = opts.funcs ?? prometheusFuncs({ externalURL: opts.data.externalURL, ...(opts.query ? { query: opts.query } : {}) });
  try {
    return expandTemplate(opts.name, ALERT_TEMPLATE_DEFS + text, data, funcs);
  } catch (err) {
    const msg = (err as Error).message;
    onError?.(msg);
    return `<error expanding template: ${msg}>`;
  }
}

/**
 * Checks that an alert template parses (what `promtool check rules` and rule loading do).
 * Returns Go's message (`template: __alert_X:1: …`) or undefined.
 */
export function checkAlertTemplate(name: string, text: string): string | undefined {
  try {
    parseTemplate(name, ALERT_TEMPLATE_DEFS + text);
    return undefined;
  } catch (err) {
    if (err instanceof TemplateParseError) return err.message;
    throw err;
  }
}

/** Converts query results into the `query` function's samples. */
export function toQuerySamples(rows: readonly { labels: Readonly<Record<string, string>>; value: number }[]): QuerySample[] {
  return rows.map((r) => ({ Labels: toMap(r.labels), Value: r.value }));
}
