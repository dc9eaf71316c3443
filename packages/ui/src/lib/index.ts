/** The UI's pure modules, bundled on their own for Node unit tests. */
export * from './promql.js';
export * from './time.js';
export * from './format.js';
export * from './series.js';
export * from './dashboard.js';
export * from './overview.js';
export * from './escape.js';
export * from './logline.js';
export * from './links.js';
export * from './slo.js';
export * from './exemplars.js';
export * from './traces.js';
export * from './servicemap.js';
export * from './traceql.js';
export * from './histogram.js';
