/** PromQL as a rule language: Prometheus rule files. */
import { formatExpr, parseExpr } from '../../metrics/promql/parser/index.js';
import type { RuleLanguage } from './types.js';

/** Prometheus' rules: expressions are formatted as Prometheus prints them; alerts link to the graph. */
export const promqlLanguage: RuleLanguage = {
  name: 'PromQL',
  canonical: (expr) => formatExpr(parseExpr(expr)),
  generatorURL: (externalURL, expr) => externalURL.replace(/\/$/, '') + '/graph?g0.expr=' + goQueryEscape(expr) + '&g0.tab=1',
};

/** Go's url.QueryEscape, as Prometheus builds generator URLs: also `!'()*`, and spaces as `+`. */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}
