/** The `vigil` command line. */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isMainThread, parentPort } from 'node:worker_threads';
import { ConfigError, defaultConfig, loadConfig, parseListen, parseMemoryBudget, type VigilConfig } from '../config/config.js';
import { parseDuration } from '../../core/time/duration.js';
import type { VigilServer } from './server.js';
import type { VigilAgent } from './agent.js';

/** The options of `vigil start`; Prometheus' flag names are accepted too, so its service files carry over. */
const START_OPTIONS = `  --config FILE   YAML configuration file (see README.md). Also --config.file.
  --data DIR      Data directory, relative to the working directory (default: storage.path from the
                  config, relative to the config file's directory; else ./data). Also --storage.tsdb.path.
  --listen ADDR   HOST:PORT to listen on (default: 127.0.0.1:9466). Also --web.listen-address.
  --log-level L   debug, info, warn or error (default: info). Also --log.level.
  --memory.budget SIZE         Memory Vigil may use, e.g. 4GB (default: memory_budget from the
                               config, else 75% of the machine's memory). The V8 heap gets 75% of it;
                               near the heap limit, queries, new series and log pushes get 503.
  --query.max-concurrency N    Queries evaluated at once (default: query.max_concurrency, 20).
  --query.timeout DURATION     Longest query evaluation (default: query.timeout, 2m).
  --query.max-samples N        Samples one query may load (default: query.max_samples, 50000000).
  --web.config.file FILE   TLS, users (bcrypt), bearer tokens and roles, in Prometheus' web
                  configuration format plus Vigil's roles (see README.md, "Authentication and TLS").
                  Relative to the working directory. Also web.config_file in the config.
  --web.enable-admin-api   Turn on /api/v1/admin/... (off: 503, as Prometheus). Also web.enable_admin_api.
  --web.enable-lifecycle   Turn on POST /-/reload and /-/quit (off: 403, as Prometheus). SIGHUP
                  reloads either way. Also web.enable_lifecycle.
  --otlp.grpc-listen-address ADDR
                  HOST:PORT for OTLP over gRPC, traces and logs (default: otlp.grpc_listen_address
                  from the config; else off). The usual port is 4317.
`;

/**
 * The help of each subcommand, printed by `vigil COMMAND --help`. The other commands' modules are
 * loaded when asked for: `vigil agent` then loads none of the server's (rules, alerting, logs,
 * traces), and what a process loads stays in its memory.
 */
async function commandHelps(): Promise<Readonly<Record<string, string>>> {
  const [{ CHECK_CONFIG_USAGE }, { SLO_GENERATE_USAGE }, { RULES_EXPORT_USAGE }] = await Promise.all([
    import('./checkconfig.js'),
    import('./slocli.js'),
    import('./exportcli.js'),
  ]);
  return {
    start: `Usage: vigil start [options]\n\nRuns the server: storage, ingest, queries, rules, alert routing and the web UI.\n\n${START_OPTIONS}`,
    agent: `Usage: vigil agent [options]\n\nRuns an agent (as mode: agent does): scrapes and receives metrics (remote_write, OTLP) and only forwards\nthem to the remote_write receivers of the configuration, which must name at least one. No queries,\nrules, alerting, logs or traces; the WAL keeps what the receivers have not taken yet.\n\n${START_OPTIONS}  --storage.agent.wal-truncate-frequency DURATION\n                  How often segments every receiver has taken are checkpointed away (default: 1m).\n`,
    'check config': CHECK_CONFIG_USAGE,
    'check rules': `Usage: vigil check rules [--logql] FILE...\n\nChecks rule files as promtool check rules does: syntax, expressions, templates, duplicate rules.\n  --logql   The files are log rule files (log_rule_files): expressions are LogQL metric queries.\n`,
    'test rules': `Usage: vigil test rules [--run REGEX]... FILE...\n\nRuns rule unit tests in promtool's format.\n  --run REGEX   Only test groups whose name matches (repeatable).\n`,
    'slo generate': SLO_GENERATE_USAGE,
    'rules export': RULES_EXPORT_USAGE,
    'tsdb verify': `Usage: vigil tsdb verify DIR\n\nChecks a data directory's metrics (blocks, chunk checksums, WAL) without changing it. Exit code 1: damage found.\n`,
    'logs verify': `Usage: vigil logs verify DIR\n\nChecks a data directory's logs (chunks, checksums, WAL, indexes) without changing it. Exit code 1: damage found.\n`,
    'traces verify': `Usage: vigil traces verify DIR\n\nChecks a data directory's traces (WAL, blocks, page checksums, trace index) without changing it. Exit code 1: damage found.\n`,
  };
}

/** The help of the subcommand `argv` names when it asks for help (`-h`/`--help`), else undefined. */
async function commandHelp(argv: readonly string[]): Promise<string | undefined> {
  if (!argv.some((a) => a === '--help' || a === '-h')) return undefined;
  const helps = await commandHelps();
  return helps[argv.slice(0, 2).join(' ')] ?? helps[argv[0] ?? ''];
}

