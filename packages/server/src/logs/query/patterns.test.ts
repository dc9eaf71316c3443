import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { MemoryLogStore } from '../storage/memory.js';
import { logPatterns, PatternMiner, patternText, tokenize } from './patterns.js';

const pino = (level: string, msg: string, extra: Record<string, unknown>): string =>
  JSON.stringify({ level, time: 1_700_000_000_000, service: 'shop', request_id: Math.random().toString(36).slice(2, 10), ...extra, msg });

test('demo-like lines cluster by their message (JSON) or their tokens (logfmt, text), a varying token becoming <_>', () => {
  const m = new PatternMiner();
  const step = 60_000;
  let t = 0;
  const add = (line: string): void => m.add(line, (t += 1000), step);
  for (let i = 0; i < 6; i++) add(pino('info', 'order placed', { amount_cents: 1000 + i * 37, items: 1 + (i % 3) }));
  for (let i = 0; i < 3; i++) add(pino('warn', 'card declined', { amount_cents: 200 + i }));
  for (let i = 0; i < 2; i++) add(pino('error', 'database pool exhausted', { pool: 'orders-db', err: { message: `timeout after ${100 + i}ms` } }));
  add(pino('error', 'payment failed', { amount_cents: 5 }));
  for (const [path, status, took] of [
    ['/home', 200, '12ms'],
    ['/cart', 200, '3ms'],
    ['/checkout', 503, '1.5s'],
    ['/home', 200, '9ms'],
  ] as const)
    add(`level=info method=GET path=${path} status=${status} took=${took}`);
  add('GET /api/orders/123 200 12ms');
  add('GET /api/orders/456 500 3ms');
  add('connection from 10.0.0.7:51234 closed');
  add('connection from 10.0.0.9:40022 closed');

  const got = m.patterns().map((p) => [p.pattern, p.samples.reduce((n, s) => n + s[1], 0)]);
  assert.deepEqual(got, [
    ['order placed', 6],
    ['level=info method=GET path=<_> status=<_> took=<_>', 4],
    ['card declined', 3],
    ['GET <_> <_> <_>', 2],
    ['connection from <_>:<_> closed', 2],
    ['database pool exhausted', 2],
    ['payment failed', 1],
  ]);
});

test('samples count lines per step bucket, aligned to multiples of the step, in Unix seconds', () => {
  const m = new PatternMiner();
  for (const tMs of [60_000, 61_000, 119_999, 180_000]) m.add('job finished in 3s', tMs, 60_000);
  assert.deepEqual(m.patterns(), [
    {
      pattern: 'job finished in 3s',
      samples: [
        [60, 3],
        [180, 1],
      ],
    },
  ]);
});

test('tokens keep their spacing, so a template of one line prints as that line; JSON without a message field is tokenized whole', () => {
  const line = 'ts=2024-01-02T03:04:05Z caller=main.go:12 msg="server started" addr=[::]:9466';
  assert.equal(
    tokenize(line)
      .map((t) => (t.space ? ' ' : '') + t.text)
      .join(''),
    line,
  );
  const m = new PatternMiner();
  m.add(line, 0, 1000);
  assert.equal(m.patterns()[0]!.pattern, line);
  assert.equal(patternText('{"a":1}'), '{"a":1}');
  assert.equal(patternText('{"message":"hello there","level":"info"}'), 'hello there');
  assert.equal(patternText('{not json'), '{not json');
});

test('work is bounded: templates past maxClusters drop the least recently matched, reading stops after maxLines or maxMillis', () => {
  const m = new PatternMiner({ maxClusters: 2 });
  m.add('alpha one', 0, 1000);
  m.add('beta two', 0, 1000);
  m.add('alpha one', 0, 1000); // alpha is now more recent than beta
  m.add('gamma three', 0, 1000); // evicts beta
  assert.deepEqual(
    m.patterns().map((p) => p.pattern),
    ['alpha one', 'gamma three'],
  );

  const store = new MemoryLogStore();
  const NS = 1_000_000n;
  store.push([{ labels: labelsFrom({ app: 'a' }), entries: Array.from({ length: 50 }, (_, i) => ({ t: BigInt(1_000 + i) * NS, line: `tick ${i}` })) }]);
  const all = logPatterns(store, [new Matcher('=', 'app', 'a')], 0n, 10_000n * NS, 1000);
  assert.deepEqual(all, [{ pattern: 'tick <_>', samples: [[1, 50]] }]);
  const capped = logPatterns(store, [new Matcher('=', 'app', 'a')], 0n, 10_000n * NS, 1000, { maxLines: 10 });
  assert.deepEqual(capped, [{ pattern: 'tick <_>', samples: [[1, 10]] }]);
  // Past maxMillis the lines read so far are the answer (the clock is checked every 256 lines).
  store.push([{ labels: labelsFrom({ app: 'b' }), entries: Array.from({ length: 1000 }, (_, i) => ({ t: BigInt(2_000 + i) * NS, line: `tock ${i}` })) }]);
  const timed = logPatterns(store, [new Matcher('=', 'app', 'b')], 0n, 10_000n * NS, 10_000, { maxMillis: 0 });
  assert.deepEqual(timed, [{ pattern: 'tock <_>', samples: [[0, 255]] }]);
  // A very long line is clustered by its first maxTokens tokens.
  const long = new PatternMiner({ maxTokens: 3 });
  long.add('a b c d e f', 0, 1000);
  assert.equal(long.patterns()[0]!.pattern, 'a b c');
});
