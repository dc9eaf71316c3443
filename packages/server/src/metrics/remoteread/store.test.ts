import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { DEFAULT_HTTP_CLIENT_CONFIG } from '../../core/httpclient/config.js';
import { RemoteReadStore, type RemoteReadConfig } from './store.js';

const base: RemoteReadConfig = {
  url: 'http://127.0.0.1:9/api/v1/read',
  name: 't',
  remoteTimeoutMs: 1000,
  headers: {},
  readRecent: true,
  requiredMatchers: {},
  filterExternalLabels: true,
  httpClient: DEFAULT_HTTP_CLIENT_CONFIG,
};
const eq = (n: string, v: string): Matcher => new Matcher('=', n, v);
const asText = (ms: readonly Matcher[]): string[] => ms.map((m) => m.toString());

test('selectors with the same matchers are asked once, over both ranges', () => {
  const s = new RemoteReadStore(base);
  const plan = s.plan([
    { start: 100, end: 200, matchers: [eq('__name__', 'x')] },
    { start: 50, end: 120, matchers: [eq('__name__', 'x')] },
    { start: 0, end: 10, matchers: [eq('__name__', 'y')] },
  ]);
  assert.deepEqual(
    plan.map((p) => [p.query.start, p.query.end, asText(p.query.matchers)]),
    [
      [50, 200, ['__name__="x"']],
      [0, 10, ['__name__="y"']],
    ],
  );
});

test('required_matchers: only selectors with every one of them as = are sent', () => {
  const s = new RemoteReadStore({ ...base, requiredMatchers: { team: 'a', env: 'prod' } });
  const sel = (...m: Matcher[]) => s.plan([{ start: 0, end: 1, matchers: [eq('__name__', 'x'), ...m] }]).length;
  assert.equal(sel(eq('team', 'a'), eq('env', 'prod')), 1);
  assert.equal(sel(eq('team', 'a')), 0);
  assert.equal(sel(eq('team', 'a'), new Matcher('=~', 'env', 'prod')), 0, 'a regex is not the equality asked for');
});

test('external labels become matchers unless the selector names the label, and are stripped from the answer', () => {
  const ext = labelsFrom({ cluster: 'eu1', replica: 'a' });
  const s = new RemoteReadStore(base, { externalLabels: ext });
  const [p] = s.plan([{ start: 0, end: 1, matchers: [eq('__name__', 'x'), eq('replica', 'b')] }]);
  assert.deepEqual(asText(p!.query.matchers), ['__name__="x"', 'replica="b"', 'cluster="eu1"']);
  assert.deepEqual([...p!.strip], ['cluster']);
  const off = new RemoteReadStore({ ...base, filterExternalLabels: false }, { externalLabels: ext });
  assert.deepEqual(asText(off.plan([{ start: 0, end: 1, matchers: [eq('__name__', 'x')] }])[0]!.query.matchers), ['__name__="x"']);
});

test('read_recent: false asks only for time before the oldest local sample; an empty local store asks for all', () => {
  let localStart = 1000;
  const s = new RemoteReadStore({ ...base, readRecent: false }, { localStartTime: () => localStart });
  const ask = (start: number, end: number) => s.plan([{ start, end, matchers: [eq('__name__', 'x')] }]).map((p) => [p.query.start, p.query.end]);
  assert.deepEqual(ask(1001, 2000), []);
  assert.deepEqual(ask(500, 2000), [[500, 1000]]);
  assert.deepEqual(ask(500, 800), [[500, 800]]);
  localStart = Infinity;
  assert.deepEqual(ask(1001, 2000), [[1001, 2000]]);
});

test('a remote that cannot be reached answers nothing, with a warning naming it', async () => {
  const s = new RemoteReadStore(base);
  const sel = { start: 0, end: 1, matchers: [eq('__name__', 'x')] };
  const set = (await s.fetch([sel], new AbortController().signal)).querier(0, 1).select({ start: 0, end: 1 }, sel.matchers);
  assert.equal(set.next(), false);
  assert.match(set.warnings()[0]!, /^remote_read t: unreachable: /);
  s.close();
});
