/**
 * The query editor (PromQL, LogQL, TraceQL): a textarea over a highlighted copy of its text (the
 * textarea's own text is transparent, so the caret and selection stay native), with autocomplete of
 * metric names, functions, label names and values from the API, and the server's error shown under
 * it with its position marked. TraceQL is highlighted by Grafana's TraceQL grammar, which also marks
 * where it stops reading while the query is typed.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { promGet } from '../api.js';
import { FUNCTIONS, KEYWORDS, completionContext, errorPosition, rankCompletions, tokenize, type CompletionContext } from '../lib/promql.js';

/**
 * The TraceQL grammar is a quarter of the bundle's size and only the Traces page needs it, so it is
 * loaded when a TraceQL editor first renders; until then the text shows unhighlighted.
 */
type TraceqlModule = typeof import('../lib/traceql.js');
let traceql: TraceqlModule | undefined;
let traceqlLoading: Promise<TraceqlModule> | undefined;
function useTraceql(on: boolean): TraceqlModule | undefined {
  const [mod, setMod] = useState(traceql);
  useEffect(() => {
    if (!on || mod) return;
    traceqlLoading ??= import('../lib/traceql.js').then((m) => (traceql = m));
    let live = true;
    traceqlLoading.then(
      (m) => live && setMod(m),
      // A failed load (the server went away) leaves the text plain; the next editor tries again.
      () => (traceqlLoading = undefined),
    );
    return () => void (live = false);
  }, [on, mod]);
  return mod;
}

/** The languages the editor knows. */
export type QueryLang = 'promql' | 'logql' | 'traceql';
const LABELS: Readonly<Record<QueryLang, string>> = { promql: 'PromQL expression', logql: 'LogQL query', traceql: 'TraceQL' };

const cache = new Map<string, Promise<string[]>>();
function cached(key: string, load: () => Promise<string[]>): Promise<string[]> {
  let p = cache.get(key);
  if (!p) {
    p = load().catch(() => {
      cache.delete(key);
      return [];
    });
    cache.set(key, p);
  }
  return p;
}

async function candidates(ctx: CompletionContext, lang: QueryLang): Promise<string[]> {
  if (lang === 'logql') {
    // LogQL completes stream labels and their values from the log store.
    if (ctx.kind === 'label') return cached('loki:labels', () => promGet<string[]>('/loki/api/v1/labels'));
    if (ctx.kind === 'value') return cached(`loki:values:${ctx.label}`, () => promGet<string[]>(`/loki/api/v1/label/${encodeURIComponent(ctx.label)}/values`));
    return [];
  }
  switch (ctx.kind) {
    case 'metric': {
      const names = await cached('__name__', () => promGet<string[]>('/api/v1/label/__name__/values'));
      return [...names, ...FUNCTIONS, ...KEYWORDS];
    }
    case 'label':
      return cached(`labels:${ctx.metric}`, () => promGet<string[]>('/api/v1/labels', ctx.metric ? { 'match[]': ctx.metric } : {}));
    case 'value':
      return cached(`values:${ctx.metric}:${ctx.label}`, () =>
        promGet<string[]>(`/api/v1/label/${encodeURIComponent(ctx.label)}/values`, ctx.metric ? { 'match[]': ctx.metric } : {}),
      );
    default:
      return [];
  }
}

/** Props of {@link QueryEditor}. */
export interface QueryEditorProps {
  readonly value: string;
  readonly onInput: (v: string) => void;
  /** Runs the query (Enter, or Ctrl/Cmd+Enter in a multi-line query). */
  readonly onRun: () => void;
  readonly error?: string | undefined;
  readonly placeholder?: string;
  /** Which language completes and highlights (default PromQL). */
  readonly lang?: QueryLang;
  /** The textarea's name, for an editor inside a form. */
  readonly name?: string;
}

