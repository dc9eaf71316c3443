/** Data loading hooks: one async load, re-run on dependency change and optionally on a timer. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** What {@link useAsync} returns. */
export interface AsyncState<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Loads again now. */
  readonly reload: () => void;
}

/**
 * Runs `load` when `deps` change and every `everyMs` (0: never). Earlier loads still running are
 * aborted, so a slow answer never overwrites a newer one.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], everyMs = 0): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(ac.signal).then(
      (data) => !ac.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !ac.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ac.abort();
  }, [...deps, tick]);
  useEffect(() => {
    if (!everyMs) return;
    const t = setInterval(() => {
      // A hidden tab does not need fresh numbers.
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}
