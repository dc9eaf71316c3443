/**
 * Serving metrics: the Prometheus text format (prom-client's) or OpenMetrics 1.0, chosen by the
 * scraper's Accept header. OpenMetrics is rendered here from the registry's JSON, because
 * prom-client's own OpenMetrics mode renames counters in place and would change the text format.
 * Only OpenMetrics carries exemplars: a histogram bucket's line ends with the trace of its newest
 * observation (`# {trace_id="…",span_id="…"} value timestamp`), from `exemplars.ts`.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { exemplarsOf, type Exemplar } from './exemplars.js';

/** The Prometheus text format's content type. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
/** OpenMetrics 1.0's content type. */
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** A rendered exposition. */
export interface Exposition {
  readonly contentType: string;
  readonly body: string;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

function formatExemplar(e: Exemplar): string {
  const pairs = Object.entries(e.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return ` # {${pairs.join(',')}} ${formatValue(e.value)} ${e.timestamp.toFixed(3)}`;
}

/** Renders a registry in OpenMetrics 1.0 text. */
export async function renderOpenMetrics(registry: Registry): Promise<string> {
  const families = await registry.getMetricsAsJSON();
  let out = '';
  for (const f of families) {
    const type = String(f.type);
    const family = type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -6) : f.name;
    out += `# TYPE ${family} ${type}\n# HELP ${family} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    const exemplars = type === 'histogram' ? exemplarsOf(registry, f.name) : undefined;
    for (const s of f.values as ReadonlyArray<{ value: number; labels: Record<string, string | number>; metricName?: string }>) {
      const name = type === 'counter' ? `${family}_total` : (s.metricName ?? family);
      const pairs: string[] = [];
      for (const [k, v] of Object.entries(s.labels)) {
        if (v === undefined) continue;
        const text = k === 'le' && typeof v === 'number' ? formatValue(v) : String(v);
        pairs.push(`${k}="${escapeLabel(text)}"`);
      }
      const e = exemplars && name === `${family}_bucket` && s.labels['le'] !== undefined ? exemplars.get(s.labels, s.labels['le']) : undefined;
      out += pairs.length > 0 ? `${name}{${pairs.join(',')}} ${formatValue(s.value)}` : `${name} ${formatValue(s.value)}`;
      out += e ? `${formatExemplar(e)}\n` : '\n';
    }
  }
  return out + '# EOF\n';
}

/** Renders in the format the Accept header prefers: OpenMetrics if it is asked for, else Prometheus text. */
export async function renderMetrics(registry: Registry, accept: string | undefined): Promise<Exposition> {
  if (accept !== undefined && accept.includes('application/openmetrics-text')) {
    return { contentType: OPENMETRICS_CONTENT_TYPE, body: await renderOpenMetrics(registry) };
  }
  return { contentType: PROMETHEUS_CONTENT_TYPE, body: await registry.metrics() };
}

/** A request listener (also usable as Express middleware or with Fastify's `reply.raw`) serving the registry. */
export function metricsListener(registry: Registry): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    renderMetrics(registry, req.headers.accept).then(
      (e) => {
        res.writeHead(200, { 'content-type': e.contentType, 'content-length': Buffer.byteLength(e.body) });
        res.end(req.method === 'HEAD' ? undefined : e.body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };
}
