/**
 * Alertmanager's configuration format (`alertmanager.yml`), parsed strictly as Alertmanager does
 * (unknown fields are errors) and validated with errors that name the file, the line and the field.
 * It can be read from its own file or from a mapping inside Vigil's configuration.
 */
import { readTextFile } from '../../core/util/files.js';
import { isNode, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { isValidLabelName } from '../../core/model/labels.js';
import * as path from 'node:path';
import { formatMatchers } from './types.js';
import { parseTimeInterval, type TimeInterval } from './timeinterval.js';
import { loadNotificationTemplates, NotificationTemplates, TemplateFileError } from './receivers/templates.js';
import { TemplateParseError } from '../template/index.js';
import { DEFAULT_HTTP_CLIENT_CONFIG } from '../../core/httpclient/config.js';
import { Checker, HTTP_CONFIG, parseHttpConfig, readSecret, type Path, type Rec } from './config_checker.js';
import { parseIntegration, parseRateLimit } from './config_integrations.js';
import {
  AlertmanagerConfigError,
  type AlertmanagerConfig,
  type AmGlobal,
  type InhibitRule,
  type IntegrationConfig,
  type Receiver,
  type Route,
} from './config_types.js';

export * from './config_types.js';
export { DEFAULT_INBOX_ITEMS } from './config_integrations.js';

const GLOBAL_KEYS = [
  'resolve_timeout',
  'http_config',
  'smtp_from',
  'smtp_hello',
  'smtp_smarthost',
  'smtp_auth_username',
  'smtp_auth_password',
  'smtp_auth_password_file',
  'smtp_auth_secret',
  'smtp_auth_identity',
  'smtp_require_tls',
  'slack_api_url',
  'slack_api_url_file',
  'pagerduty_url',
  'opsgenie_api_url',
  'opsgenie_api_key',
  'opsgenie_api_key_file',
  'wechat_api_url',
  'wechat_api_secret',
  'wechat_api_corp_id',
  'victorops_api_url',
  'victorops_api_key',
  'victorops_api_key_file',
  'telegram_api_url',
  'webex_api_url',
];
const ROUTE_KEYS = [
  'receiver',
  'group_by',
  'continue',
  'matchers',
  'match',
  'match_re',
  'group_wait',
  'group_interval',
  'repeat_interval',
  'mute_time_intervals',
  'active_time_intervals',
  'routes',
];
/** Integrations Alertmanager has that Vigil accepts but does not send to (with a warning). */
const UNSUPPORTED = ['opsgenie_configs', 'wechat_configs', 'pushover_configs', 'victorops_configs', 'sns_configs', 'telegram_configs', 'webex_configs'];
/** `inbox_configs` is Vigil's: amtool check-config refuses it (unknown field), `vigil check config` checks it. */
const SUPPORTED = ['webhook_configs', 'slack_configs', 'email_configs', 'pagerduty_configs', 'discord_configs', 'msteams_configs', 'inbox_configs'];
const DEFAULT_GLOBAL: AmGlobal = {
  resolveTimeoutMs: 5 * 60_000,
  smtpFrom: '',
  smtpHello: 'localhost',
  smtpSmarthost: '',
  smtpAuthUsername: '',
  smtpAuthPassword: '',
  smtpAuthIdentity: '',
  smtpRequireTls: true,
  slackApiUrl: '',
  pagerdutyUrl: 'https://events.pagerduty.com/v2/enqueue',
  httpConfig: DEFAULT_HTTP_CLIENT_CONFIG,
};

function parseGlobal(c: Checker, v: unknown): AmGlobal {
  const g = c.map(['global'], v, GLOBAL_KEYS);
  const p = (k: string): Path => ['global', k];
  let password = c.str(p('smtp_auth_password'), g['smtp_auth_password']);
  if (g['smtp_auth_password_file'] !== undefined) password = readSecret(c, p('smtp_auth_password_file'), g['smtp_auth_password_file']);
  let slack = c.url(p('slack_api_url'), g['slack_api_url'], '', true);
  if (g['slack_api_url_file'] !== undefined) slack = readSecret(c, p('slack_api_url_file'), g['slack_api_url_file']);
  return {
    resolveTimeoutMs: c.duration(p('resolve_timeout'), g['resolve_timeout'], DEFAULT_GLOBAL.resolveTimeoutMs),
    smtpFrom: c.str(p('smtp_from'), g['smtp_from']),
    smtpHello: c.str(p('smtp_hello'), g['smtp_hello'], 'localhost'),
    smtpSmarthost: c.str(p('smtp_smarthost'), g['smtp_smarthost']),
    smtpAuthUsername: c.str(p('smtp_auth_username'), g['smtp_auth_username']),
    smtpAuthPassword: password,
    smtpAuthIdentity: c.str(p('smtp_auth_identity'), g['smtp_auth_identity']),
    smtpRequireTls: c.bool(p('smtp_require_tls'), g['smtp_require_tls'], true),
    slackApiUrl: slack,
    pagerdutyUrl: c.url(p('pagerduty_url'), g['pagerduty_url'], '') || DEFAULT_GLOBAL.pagerdutyUrl,
    httpConfig: g[HTTP_CONFIG] === undefined || g[HTTP_CONFIG] === null ? DEFAULT_GLOBAL.httpConfig : parseHttpConfig(c, p(HTTP_CONFIG), g[HTTP_CONFIG]),
  };
}

interface Inherited {
  receiver: string;
  groupBy: string[];
  groupByAll: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

function parseRoute(c: Checker, path: Path, v: unknown, parent: Inherited | undefined, parentKey: string | undefined, index: number): Route {
  const r = c.map(path, v, ROUTE_KEYS);
  const at = (k: string): Path => [...path, k];
  const matchers = [...c.legacy(path, r['match'], r['match_re']), ...c.matcherList(at('matchers'), r['matchers'])];
  let groupBy = parent?.groupBy ?? [];
  let groupByAll = parent?.groupByAll ?? false;
  if (r['group_by'] !== undefined) {
    const names = c.list(at('group_by'), r['group_by']).map((x, i) => c.str([...path, 'group_by', i], x));
    groupByAll = names.includes('...');
    if (groupByAll && names.length > 1) c.fail(at('group_by'), 'cannot have wildcard group_by (`...`) and other labels at the same time');
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (n !== '...' && !isValidLabelName(n)) c.fail([...path, 'group_by', i], `invalid label name ${JSON.stringify(n)} in group_by list`);
      if (seen.has(n)) c.fail([...path, 'group_by', i], `duplicated label ${JSON.stringify(n)} in group_by`);
      seen.add(n);
    });
    groupBy = groupByAll ? [] : names;
  }
  const receiver = c.str(at('receiver'), r['receiver']) || parent?.receiver || '';
  const ownKey = formatMatchers(matchers);
  const key = parentKey === undefined ? ownKey : `${parentKey}/${ownKey}`;
  const inherited: Inherited = {
    receiver,
    groupBy,
    groupByAll,
    groupWaitMs: c.duration(at('group_wait'), r['group_wait'], parent?.groupWaitMs ?? 30_000),
    groupIntervalMs: c.duration(at('group_interval'), r['group_interval'], parent?.groupIntervalMs ?? 5 * 60_000),
    repeatIntervalMs: c.duration(at('repeat_interval'), r['repeat_interval'], parent?.repeatIntervalMs ?? 4 * 3600_000),
  };
  if (inherited.groupIntervalMs === 0) c.fail(at('group_interval'), 'group_interval cannot be zero');
  if (inherited.repeatIntervalMs === 0) c.fail(at('repeat_interval'), 'repeat_interval cannot be zero');
  const names = (k: string): string[] => c.list(at(k), r[k]).map((x, i) => c.str([...path, k, i], x));
  const route: Route = {
    ...inherited,
    matchers,
    continue: c.bool(at('continue'), r['continue'], false),
    muteTimeIntervals: names('mute_time_intervals'),
    activeTimeIntervals: names('active_time_intervals'),
    routes: [],
    key,
    id: parentKey === undefined ? key : `${key}/${index}`,
  };
  route.routes = c.list(at('routes'), r['routes']).map((child, i) => parseRoute(c, [...path, 'routes', i], child, inherited, key, i));
  return route;
}

