/** Vigil's web UI: the shell (navigation, theme, shortcuts) and the page switch. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { Alerts } from './pages/Alerts.js';
import { Dashboards } from './pages/Dashboards.js';
import { Explore } from './pages/Explore.js';
import { Inbox } from './pages/Inbox.js';
import { Logs } from './pages/Logs.js';
import { Overview } from './pages/Overview.js';
import { Services } from './pages/Services.js';
import { Slos } from './pages/Slos.js';
import { Status } from './pages/Status.js';
import { Traces } from './pages/Traces.js';
import { href, navigate, onLinkClick, useLocation } from './router.js';

const NAV = [
  ['/', 'Overview', 'o'],
  ['/explore', 'Explore', 'e'],
  ['/dashboards', 'Dashboards', 'd'],
  ['/alerts', 'Alerts', 'a'],
  ['/inbox', 'Inbox', 'i'],
  ['/slos', 'SLOs', 'b'],
  ['/logs', 'Logs', 'l'],
  ['/traces', 'Traces', 't'],
  ['/services', 'Service map', 'm'],
  ['/status', 'Status', 's'],
] as const;

function Page({ path }: { path: string }): preact.JSX.Element {
  if (path === '/' || path === '') return <Overview />;
  if (path.startsWith('/explore')) return <Explore />;
  if (path.startsWith('/alerts')) return <Alerts />;
  if (path.startsWith('/inbox')) return <Inbox />;
  if (path.startsWith('/slos')) return <Slos />;
  if (path.startsWith('/status')) return <Status />;
  if (path.startsWith('/logs')) return <Logs />;
  if (path.startsWith('/services')) return <Services />;
  if (path === '/traces' || path.startsWith('/traces/')) return <Traces id={decodeURIComponent(path.split('/')[2] ?? '') || undefined} />;
  if (path.startsWith('/dashboards')) return <Dashboards id={decodeURIComponent(path.split('/')[2] ?? '') || undefined} />;
  return (
    <div class="state empty">
      <strong>No page at {path}</strong>
      <div class="hint">
        Go to the{' '}
        <a href={href('/')} onClick={onLinkClick}>
          overview
        </a>
        .
      </div>
    </div>
  );
}

function ThemeToggle(): preact.JSX.Element {
  const [theme, setTheme] = useState(document.documentElement.dataset['theme'] ?? '');
  const next = theme === 'dark' ? 'light' : theme === 'light' ? 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches ? 'light' : 'dark';
  return (
    <button
      class="theme"
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      onClick={() => {
        document.documentElement.dataset['theme'] = next;
        localStorage.setItem('vigil.theme', next);
        setTheme(next);
      }}
    >
      {next === 'dark' ? '☾' : '☀'}
    </button>
  );
}

/**
 * Focuses the query editor, on this page or, when it has none, on Explore once it has rendered:
 * waiting for the editor to appear rather than for a frame, which a loaded machine may not keep.
 */
function focusEditor(): void {
  const find = (): HTMLTextAreaElement | null => document.querySelector<HTMLTextAreaElement>('.editor-input');
  const ed = find();
  if (ed) return ed.focus();
  navigate('/explore');
  const obs = new MutationObserver(() => {
    const e = find();
    if (!e) return;
    obs.disconnect();
    e.focus();
  });
  obs.observe(document.getElementById('app') ?? document.body, { childList: true, subtree: true });
  // Explore always renders the editor; stop watching if something else happened instead.
  setTimeout(() => obs.disconnect(), 10_000);
}

/**
 * Shortcuts: `g` then a letter jumps between pages; `/` focuses the query editor. Not while typing.
 * Installed before the first render, not in an effect, so a key pressed as soon as the page shows
 * is never lost (effects run a frame later, after the shell already looks ready).
 */
function installShortcuts(): void {
  let pendingG = false;
  window.addEventListener('keydown', (e: KeyboardEvent): void => {
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') {
      e.preventDefault();
      focusEditor();
      return;
    }
    if (pendingG) {
      pendingG = false;
      const hit = NAV.find((n) => n[2] === e.key);
      if (hit) navigate(hit[0]);
      return;
    }
    if (e.key === 'g') pendingG = true;
  });
}

function App(): preact.JSX.Element {
  const { path } = useLocation();
  useEffect(() => {
    const name = NAV.find((n) => (n[0] === '/' ? path === '/' : path.startsWith(n[0])))?.[1];
    document.title = name ? `${name} · Vigil` : 'Vigil';
  }, [path]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('/')} onClick={onLinkClick}>
          ● Vigil
        </a>
        <nav aria-label="Main">
          {NAV.map(([to, label, key]) => {
            const on = to === '/' ? path === '/' : path.startsWith(to);
            return (
              <a href={href(to)} onClick={onLinkClick} aria-current={on ? 'page' : undefined} class={on ? 'on' : ''} title={`${label} (g ${key})`}>
                {label}
              </a>
            );
          })}
        </nav>
        <ThemeToggle />
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = '';
installShortcuts();
render(<App />, root);
// Marks the shell as interactive: the browser tests time first load to this point.
root.dataset['ready'] = String(Math.round(performance.now()));
