/**
 * Alertmanager's API v2 over the alert router, with Alertmanager's JSON shapes (no Prometheus
 * envelope) and its error style (a JSON string body), so amtool, Prometheus and vmalert work
 * against Vigil unchanged.
 */
import type { Matcher } from '../../core/model/matcher.js';
import { compileAnchoredRegex } from '../../core/model/matcher.js';
import type { CompiledRegex } from '../../core/regex/re2.js';
import type { AlertRouter } from '../../alerting/alertmanager/router.js';
import { silenceState, silenceToApi, SilenceNotFoundError, type PostableSilence, type Silence } from '../../alerting/alertmanager/silence.js';
import { formatTime, matchesAll, parseMatchers, type Alert, type PostableAlert } from '../../alerting/alertmanager/types.js';
import { VigilError } from '../../core/errors.js';
import { redactYaml } from '../../core/config_secrets.js';
import { withoutInboxConfigs } from '../../alerting/alertmanager/inbox.js';
import { alertmanagerStatus } from './errors.js';
import type { ApiRequest, ApiResult, Router } from './http.js';

/** A v2 response: JSON with Alertmanager's status codes. */
export function amJson(status: number, data: unknown): ApiResult {
  return { kind: 'raw', status, body: JSON.stringify(data), contentType: 'application/json' };
}

/** An Alertmanager-style error: the message as a JSON string. */
export function amError(status: number, message: string): ApiResult {
  return amJson(status, message);
}

/** A malformed request (query parameter or body); Alertmanager answers 400. */
class BadRequest extends VigilError {
  override readonly code = 'bad_data' as const;
  constructor(message: string) {
    super('bad_data', message);
  }
}

function boolParam(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new BadRequest(`${name} in query must be of type boolean: ${JSON.stringify(v)}`);
}

function filterParam(q: URLSearchParams): Matcher[] {
  try {
    return q.getAll('filter').flatMap((f) => parseMatchers(f));
  } catch (err) {
    throw new BadRequest((err as Error).message);
  }
}

function receiverParam(q: URLSearchParams): CompiledRegex | undefined {
  const r = q.get('receiver');
  if (!r) return undefined;
  try {
    return compileAnchoredRegex(r);
  } catch (err) {
    throw new BadRequest(`failed to parse receiver param: ${(err as Error).message}`);
  }
}

/** The gettableAlert JSON of an alert. */
export function gettableAlert(am: AlertRouter, a: Alert): Record<string, unknown> {
  const st = am.status(a);
  return {
    annotations: a.annotations,
    endsAt: formatTime(a.endsAt),
    fingerprint: a.fingerprint,
    receivers: am.receiversOf(a).map((name) => ({ name })),
    startsAt: formatTime(a.startsAt),
    status: { inhibitedBy: st.inhibitedBy, silencedBy: st.silencedBy, mutedBy: st.mutedBy, state: st.state },
    updatedAt: formatTime(a.updatedAt),
    generatorURL: a.generatorURL,
    labels: a.labels,
  };
}

/** Applies the `filter`, `active`, `silenced`, `inhibited` and `receiver` parameters. */
function alertFilter(am: AlertRouter, q: URLSearchParams): (a: Alert, receivers?: string[]) => boolean {
  const matchers = filterParam(q);
  const active = boolParam(q, 'active', true);
  const silenced = boolParam(q, 'silenced', true);
  const inhibited = boolParam(q, 'inhibited', true);
  boolParam(q, 'unprocessed', true);
  const muted = boolParam(q, 'muted', true);
  const receiver = receiverParam(q);
  return (a, receivers = am.receiversOf(a)) => {
    if (!matchesAll(matchers, a.labels)) return false;
    if (receiver && !receivers.some((r) => receiver.test(r))) return false;
    const st = am.status(a);
    if (!active && st.state === 'active') return false;
    if (!silenced && st.silencedBy.length > 0) return false;
    if (!inhibited && st.inhibitedBy.length > 0) return false;
    if (!muted && st.mutedBy.length > 0) return false;
    return true;
  };
}

async function readJsonBody(req: ApiRequest): Promise<unknown> {
  const text = (await req.body()).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequest(`invalid JSON body: ${(err as Error).message}`);
  }
}

function guard(fn: (req: ApiRequest) => ApiResult | Promise<ApiResult>): (req: ApiRequest) => Promise<ApiResult> {
  return async (req) => {
    try {
      return await fn(req);
    } catch (err) {
      const status = alertmanagerStatus(err);
      if (status === undefined) throw err;
      return amError(status, (err as Error).message);
    }
  };
}

