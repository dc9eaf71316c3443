/** Status: scrape targets, rules, the running configuration, and the TSDB's cardinality. */
import { promGet } from '../api.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import { age } from '../lib/time.js';
import { exploreHref, onLinkClick } from '../router.js';

interface Target {
  readonly labels: Record<string, string>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly lastError: string;
  readonly lastScrape: string;
  readonly lastScrapeDuration: number;
  readonly health: string;
}

interface RuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: Array<{
    name: string;
    query: string;
    health: string;
    lastError?: string;
    lastEvaluation: string;
    evaluationTime: number;
    type: string;
    state?: string;
  }>;
}

interface Tsdb {
  readonly headStats: { numSeries: number; numLabelPairs?: number; chunkCount: number; minTime: number; maxTime: number };
  readonly seriesCountByMetricName: Array<{ name: string; value: number }>;
  readonly labelValueCountByLabelName?: Array<{ name: string; value: number }>;
  readonly memoryInBytesByLabelName?: Array<{ name: string; value: number }>;
  readonly seriesCountByLabelValuePair?: Array<{ name: string; value: number }>;
}

/** One configured limit, from /api/v1/status/limits. */
interface Limit {
  readonly limit: string;
  readonly value: number;
  readonly usage?: number;
  readonly refused: number;
}