/** Runs a command other than `start` and `agent` (they have their own flags), or undefined when `argv` names none. */
async function toolCommand(argv: string[]): Promise<number | undefined> {
  const { checkConfigCommand } = await import('./checkconfig.js');
  const checkExit = await checkConfigCommand(argv);
  if (checkExit !== undefined) return checkExit;
  // `check rules` and `test rules` have flags of their own (promtool's).
  const { rulesCommand, processOutput } = await import('./rulescli.js');
  const rulesExit = await rulesCommand(argv);
  if (rulesExit !== undefined) return rulesExit;
  const sloExit = (await import('./slocli.js')).sloCommand(argv, processOutput);
  if (sloExit !== undefined) return sloExit;
  const exportExit = (await import('./exportcli.js')).rulesExportCommand(argv, processOutput);
  if (exportExit !== undefined) return exportExit;
  return (await import('./verifycli.js')).verifyCommand(argv);
}

const HELP = `Usage: vigil <command> [options]

Vigil collects metrics and logs, answers PromQL, evaluates alert rules and routes alerts.

Commands:
  start                         Run the server.
  agent                         Run an agent: scrape and receive metrics, forward them through remote_write only.
  check config FILE...          Check a vigil.yml (and its rule files) or an alertmanager.yml.
  check rules FILE...           Check Prometheus rule files (syntax, PromQL, templates, duplicates).
  check rules --logql FILE...   Check log rule files (log_rule_files: LogQL metric queries).
  test rules [--run RE] FILE... Run rule unit tests in promtool's format.
  slo generate FILE...          Print the Prometheus rules generated from SLO files (as Sloth does).
  rules export FILE...          Print rule files as plain Prometheus rules (one rule per severity tier).
  tsdb verify DIR               Check a data directory's metrics (blocks, chunk checksums, WAL) without changing it.
  logs verify DIR               Check a data directory's logs (chunks, checksums, WAL, indexes) without changing it.
  traces verify DIR             Check a data directory's traces (WAL, blocks, page checksums, trace index) without changing it.

Options for start:
${START_OPTIONS}
Global options:
  -h, --help      Show this help (after a command: that command's help).
  -v, --version   Show the version.
`;

