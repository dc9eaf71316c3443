/**
 * TraceQL, Tempo's trace query language: parse, search candidate traces, derive store hints,
 * evaluate metrics queries. Depends on core and the span model (`traces/storage/types.ts`) only;
 * the store supplies candidate traces, the HTTP layer maps errors (`bad_data` 400, `execution` 422).
 */
export type * from './ast.js';
export { parseTraceQL } from './parser.js';
export { TraceqlParseError, MAX_QUERY_LENGTH, MAX_NESTING_DEPTH, MAX_OPERATORS } from './lexer.js';
export { compileSearch, searchTraces, ROOT_NOT_YET_RECEIVED } from './search.js';
export type { CompiledSearch, SearchOptions, SearchResult, TraceSearchMetadata, SearchSpanSet, SearchSpan } from './search.js';
export { hintsOf } from './hints.js';
export type { Condition, TraceqlHints } from './hints.js';
export { compileMetrics, queryRange, queryInstant, TraceqlExecError, MAX_POINTS, MAX_SERIES, MAX_VALUES } from './metrics.js';
export type { CompiledMetrics, QueryRangeOptions, QueryRangeResult, TimeSeries, InstantSeries, Exemplar } from './metrics.js';
export type { Spanset } from './eval.js';
