/**
 * Path routing under `/ui/` with the view's state in the query string, so a copied link reproduces
 * what was on screen. A tiny store instead of a router library keeps the bundle small.
 */
import { useEffect, useState } from 'preact/hooks';

/** Where the UI is mounted. */
export const BASE = '/ui';

/** The current location, relative to {@link BASE}. */
export interface Location {
  readonly path: string;
  readonly params: URLSearchParams;
}

function current(): Location {
  const p = window.location.pathname;
  const path = p.startsWith(BASE) ? p.slice(BASE.length) || '/' : p;
  return { path, params: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Goes to a UI path (`/explore?expr=…`); `replace` rewrites history instead of adding to it. */
export function navigate(to: string, replace = false): void {
  const url = to.startsWith(BASE) ? to : BASE + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

/** Updates query parameters of the current view. */
export function setParams(update: (p: URLSearchParams) => void, replace = true): void {
  const { path, params } = current();
  const next = new URLSearchParams(params);
  update(next);
  const s = next.toString();
  navigate(`${path}${s ? `?${s}` : ''}`, replace);
}

/** The location, re-rendering on change. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = (): void => setLoc(current());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return loc;
}

/** A UI href, for anchors (which stay real links: middle-click and copy work). */
export function href(to: string): string {
  return to.startsWith(BASE) ? to : BASE + to;
}

/** Click handler for anchors: client-side navigation unless a modifier asks for a new tab. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== window.location.origin || !url.pathname.startsWith(BASE)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}

/** Link to an Explore view of `expr`. */
export function exploreHref(expr: string, range = '1h'): string {
  return href(`/explore?${new URLSearchParams({ expr, range }).toString()}`);
}
