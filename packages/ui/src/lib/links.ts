/**
 * Alert annotations that link to dashboards and graphs. A `dashboard_url` that names one of Vigil's own
 * dashboards (relative, on the page's origin, or under `web.external_url`; as `/ui/dashboards/<id>`
 * or Grafana's `/d/<uid>[/<slug>]`) opens it inside the UI, over the alert's time range unless the
 * link chooses its own. A `graph_url` naming Vigil's Explore (`/ui/explore?expr=…`) opens that graph
 * the same way. Any other URL stays an ordinary external link.
 */

/** Where the link is followed from, and the alert it belongs to. */
export interface DashboardLinkContext {
  /** The page's URL (relative links resolve against it). */
  readonly location: string;
  /** Vigil's `web.external_url`, when set. */
  readonly externalUrl?: string | undefined;
  /** When the alert started and, when resolved, ended (ms). */
  readonly startsAt: number;
  readonly endsAt?: number | undefined;
  /** The current time (ms): a firing alert's range ends now. */
  readonly now: number;
}

/** How far before the alert started (and after it ended) its dashboard range reaches: the lead-up matters. */
export const ALERT_RANGE_MARGIN_MS = 15 * 60_000;

/** The path of `u` below `base` (a URL ending in `/`), or undefined when `u` is not under it. */
function below(u: URL, base: URL): string | undefined {
  if (u.origin !== base.origin) return undefined;
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return u.pathname.startsWith(prefix) ? u.pathname.slice(prefix.length) : undefined;
}

/** The dashboard id a path of Vigil's names: `ui/dashboards/<id>` or Grafana's `d/<uid>[/<slug>]`. */
export function dashboardIdOf(path: string): string | undefined {
  const m = /^ui\/dashboards\/([^/]+)\/?$/.exec(path) ?? /^d\/([^/]+)(?:\/[^/]+)?\/?$/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/**
 * Grafana's `from`/`to` as Vigil's range parameters: `now-6h` to `now` is the relative range `6h`;
 * epoch milliseconds and ISO times pass as they are. Undefined when the link sets no range.
 */
function rangeOf(q: URLSearchParams): Array<[string, string]> | undefined {
  const from = q.get('from');
  const to = q.get('to') ?? 'now';
  const range = q.get('range');
  if (range) return [['range', range]];
  if (!from) return undefined;
  const rel = /^now-(\d+[smhdwy])$/.exec(from);
  if (rel && to === 'now') return [['range', rel[1]!]];
  if (from.startsWith('now') || to.startsWith('now')) return undefined;
  return [
    ['from', from],
    ['to', to],
  ];
}

/**
 * The UI path (`/ui/dashboards/<id>?…`) a `dashboard_url` opens, or undefined when it does not name
 * one of Vigil's dashboards. Template variables (`var-*`) and `refresh` are kept.
 */
export function dashboardTarget(url: string | undefined, ctx: DashboardLinkContext): string | undefined {
  const found = vigilPath(url, ctx);
  const id = found === undefined ? undefined : dashboardIdOf(found.path);
  if (found === undefined || id === undefined || id === '') return undefined;
  const out = new URLSearchParams();
  for (const [k, v] of found.url.searchParams) if (k.startsWith('var-') || k === 'refresh') out.append(k, v);
  withRange(out, found.url.searchParams, ctx);
  const qs = out.toString();
  return `/ui/dashboards/${encodeURIComponent(id)}${qs ? `?${qs}` : ''}`;
}

/**
 * The UI path (`/ui/explore?…`) a `graph_url` opens, or undefined when it is not Vigil's Explore
 * with an expression. Its own parameters (expression, step, legend, view) are kept; without a range
 * of its own it shows the alert's, so the graph covers the lead-up and what is happening now.
 */
export function exploreTarget(url: string | undefined, ctx: DashboardLinkContext): string | undefined {
  const found = vigilPath(url, ctx);
  if (found === undefined || !/^ui\/explore\/?$/.test(found.path)) return undefined;
  const q = found.url.searchParams;
  if (!q.get('expr')?.trim()) return undefined;
  const out = new URLSearchParams();
  for (const [k, v] of q) if (k !== 'range' && k !== 'from' && k !== 'to') out.append(k, v);
  withRange(out, q, ctx);
  return `/ui/explore?${out.toString()}`;
}

/** The link's own range, else the alert's: from a margin before it started to its end plus a margin, or now. */
function withRange(out: URLSearchParams, q: URLSearchParams, ctx: DashboardLinkContext): void {
  const chosen = rangeOf(q);
  if (chosen) for (const [k, v] of chosen) out.set(k, v);
  else {
    out.set('from', new Date(ctx.startsAt - ALERT_RANGE_MARGIN_MS).toISOString());
    out.set('to', new Date(ctx.endsAt !== undefined ? ctx.endsAt + ALERT_RANGE_MARGIN_MS : ctx.now).toISOString());
  }
}

/** The URL a link names and its path below this Vigil (the page's origin or `web.external_url`), or undefined when it is elsewhere. */
function vigilPath(url: string | undefined, ctx: DashboardLinkContext): { url: URL; path: string } | undefined {
  if (!url || url.trim() === '') return undefined;
  let u: URL;
  try {
    u = new URL(url, ctx.location);
  } catch {
    return undefined;
  }
  const here = new URL('/', ctx.location);
  let path = below(u, here);
  if (path === undefined && ctx.externalUrl) {
    try {
      path = below(u, new URL(ctx.externalUrl.endsWith('/') ? ctx.externalUrl : `${ctx.externalUrl}/`));
    } catch {
      path = undefined;
    }
  }
  return path === undefined ? undefined : { url: u, path };
}
