/**
 * Serves the web UI built by `packages/ui` (`node build.js` writes `packages/ui/dist`): static files
 * under `/ui/`, index.html for every other `/ui/...` path (the UI routes on the client), `/`
 * redirected to `/ui/`, the provisioned dashboards at `GET /api/v1/ui/dashboards`, the UI's settings
 * at `/api/v1/ui/settings`, and redirects from Prometheus' `/graph` and Grafana's `/d/<uid>` links.
 *
 * Register it after every other API: its routes are `/`, `/ui/*` and one path under `/api/v1/ui/`, so
 * it never answers for `/api/`, `/loki/`, `/-/`, `/metrics` or `/v1/` otherwise.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from './errors.js';
import { json, type ApiRequest, type ApiResult, type Router } from './http.js';

/** Where the UI's files are. */
export interface UiOptions {
  /** The built UI (default: `packages/ui/dist` of this checkout). */
  readonly distDir?: string;
  /** Dashboard JSON files (default: `packages/ui/dashboards`). */
  readonly dashboardsDir?: string;
  /** `web.external_url` as configured now (read on each request, so a reload shows). */
  readonly externalUrl?: () => string | undefined;
}

// From packages/server/{src,dist}/api/ both resolve to the UI package beside the server's.
const UI_PACKAGE = fileURLToPath(new URL('../../../../ui/', import.meta.url));

/** Content types of the files the UI build writes. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

// esbuild names bundles `name-HASH.ext` (8 base32 characters): such a file never changes.
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9]+$/;

async function readFileOrUndefined(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch {
    return undefined;
  }
}

/** Registers the UI's routes on `router`; call after the other APIs. */
export function registerUiRoutes(router: Router, opts: UiOptions = {}): void {
  const dist = path.resolve(opts.distDir ?? path.join(UI_PACKAGE, 'dist'));
  const dashboards = path.resolve(opts.dashboardsDir ?? path.join(UI_PACKAGE, 'dashboards'));

  const index = async (): Promise<ApiResult> => {
    const body = await readFileOrUndefined(path.join(dist, 'index.html'));
    if (!body) {
      return {
        kind: 'raw',
        status: 503,
        contentType: 'text/plain; charset=utf-8',
        body: `Vigil's UI is not built (no ${path.join(dist, 'index.html')}): run \`npm run build -w @vigil/ui\`. The APIs work meanwhile.\n`,
      };
    }
    // index.html names the current hashed bundles, so it must be revalidated on every load.
    return { kind: 'raw', status: 200, body, contentType: CONTENT_TYPES['.html']!, headers: { 'cache-control': 'no-cache' } };
  };

  const serve = async (req: ApiRequest): Promise<ApiResult> => {
    const rel = req.params['path'] ?? '';
    const ext = path.extname(rel);
    // Page routes have no extension: they all get index.html and the client picks the page.
    if (!ext) return index();
    const file = path.resolve(dist, rel);
    // Never outside dist, and never the test files the build copies there.
    if (!file.startsWith(dist + path.sep) || rel.split('/')[0] === 'test') throw new ApiError('not_found', `no such file: /ui/${rel}`);
    const type = CONTENT_TYPES[ext] ?? 'application/octet-stream';
    const headers: Record<string, string> = { 'cache-control': HASHED.test(rel) ? 'public, max-age=31536000, immutable' : 'no-cache' };
    const accept = String(req.headers['accept-encoding'] ?? '');
    if (/\bgzip\b/.test(accept)) {
      const gz = await readFileOrUndefined(`${file}.gz`);
      if (gz) return { kind: 'raw', status: 200, body: gz, contentType: type, headers: { ...headers, 'content-encoding': 'gzip', vary: 'accept-encoding' } };
    }
    const body = await readFileOrUndefined(file);
    if (!body) throw new ApiError('not_found', `no such file: /ui/${rel}`);
    return { kind: 'raw', status: 200, body, contentType: type, headers: { ...headers, vary: 'accept-encoding' } };
  };

  router.on('GET', '/api/v1/ui/dashboards', async () => {
    let names: string[];
    try {
      names = (await fs.readdir(dashboards)).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return json([]);
    }
    const out: Array<{ id: string; file: string; dashboard?: unknown; error?: string }> = [];
    for (const n of names) {
      const id = n.slice(0, -'.json'.length);
      try {
        out.push({ id, file: n, dashboard: JSON.parse(await fs.readFile(path.join(dashboards, n), 'utf8')) as unknown });
      } catch (err) {
        // One broken file should not hide the others; the UI lists the error.
        out.push({ id, file: n, error: (err as Error).message });
      }
    }
    return json(out);
  });
  // What the UI needs of the configuration: the external URL, to know links to Vigil under it.
  router.on('GET', '/api/v1/ui/settings', () => json({ externalUrl: opts.externalUrl?.() ?? null }));
  router.on('GET', '/', () => ({ kind: 'raw', status: 302, body: '', headers: { location: '/ui/' } }));
  // Grafana's dashboard links (`/d/<uid>/<slug>?from=now-6h&to=now&var-x=…`), as an alert's
  // dashboard_url often carries them, open the provisioned dashboard of that uid.
  const dashboard = (req: ApiRequest): ApiResult => ({
    kind: 'raw',
    status: 302,
    body: '',
    headers: { location: dashboardLocation(req.params['uid'] ?? '', req.query) },
  });
  router.on('GET', '/d/:uid', dashboard);
  router.on('GET', '/d/:uid/:slug', dashboard);
  // Prometheus' generator URLs (`/graph?g0.expr=…&g0.tab=1`), which alerts from Vigil and Prometheus
  // link to, open the same query in Explore.
  router.on('GET', '/graph', (req) => ({ kind: 'raw', status: 302, body: '', headers: { location: exploreLocation(req.query) } }));
  router.on('GET', '/ui/*path', serve);
}

/**
 * The UI location of dashboard `uid` for Grafana's link parameters: `from=now-6h&to=now` becomes the
 * range `6h`, absolute `from`/`to` (epoch ms or ISO) stay, `var-*` and `refresh` are kept, the rest
 * (`orgId`, `viewPanel`, …) has no meaning in Vigil and is dropped.
 */
export function dashboardLocation(uid: string, q: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const [k, v] of q) if (k.startsWith('var-') || k === 'refresh') out.append(k, v);
  const from = q.get('from');
  const to = q.get('to') ?? 'now';
  const rel = from ? /^now-(\d+[smhdwy])$/.exec(from) : null;
  if (rel && to === 'now') out.set('range', rel[1]!);
  else if (from && /^(\d+|\d{4}-\d\d-\d\dT[\d:.]+Z)$/.test(from) && /^(\d+|\d{4}-\d\d-\d\dT[\d:.]+Z)$/.test(to)) {
    out.set('from', from);
    out.set('to', to);
  }
  const search = out.toString();
  return `/ui/dashboards/${encodeURIComponent(uid)}${search ? `?${search}` : ''}`;
}

/**
 * The Explore location for Prometheus' `/graph` parameters: the first panel's `g0.expr`, its
 * `g0.range_input` as the range, and `g0.tab=1` (the table tab) as the table view.
 */
export function exploreLocation(q: URLSearchParams): string {
  const out = new URLSearchParams();
  const expr = q.get('g0.expr');
  if (expr) out.set('expr', expr);
  const range = q.get('g0.range_input');
  if (range && /^\d+[smhdwy]$/.test(range)) out.set('range', range);
  if (q.get('g0.tab') === '1') out.set('view', 'table');
  const search = out.toString();
  return search ? `/ui/explore?${search}` : '/ui/explore';
}