/** Folds Prometheus' flag names into Vigil's (Vigil's own name wins when both are given). */
function withPrometheusAliases<T extends Record<string, string | boolean | undefined>>(
  v: T,
): T & { config?: string; data?: string; listen?: string; 'log-level'?: string } {
  const out: Record<string, string | boolean | undefined> = { ...v };
  const aliases: Array<[string, string]> = [
    ['config.file', 'config'],
    ['storage.tsdb.path', 'data'],
    ['web.listen-address', 'listen'],
    ['log.level', 'log-level'],
  ];
  for (const [prom, own] of aliases) {
    if (out[own] === undefined && out[prom] !== undefined) out[own] = out[prom];
    delete out[prom];
  }
  return out as T & { config?: string; data?: string; listen?: string; 'log-level'?: string };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A flag's value as a whole number >= 1, or a thrown message naming it. */
function wholeFlag(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid --${name} ${JSON.stringify(v)}: expected a whole number >= 1`);
  return n;
}

/** Applies `--memory.budget` and Prometheus' `--query.*` flags over the configuration. */
function applyQueryFlags(config: VigilConfig, values: Record<string, string | boolean | undefined>): void {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const budget = str('memory.budget');
  if (budget !== undefined) {
    try {
      config.memoryBudget = parseMemoryBudget(budget);
    } catch (err) {
      throw new Error(`invalid --memory.budget: ${(err as Error).message}`);
    }
  }
  const conc = str('query.max-concurrency');
  if (conc !== undefined) config.query.maxConcurrency = wholeFlag('query.max-concurrency', conc);
  const samples = str('query.max-samples');
  if (samples !== undefined) config.query.maxSamples = wholeFlag('query.max-samples', samples);
  const timeout = str('query.timeout');
  if (timeout !== undefined) {
    try {
      config.query.timeoutMs = parseDuration(timeout);
    } catch (err) {
      throw new Error(`invalid --query.timeout: ${(err as Error).message}`);
    }
    if (config.query.timeoutMs <= 0) throw new Error('invalid --query.timeout: expected a positive duration such as 2m');
  }
}

/**
 * Calls `fn` on a signal. In the server's worker thread (bin/vigil.js runs `start` in one, under
 * the heap limit), signals arrive from the main thread as messages.
 */
function onSignal(signal: NodeJS.Signals, fn: () => void, once = false): void {
  if (isMainThread || !parentPort) {
    if (once) process.once(signal, fn);
    else process.on(signal, fn);
    return;
  }
  const port = parentPort;
  const listener = (m: unknown): void => {
    if (typeof m !== 'object' || m === null || (m as { signal?: unknown }).signal !== signal) return;
    if (once) port.off('message', listener);
    // After this message's dispatch: a listener that `fn` adds (the second signal's) must not
    // see the same message.
    setImmediate(fn);
  };
  port.on('message', listener);
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const help = await commandHelp(argv);
  if (help !== undefined) {
    process.stdout.write(help);
    return 0;
  }
  if (argv[0] !== 'start' && argv[0] !== 'agent') {
    const exit = await toolCommand(argv);
    if (exit !== undefined) return exit;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        config: { type: 'string' },
        data: { type: 'string' },
        listen: { type: 'string' },
        'log-level': { type: 'string' },
        // Prometheus' names for the same flags.
        'config.file': { type: 'string' },
        'storage.tsdb.path': { type: 'string' },
        'web.listen-address': { type: 'string' },
        'log.level': { type: 'string' },
        'memory.budget': { type: 'string' },
        'query.max-concurrency': { type: 'string' },
        'query.timeout': { type: 'string' },
        'query.max-samples': { type: 'string' },
        'web.config.file': { type: 'string' },
        'web.enable-admin-api': { type: 'boolean' },
        'web.enable-lifecycle': { type: 'boolean' },
        'otlp.grpc-listen-address': { type: 'string' },
        'storage.agent.wal-truncate-frequency': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { positionals } = parsed;
  const values = withPrometheusAliases(parsed.values);
  if (values.version) {
    process.stdout.write(`vigil ${version()} (node ${process.version})\n`);
    return 0;
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const command = positionals[0];
  if (command !== 'start' && command !== 'agent') {
    process.stderr.write(`vigil: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return 2;
  }
  let config: VigilConfig;
  let agentTruncateMs: number | undefined;
  try {
    config = values.config ? loadConfig(values.config) : defaultConfig();
    // A command-line path is relative to where the command runs, as in any other tool.
    if (values.data) config.storage.path = path.resolve(values.data);
    if (values.listen) {
      parseListen(values.listen);
      config.listen = values.listen;
    }
    applyQueryFlags(config, values);
    const webConfigFile = values['web.config.file'];
    if (typeof webConfigFile === 'string') config.web.configFile = path.resolve(webConfigFile);
    if (values['web.enable-admin-api']) config.web.enableAdminApi = true;
    if (values['web.enable-lifecycle']) config.web.enableLifecycle = true;
    const grpcAddr = parsed.values['otlp.grpc-listen-address'];
    if (grpcAddr !== undefined) {
      if (grpcAddr !== '') parseListen(grpcAddr);
      config.otlp.grpcListenAddress = grpcAddr;
    }
    if (command === 'agent') config.mode = 'agent';
    const truncate = parsed.values['storage.agent.wal-truncate-frequency'];
    if (truncate !== undefined) {
      if (config.mode !== 'agent') throw new Error('--storage.agent.wal-truncate-frequency is for agent mode (vigil agent)');
      agentTruncateMs = parseDuration(truncate);
      if (agentTruncateMs <= 0) throw new Error('invalid --storage.agent.wal-truncate-frequency: expected a positive duration such as 1m');
    }
    if (config.mode === 'agent') (await import('./agent.js')).checkAgentConfig(config);
  } catch (err) {
    process.stderr.write(`vigil: ${err instanceof ConfigError ? 'configuration error: ' : ''}${(err as Error).message}\n`);
    return 2;
  }
  const level = values['log-level'];
  if (level && !['debug', 'info', 'warn', 'error'].includes(level)) {
    process.stderr.write(`vigil: invalid --log-level ${JSON.stringify(level)}\n`);
    return 2;
  }
  const { createLogger } = await import('../../core/util/log.js');
  const flags: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string' || v === true) flags[k] = String(v);
  let server: VigilServer | VigilAgent;
  try {
    // Reads the web configuration file: a mistake there stops the start, naming file and key.
    const opts = {
      logger: createLogger({ level: (level ?? 'info') as 'info' }),
      flags,
      version: version(),
      ...(values.config ? { configFile: values.config } : {}),
    };
    server =
      config.mode === 'agent'
        ? new (await import('./agent.js')).VigilAgent(config, { ...opts, ...(agentTruncateMs !== undefined ? { truncateIntervalMs: agentTruncateMs } : {}) })
        : new (await import('./server.js')).VigilServer(config, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`vigil: configuration error: ${err.message}\n`);
    return 2;
  }
  let quit: (() => void) | undefined;
  server.onQuit = () => quit?.();
  await server.start();
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals | '/-/quit'): void => {
      server.log.info('shutting down', { signal });
      // A second signal, or a stop that hangs, ends the process anyway.
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      if (signal !== '/-/quit') onSignal(signal, () => process.exit(1), true);
      server.stop().then(resolve, resolve);
    };
    onSignal('SIGHUP', () => {
      server.reload().catch((err: unknown) => server.log.error('configuration reload failed; keeping the running one', { err }));
    });
    // POST /-/quit (with --web.enable-lifecycle) stops as SIGTERM does.
    quit = () => shutdown('/-/quit');
    onSignal('SIGINT', () => shutdown('SIGINT'), true);
    onSignal('SIGTERM', () => shutdown('SIGTERM'), true);
  });
  return 0;
}
