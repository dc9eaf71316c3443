/** LogQL: parser, pipeline, engine and the rules adapter. */
export { parseLogql, parseStreamSelector, LogqlParseError } from './parser.js';
export { LogqlEngine, LogqlExecError, type LogqlValue, type StreamsValue, type ResultStream, type LogqlStats } from './engine.js';
export { Pipeline, parseLogfmt } from './pipeline.js';
export { logqlQueryFn, logAlertLink, logqlLanguage } from '../../alerting/rules/logql.js';
