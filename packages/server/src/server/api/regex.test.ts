/**
 * The hostile regexes of issue 19 through the HTTP APIs of an in-process server. On JavaScript's
 * backtracking engine each of them held the event loop for minutes; on RE2 each answers at once.
 * Every request carries its own few-second timeout so a regression fails instead of hanging.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, postWrite, startServer, writeBody } from '../../testkit/helpers.js';

const TIMEOUT_MS = 5000;
let url = '';
let stop: () => Promise<void>;

before(async () => {
  ({ url, stop } = await startServer());
});

after(async () => {
  await stop();
});

async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url + path, {
    method,
    signal: AbortSignal.timeout(TIMEOUT_MS),
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

const promQuery = (q: string): Promise<{ status: number; text: string }> => send('GET', `/api/v1/query?query=${encodeURIComponent(q)}`);
const lokiQuery = (q: string): Promise<{ status: number; text: string }> => {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  return send('GET', `/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${nowNs - 3_600_000_000_000n}&end=${nowNs + 1_000_000_000n}&limit=10`);
};

test('PromQL {__name__=~"(.*.*)*x"} over long metric names answers', { timeout: TIMEOUT_MS * 2 }, async () => {
  const now = Date.now();
  const w = await postWrite(
    url,
    writeBody([{ labels: [{ name: '__name__', value: 'http_server_requests_for_a_rather_long_service_name_total' }], samples: [[now, 1]] }]),
  );
  assert.equal(w.status, 204, w.text);
  const r = await promQuery('{__name__=~"(.*.*)*x"}');
  assert.equal(r.status, 200, r.text);
  const ready = await getJson(`${url}/api/v1/query?query=${encodeURIComponent('{__name__=~"http_.*"}')}`);
  assert.equal((ready.body.data as { result: unknown[] }).result.length, 1, 'the series is there to be scanned');
});

test('PromQL lookahead and backreference selectors are 400 with the RE2 error', { timeout: TIMEOUT_MS * 2 }, async () => {
  const look = await promQuery('{__name__=~"(?=x)x"}');
  assert.equal(look.status, 400);
  assert.match(look.text, /error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/);
  const back = await promQuery('{job=~"(a)\\\\1"}');
  assert.equal(back.status, 400);
  assert.match(back.text, /error parsing regexp: invalid escape sequence: `\\\\1`/);
});

test('a silence (a+)+$ and an alert named aaa…a! answer through the Alertmanager v2 API', { timeout: TIMEOUT_MS * 3 }, async () => {
  const now = Date.now();
  const silence = await send('POST', '/api/v2/silences', {
    matchers: [{ name: 'alertname', value: '(a+)+$', isRegex: true, isEqual: true }],
    startsAt: new Date(now - 1000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    createdBy: 'test',
    comment: 'hostile pattern',
  });
  assert.equal(silence.status, 200, silence.text);
  const name = 'a'.repeat(64) + '!';
  const post = await send('POST', '/api/v2/alerts', [{ labels: { alertname: name } }]);
  assert.equal(post.status, 200, post.text);
  const alerts = await send('GET', '/api/v2/alerts');
  assert.equal(alerts.status, 200);
  const got = (JSON.parse(alerts.text) as { labels: Record<string, string>; status: { silencedBy: string[] } }[]).find((a) => a.labels['alertname'] === name);
  assert.deepEqual(got?.status.silencedBy, [], 'the anchored pattern does not match a name ending in !');
});

test('silences with lookahead or backreferences are 400 with the RE2 error', { timeout: TIMEOUT_MS * 2 }, async () => {
  const now = Date.now();
  for (const [value, error] of [
    ['(?!a)b', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
  ] as const) {
    const r = await send('POST', '/api/v2/silences', {
      matchers: [{ name: 'alertname', value, isRegex: true, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 60_000).toISOString(),
      createdBy: 'test',
      comment: 'refused',
    });
    assert.equal(r.status, 400, r.text);
    assert.ok(r.text.includes(JSON.stringify(error).slice(1, -1)), r.text); // the body is JSON: backslashes come escaped
  }
});

test('LogQL |~ "(a+)+$" on a 28-byte line answers', { timeout: TIMEOUT_MS * 2 }, async () => {
  const line = 'a'.repeat(27) + '!';
  const push = await send('POST', '/loki/api/v1/push', { streams: [{ stream: { app: 'redos' }, values: [[String(BigInt(Date.now()) * 1_000_000n), line]] }] });
  assert.equal(push.status, 204, push.text);
  const r = await lokiQuery('{app="redos"} |~ "(a+)+$"');
  assert.equal(r.status, 200, r.text);
  const kept = await lokiQuery('{app="redos"} |~ "a+!$"');
  assert.ok(kept.text.includes(line), 'a plain pattern still finds the line');
});

test('LogQL lookahead filters and backreference label filters are 400 with the RE2 error', { timeout: TIMEOUT_MS * 2 }, async () => {
  const look = await lokiQuery('{app="redos"} |~ "(?=a)"');
  assert.equal(look.status, 400, look.text);
  assert.match(look.text, /invalid or unsupported Perl syntax: `\(\?=`/);
  const back = await lokiQuery('{app=~"(r)\\\\1"}');
  assert.equal(back.status, 400, back.text);
  assert.match(back.text, /invalid escape sequence: `\\\\1`/);
});