function checkRouteRefs(c: Checker, route: Route, path: Path, receivers: Set<string>, intervals: Map<string, TimeInterval[]>): void {
  if (!receivers.has(route.receiver)) c.fail([...path, 'receiver'], `undefined receiver ${JSON.stringify(route.receiver)} used in route`);
  for (const k of ['mute_time_intervals', 'active_time_intervals'] as const) {
    const list = k === 'mute_time_intervals' ? route.muteTimeIntervals : route.activeTimeIntervals;
    list.forEach((n, i) => {
      if (!intervals.has(n)) c.fail([...path, k, i], `undefined time interval ${JSON.stringify(n)} used in route`);
    });
  }
  route.routes.forEach((r, i) => checkRouteRefs(c, r, [...path, 'routes', i], receivers, intervals));
}

/** Parses the configuration at `base` inside an already parsed YAML document (e.g. Vigil's `alertmanager_config:`). */
export function parseAlertmanagerConfigIn(doc: Document, lines: LineCounter, file: string, base: Path = []): AlertmanagerConfig {
  const c: Checker = new Checker(doc, lines, file, base);
  const node = base.length ? doc.getIn(base, true) : doc.contents;
  const root = c.map([], isNode(node) ? node.toJS(doc) : node, [
    'global',
    'route',
    'receivers',
    'inhibit_rules',
    'time_intervals',
    'mute_time_intervals',
    'templates',
  ]);
  const global = parseGlobal(c, root['global']);
  const warnings = c.warnings;
  const receivers = c.list(['receivers'], root['receivers']).map((rv, i): Receiver => {
    const path: Path = ['receivers', i];
    const r = c.map(path, rv, ['name', 'rate_limit', ...SUPPORTED, ...UNSUPPORTED]);
    const name = c.str([...path, 'name'], r['name']);
    if (!name) c.fail(path, 'missing name in receiver');
    const integrations: IntegrationConfig[] = [];
    for (const kind of SUPPORTED)
      c.list([...path, kind], r[kind]).forEach((x, j) => integrations.push(parseIntegration(c, kind, [...path, kind, j], x, global)));
    for (const kind of UNSUPPORTED) if (r[kind] !== undefined) warnings.push(`receiver ${name}: ${kind} is not supported by Vigil and is ignored`);
    const rateLimit = parseRateLimit(c, [...path, 'rate_limit'], r['rate_limit']);
    return rateLimit ? { name, integrations, rateLimit } : { name, integrations };
  });
  const names = new Set<string>();
  receivers.forEach((r, i) => {
    if (names.has(r.name)) c.fail(['receivers', i, 'name'], `notification config name ${JSON.stringify(r.name)} is not unique`);
    names.add(r.name);
  });
  const timeIntervals = new Map<string, TimeInterval[]>();
  for (const key of ['time_intervals', 'mute_time_intervals'] as const) {
    c.list([key], root[key]).forEach((ti, i) => {
      const t = c.map([key, i], ti, ['name', 'time_intervals']);
      const name = c.str([key, i, 'name'], t['name']);
      if (!name) c.fail([key, i], 'missing name in time interval');
      if (timeIntervals.has(name)) c.fail([key, i, 'name'], `time interval ${JSON.stringify(name)} is not unique`);
      timeIntervals.set(
        name,
        c.list([key, i, 'time_intervals'], t['time_intervals']).map((x, j) => {
          try {
            return parseTimeInterval((x ?? {}) as Rec);
          } catch (err) {
            c.fail([key, i, 'time_intervals', j], (err as Error).message);
          }
        }),
      );
    });
  }
  if (root['route'] === undefined) c.fail([], 'no routes provided');
  const route = parseRoute(c, ['route'], root['route'], undefined, undefined, 0);
  if (!route.receiver) c.fail(['route'], 'root route must specify a default receiver');
  if (route.matchers.length > 0) c.fail(['route'], 'root route must not have any matchers');
  if (route.continue) c.fail(['route', 'continue'], 'cannot have continue in root route');
  if (route.muteTimeIntervals.length > 0) c.fail(['route', 'mute_time_intervals'], 'root route must not have any mute time intervals');
  if (route.activeTimeIntervals.length > 0) c.fail(['route', 'active_time_intervals'], 'root route must not have any active time intervals');
  checkRouteRefs(c, route, ['route'], names, timeIntervals);
  const inhibitRules = c.list(['inhibit_rules'], root['inhibit_rules']).map((ir, i): InhibitRule => {
    const path: Path = ['inhibit_rules', i];
    const r = c.map(path, ir, ['source_matchers', 'target_matchers', 'equal', 'source_match', 'source_match_re', 'target_match', 'target_match_re']);
    const equal = c.list([...path, 'equal'], r['equal']).map((x, j) => c.str([...path, 'equal', j], x));
    return {
      sourceMatchers: [...c.legacy(path, r['source_match'], r['source_match_re']), ...c.matcherList([...path, 'source_matchers'], r['source_matchers'])],
      targetMatchers: [...c.legacy(path, r['target_match'], r['target_match_re']), ...c.matcherList([...path, 'target_matchers'], r['target_matchers'])],
      equal,
    };
  });
  const templates = c.list(['templates'], root['templates']).map((x, i) => c.str(['templates', i], x));
  const notificationTemplates = loadTemplates(c, templates, file, warnings);
  const original = base.length ? stringify(root) : doc.toString();
  return { global, route, receivers, inhibitRules, timeIntervals, templates, notificationTemplates, original, warnings };
}

