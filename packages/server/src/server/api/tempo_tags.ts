/**
 * Tempo's tag autocomplete, as Grafana's TraceQL editor calls it: `/api/search/tags` (`{tagNames}`),
 * `/api/v2/search/tags` (`{scopes: [{name, tags}]}` for span, resource and intrinsic),
 * `/api/search/tag/<t>/values` (`{tagValues: [string]}`) and `/api/v2/search/tag/<t>/values`
 * (`{tagValues: [{type, value}]}`; `<t>` is scoped as TraceQL writes it: `resource.service.name`,
 * `span.http.method`, `.x`, `name`, `status`). A `q` on the v2 values (and, as Tempo 2.7 and Grafana
 * 11.3 on, on the v2 tag names) narrows them to the spans that query matches, over at most
 * {@link MAX_Q_TRACES} traces; a `q` that does not parse (the editor sends what the user has typed
 * so far) is ignored, as Tempo does.
 */
import type { ScalarValue, TagScope, TraceQueryable } from '../../traces/storage/interface.js';
import { compareScalars, isScalar } from '../../traces/storage/interface.js';
import type { Span } from '../../traces/storage/types.js';
import { compileSearch, hintsOf, type CompiledSearch } from '../../traces/traceql/index.js';
import { BARE_INTRINSICS, KINDS, SCOPED_INTRINSICS, STATUSES } from '../../traces/traceql/names.js';
import { TraceView } from '../../traces/traceql/trace_view.js';
import { TimeSlicer } from '../../core/util/pace.js';
import type { Router } from './http.js';
import { BadRequest, boundedSignal, jsonBody, queryFailure, rangeParams, storeSearchOf } from './trace_query.js';

/** The most traces a `q`-narrowed value listing reads. */
export const MAX_Q_TRACES = 1000;
/** The most values one listing returns (Tempo bounds the response size likewise). */
export const MAX_TAG_VALUES = 10_000;

/** Intrinsics Grafana offers in the editor (the nested-set internals are not for users). */
export const INTRINSIC_TAGS: readonly string[] = [...BARE_INTRINSICS.keys(), ...SCOPED_INTRINSICS.keys()]
  .filter((n) => !n.startsWith('nestedSet') && n !== 'childCount' && n !== 'span:childCount')
  .sort();

type Scope = TagScope | 'intrinsic';

function scopeParam(q: URLSearchParams): Scope | 'all' {
  const s = q.get('scope') ?? '';
  if (s === '' || s === 'all' || s === 'none') return 'all';
  if (s === 'span' || s === 'resource' || s === 'intrinsic') return s;
  throw new BadRequest(`invalid scope ${JSON.stringify(s)}: want span, resource, intrinsic or all`);
}

/** A tag as TraceQL names it: the scope (undefined for an unscoped `.x`) and the attribute or intrinsic. */
export function parseScopedTag(tag: string): { scope: TagScope | undefined; name: string } | { intrinsic: string } {
  if (BARE_INTRINSICS.has(tag) || SCOPED_INTRINSICS.has(tag)) return { intrinsic: SCOPED_INTRINSICS.get(tag) ?? BARE_INTRINSICS.get(tag)! };
  if (tag.startsWith('span.') && tag.length > 5) return { scope: 'span', name: tag.slice(5) };
  if (tag.startsWith('resource.') && tag.length > 9) return { scope: 'resource', name: tag.slice(9) };
  if (tag.startsWith('.') && tag.length > 1) return { scope: undefined, name: tag.slice(1) };
  throw new BadRequest(`invalid tag ${JSON.stringify(tag)}: want span.<name>, resource.<name>, .<name> or an intrinsic such as name or status`);
}

function typed(v: ScalarValue): { type: string; value: string } {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'boolean') return { type: 'bool', value: String(v) };
  return { type: Number.isInteger(v) ? 'int' : 'float', value: String(v) };
}

/** The tag's value on one span, if it is a scalar. */
function valueOn(s: Span, tag: ReturnType<typeof parseScopedTag>): ScalarValue | undefined {
  if ('intrinsic' in tag) {
    if (tag.intrinsic === 'name') return s.name;
    if (tag.intrinsic === 'status') return s.status.code;
    if (tag.intrinsic === 'kind') return s.kind;
    if (tag.intrinsic === 'statusMessage') return s.status.message || undefined;
    if (tag.intrinsic === 'rootServiceName' || tag.intrinsic === 'rootName') return undefined;
    return undefined;
  }
  const v = tag.scope === 'resource' ? s.resource[tag.name] : tag.scope === 'span' ? s.attributes[tag.name] : (s.attributes[tag.name] ?? s.resource[tag.name]);
  return v !== undefined && isScalar(v) ? v : undefined;
}

/** The values of `tag` on the spans `search` matches, over the candidates the store yields. */
async function valuesMatching(
  store: TraceQueryable,
  search: CompiledSearch,
  tag: ReturnType<typeof parseScopedTag>,
  range: { start: bigint; end: bigint },
  signal: AbortSignal,
): Promise<ScalarValue[]> {
  const pacer = new TimeSlicer({ signal });
  pacer.check();
  const seen = new Map<string, ScalarValue>();
  let traces = 0;
  for (const trace of store.search(storeSearchOf(hintsOf(search.root), range.start, range.end))) {
    await pacer.tick();
    if (++traces > MAX_Q_TRACES || seen.size >= MAX_TAG_VALUES) break;
    const tv = new TraceView(trace);
    for (const ss of search.run(tv)) {
      for (const i of ss.spans) {
        const v = valueOn(tv.spans[i]!, tag);
        if (v !== undefined) seen.set(`${typeof v}:${String(v)}`, v);
      }
    }
  }
  return [...seen.values()].sort(compareScalars);
}

