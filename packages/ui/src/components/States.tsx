/** Empty, error and loading states that say what to do next. */
import type { ComponentChildren } from 'preact';

/** An error box with the server's message and a hint. */
export function ErrorBox({ error, hint }: { error: unknown; hint?: ComponentChildren }): preact.JSX.Element {
  const msg = error instanceof Error ? error.message : String(error);
  return (
    <div class="state error" role="alert">
      <strong>Error:</strong> {msg}
      {hint ? <div class="hint">{hint}</div> : null}
    </div>
  );
}

/** An empty state: what is missing and how to get it. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }): preact.JSX.Element {
  return (
    <div class="state empty">
      <strong>{title}</strong>
      {children ? <div class="hint">{children}</div> : null}
    </div>
  );
}

/** A loading marker. */
export function Loading({ what = 'Loading' }: { what?: string }): preact.JSX.Element {
  return (
    <div class="state loading" aria-busy="true">
      {what}…
    </div>
  );
}
