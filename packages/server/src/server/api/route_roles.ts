/**
 * Which role each route needs, in one table beside body_types.ts, so access is decided in one place
 * and a test can walk every registered route against it. Roles (see web_config.ts):
 *
 * - `read`: queries, the UI, every GET, the live tail. Health and readiness too: Prometheus puts
 *   them behind the same authentication as everything else (exporter-toolkit wraps the whole
 *   server), and so does Vigil.
 * - `write`: ingest (remote_write, Loki push, OTLP, JSON lines) and alerts posted by Prometheus or
 *   Grafana, which are ingest of another kind.
 * - `silence`: silences, acknowledgements and manual resolves, plus `read`. They are not `write`:
 *   the write credential sits in the configuration of every Prometheus and shipper, and a leaked
 *   one must not be able to mute every alert. They are not only `admin` either: the person on call
 *   silences from the UI, and should not need the power to reload or flush to do it.
 * - `admin`: everything, including reload, quit and the admin API.
 *
 * A route missing from the table needs `admin`, so a new endpoint is closed until someone decides.
 */
import type { Role } from '../config/web_config.js';

/** What a route needs: a role, or nothing (`open`: the login page, so a browser can reach it). */
export type Need = Role | 'open';

type Methods = Readonly<Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Need>>>;

const READ: Methods = { GET: 'read' };
/** Reads that also take a POST form (long queries), as Prometheus' and Loki's do. */
const READ_FORM: Methods = { GET: 'read', POST: 'read' };
const ADMIN_ACTION: Methods = { POST: 'admin', PUT: 'admin' };