/** The attribute names, per scope, on the spans `search` matches, over the candidates the store yields. */
async function namesMatching(
  store: TraceQueryable,
  search: CompiledSearch,
  scopes: readonly TagScope[],
  range: { start: bigint; end: bigint },
  signal: AbortSignal,
): Promise<Map<TagScope, string[]>> {
  const pacer = new TimeSlicer({ signal });
  pacer.check();
  const seen = new Map<TagScope, Set<string>>(scopes.map((s) => [s, new Set<string>()]));
  let traces = 0;
  for (const trace of store.search(storeSearchOf(hintsOf(search.root), range.start, range.end))) {
    await pacer.tick();
    if (++traces > MAX_Q_TRACES) break;
    const tv = new TraceView(trace);
    for (const ss of search.run(tv)) {
      for (const i of ss.spans) {
        const span = tv.spans[i]!;
        for (const [scope, names] of seen) for (const k of Object.keys(scope === 'span' ? span.attributes : span.resource)) names.add(k);
      }
    }
  }
  return new Map([...seen].map(([scope, names]) => [scope, [...names].sort()]));
}

/** The query of a `q` parameter, or undefined when it is empty, does not parse yet, or matches every span. */
function narrowing(q: URLSearchParams): CompiledSearch | undefined {
  const text = q.get('q') ?? '';
  let search: CompiledSearch | undefined;
  try {
    search = text.trim() === '' ? undefined : compileSearch(text);
  } catch {
    return undefined; // a half-typed query narrows nothing
  }
  return search === undefined || hintsOf(search.root).matchesAll ? undefined : search;
}

/** The values of `tag` without a query: the store's index, or the fixed sets of status and kind. */
function allValues(store: TraceQueryable, tag: ReturnType<typeof parseScopedTag>, range: { start: bigint; end: bigint }): { type: string; value: string }[] {
  if ('intrinsic' in tag) {
    if (tag.intrinsic === 'status') return [...STATUSES].sort().map((value) => ({ type: 'keyword', value }));
    if (tag.intrinsic === 'kind') return [...KINDS].sort().map((value) => ({ type: 'keyword', value }));
    if (tag.intrinsic === 'rootServiceName') return store.services(range.start, range.end).map((value) => ({ type: 'string', value }));
    if (tag.intrinsic === 'name') {
      const names = new Set<string>();
      for (const svc of store.services(range.start, range.end)) for (const op of store.operations(svc, range.start, range.end)) names.add(op);
      return [...names].sort().map((value) => ({ type: 'string', value }));
    }
    return [];
  }
  return store.tagValues(tag.name, tag.scope, range.start, range.end).slice(0, MAX_TAG_VALUES).map(typed);
}

/** Registers the tag name and value endpoints. */
export function registerTempoTags(router: Router, store: TraceQueryable, opts: { timeoutMs?: number } = {}): void {
  router.on('GET', '/api/search/tags', (req) => {
    try {
      const scope = scopeParam(req.query);
      const range = rangeParams(req.query);
      if (scope === 'intrinsic') return jsonBody({ tagNames: INTRINSIC_TAGS });
      return jsonBody({ tagNames: store.tagNames(scope === 'all' ? undefined : scope, range.start, range.end) });
    } catch (err) {
      return queryFailure(err, req.signal);
    }
  });
  router.on('GET', '/api/v2/search/tags', async (req) => {
    const signal = boundedSignal(req.signal, opts.timeoutMs);
    try {
      const scope = scopeParam(req.query);
      const range = rangeParams(req.query);
      const attrScopes = (['span', 'resource'] as const).filter((s) => scope === 'all' || scope === s);
      const search = narrowing(req.query);
      const matched = search && attrScopes.length ? await namesMatching(store, search, attrScopes, range, signal) : undefined;
      const scopes: { name: Scope; tags: readonly string[] }[] = attrScopes.map((s) => ({
        name: s,
        tags: matched?.get(s) ?? store.tagNames(s, range.start, range.end),
      }));
      if (scope === 'all' || scope === 'intrinsic') scopes.push({ name: 'intrinsic', tags: INTRINSIC_TAGS });
      return jsonBody({ scopes });
    } catch (err) {
      return queryFailure(err, signal);
    }
  });
  router.on('GET', '/api/search/tag/:tag/values', (req) => {
    try {
      const range = rangeParams(req.query);
      const name = req.params['tag']!;
      // v1 names are unscoped (`service.name`), the intrinsic `name` aside, and its values are strings.
      const tag = name === 'name' || name === 'status' || name === 'kind' ? parseScopedTag(name) : { scope: undefined, name };
      return jsonBody({ tagValues: allValues(store, tag, range).map((v) => v.value) });
    } catch (err) {
      return queryFailure(err, req.signal);
    }
  });
  router.on('GET', '/api/v2/search/tag/:tag/values', async (req) => {
    const signal = boundedSignal(req.signal, opts.timeoutMs);
    try {
      const range = rangeParams(req.query);
      const tag = parseScopedTag(req.params['tag']!);
      const search = narrowing(req.query);
      if (search === undefined) return jsonBody({ tagValues: allValues(store, tag, range) });
      const keyword = 'intrinsic' in tag && (tag.intrinsic === 'status' || tag.intrinsic === 'kind');
      const values = await valuesMatching(store, search, tag, range, signal);
      return jsonBody({ tagValues: values.map((v) => (keyword ? { type: 'keyword', value: String(v) } : typed(v))) });
    } catch (err) {
      return queryFailure(err, signal);
    }
  });
}
