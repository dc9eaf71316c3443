// The layers of the server, enforced by `npm test` (scripts/check-layers.sh). Imports point down only:
//   core  ←  metrics | logs | traces  ←  alerting  ←  server
// metrics, logs and traces are siblings and never import each other; what they share lives in core.
// The test kit and test files are dev-only: production code never imports them, and nothing the
// `vigil` entry point reaches may load node:test.
const SRC = '^packages/server/src/';
const layer = (name) => `${SRC}${name}/`;
// Tests may drive a layer through the layers that wire it (an HTTP round trip, a CLI run).
const TESTS = '\\.test\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-the-bottom',
      comment: 'core holds what every signal shares; it depends on no signal, no alerting and no server code.',
      severity: 'error',
      from: { path: layer('core'), pathNot: TESTS },
      to: { path: `${SRC}(metrics|logs|traces|alerting|server)/` },
    },
    {
      name: 'metrics-below-alerting',
      comment: 'metrics (storage, tsdb, promql, ingest, scrape) may use core only.',
      severity: 'error',
      from: { path: layer('metrics'), pathNot: TESTS },
      to: { path: `${SRC}(logs|traces|alerting|server)/` },
    },
    {
      name: 'logs-below-alerting',
      comment: 'logs (storage seam, store, LogQL, ingest, query service) may use core only.',
      severity: 'error',
      from: { path: layer('logs'), pathNot: TESTS },
      to: { path: `${SRC}(metrics|traces|alerting|server)/` },
    },
    {
      name: 'traces-below-alerting',
      comment: 'traces (storage seam, store, ingest decoding, TraceQL) may use core only.',
      severity: 'error',
      from: { path: layer('traces'), pathNot: TESTS },
      to: { path: `${SRC}(metrics|logs|alerting|server)/` },
    },
    {
      name: 'alerting-below-server',
      comment: 'alerting (rules, alertmanager, templates) may use core, metrics, logs and traces, never the server.',
      severity: 'error',
      from: { path: layer('alerting'), pathNot: TESTS },
      to: { path: layer('server') },
    },
    {
      name: 'alerting-uses-seams-not-stores',
      comment: 'rules read and write through the storage seams; only the wiring builds a concrete store.',
      severity: 'error',
      from: { path: layer('alerting'), pathNot: TESTS },
      to: { path: `${SRC}(metrics/tsdb|logs/store|traces/store)/` },
    },
    {
      name: 'production-never-imports-tests',
      comment: 'the test kit and test files are dev-only and built apart (tsconfig.test.json).',
      severity: 'error',
      from: { path: SRC, pathNot: [`${SRC}testkit/`, '\\.test\\.ts$'] },
      to: { path: [`${SRC}testkit/`, '\\.test\\.ts$'] },
    },
    {
      name: 'no-test-runner-in-production',
      comment: 'nothing reachable from the vigil entry point may load node:test.',
      severity: 'error',
      from: { path: `${SRC}server/cmd/main\\.ts$` },
      to: { path: '^(node:)?test$', reachable: true },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other at run time cannot be understood, tested or moved apart (a shared type is fine).',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^packages/server/src/', '^(node:)?test$'],
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    tsConfig: { fileName: 'tsconfig.base.json' },
  },
};
