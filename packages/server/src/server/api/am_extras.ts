/**
 * Vigil's alerting endpoints beyond Alertmanager, under `/api/v1/alertmanager/`, in Vigil's JSON
 * envelope:
 *
 * - `GET  alerts` — firing alerts with status, receivers and acknowledgement
 * - `POST acknowledge` — `{fingerprint | groupKey, by, comment?, expiresAt? | duration?}`
 * - `DELETE acknowledge/:fingerprint?by=` — withdraw an acknowledgement
 * - `POST resolve` — `{fingerprint | groupKey, by, comment?}`
 * - `GET  history?fingerprint=&type=&receiver=&since=&until=&limit=&grouped=` — state changes, and
 *   notifications as one row each with their attempts inside (`grouped=false`: one event per attempt)
 * - `GET  stats` — alerts by severity and state, success rate per receiver, MTTA and MTTR
 * - `GET  stats/volume?hours=24&top=10` — notifications per receiver per hour and the noisiest alert names
 * - `GET  receivers` — each configured receiver integration: failing or not, since when, last error
 * - `GET  inbox?receiver=&limit=` — what `inbox_configs` receivers kept, newest first
 */
import { parseDuration } from '../../core/time/duration.js';
import type { AlertRouter, AlertTarget } from '../../alerting/alertmanager/router.js';
import { HISTORY_TYPES, type HistoryQuery, type HistoryType } from '../../alerting/alertmanager/history.js';
import { groupNotifications } from '../../alerting/alertmanager/notifications.js';
import { notificationVolume } from '../../alerting/alertmanager/volume.js';
import { formatTime, parseTime } from '../../alerting/alertmanager/types.js';
import { ApiError } from './errors.js';
import { json, type ApiRequest, type Router } from './http.js';
import { gettableAlert } from './am_v2.js';