/** Route pattern → method → need. HEAD and OPTIONS count as GET. */
export const ROUTE_NEEDS: Readonly<Record<string, Methods>> = {
  // Login (login.ts): open, or nobody could log in.
  '/login': { GET: 'open', POST: 'open' },
  '/login.css': { GET: 'open' },
  '/logout': { GET: 'open', POST: 'open' },
  // Health and lifecycle (admin.ts, server.ts)
  '/-/healthy': READ,
  '/-/ready': READ,
  '/ready': READ,
  '/-/reload': ADMIN_ACTION,
  '/-/quit': ADMIN_ACTION,
  '/api/v1/admin/tsdb/flush': ADMIN_ACTION,
  '/metrics': READ,
  // UI (ui.ts)
  '/': READ,
  '/graph': READ,
  '/ui/*path': READ,
  '/api/v1/ui/dashboards': READ,
  '/api/v1/ui/settings': READ,
  // Grafana-style dashboard links (/d/<uid>) redirect into the UI.
  '/d/:uid': READ,
  '/d/:uid/:slug': READ,
  // Prometheus API
  '/api/v1/query': READ_FORM,
  '/api/v1/query_range': READ_FORM,
  '/api/v1/format_query': READ_FORM,
  '/api/v1/parse_query': READ_FORM,
  '/api/v1/query_exemplars': READ_FORM,
  '/api/v1/series': READ_FORM,
  '/api/v1/labels': READ_FORM,
  '/api/v1/label/:name/values': READ,
  '/api/v1/metadata': READ,
  '/api/v1/targets': READ_FORM,
  '/api/v1/targets/metadata': READ_FORM,
  '/api/v1/rules': READ_FORM,
  '/api/v1/alerts': READ_FORM,
  '/prometheus/api/v1/rules': READ_FORM,
  '/prometheus/api/v1/alerts': READ_FORM,
  '/api/v1/status/buildinfo': READ,
  '/api/v1/status/runtimeinfo': READ,
  '/api/v1/status/flags': READ,
  '/api/v1/status/config': READ,
  '/api/v1/status/tsdb': READ,
  '/api/v1/status/limits': READ,
  '/api/v1/scrape_pools': READ,
  // Ingest
  '/api/v1/write': { POST: 'write' },
  '/loki/api/v1/push': { POST: 'write' },
  '/v1/logs': { POST: 'write' },
  '/api/v1/logs/jsonl': { POST: 'write' },
  '/v1/traces': { POST: 'write' },
  '/v1/metrics': { POST: 'write' },
  '/api/v1/otlp/v1/metrics': { POST: 'write' },
  '/api/v2/spans': { POST: 'write' },
  // Alertmanager API
  '/api/v2/alerts': { GET: 'read', POST: 'write' },
  '/api/v2/alerts/groups': READ,
  '/api/v2/silences': { GET: 'read', POST: 'silence' },
  '/api/v2/silence/:id': { GET: 'read', DELETE: 'silence' },
  '/api/v2/status': READ,
  '/api/v2/receivers': READ,
  '/api/v1/alertmanager/alerts': READ,
  '/api/v1/alertmanager/acknowledge': { POST: 'silence' },
  '/api/v1/alertmanager/acknowledge/:fingerprint': { DELETE: 'silence' },
  '/api/v1/alertmanager/resolve': { POST: 'silence' },
  '/api/v1/alertmanager/history': READ,
  '/api/v1/alertmanager/stats': READ,
  '/api/v1/alertmanager/receivers': READ,
  '/api/v1/alertmanager/inbox': READ,
  '/api/v1/alertmanager/stats/volume': READ,
  // Loki API (the live tail is a WebSocket handshake, checked in server.ts)
  '/loki/api/v1/tail': READ,
  '/loki/api/v1/query': READ_FORM,
  '/loki/api/v1/query_range': READ_FORM,
  '/loki/api/v1/labels': READ_FORM,
  '/loki/api/v1/label/:name/values': READ_FORM,
  '/loki/api/v1/series': READ_FORM,
  '/loki/api/v1/index/stats': READ_FORM,
  '/loki/api/v1/index/volume': READ_FORM,
  '/loki/api/v1/index/volume_range': READ_FORM,
  '/loki/api/v1/detected_labels': READ_FORM,
  '/loki/api/v1/detected_fields': READ_FORM,
  '/loki/api/v1/format_query': READ_FORM,
  '/loki/api/v1/status/buildinfo': READ,
  '/loki/api/v1/facets': READ_FORM,
  '/loki/api/v1/context': READ_FORM,
  '/loki/api/v1/correlate': READ_FORM,
  '/loki/api/v1/patterns': READ_FORM,
  // Tempo API
  '/api/traces/:id': READ,
  '/api/v2/traces/:id': READ,
  '/api/echo': READ,
  '/api/status/buildinfo': READ,
  '/api/search': READ,
  '/api/search/tags': READ,
  '/api/v2/search/tags': READ,
  '/api/search/tag/:tag/values': READ,
  '/api/v2/search/tag/:tag/values': READ,
  '/api/metrics/query_range': READ,
  '/api/metrics/query': READ,
  // Jaeger API, under /jaeger (its /api/traces/<id> would collide with Tempo's)
  '/jaeger/api/services': READ,
  '/jaeger/api/services/:service/operations': READ,
  '/jaeger/api/operations': READ,
  '/jaeger/api/traces': READ,
  '/jaeger/api/traces/:id': READ,
  '/jaeger/api/dependencies': READ,
  '/jaeger/api/v3/services': READ,
  '/jaeger/api/v3/operations': READ,
  '/jaeger/api/v3/traces': READ,
  '/jaeger/api/v3/traces/:id': READ,
};

/** The role `method` on `route` needs; `admin` for anything not in the table. */
export function needOf(method: string, route: string): Need {
  const m = method === 'HEAD' || method === 'OPTIONS' ? 'GET' : method;
  return ROUTE_NEEDS[route]?.[m as keyof Methods] ?? 'admin';
}

/** Whether a method and route are in the table (the route walk test checks every registered one is). */
export function inTable(method: string, route: string): boolean {
  return ROUTE_NEEDS[route]?.[method as keyof Methods] !== undefined;
}

/** Pages a browser opens: without a session they redirect to the login page instead of a 401. */
export function isUiPage(method: string, route: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (route === '/' || route === '/graph' || route === '/ui/*path');
}

/** Endpoints off unless enabled, as in Prometheus: which flag turns each on. */
export function featureOf(route: string): 'lifecycle' | 'admin_api' | undefined {
  if (route === '/-/reload' || route === '/-/quit') return 'lifecycle';
  if (route.startsWith('/api/v1/admin/')) return 'admin_api';
  return undefined;
}
