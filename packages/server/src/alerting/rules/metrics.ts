/** The rule manager's self-metrics, named as Prometheus names them so dashboards carry over. */
import type { SelfRegistry, SelfSample } from '../../core/selfmon/registry.js';
import type { RuleManager } from './manager.js';

/** Registers `prometheus_rule_group_*` and `prometheus_rule_evaluation_failures_total` for the groups of `managers`. */
export function registerRuleMetrics(reg: SelfRegistry, managers: readonly RuleManager[]): void {
  const per = (f: (g: ReturnType<RuleManager['groups']>[number]) => number) => (): SelfSample[] =>
    managers.flatMap((m) => m.groups()).map((g) => ({ labels: { rule_group: g.key }, value: f(g) }));
  reg.register(
    'prometheus_rule_group_last_duration_seconds',
    'gauge',
    'The duration of the last rule group evaluation.',
    per((g) => g.evaluationMs / 1000),
  );
  reg.register(
    'prometheus_rule_group_last_evaluation_timestamp_seconds',
    'gauge',
    'The timestamp of the last rule group evaluation in seconds.',
    per((g) => g.lastEvaluation / 1000),
  );
  reg.register(
    'prometheus_rule_group_interval_seconds',
    'gauge',
    'The interval of a rule group.',
    per((g) => g.intervalMs / 1000),
  );
  reg.register(
    'prometheus_rule_group_rules',
    'gauge',
    'The number of rules.',
    per((g) => g.rules.length),
  );
  reg.register(
    'prometheus_rule_group_iterations_total',
    'counter',
    'The total number of scheduled rule group evaluations, whether executed or missed.',
    per((g) => g.iterationsTotal + g.iterationsMissed),
  );
  reg.register(
    'prometheus_rule_group_iterations_missed_total',
    'counter',
    'The total number of rule group evaluations missed due to slow rule group evaluation.',
    per((g) => g.iterationsMissed),
  );
  reg.register(
    'prometheus_rule_evaluation_failures_total',
    'counter',
    'The total number of rule evaluation failures.',
    per((g) => g.evalFailures),
  );
}
