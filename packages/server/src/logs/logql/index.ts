/** LogQL: parser, pipeline and engine (the rules adapter is alerting/rules/logql.ts, a layer up). */
export { parseLogql, parseStreamSelector, LogqlParseError } from './parser.js';
export { LogqlEngine, LogqlExecError, type LogqlValue, type StreamsValue, type ResultStream, type LogqlStats } from './engine.js';
export { Pipeline, parseLogfmt } from './pipeline.js';