/** Limits with their usage; a row turns warning at 80% of a level limit, critical once it refuses. */
function LimitsTable({ rows }: { rows: readonly Limit[] }): preact.JSX.Element {
  return (
    <table class="data" data-testid="limits">
      <thead>
        <tr>
          <th>Limit</th>
          <th class="num">Value</th>
          <th class="num">Usage</th>
          <th class="num">Refused</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const share = r.usage !== undefined && r.value > 0 ? r.usage / r.value : 0;
          return (
            <tr>
              <td class="mono">{r.limit}</td>
              <td class="num">{r.value === 0 ? 'off' : r.value}</td>
              <td class={`num${share >= 0.8 ? ' text-critical' : ''}`}>
                {r.usage === undefined ? '' : r.value > 0 ? `${r.usage} (${Math.round(share * 100)}%)` : r.usage}
              </td>
              <td class={`num${r.refused > 0 ? ' text-critical' : ''}`}>{r.refused}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Section({ title, id, children }: { title: string; id: string; children: preact.ComponentChildren }): preact.JSX.Element {
  return (
    <section class="panel" id={id} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{title}</h2>
      {children}
    </section>
  );
}

function TopTable({ title, rows }: { title: string; rows: Array<{ name: string; value: number }> | undefined }): preact.JSX.Element | null {
  if (!rows || rows.length === 0) return null;
  return (
    <table class="data">
      <thead>
        <tr>
          <th>{title}</th>
          <th class="num">Count</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, 10).map((r) => (
          <tr>
            <td class="mono">{r.name}</td>
            <td class="num">{r.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The status page. */
export function Status(): preact.JSX.Element {
  const targets = useAsync(() => promGet<{ activeTargets: Target[] }>('/api/v1/targets'), [], 10_000);
  const rules = useAsync(() => promGet<{ groups: RuleGroup[] }>('/api/v1/rules'), [], 30_000);
  const tsdb = useAsync(() => promGet<Tsdb>('/api/v1/status/tsdb'), [], 30_000);
  const config = useAsync(() => promGet<{ yaml: string }>('/api/v1/status/config'), []);
  const limits = useAsync(() => promGet<Limit[]>('/api/v1/status/limits'), [], 30_000);
  const build = useAsync(() => promGet<Record<string, string>>('/api/v1/status/buildinfo'), []);
  return (
    <div class="status">
      <div class="page-head">
        <h1>Status</h1>
        {build.data ? (
          <span class="muted">
            Vigil {build.data['vigilVersion'] ?? build.data['version']} · {build.data['goVersion']}
          </span>
        ) : null}
      </div>
      <Section title="Targets" id="targets">
        {targets.error ? <ErrorBox error={targets.error} /> : null}
        {!targets.data ? (
          <Loading />
        ) : targets.data.activeTargets.length === 0 ? (
          <Empty title="No scrape targets">
            Add a job under scrape_configs in the configuration file, then reload it: send Vigil SIGHUP, or POST /-/reload (which needs --web.enable-lifecycle).
          </Empty>
        ) : (
          <table class="data" data-testid="targets">
            <thead>
              <tr>
                <th>Job</th>
                <th>Endpoint</th>
                <th>State</th>
                <th>Labels</th>
                <th>Last scrape</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {targets.data.activeTargets.map((t) => (
                <tr>
                  <td>{t.scrapePool}</td>
                  <td class="mono">{t.scrapeUrl}</td>
                  <td>
                    <span class={`badge level-${t.health === 'up' ? 'ok' : t.health === 'down' ? 'critical' : 'unknown'}`}>{t.health}</span>
                  </td>
                  <td>
                    {Object.entries(t.labels).map(([k, v]) => (
                      <span class="chip">
                        {k}={v}
                      </span>
                    ))}
                  </td>
                  <td>
                    {t.lastScrape && !t.lastScrape.startsWith('0001')
                      ? `${age(Date.parse(t.lastScrape), Date.now())} ago (${(t.lastScrapeDuration * 1000).toFixed(0)} ms)`
                      : 'never'}
                  </td>
                  <td class="text-critical">{t.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Rules" id="rules">
        {rules.error ? (
          <Empty title="No rules">This server has no rule evaluation yet, or none configured: list rule files under rule_files in the configuration.</Empty>
        ) : !rules.data ? (
          <Loading />
        ) : rules.data.groups.length === 0 ? (
          <Empty title="No rule groups loaded">
            List rule files under rule_files in the configuration, then reload it: send Vigil SIGHUP, or POST /-/reload (which needs --web.enable-lifecycle).
          </Empty>
        ) : (
          rules.data.groups.map((g) => (
            <table class="data">
              <caption>
                {g.name} <span class="muted">{g.file}</span>
              </caption>
              <thead>
                <tr>
                  <th>Rule</th>
                  <th>Query</th>
                  <th>State</th>
                  <th>Health</th>
                  <th>Last evaluation</th>
                </tr>
              </thead>
              <tbody>
                {g.rules.map((r) => (
                  <tr>
                    <td>{r.name}</td>
                    <td class="mono">
                      <a href={exploreHref(r.query)} onClick={onLinkClick}>
                        {r.query}
                      </a>
                    </td>
                    <td>{r.state ?? r.type}</td>
                    <td class={r.health === 'ok' ? '' : 'text-critical'}>
                      {r.health}
                      {r.lastError ? `: ${r.lastError}` : ''}
                    </td>
                    <td>
                      {r.lastEvaluation.startsWith('0001')
                        ? 'never'
                        : `${age(Date.parse(r.lastEvaluation), Date.now())} ago, ${(r.evaluationTime * 1000).toFixed(1)} ms`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))
        )}
      </Section>
      <Section title="TSDB" id="tsdb">
        {tsdb.error ? <ErrorBox error={tsdb.error} /> : null}
        {tsdb.data ? (
          <>
            <p>
              Head: <strong data-testid="num-series">{tsdb.data.headStats.numSeries}</strong> series, {tsdb.data.headStats.chunkCount} chunks
              {tsdb.data.headStats.maxTime > 0
                ? `, from ${new Date(tsdb.data.headStats.minTime).toLocaleString()} to ${new Date(tsdb.data.headStats.maxTime).toLocaleString()}`
                : ''}
            </p>
            <div class="grid2">
              <TopTable title="Series by metric" rows={tsdb.data.seriesCountByMetricName} />
              <TopTable title="Values by label" rows={tsdb.data.labelValueCountByLabelName} />
              <TopTable title="Series by label pair" rows={tsdb.data.seriesCountByLabelValuePair} />
            </div>
          </>
        ) : null}
      </Section>
      <Section title="Limits" id="limits">
        {limits.error ? <ErrorBox error={limits.error} /> : null}
        {limits.data ? <LimitsTable rows={limits.data} /> : null}
      </Section>
      <Section title="Configuration" id="config">
        {config.error ? <ErrorBox error={config.error} /> : null}
        {config.data ? <pre class="config">{config.data.yaml}</pre> : null}
      </Section>
    </div>
  );
}
