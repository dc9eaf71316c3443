/**
 * `remote_read:` in vigil.yml: remote_read endpoints Vigil's engine reads besides its own TSDB,
 * each entry shaped as in prometheus.yml, e.g.
 * ```yaml
 * remote_read:
 *   - url: http://prometheus-old:9090/api/v1/read
 *     name: old
 *     remote_timeout: 1m
 *     read_recent: false                 # only for time before the oldest local sample
 *     required_matchers: { team: a }     # only selectors with team="a"
 *     filter_external_labels: true
 *     headers: { X-Scope-OrgID: team-a }
 *     basic_auth: { username: vigil, password_file: /etc/vigil/read-pass }
 * ```
 */
import { HTTP_CLIENT_FIELDS, parseHttpClientConfig } from '../../core/httpclient/config.js';
import { isValidLabelName } from '../../core/model/labels.js';
import { parseDuration } from '../../core/time/duration.js';
import type { RemoteReadConfig } from '../../metrics/remoteread/store.js';
import type { Checker } from './config.js';
import { parseRemoteHeaders } from './remote_write.js';
import { clientConfigReader, entryName } from './endpoint_entry.js';

type Path = Array<string | number>;

const ENTRY_FIELDS = ['url', 'name', 'remote_timeout', 'headers', 'read_recent', 'required_matchers', 'filter_external_labels', ...HTTP_CLIENT_FIELDS];

/** Prometheus' default remote_read timeout. */
const DEFAULT_READ_TIMEOUT_MS = 60_000;

/** Parses the `remote_read:` list. */
export function parseRemoteRead(c: Checker, raw: unknown, baseDir: string): RemoteReadConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) c.fail(['remote_read'], 'expected a list of remote_read entries');
  const out = (raw as unknown[]).map((e, i) => parseEntry(c, ['remote_read', i], e, baseDir));
  const names = new Set<string>();
  out.forEach((e, i) => {
    if (names.has(e.name)) c.fail(['remote_read', i, 'name'], `duplicate remote read configs are not allowed, found duplicate for name: ${e.name}`);
    names.add(e.name);
  });
  return out;
}

function parseEntry(c: Checker, p: Path, raw: unknown, baseDir: string): RemoteReadConfig {
  const e = c.keys(p, raw, ENTRY_FIELDS);
  const at = (k: string): Path => [...p, k];
  const bool = (k: string, dflt: boolean): boolean => {
    const v = e[k];
    if (v === undefined) return dflt;
    return typeof v === 'boolean' ? v : c.fail(at(k), 'expected true or false');
  };
  if (e['url'] === undefined) c.fail(at('url'), 'url for remote_read is empty');
  const url = c.str(at('url'), e['url']);
  c.parsed(at('url'), url, (u) => {
    const parsed = new URL(u);
    if (!/^https?:$/.test(parsed.protocol)) throw new Error('expected an http or https URL, such as http://prometheus:9090/api/v1/read');
    if (parsed.username || parsed.password) throw new Error('put credentials in basic_auth or authorization, not in the URL (they would be shown in errors)');
  });
  const requiredMatchers: Record<string, string> = {};
  const rm = c.keys(at('required_matchers'), e['required_matchers'], Object.keys((e['required_matchers'] as object | null) ?? {}));
  for (const [k, v] of Object.entries(rm)) {
    if (!isValidLabelName(k)) c.fail([...at('required_matchers'), k], `invalid label name ${JSON.stringify(k)}`);
    if (typeof v !== 'string') c.fail([...at('required_matchers'), k], 'expected a label value (a string)');
    requiredMatchers[k] = v;
  }
  const remoteTimeoutMs = e['remote_timeout'] === undefined ? DEFAULT_READ_TIMEOUT_MS : c.parsed(at('remote_timeout'), e['remote_timeout'], parseDuration);
  if (remoteTimeoutMs <= 0) c.fail(at('remote_timeout'), 'expected a positive duration such as 1m');
  // As Prometheus: an unnamed entry is named by a hash of its configuration.
  const name = entryName(c, at('name'), e);
  return {
    url,
    name,
    remoteTimeoutMs,
    headers: parseRemoteHeaders(c, at('headers'), e['headers']),
    readRecent: bool('read_recent', false),
    requiredMatchers,
    filterExternalLabels: bool('filter_external_labels', true),
    httpClient: parseHttpClientConfig(clientConfigReader(c, baseDir), p, e),
  };
}