const STATE_ORDER = { active: 0, pending: 1, expired: 2 } as const;

/** Sorts silences as Alertmanager does: active by end, pending by start, expired newest first. */
function sortSilences(list: Silence[], now: number): Silence[] {
  return list.sort((a, b) => {
    const sa = silenceState(a, now);
    const sb = silenceState(b, now);
    if (sa !== sb) return STATE_ORDER[sa] - STATE_ORDER[sb];
    if (sa === 'active') return a.endsAt - b.endsAt;
    if (sa === 'pending') return a.startsAt - b.startsAt;
    return b.endsAt - a.endsAt;
  });
}

/**
 * The Alertmanager release whose API and configuration format Vigil follows (Debian's amtool, the
 * peer the tests compare against). amtool warns when its major.minor differs from the version in
 * /api/v2/status, so that is what the version field reports; Vigil's own version is in `revision`.
 */
export const ALERTMANAGER_COMPAT_VERSION = '0.25.0';

/** Registers `/api/v2/...`. */
export function registerAlertmanagerV2(router: Router, am: AlertRouter, version = '0.1.0'): void {
  router.on(
    'GET',
    '/api/v2/alerts',
    guard((req) => {
      const keep = alertFilter(am, req.query);
      return amJson(
        200,
        am
          .alerts()
          .filter((a) => keep(a))
          .map((a) => gettableAlert(am, a)),
      );
    }),
  );

  router.on(
    'POST',
    '/api/v2/alerts',
    guard(async (req) => {
      const body = await readJsonBody(req);
      if (!Array.isArray(body)) throw new BadRequest('body must be a list of alerts');
      am.receive(body as PostableAlert[]);
      return { kind: 'raw', status: 200, body: '' };
    }),
  );

  router.on(
    'GET',
    '/api/v2/alerts/groups',
    guard((req) => {
      const keep = alertFilter(am, req.query);
      const now = am.clock.now();
      const out: Array<Record<string, unknown>> = [];
      for (const g of am.groups()) {
        const alerts = [...g.alerts.values()].filter((a) => a.endsAt > now && keep(a, [g.route.receiver]));
        if (alerts.length === 0) continue;
        out.push({ labels: g.labels, receiver: { name: g.route.receiver }, alerts: alerts.map((a) => gettableAlert(am, a)) });
      }
      return amJson(200, out);
    }),
  );

  router.on(
    'GET',
    '/api/v2/silences',
    guard((req) => {
      const filters = filterParam(req.query);
      const now = am.clock.now();
      const list = am.silences.list().filter((s) => {
        // A filter matches a silence when the silence's own equality matchers satisfy it, as in Alertmanager.
        const sls: Record<string, string> = {};
        for (const m of s.matchers) sls[m.name] = m.value;
        return filters.every((f) => sls[f.name] !== undefined && f.matches(sls[f.name]!));
      });
      return amJson(
        200,
        sortSilences(list, now).map((s) => silenceToApi(s, now)),
      );
    }),
  );

  router.on(
    'POST',
    '/api/v2/silences',
    guard(async (req) => {
      const body = await readJsonBody(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('body must be a silence object');
      const id = am.silences.set(body as PostableSilence);
      return amJson(200, { silenceID: id });
    }),
  );

  router.on(
    'GET',
    '/api/v2/silence/:id',
    guard((req) => {
      const s = am.silences.get(req.params['id']!);
      if (!s) throw new SilenceNotFoundError(`silence ${req.params['id']} not found`);
      return amJson(200, silenceToApi(s, am.clock.now()));
    }),
  );

  router.on(
    'DELETE',
    '/api/v2/silence/:id',
    guard((req) => {
      am.silences.expire(req.params['id']!);
      return { kind: 'raw', status: 200, body: '' };
    }),
  );

  router.on('GET', '/api/v2/status', () =>
    amJson(200, {
      cluster: { status: 'disabled', peers: [] },
      versionInfo: {
        branch: 'vigil',
        buildDate: '',
        buildUser: 'vigil',
        goVersion: `node ${process.version}`,
        revision: `vigil-${version}`,
        version: ALERTMANAGER_COMPAT_VERSION,
      },
      // What `amtool config show` prints: Alertmanager marshals its config with secrets as `<secret>`.
      // Vigil's own `inbox_configs` are left out: amtool parses this text and refuses unknown fields.
      config: { original: redactYaml(withoutInboxConfigs(am.config.original)) },
      uptime: formatTime(am.startedAt),
    }),
  );

  router.on('GET', '/api/v2/receivers', () =>
    amJson(
      200,
      am.config.receivers.map((r) => ({ name: r.name })),
    ),
  );
}
