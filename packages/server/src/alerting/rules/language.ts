/** PromQL as a rule language: Prometheus rule files. */
import { formatExpr, parseExpr } from '../../metrics/promql/parser/index.js';
import type { RuleLanguage } from './types.js';

/** Prometheus' rules: expressions are formatted as Prometheus prints them; alerts link to the graph. */
export const promqlLanguage: RuleLanguage = {
  name: 'PromQL',
  canonical: (expr) => formatExpr(parseExpr(expr)),
  generatorURL: (externalURL, expr) => externalURL.replace(/\/$/, '') + '/graph?g0.expr=' + encodeURIComponent(expr).replace(/%20/g, '+') + '&g0.tab=1',
};