/**
 * Loads the template files (globs relative to the configuration file's directory, as Alertmanager
 * resolves them) and checks the receivers' template fields against them. Syntax errors are
 * configuration errors naming the file and line; calls of templates nobody defines are warnings,
 * since Alertmanager finds those only when a notification renders.
 */
function loadTemplates(c: Checker, globs: string[], file: string, warnings: string[]): NotificationTemplates {
  let tmpl: NotificationTemplates;
  try {
    tmpl = loadNotificationTemplates(globs, path.dirname(file), (i, err) => c.fail(['templates', i], err.message));
  } catch (err) {
    if (err instanceof TemplateFileError) throw new AlertmanagerConfigError(err.file, err.line, '', err.detail);
    throw err;
  }
  warnings.push(...tmpl.missingInFiles());
  for (const f of c.templateFields) {
    let missing: string[];
    try {
      missing = tmpl.checkText(f.text);
    } catch (err) {
      if (err instanceof TemplateParseError) c.fail(f.path, `template: ${err.reason}${err.line > 1 ? ` (line ${err.line} of the text)` : ''}`);
      throw err;
    }
    for (const name of missing) warnings.push(`${file}:${c.line(f.path)}: ${f.path.join('.')}: template: no such template ${JSON.stringify(name)}`);
  }
  return tmpl;
}

/** Parses and validates `alertmanager.yml` text; `file` names it in errors. */
export function parseAlertmanagerConfig(text: string, file: string): AlertmanagerConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new AlertmanagerConfigError(file, lines.linePos(e.pos[0]).line, '', `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const cfg = parseAlertmanagerConfigIn(doc, lines, file);
  cfg.original = text;
  return cfg;
}

/** Reads and validates an `alertmanager.yml` file. */
export function loadAlertmanagerConfig(file: string): AlertmanagerConfig {
  return parseAlertmanagerConfig(
    readTextFile(file, (detail) => new AlertmanagerConfigError(file, 0, '', detail)),
    file,
  );
}

/** The smallest valid configuration: one receiver with no integrations. */
export function defaultAlertmanagerConfig(): AlertmanagerConfig {
  return parseAlertmanagerConfig('route:\n  receiver: default\nreceivers:\n  - name: default\n', '<default>');
}