async function body(req: ApiRequest): Promise<Record<string, unknown>> {
  // Read outside the try: a too-large body is a 413, not a JSON syntax error.
  const raw = (await req.body(1024 * 1024)).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(raw || '{}');
  } catch (err) {
    throw new ApiError('bad_data', `invalid JSON body: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError('bad_data', 'body must be a JSON object');
  return v as Record<string, unknown>;
}

function str(b: Record<string, unknown>, k: string): string | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ApiError('bad_data', `${k} must be a string`);
  return v;
}

function target(b: Record<string, unknown>): { target: AlertTarget; by: string; comment: string } {
  const fingerprint = str(b, 'fingerprint');
  const groupKey = str(b, 'groupKey');
  if (!fingerprint === !groupKey) throw new ApiError('bad_data', 'give exactly one of fingerprint or groupKey');
  const by = str(b, 'by');
  if (!by) throw new ApiError('bad_data', 'by (who) is required');
  const t: AlertTarget = fingerprint ? { fingerprint } : { groupKey: groupKey! };
  return { target: t, by, comment: str(b, 'comment') ?? '' };
}

function timeParam(q: URLSearchParams, k: string): number | undefined {
  const v = q.get(k);
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  try {
    return parseTime(v);
  } catch {
    throw new ApiError('bad_data', `invalid ${k}: ${JSON.stringify(v)}`);
  }
}

function limitParam(q: URLSearchParams, dflt: number): number {
  const limit = q.get('limit');
  if (!limit) return dflt;
  if (!/^[1-9]\d*$/.test(limit)) throw new ApiError('bad_data', 'limit must be a positive integer');
  return Number(limit);
}

/** Registers `/api/v1/alertmanager/...`. */
export function registerAlertmanagerExtras(router: Router, am: AlertRouter): void {
  const p = '/api/v1/alertmanager';

  router.on('GET', `${p}/alerts`, () =>
    json(
      am.alerts().map((a) => {
        const ack = am.ackOf(a);
        return {
          ...gettableAlert(am, a),
          acknowledgement: ack
            ? { by: ack.by, at: formatTime(ack.at), comment: ack.comment, expiresAt: ack.expiresAt ? formatTime(ack.expiresAt) : null }
            : null,
        };
      }),
    ),
  );

  router.on('POST', `${p}/acknowledge`, async (req) => {
    const b = await body(req);
    const { target: t, by, comment } = target(b);
    let expiresAt = 0;
    const exp = str(b, 'expiresAt');
    const dur = str(b, 'duration');
    try {
      if (exp) expiresAt = parseTime(exp);
      else if (dur) expiresAt = am.clock.now() + parseDuration(dur);
    } catch (err) {
      throw new ApiError('bad_data', (err as Error).message);
    }
    const acked = await am.acknowledge(t, by, comment, expiresAt);
    if (acked.length === 0) throw new ApiError('not_found', 'no firing alert matches');
    return json({ acknowledged: acked });
  });

  router.on('DELETE', `${p}/acknowledge/:fingerprint`, (req) => {
    if (!am.unacknowledge(req.params['fingerprint']!, req.query.get('by') ?? '')) throw new ApiError('not_found', 'no acknowledgement for that alert');
    return json({ unacknowledged: req.params['fingerprint'] });
  });

  router.on('POST', `${p}/resolve`, async (req) => {
    const { target: t, by, comment } = target(await body(req));
    const resolved = am.resolve(t, by, comment);
    if (resolved.length === 0) throw new ApiError('not_found', 'no firing alert matches');
    return json({ resolved });
  });

  router.on('GET', `${p}/history`, (req) => {
    const q = req.query;
    const hq: HistoryQuery = {};
    const fp = q.get('fingerprint');
    if (fp) hq.fingerprint = fp;
    const type = q.get('type');
    if (type) {
      if (!(HISTORY_TYPES as readonly string[]).includes(type)) throw new ApiError('bad_data', `type must be one of ${HISTORY_TYPES.join(', ')}`);
      hq.type = type as HistoryType;
    }
    const receiver = q.get('receiver');
    if (receiver) hq.receiver = receiver;
    const since = timeParam(q, 'since');
    if (since !== undefined) hq.since = since;
    const until = timeParam(q, 'until');
    if (until !== undefined) hq.until = until;
    const limit = limitParam(q, 1000);
    const grouped = q.get('grouped') ?? 'true';
    if (grouped !== 'true' && grouped !== 'false') throw new ApiError('bad_data', 'grouped must be true or false');
    if (grouped === 'false') return json(am.history.query({ ...hq, limit }).map((e) => ({ ...e, time: formatTime(e.time) })));
    // Rows fold many attempts: group everything the history holds, then cut to the limit.
    const rows = groupNotifications(am.history.query({ ...hq, limit: Number.MAX_SAFE_INTEGER })).slice(0, limit);
    return json(
      rows.map((e) =>
        'attempts' in e
          ? { ...e, time: formatTime(e.time), firstTime: formatTime(e.firstTime), attempts: e.attempts.map((a) => ({ ...a, time: formatTime(a.time) })) }
          : { ...e, time: formatTime(e.time) },
      ),
    );
  });

  router.on('GET', `${p}/receivers`, () =>
    json(
      am.receiverHealth().map((h) => ({
        ...h,
        failingSince: h.failingSince === null ? null : formatTime(h.failingSince),
        lastAttemptAt: h.lastAttemptAt === null ? null : formatTime(h.lastAttemptAt),
        lastSuccessAt: h.lastSuccessAt === null ? null : formatTime(h.lastSuccessAt),
      })),
    ),
  );

  router.on('GET', `${p}/inbox`, (req) => {
    const receiver = req.query.get('receiver');
    const items = am.inbox.list({ limit: limitParam(req.query, 100), ...(receiver ? { receiver } : {}) });
    return json(
      items.map((x) => ({
        ...x,
        time: formatTime(x.time),
        alerts: x.alerts.map((a) => ({ ...a, startsAt: formatTime(a.startsAt), endsAt: formatTime(a.endsAt) })),
      })),
    );
  });

  router.on('GET', `${p}/stats`, () => {
    const c = am.counts();
    const alerts = [...c.bySeverityState].map(([k, count]) => {
      const [severity, state] = k.split('\u0000');
      return { severity, state, count };
    });
    return json({
      alerts,
      received: c.received,
      notifications: am.stats.integrations().map(({ lastAttemptAt, lastSuccessAt, failingSince, ...s }) => ({
        ...s,
        failing: failingSince !== undefined,
        failingSince: failingSince === undefined ? null : formatTime(failingSince),
        lastAttemptAt: lastAttemptAt === undefined ? null : formatTime(lastAttemptAt),
        lastSuccessAt: lastSuccessAt === undefined ? null : formatTime(lastSuccessAt),
        successRate: Number.isNaN(s.successRate) ? null : s.successRate,
      })),
      ...am.stats.means(),
    });
  });

  router.on('GET', `${p}/stats/volume`, (req) => {
    const hours = intParam(req.query, 'hours', 24, 168);
    const top = intParam(req.query, 'top', 10, 100);
    const v = notificationVolume(am.history, am.clock.now(), hours, top);
    return json({ ...v, from: formatTime(v.from), until: formatTime(v.until), stepSeconds: 3600 });
  });
}

/** A positive integer query parameter no larger than `max`. */
function intParam(q: URLSearchParams, name: string, dflt: number, max: number): number {
  const v = q.get(name);
  if (!v) return dflt;
  if (!/^[1-9]\d*$/.test(v) || Number(v) > max) throw new ApiError('bad_data', `${name} must be an integer from 1 to ${max}`);
  return Number(v);
}