/** The query input. */
export function QueryEditor({
  value,
  onInput,
  onRun,
  error,
  lang = 'promql',
  name,
  placeholder = 'Type a PromQL expression, e.g. rate(http_server_request_duration_seconds_count[1m])',
}: QueryEditorProps): preact.JSX.Element {
  const ta = useRef<HTMLTextAreaElement>(null);
  const [items, setItems] = useState<string[]>([]);
  const [active, setActive] = useState(0);
  const [ctx, setCtx] = useState<CompletionContext>({ kind: 'none' });
  const tq = useTraceql(lang === 'traceql');
  const tokens = useMemo(
    () => (lang !== 'traceql' ? tokenize(value) : tq ? tq.tokenizeTraceQL(value) : [{ kind: 'other' as const, text: value, start: 0 }]),
    [value, lang, tq],
  );
  // The server's position when it refused the query; for TraceQL, else where the grammar stops reading it as typed.
  const errPos =
    lang !== 'traceql'
      ? error
        ? errorPosition(error)
        : undefined
      : tq
        ? ((error ? tq.traceqlErrorPosition(error, value) : undefined) ?? tq.traceqlSyntaxError(value))
        : undefined;

  const suggest = (text: string, cursor: number): void => {
    // TraceQL has no completion (yet): PromQL's contexts would offer metric names inside a spanset.
    const c: CompletionContext = lang === 'traceql' ? { kind: 'none' } : completionContext(text, cursor);
    setCtx(c);
    if (c.kind === 'none' || (c.kind === 'metric' && c.prefix.length < 1)) {
      setItems([]);
      return;
    }
    void candidates(c, lang).then((all) => {
      setItems(rankCompletions(all, c.prefix));
      setActive(0);
    });
  };

  const accept = (item: string): void => {
    if (ctx.kind === 'none') return;
    const el = ta.current;
    const cursor = el?.selectionStart ?? value.length;
    const next = value.slice(0, ctx.from) + item + value.slice(cursor);
    onInput(next);
    setItems([]);
    const pos = ctx.from + item.length;
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(pos, pos);
    });
  };

  useEffect(() => {
    // Grow with the text, up to a limit, so long queries stay readable.
    const el = ta.current;
    if (el) {
      el.style.height = 'auto';
      el.style.height = `${Math.min(240, el.scrollHeight)}px`;
    }
  }, [value]);

  const onKeyDown = (e: KeyboardEvent): void => {
    if (items.length > 0) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length);
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.ctrlKey && !e.metaKey)) {
        e.preventDefault();
        accept(items[active]!);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setItems([]);
        return;
      }
    }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || !e.shiftKey)) {
      e.preventDefault();
      setItems([]);
      onRun();
    }
  };

  return (
    <div class={`editor${error ? ' has-error' : ''}`}>
      <div class="editor-box">
        <pre class="editor-hl" aria-hidden="true">
          {tokens.map((t) => (
            <span class={`tok-${t.kind}${errPos !== undefined && errPos >= t.start && errPos < t.start + t.text.length ? ' tok-error' : ''}`}>{t.text}</span>
          ))}
          {'\n'}
        </pre>
        <textarea
          ref={ta}
          class="editor-input"
          value={value}
          rows={1}
          spellcheck={false}
          autocomplete="off"
          name={name}
          aria-label={LABELS[lang]}
          aria-autocomplete="list"
          aria-expanded={items.length > 0}
          placeholder={placeholder}
          onInput={(e) => {
            const el = e.currentTarget;
            onInput(el.value);
            suggest(el.value, el.selectionStart);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setItems([]), 150)}
        />
      </div>
      {items.length > 0 ? (
        <ul class="completions" role="listbox">
          {items.map((it, i) => (
            <li role="option" aria-selected={i === active} class={i === active ? 'active' : ''} onMouseDown={(e) => (e.preventDefault(), accept(it))}>
              <span
                class={`tok-${FUNCTIONS.includes(it) ? 'function' : KEYWORDS.includes(it) ? 'keyword' : ctx.kind === 'metric' ? 'metric' : ctx.kind === 'label' ? 'label' : 'string'}`}
              >
                {it}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      {error ? (
        <div class="editor-error" role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}
